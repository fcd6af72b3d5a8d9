package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/sharedtest"
)

// Clips with known content for the build draft and build check tests,
// made at test time from a face cut out of a sample photo, espeak-ng
// speech and ffmpeg tones. emer faces reads the happy face as happy 1.00
// and the neutral one as neutral 1.00.
var groundFaces = map[string]struct{ photo, crop string }{
	"happy":   {"sample3.jpg", "crop=524:475:905:153"}, // face 1 of sample3.jpg
	"neutral": {"sample6.jpg", "crop=496:476:992:260"}, // face 3 of sample6.jpg
}

// groundSpeech is the espeak-ng speech every clip speaks, as its
// subtitle says.
const groundSpeech = "Thank you so much. I am really glad to see you again today."

// clipSpec is one clip groundClips makes: dir/name.mp4, the face still
// for the length of the audio; the audio is the speech through the ffmpeg
// audio filter afilter ("" for none), or chords alone when speech is
// false, or the speech with chords mixed in at chordsGain when
// chordsGain > 0.
type clipSpec struct {
	name, face, afilter string
	speech              bool
	chordsGain          float64
}

// groundClips makes the clips of specs in dir.
func groundClips(t *testing.T, dir string, specs ...clipSpec) {
	t.Helper()
	needFFmpeg(t, "espeak-ng")
	needFaceModels(t)
	raw := filepath.Join(dir, "speech.raw.wav")
	runTool(t, "espeak-ng", "-v", "en-us", "-s", "160", "-w", raw, groundSpeech)
	speech := filepath.Join(dir, "speech.wav")
	runTool(t, "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", raw, "-af", "adelay=500,apad=pad_dur=0.5", "-ar", "16000", "-ac", "1", speech)
	chords := filepath.Join(dir, "chords.wav")
	runTool(t, "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
		"aevalsrc=0.15*sin(2*PI*t*261.63)+0.15*sin(2*PI*t*329.63)+0.15*sin(2*PI*t*392):s=16000:d=6", chords)
	faces := map[string]string{}
	for kind, f := range groundFaces {
		p := filepath.Join(dir, kind+".png")
		runTool(t, "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", sharedtest.Path(t, "reference", "media", f.photo), "-vf", f.crop, p)
		faces[kind] = p
	}
	for _, s := range specs {
		args := []string{"-nostdin", "-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i", faces[s.face]}
		switch {
		case !s.speech:
			args = append(args, "-i", chords)
		case s.chordsGain > 0:
			args = append(args, "-i", speech, "-i", chords, "-filter_complex",
				fmt.Sprintf("[2]volume=%g[m];[1][m]amix=inputs=2:duration=first:normalize=0[a]", s.chordsGain), "-map", "0:v", "-map", "[a]")
		default:
			args = append(args, "-i", speech)
		}
		if s.afilter != "" {
			args = append(args, "-af", s.afilter)
		}
		args = append(args, "-shortest", "-vf", "scale=320:-2,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
			"-c:a", "aac", "-ar", "16000", filepath.Join(dir, s.name+".mp4"))
		runTool(t, "ffmpeg", args...)
	}
}

// writeCSV writes rows (the first is the header) as a CSV file.
func writeCSV(t *testing.T, path string, rows ...[]string) {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		for i, f := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
