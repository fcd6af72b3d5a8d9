package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/sharedtest"
)

func sharedClip(t *testing.T) string {
	t.Helper()
	p := sharedtest.Path(t, "reference", "media", "clip.mp4")
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffmpeg not installed (apt-get install ffmpeg)")
	}
	return p
}

func TestCuesJSON(t *testing.T) {
	clip := sharedClip(t)
	var out, errOut bytes.Buffer
	if code := execute(context.Background(), []string{"cues", "--json", clip}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		Clip     string  `json:"clip"`
		Duration float64 `json:"duration_s"`
		Visual   struct {
			FramesAnalyzed int `json:"frames_analyzed"`
			Faces          []struct {
				T     float64 `json:"t"`
				Frame *int    `json:"frame"`
				Track int     `json:"track"`
			} `json:"faces"`
			Tracks  []json.RawMessage `json:"tracks"`
			Summary []struct {
				Expression string  `json:"expression"`
				Start      float64 `json:"start_s"`
				End        float64 `json:"end_s"`
				MeanProb   float64 `json:"mean_prob"`
			} `json:"summary"`
		} `json:"visual"`
		Audio struct {
			Present     bool                                  `json:"present"`
			VoicedRatio float64                               `json:"voiced_ratio"`
			F0          *struct{ Mean, SD, Min, Max float64 } `json:"f0_hz"`
			Intensity   struct{ Mean float64 }                `json:"intensity_db"`
			Jitter      *float64                              `json:"jitter_local"`
			Shimmer     *float64                              `json:"shimmer_local"`
			SpeechRate  float64                               `json:"speech_rate"`
			Events      []json.RawMessage                     `json:"events"`
		} `json:"audio"`
		Text struct {
			Subtitle     string `json:"subtitle"`
			EmotionWords []struct {
				Word     string `json:"word"`
				Category string `json:"category"`
				Negated  bool   `json:"negated"`
			} `json:"emotion_words"`
			Valence *float64 `json:"valence"`
		} `json:"text"`
		Warnings []string `json:"warnings"`
	}
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Error("more than one JSON value")
	}
	if got.Clip != clip || got.Duration < 7 || got.Visual.FramesAnalyzed == 0 {
		t.Errorf("clip %q, %.2f s, %d frames", got.Clip, got.Duration, got.Visual.FramesAnalyzed)
	}
	// Each face names its frame: the frames are analysed at 2 a second
	// from 0 s, so frame i is at i/2 s.
	for _, f := range got.Visual.Faces {
		if f.Frame == nil || *f.Frame < 0 || *f.Frame >= got.Visual.FramesAnalyzed || float64(*f.Frame)/2 != f.T {
			t.Errorf("face at %.2f s names frame %v of %d", f.T, f.Frame, got.Visual.FramesAnalyzed)
			break
		}
	}
	if !got.Audio.Present || got.Audio.F0 == nil || got.Audio.Jitter == nil || got.Audio.Shimmer == nil || got.Audio.SpeechRate <= 0 {
		t.Errorf("audio: %+v", got.Audio)
	}
	if got.Text.Valence == nil || *got.Text.Valence <= 0 || !strings.Contains(got.Text.Subtitle, "happy") {
		t.Errorf("text: %+v", got.Text)
	}
	happy := false
	for _, w := range got.Text.EmotionWords {
		happy = happy || w.Word == "happy"
	}
	if !happy {
		t.Errorf("no 'happy' among %+v", got.Text.EmotionWords)
	}
	if got.Warnings == nil {
		t.Error("warnings is null, want a list")
	}
}

func TestCuesText(t *testing.T) {
	clip := sharedClip(t)
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"cues", "--subtitle", "I am not happy!", clip}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"voice: F0", "happy (happy, negated)", "1 exclamations"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCuesFPS checks that a frame rate that is not a positive number of
// at most 60 is a usage error, found before the clip is read.
func TestCuesFPS(t *testing.T) {
	for _, fps := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "-1", "0", "0.0", "60.5", "1e9", "1e308"} {
		t.Run(fps, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := execute(context.Background(), []string{"cues", "--fps", fps, "missing.mp4"}, &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), "--fps must be") {
				t.Errorf("exit %d, stderr %q; want 2 and a --fps usage error", code, errOut.String())
			}
		})
	}
}

func TestCuesErrors(t *testing.T) {
	clip := sharedClip(t)
	notMedia := filepath.Join(t.TempDir(), "x.mp4")
	if err := os.WriteFile(notMedia, []byte("plain text"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no clip", []string{"cues"}, 2, "accepts 1 arg"},
		{"fps zero", []string{"cues", "--fps", "0", clip}, 2, "--fps"},
		{"both subtitles", []string{"cues", "--subtitle", "hi", "--subtitle-file", "x.srt", clip}, 2, "exclude"},
		{"not media", []string{"cues", notMedia}, 1, "not a readable media file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := execute(context.Background(), tt.args, &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tt.code, tt.msg)
			}
		})
	}
}
