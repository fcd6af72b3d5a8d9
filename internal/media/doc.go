// Package media reads clips through Debian's ffmpeg and ffprobe, run as
// subprocesses: it probes a file's streams, decodes video frames to RGB at a
// rate or as K uniform frames (streamed through a pipe, never temp files),
// decodes audio to 16 kHz mono PCM, and reads subtitles from a sidecar
// .srt/.vtt file, an embedded text track, or given text.
//
// Every function reports bad media as an error that names the file and says
// what ffmpeg found; none panics. When ffmpeg is not installed the error is
// ErrNoFFmpeg, whose message says how to install it.
package media
