// Package unibench scores MER-UniBench (AffectGPT 2025, Table 2): the
// basic-emotion sets MER2023, MELD and IEMOCAP by the emotion-wheel hit
// rate, and the sentiment sets MOSI, MOSEI, SIMS and SIMSv2 by weighted F1
// and accuracy, each over a model's checkpoints, reporting the best.
package unibench
