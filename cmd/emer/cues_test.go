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
				T         float64      `json:"t"`
				Frame     *int         `json:"frame"`
				Track     int          `json:"track"`
				Box       [4]float64   `json:"box"`
				Landmarks [][2]float64 `json:"landmarks"`
			} `json:"faces"`
			Tracks  []json.RawMessage `json:"tracks"`
			Summary []struct {
				Expression string  `json:"expression"`
				Start      float64 `json:"start_s"`
				End        float64 `json:"end_s"`
				MeanProb   float64 `json:"mean_prob"`
			} `json:"summary"`
			MainTrack int `json:"main_track"`
			Actions   []struct {
				Action string   `json:"action"`
				Start  *float64 `json:"start_s"`
				End    *float64 `json:"end_s"`
				Track  int      `json:"track"`
			} `json:"actions"`
			HeadPose []struct {
				T                *float64 `json:"t"`
				Yaw, Pitch, Roll *float64
			} `json:"head_pose"`
			Peak *struct {
				T      *float64 `json:"t"`
				Reason string   `json:"reason"`
			} `json:"peak"`
			Detection struct {
				Detector  string `json:"detector"`
				Landmarks string `json:"landmarks"`
				Frames    int    `json:"frames"`
				SSDFrames *int   `json:"ssd_frames"`
			} `json:"detection"`
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
	// Landmarks by default: 68 points per face, around its box; the main
	// face's head pose in each of its frames; the detector's counts.
	v := got.Visual
	for _, f := range v.Faces {
		if len(f.Landmarks) != 68 {
			t.Errorf("face at %.2f s has %d landmarks, want 68", f.T, len(f.Landmarks))
			break
		}
		if p := f.Landmarks[30]; p[0] < f.Box[0] || p[0] > f.Box[0]+f.Box[2] || p[1] < f.Box[1] || p[1] > f.Box[1]+f.Box[3] {
			t.Errorf("face at %.2f s: nose tip %v outside the box %v", f.T, p, f.Box)
		}
	}
	if d := v.Detection; d.Detector != "auto" || d.Landmarks != "net" || d.Frames != v.FramesAnalyzed || d.SSDFrames == nil {
		t.Errorf("detection %+v", d)
	}
	mainFrames := 0
	for _, f := range v.Faces {
		if f.Track == v.MainTrack {
			mainFrames++
		}
	}
	if v.Actions == nil || len(v.HeadPose) != mainFrames || mainFrames == 0 {
		t.Errorf("actions %v, %d head poses for %d frames of the main face", v.Actions, len(v.HeadPose), mainFrames)
	}
	for _, p := range v.HeadPose {
		if p.T == nil || p.Yaw == nil || p.Pitch == nil || p.Roll == nil {
			t.Fatalf("head pose %+v lacks t, yaw, pitch or roll", p)
		}
	}
	for _, a := range v.Actions {
		if a.Action == "" || a.Start == nil || a.End == nil || a.Track == 0 {
			t.Fatalf("action %+v lacks action, start_s, end_s or track", a)
		}
	}
	if v.Peak != nil && (v.Peak.T == nil || v.Peak.Reason == "") {
		t.Errorf("peak %+v", v.Peak)
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
	for _, want := range []string{"voice: F0", "happy (happy, negated)", "1 exclamations",
		"auto detector, SSD on 0 of 0 frames tiny missed; landmarks net", "happy, mean", "head pose over 15 frames: yaw "} {
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

// TestFaceFlags checks that a --detector or --landmarks value that names
// no model is a usage error of cues and infer, every such flag reported,
// before the clip is read.
func TestFaceFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		msgs []string
	}{
		{"cues detector", []string{"cues", "--detector", "yolo", "missing.mp4"}, []string{`--detector: detector "yolo" is not one of tiny, ssd, auto`}},
		{"cues both", []string{"cues", "--detector", "mtcnn", "--landmarks", "dlib", "missing.mp4"},
			[]string{`--detector: detector "mtcnn" is not`, `--landmarks: landmark model "dlib" is not one of net, tiny, none`}},
		{"infer landmarks", []string{"infer", "--landmarks", "68", "missing.mp4"}, []string{`--landmarks: landmark model "68"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := execute(context.Background(), tt.args, &out, &errOut)
			for _, msg := range tt.msgs {
				if code != 2 || !strings.Contains(errOut.String(), msg) {
					t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), msg)
				}
			}
		})
	}
}
