// Package voice measures prosody in speech: voiced/unvoiced segmentation,
// fundamental frequency (F0) by YIN, intensity in dB, jitter and shimmer,
// pauses, speech rate, and changes relative to the speaker's own level
// within a clip ("pitch rises 30 % over the last second").
//
// It works on mono float32 PCM (any rate; 16 kHz is what the media adapter
// delivers), with samples read as sound pressure in pascals as Praat does,
// so intensities are dB re 2e-5 Pa and comparable with Praat's figures. The
// default settings follow Praat's: pitch floor 75 Hz, ceiling 500 Hz,
// 10 ms pitch step.
package voice
