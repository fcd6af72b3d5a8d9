// Package infer runs explanations over clips: one clip at a time for
// `emer infer CLIP...`, or a whole EMER dataset (names and subtitles in a
// CSV, media in a folder) on the batch engine, resumable and tolerant of
// broken clips, writing the prediction files that `emer eval` and `emer
// score ov` read as they are.
package infer
