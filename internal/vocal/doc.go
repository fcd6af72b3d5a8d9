// Package vocal infers emotion from the voice: it measures named acoustic
// features of one clip's speech (Measure: F0 in semitones, intensity
// dynamics, voice quality, timing, formants, spectral balance and cepstral
// shape) and reads them with a calibrated multinomial logistic regression
// (Default, Model.Predict) whose per-feature contributions can be cited as
// evidence: "the pitch range was 1.8 SD above that of a typical male
// voice, pointing to surprise".
//
// The model is fitted on ravdess-calib, 360 acted RAVDESS recordings of
// 12 actors (CC BY-NC-SA 4.0, Livingstone & Russo 2018), by the generator
// in ./gen, which also cross-validates it leaving actors out; model.json
// records the data's SHA-256, the settings and the cross-validated figures.
// Every feature is measured within the clip alone, so a single clip is
// enough: features are standardized against the fitting population, per
// estimated gender, never against the speaker's own other recordings.
//
// Emotions are RAVDESS's eight: neutral, calm, happy, sad, angry, fearful,
// disgusted, surprised. Emotion.Vocabulary gives the words EMER and the
// emotion wheels use for them (fearful is "worried" or "fear", disgusted
// "disgust", surprised "surprise", calm also "relaxed"; neutral has no
// wheel category).
package vocal

//go:generate go run ./gen
