package vocal

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// synthSamples makes a labelled set of four actors, two men and two
// women, with two clips of each emotion. Feature j of emotion e is
// spread·(code[e][j] + actor offset + gender offset) plus noise, so that
// emotions are separable across speakers when spread is large. With
// perActor, each actor has codes of its own: nothing then carries over
// from one speaker to another.
func synthSamples(features []string, perActor bool, seed uint64) []Sample {
	r := rand.New(rand.NewPCG(seed, 1))
	codes := func() [][]float64 {
		c := make([][]float64, len(Emotions))
		for e := range c {
			c[e] = make([]float64, len(features))
			for j := range c[e] {
				c[e][j] = r.NormFloat64()
			}
		}
		return c
	}
	shared := codes()
	var out []Sample
	for a, actor := range []string{"01", "02", "03", "04"} {
		gender := "male"
		if a%2 == 1 {
			gender = "female"
		}
		code := shared
		if perActor {
			code = codes()
		}
		offset := r.NormFloat64() * 0.3
		for e, em := range Emotions {
			for rep := range 2 {
				f := Features{}
				for j, name := range features {
					v := 2*code[e][j] + offset + r.NormFloat64()*0.3
					if gender == "female" && j == 0 {
						v += 5
					}
					f[name] = v
				}
				name := fmt.Sprintf("%s-%s-%d", actor, em, rep)
				out = append(out, Sample{Clip: Clip{Name: name, File: name + ".wav", Emotion: em, Actor: actor, Gender: gender}, Features: f})
			}
		}
	}
	return out
}

func synthSettings() Settings {
	s := DefaultSettings()
	s.Features = []string{"f0_median", "f0_range", "intensity_sd", "jitter", "hnr", "alpha_ratio"}
	s.Lambdas = []float64{1, 0.1, 0.01}
	return s
}

// TestGenerateDeterministic checks that the model file depends only on the
// samples and the settings: not on the number of workers, nor on the run.
func TestGenerateDeterministic(t *testing.T) {
	s := synthSettings()
	samples := synthSamples(s.Features, false, 7)
	corpus := &Corpus{Dir: "testdata/synthetic", LabelsSHA256: "labels", AudioSHA256: "audio"}
	var files [][]byte
	for _, workers := range []int{1, 3, 1} {
		m, err := Generate(context.Background(), corpus, samples, s, workers)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Errorf("run %d wrote another file:\n%s", i, cmp.Diff(string(files[0]), string(files[i])))
		}
	}
	m, err := ParseModel(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Provenance; p.Data != "synthetic" || p.Clips != len(samples) || !slices.Equal(p.Actors, []string{"01", "02", "03", "04"}) {
		t.Errorf("provenance %+v", p)
	}
	if cv := m.Provenance.CV; cv.Accuracy < 0.9 {
		t.Errorf("separable emotions cross-validated at %.3f", cv.Accuracy)
	}
}

// TestCrossValidateHoldsActorsOut checks that no clip is predicted by a
// model that saw its speaker: when every actor expresses the emotions with
// codes of its own, a held-out actor can only be guessed (a fit that saw
// the actor would recall its codes nearly perfectly).
func TestCrossValidateHoldsActorsOut(t *testing.T) {
	s := synthSettings()
	samples := synthSamples(s.Features, true, 11)
	rep, err := CrossValidate(context.Background(), samples, s, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy > 0.4 {
		t.Errorf("accuracy %.3f on speaker-specific codes: a held-out actor leaked into fitting", rep.Accuracy)
	}
	var held []string
	var clips int
	for _, f := range rep.Folds {
		if len(f.Held) != 1 || f.Clips != 2*len(Emotions) {
			t.Errorf("fold %+v: want one actor and its %d clips", f, 2*len(Emotions))
		}
		held = append(held, f.Held...)
		clips += f.Clips
	}
	if !slices.Equal(held, []string{"01", "02", "03", "04"}) || clips != len(samples) || rep.Clips != len(samples) {
		t.Errorf("folds hold out %v with %d clips (report %d), want each actor once and %d clips", held, clips, rep.Clips, len(samples))
	}
	var sum int
	for _, row := range rep.Confusion {
		for _, v := range row {
			sum += v
		}
	}
	if sum != len(samples) {
		t.Errorf("confusion counts %d clips, want %d", sum, len(samples))
	}
}

func TestDatasetSplit(t *testing.T) {
	s := synthSettings()
	ds, err := newDataset(synthSamples(s.Features, false, 3), s.Features)
	if err != nil {
		t.Fatal(err)
	}
	fit, test := ds.split([]string{"02", "03"})
	if diff := cmp.Diff([]string{"01", "04"}, fit.actorList()); diff != "" {
		t.Errorf("fitting actors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"02", "03"}, test.actorList()); diff != "" {
		t.Errorf("test actors (-want +got):\n%s", diff)
	}
	for _, d := range []dataset{fit, test} {
		if len(d.x) != len(d.y) || len(d.x) != len(d.actors) || len(d.x) != len(d.female) {
			t.Errorf("split columns of unequal length: %d %d %d %d", len(d.x), len(d.y), len(d.actors), len(d.female))
		}
	}
	if len(fit.x)+len(test.x) != len(ds.x) {
		t.Errorf("split %d + %d of %d rows", len(fit.x), len(test.x), len(ds.x))
	}
}

func TestSettingsCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Settings)
		want string
	}{
		{"no features", func(s *Settings) { s.Features = nil }, "no features"},
		{"unknown feature", func(s *Settings) { s.Features = append(s.Features, "loudness") }, `unknown feature "loudness"`},
		{"twice", func(s *Settings) { s.Features = append(s.Features, s.Features[0]) }, "listed twice"},
		{"no penalties", func(s *Settings) { s.Lambdas = nil }, "no penalties"},
		{"increasing penalties", func(s *Settings) { s.Lambdas = []float64{0.1, 1} }, "positive and decreasing"},
		{"zero penalty", func(s *Settings) { s.Lambdas = []float64{1, 0} }, "positive and decreasing"},
		{"gender penalty", func(s *Settings) { s.GenderLambda = 0 }, "gender penalty 0"},
		{"iterations", func(s *Settings) { s.MaxIter = 0 }, "iteration limit 0"},
	}
	samples := synthSamples(synthSettings().Features, false, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthSettings()
			tt.edit(&s)
			_, err := CrossValidate(context.Background(), samples, s, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CrossValidate: %v, want an error containing %q", err, tt.want)
			}
			_, _, err = Train(context.Background(), samples, s, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Train: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := DefaultSettings().check(); err != nil {
		t.Errorf("default settings: %v", err)
	}
}

func TestCrossValidateNeedsGenders(t *testing.T) {
	s := synthSettings()
	samples := synthSamples(s.Features, false, 5)
	samples[0].Gender = "unknown"
	if _, err := CrossValidate(context.Background(), samples, s, 1); err == nil || !strings.Contains(err.Error(), `gender "unknown"`) {
		t.Errorf("err %v, want one naming the gender", err)
	}
}

func TestFitSoftmaxSeparable(t *testing.T) {
	// Two well separated classes on one feature: the fit must put them
	// apart, with weights summing to zero over the classes (the penalty
	// centres them) and centred intercepts.
	z := [][]float64{{-2}, {-1.5}, {-1}, {1}, {1.5}, {2}}
	y := []int{0, 0, 0, 1, 1, 1}
	sm := fitSoftmax(z, y, 2, 0.01, nil, defaultFitOptions)
	for i, zi := range z {
		if p := sm.probs(zi); argmax(p) != y[i] {
			t.Errorf("z %v: probs %v, want class %d", zi, p, y[i])
		}
	}
	w0, w1 := sm.row(0), sm.row(1)
	if s := w0[1] + w1[1]; s > 1e-6 || s < -1e-6 {
		t.Errorf("weights %v and %v do not sum to zero", w0[1], w1[1])
	}
	if s := w0[0] + w1[0]; s > 1e-12 || s < -1e-12 {
		t.Errorf("intercepts %v and %v not centred", w0[0], w1[0])
	}
}
