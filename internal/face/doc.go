// Package face finds faces in RGB images, their 68 landmarks and their
// expressions, in pure Go, with the networks of face-api (TinyFaceDetector,
// SsdMobilenetv1, FaceLandmark68Net and its tiny twin, FaceExpressionNet)
// run from their TF.js weight files. It decodes the weights manifest, runs
// the networks with an im2col + blocked GEMM core, crops, pads and resizes
// faces the way face-api does, and, across the frames of a clip, bounds
// the slow detector's passes (Clip), links detections into tracks, picks
// the main face and summarises its expressions over time.
//
// The networks are safe for concurrent use once loaded: each call keeps its
// own buffers.
package face
