// Package dataset builds EMER datasets and the training data of models such
// as AffectGPT, offline: the annotation records that people write (clues per
// clip, annotator and aspect), the seeded train/test split of the AffectGPT
// data-selection settings, the files that trainers read (AffectGPT and
// Video-LLaMA instruction JSON, LLaVA conversations, the ShareGPT layout of
// LLaMA-Factory, Emotion-LLaMA's MERR files) with a manifest of what went
// where, the cost of turning drafts into final descriptions, and the
// review of descriptions: each clip's is pending, accepted, edited or
// rejected, every change kept with who made it, when, and the state
// before and after, behind a small ReviewStore interface that the
// project's store implements, with a CSV for reviewing offline.
//
// It runs no model and reads no media: durations and frame counts come from
// the caller, so the package is the same whether they were measured with
// ffprobe or given by hand. Every file it writes is deterministic: items
// sorted, JSON keys in a fixed order, numbers formatted the same way on
// every machine.
package dataset
