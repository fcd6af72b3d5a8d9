// Package models installs, finds and verifies the model files emer runs:
// the weights of the face detectors (TinyFaceDetector, SsdMobilenetv1), the
// expression network and the two 68-point landmark networks of the npm
// package @vladmandic/face-api, fetched once with `npm pack` by `emer models install`
// and kept in the user's cache. Every file is pinned by SHA-256. Nothing
// else in emer fetches a model: loading a missing file is an error that says
// to run `emer models install`.
package models
