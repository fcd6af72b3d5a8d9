// Package cues turns a clip into measured, time-stamped emotional cues: who
// is on screen and with which facial expression when (package face), how
// the voice moves (package voice), and which emotion words the subtitles
// say (package textcue). A part that is missing (no video, no audio, no
// face, no subtitles, no model files) is reported with its reason and a
// warning instead of failing the clip.
package cues
