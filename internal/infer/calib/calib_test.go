package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/cues"
	"emer/internal/explain"
	"emer/internal/infer"
	"emer/internal/sharedtest"
	"emer/internal/vocal"
	"emer/internal/voice"
)

var update = flag.Bool("update", false, "rewrite testdata/ravdess-calib.golden")

// TestLabelOf checks that the portrayed emotions are read as distinct
// labels of the reasoner, one for each of its labels.
func TestLabelOf(t *testing.T) {
	got := classes()
	if len(labelOf) != len(vocal.Emotions) {
		t.Errorf("labelOf reads %d emotions, RAVDESS has %d", len(labelOf), len(vocal.Emotions))
	}
	slices.Sort(got)
	want := slices.Clone(explain.Labels)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("portrayed emotions as labels differ from the reasoner's labels (-labels +read):\n%s", diff)
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name    string
		classes []string
		pairs   [][2]string
		want    scores
	}{
		{
			name:    "answers outside the classes get columns of their own, counted in recall only",
			classes: []string{"a", "b"},
			pairs:   [][2]string{{"a", "a"}, {"a", "none"}, {"a", "b"}, {"b", "b"}, {"b", "a"}, {"b", "c"}},
			want: scores{
				Classes: []string{"a", "b"}, Columns: []string{"a", "b", "c", "none"},
				Confusion: [][]int{{1, 1, 0, 1}, {1, 1, 1, 0}},
				PerClass: []classScore{
					{Class: "a", Clips: 3, Correct: 1, Predicted: 2, Recall: 1.0 / 3, Precision: 0.5},
					{Class: "b", Clips: 3, Correct: 1, Predicted: 2, Recall: 1.0 / 3, Precision: 0.5},
				},
				Clips: 6, Correct: 2, Accuracy: 1.0 / 3, Balanced: 1.0 / 3,
			},
		},
		{
			name:    "a class never portrayed is left out of the balanced accuracy",
			classes: []string{"a", "b", "c"},
			pairs:   [][2]string{{"a", "a"}, {"a", "a"}, {"a", "c"}, {"b", "a"}},
			want: scores{
				Classes: []string{"a", "b", "c"}, Columns: []string{"a", "b", "c"},
				Confusion: [][]int{{2, 0, 1}, {1, 0, 0}, {0, 0, 0}},
				PerClass: []classScore{
					{Class: "a", Clips: 3, Correct: 2, Predicted: 3, Recall: 2.0 / 3, Precision: 2.0 / 3},
					{Class: "b", Clips: 1, Correct: 0, Predicted: 0},
					{Class: "c", Clips: 0, Correct: 0, Predicted: 1},
				},
				Clips: 4, Correct: 2, Accuracy: 0.5, Balanced: 1.0 / 3,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, score(tt.classes, tt.pairs)); diff != "" {
				t.Errorf("score (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadingsMerge checks that neutral and calm read as one class count
// a calm answer to a neutral clip as right, and only then.
func TestReadingsMerge(t *testing.T) {
	r := &result{Outcomes: []outcome{
		{Truth: "neutral", Reasoner: "calm", Voice: "neutral"},
		{Truth: "calm", Reasoner: "calm", Voice: "sad"},
		{Truth: "sad", Reasoner: noEmotion, Voice: "calm"},
		{Truth: "worried", Reasoner: "worried", Voice: "worried"},
	}}
	reasoner, voice, reasonerMerged, voiceMerged := r.readings()
	for _, c := range []struct {
		name string
		s    scores
		want int
	}{{"reasoner", reasoner, 2}, {"voice", voice, 2}, {"reasoner merged", reasonerMerged, 3}, {"voice merged", voiceMerged, 2}} {
		if c.s.Correct != c.want || c.s.Clips != 4 {
			t.Errorf("%s: %d/%d right, want %d/4", c.name, c.s.Correct, c.s.Clips, c.want)
		}
	}
	if got := reasonerMerged.Classes[0]; got != neutralCalm || len(reasonerMerged.Classes) != len(vocal.Emotions)-1 {
		t.Errorf("merged classes %v", reasonerMerged.Classes)
	}
}

// TestExplainClip checks how a held-out clip's outcome is read from the
// reasoner's explanation: the voice model's clue is there when its top
// emotion is likely enough, and an explanation that ranks nothing answers
// none.
func TestExplainClip(t *testing.T) {
	// A voice on which no prosody rule fires: mid pitch, moderate
	// movement and rate, no events.
	c := clip{Clip: vocal.Clip{Name: "x", Emotion: vocal.Fearful, Actor: "01"}, Path: "x.wav", Cues: &cues.Cues{
		Clip: "x.wav", Duration: 3,
		Audio: cues.Audio{Present: true, Report: &voice.Report{Duration: 3, F0: &voice.Stats{Mean: 150, SD: 20},
			SpeechRate: 3, SpeechStart: 0.5, SpeechEnd: 2.5, Pauses: []voice.Pause{}, Events: []voice.Event{}},
			Features: vocal.Features{"f0_median": 0}},
	}}
	known := measuredCues{c.Path: c.Cues}
	tests := []struct {
		name         string
		probs        map[string]float64
		wantReasoner string
		wantClue     bool
	}{
		{"likely enough", map[string]float64{"fearful": 0.9, "sad": 0.1}, "worried", true},
		{"too unsure, no prosody clue", map[string]float64{"fearful": 0.35, "sad": 0.35, "calm": 0.3}, noEmotion, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := explain.VoiceFunc(func(context.Context, explain.VoiceInput) (explain.VoicePrediction, error) {
				return explain.VoicePrediction{Model: "test", Probs: tt.probs}, nil
			})
			p := &infer.Pipeline{Cues: known, Explainer: &explain.Local{Voice: v}}
			o, err := explainClip(context.Background(), p, vocal.Default(), c)
			if err != nil {
				t.Fatal(err)
			}
			want := outcome{Clip: "x", Actor: "01", Truth: "worried", Reasoner: tt.wantReasoner, ModelClue: tt.wantClue, Voiced: tt.wantClue,
				Voice: labelOf[vocal.Default().Predict(c.Cues.Audio.Features).Top()]}
			if diff := cmp.Diff(want, o); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (make setup installs it)", bin)
		}
	}
}

// sentences are the two sentences of the corpus.
var sentences = [2]string{"Kids are talking by the door", "Dogs are sitting by the door"}

// tinyCorpus writes a corpus of the given number of actors, one clip of
// each emotion, each a synthetic voice at a pitch and tempo of its own;
// silent names a clip written as silence instead.
func tinyCorpus(t *testing.T, actors int, silent string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "audio"), 0o755); err != nil {
		t.Fatal(err)
	}
	var labels strings.Builder
	labels.WriteString("name,file,emotion,statement,actor,gender\n")
	for a := 1; a <= actors; a++ {
		gender := map[bool]string{true: "male", false: "female"}[a%2 == 1]
		for e, em := range vocal.Emotions {
			name := fmt.Sprintf("%02d-%d", a, e)
			f0 := 100 + 10*float64(e) + 80*float64(a%2) + 3*float64(a)
			au := tone(f0, 0.15+0.02*float64(e))
			if name == silent {
				clear(au.Samples)
			}
			var b bytes.Buffer
			if err := voice.WriteWAV(&b, au); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "audio", name+".wav"), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&labels, "%s,audio/%s.wav,%s,%s,%02d,%s\n", name, name, em, sentences[e%2], a, gender)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(labels.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tone is 1.5 s of a buzzy voice at f0 Hz, gliding up a little, in
// syllables of on seconds every 0.25 s.
func tone(f0, on float64) voice.Audio {
	const rate = 16000
	a := voice.Audio{Samples: make([]float32, rate*3/2), Rate: rate}
	var phase float64
	for i := range a.Samples {
		t := float64(i) / rate
		phase += 2 * math.Pi * f0 * (1 + 0.1*t) / rate
		var v float64
		for k := 1; k <= 10; k++ {
			v += math.Sin(float64(k)*phase) / float64(k)
		}
		if s := math.Mod(t, 0.25); s < on {
			a.Samples[i] = float32(0.2 * v * math.Sin(math.Pi*s/on))
		}
	}
	return a
}

// smallSettings are the committed model's settings on fewer features and
// penalties, for a quick fit on a small corpus.
func smallSettings() vocal.Settings {
	s := vocal.DefaultSettings()
	s.Features = []string{"f0_median", "f0_range", "f0_sd", "intensity_sd", "jitter", "shimmer", "hnr", "alpha_ratio", "voiced_fraction"}
	s.Lambdas = []float64{1, 0.1, 0.01}
	return s
}

// TestVoiceAloneIsTheGenerators checks on a small corpus that the voice
// model alone, in this harness (features from the cue extraction, fold
// models from vocal.Train), gives exactly the cross-validation of
// package vocal on the generator's own measures; and that the result does
// not depend on the number of workers.
func TestVoiceAloneIsTheGenerators(t *testing.T) {
	needFFmpeg(t)
	ctx := context.Background()
	corpus, err := vocal.LoadCorpus(tinyCorpus(t, 4, ""))
	if err != nil {
		t.Fatal(err)
	}
	s := smallSettings()
	samples, err := corpus.Measure(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := vocal.CrossValidate(ctx, samples, s, 2)
	if err != nil {
		t.Fatal(err)
	}
	clips, err := measure(ctx, corpus, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, workers := range []int{1, 3} {
		res, err := crossValidate(ctx, clips, s, workers)
		if err != nil {
			t.Fatal(err)
		}
		_, voiceAlone, _, _ := res.readings()
		if diff := cmp.Diff(cv.Confusion, voiceAlone.Confusion); diff != "" {
			t.Errorf("workers %d: voice model alone differs from vocal.CrossValidate (-vocal +harness):\n%s", workers, diff)
		}
		for k, f := range res.Folds {
			if want := cv.Folds[k]; f.Actor != want.Held[0] || f.Lambda != want.Lambda || f.VoiceCorrect != want.Correct {
				t.Errorf("workers %d: fold %+v, vocal's %+v", workers, f, want)
			}
		}
		var b strings.Builder
		if err := res.write(&b, "tiny"); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b.String())
	}
	if outs[0] != outs[1] {
		t.Errorf("the figures depend on the workers:\n%s\n---\n%s", outs[0], outs[1])
	}
	for _, want := range []string{"tiny: 32 clips, 4 actors, 9 voice features", "== local reasoner, neutral and calm apart ==",
		"== voice model alone, neutral and calm as one class ==", "confusion (rows: portrayed, columns: answered)", "  04: "} {
		if !strings.Contains(outs[0], want) {
			t.Errorf("output lacks %q:\n%s", want, outs[0])
		}
	}
}

func TestRunErrors(t *testing.T) {
	needFFmpeg(t)
	tests := []struct {
		name string
		data func(t *testing.T) string
		want []string
	}{
		{"no corpus", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none") }, []string{"labels.csv"}},
		{"a silent clip", func(t *testing.T) string { return tinyCorpus(t, 1, "01-0") }, []string{"01-0.wav", "no voice-emotion features", "no voiced speech"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), options{data: tt.data(t), workers: 1, stdout: &out, stderr: io.Discard})
			if err == nil {
				t.Fatalf("no error; output:\n%s", out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if out.Len() > 0 {
				t.Errorf("figures printed despite the error:\n%s", out.String())
			}
		})
	}
}

// TestSubtitles checks that -subtitles gives each clip its sentence as
// its subtitle, which the cue extraction reads.
func TestSubtitles(t *testing.T) {
	needFFmpeg(t)
	dir := tinyCorpus(t, 1, "")
	corpus, err := vocal.LoadCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := statements(dir)
	if err != nil {
		t.Fatal(err)
	}
	clips, err := measure(context.Background(), corpus, subs, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range clips {
		if want := sentences[i%2]; c.Subtitle != want || !c.Cues.Text.Present || c.Cues.Text.Subtitle != want {
			t.Errorf("%s: subtitle %q, cues' text %+v; want %q", c.Name, c.Subtitle, c.Cues.Text, want)
		}
	}
}

func TestStatementsBad(t *testing.T) {
	tests := []struct {
		name, labels string
		want         []string
	}{
		{"no statement column", "name,file,emotion,actor,gender\na,a.wav,sad,01,male\n", []string{"labels.csv:1", "statement"}},
		{"an empty statement", "name,file,statement\na,a.wav,Kids are talking by the door\nb,b.wav, \n", []string{"labels.csv:3", "clip b has no statement"}},
		{"a short row", "name,file,statement\na,a.wav\n", []string{"labels.csv", "wrong number of fields"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(tt.labels), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := statements(dir)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err %v, want one saying %q", err, w)
				}
			}
		})
	}
}

func TestCrossValidateTwoActors(t *testing.T) {
	var clips []clip
	for _, a := range []string{"01", "02"} {
		for _, e := range vocal.Emotions {
			name := a + "-" + string(e)
			clips = append(clips, clip{Clip: vocal.Clip{Name: name, Emotion: e, Actor: a, Gender: "male"}, Path: name + ".wav",
				Cues: &cues.Cues{Clip: name + ".wav", Audio: cues.Audio{Features: vocal.Features{"f0_median": 1}}}})
		}
	}
	_, err := crossValidate(context.Background(), clips, smallSettings(), 1)
	if err == nil || !strings.Contains(err.Error(), "at least 3 actors") || !strings.Contains(err.Error(), "have 2") {
		t.Errorf("err %v, want one asking for 3 actors", err)
	}
}

// TestRavdessCalib runs the whole calibration on ravdess-calib: the voice
// model alone must give the cross-validation recorded in the committed
// model file, fold by fold, and the printed figures must be those of
// testdata/ravdess-calib.golden (the README's; -update rewrites it).
func TestRavdessCalib(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the cues of 360 clips and fits 12 folds of voice models")
	}
	needFFmpeg(t)
	corpus, err := vocal.LoadCorpus(sharedtest.Data(t, "ravdess-calib"))
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	res, err := calibrate(context.Background(), corpus, nil, vocal.DefaultSettings(), runtime.GOMAXPROCS(0), &progress)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(progress.String()))
	cv := vocal.Default().Provenance.CV
	_, voiceAlone, _, _ := res.readings()
	if diff := cmp.Diff(cv.Confusion, voiceAlone.Confusion); diff != "" {
		t.Errorf("voice model alone differs from the cross-validation of %s (-file +harness):\n%s", vocal.ModelFile, diff)
	}
	for k, f := range res.Folds {
		if want := cv.Folds[k]; f.Actor != want.Held[0] || f.Lambda != want.Lambda || f.VoiceCorrect != want.Correct {
			t.Errorf("fold %+v, the model file's %+v", f, want)
		}
	}
	var b bytes.Buffer
	if err := res.write(&b, filepath.Base(corpus.Dir)); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "ravdess-calib.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("figures differ from %s (-want +got; after a change of the rules or the model, go test -update rewrites it and README.md's figures follow):\n%s", golden, diff)
	}
}
