// Package cues turns a clip into measured, time-stamped emotional cues: who
// is on screen and with which facial expression when (package face), what
// their faces and heads do, measured from the landmarks (package actions:
// brows raised, a smile, a nod, the head pose, the peak moment), how the
// voice moves (package voice), and which emotion words the subtitles say
// (package textcue). A part that is missing (no video, no audio, no
// face, no subtitles, no model files) is reported with its reason and a
// warning instead of failing the clip.
//
// An Extractor is built once per process: it holds the face networks and
// the lexicon and shares one CPU budget among the clips that goroutines
// analyse through it at once (see Extractor for the policy). Analyze is a
// one-clip shorthand with an Extractor of its own.
package cues
