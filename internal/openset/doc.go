// Package openset scores open-vocabulary emotion predictions (OV-MER,
// MER2024): label sets per sample, read from the released CSV and .npz
// layouts, compared through the emotion-wheel mappings (the 12-column
// OV-MER table) or through per-sample GPT synonym groups (MER2024).
package openset
