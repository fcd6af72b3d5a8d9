// Package actions measures facial actions and head movements from 68-point
// face landmarks over time: the concrete clues of an emotion explanation
// ("raised eyebrows, smiling face", "frowned", "stared with wide eyes",
// "lowered his head").
//
// Analyze takes one face track, each frame's landmarks in image pixels (the
// iBUG 300-W layout of face-api's FaceLandmark68Net) with optional face box
// and expression probabilities, and returns per frame the measures of brow
// raising and lowering, eye opening, lip corner pull and depression, mouth
// and jaw opening and lip pressing, normalised by the eye distance and
// head roll and corrected for the foreshortening of the head pose; the
// head's yaw, pitch and roll from a generic 3D face fitted with a scaled
// orthographic camera; the events those make against the person's own
// neutral baseline in the clip, with hysteresis and minimum durations; and
// the clip's peak moment. Everything is a pure function of the track.
//
// METHOD.md writes the method down: the measures, the baseline rule, the
// pose model and fit, the event rules and their default thresholds, and
// what was measured on synthetic faces.
package actions
