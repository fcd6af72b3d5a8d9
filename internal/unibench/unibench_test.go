package unibench

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"emer/internal/sharedtest"
	"emer/internal/wheel"
)

var shared = sharedtest.Data

func score(t *testing.T, name string, x *wheel.Lexicon) *Result {
	t.Helper()
	d, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := ReadLabels(d, filepath.Join(shared(t, "merbench-labels"), d.LabelFile))
	if err != nil {
		t.Fatal(err)
	}
	cps, err := FindCheckpoints(d, shared(t, "affectgpt-outputs", "AffectGPT", "output", d.Outputs))
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 7 {
		t.Errorf("%s: %d checkpoints, want 7 (epochs 30..60)", name, len(cps))
	}
	r, err := Score(context.Background(), d, lab, x, cps)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() > 0 || r.Best == nil {
		t.Fatalf("%s: %+v", name, r)
	}
	return r
}

// Published AffectGPT figures (Table 2, A+V+T): MER2023 78.54, MELD 55.65,
// MOSI 81.30, for the best checkpoint.
func TestPublishedFigures(t *testing.T) {
	x, err := wheel.Load(shared(t, "emotion-wheel", "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"mer2023", 0.7854},
		{"meld", 0.5565},
		{"mosi", 0.8130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := score(t, tc.name, x)
			if got := math.Round(r.Best.Score*1e4) / 1e4; got != tc.want {
				t.Errorf("best %s = %v (%s), want %v", r.Metric, r.Best.Score, r.Best.Name, tc.want)
			}
		})
	}
}

func TestAllDatasetsScore(t *testing.T) {
	x, err := wheel.Load(shared(t, "emotion-wheel", "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Datasets {
		t.Run(d.Name, func(t *testing.T) {
			r := score(t, d.Name, x)
			t.Logf("%s best %s %.4f; warnings %q", d.Title, r.Best.Name, r.Best.Score, r.Warnings)
			for _, c := range r.Checkpoints {
				if *c.Score <= 0 || *c.Score >= 1 || c.Samples == 0 {
					t.Errorf("%s: %+v", c.Name, c)
				}
				if (d.Kind == Sentiment) != (c.Accuracy != nil) {
					t.Errorf("%s: accuracy %v for a %s set", c.Name, c.Accuracy, d.Metric())
				}
			}
		})
	}
}

func TestSentiment(t *testing.T) {
	// Exact match, as the reference compares strings.
	for in, want := range map[string]int{"positive": 1, "negative": -1, "Negative": 0, "[positive]": 0, "neutral": 0, "mixed": 0, "": 0} {
		if got := SentimentSign(in); got != want {
			t.Errorf("SentimentSign(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestForOutputs(t *testing.T) {
	if d, why := ForOutputs("results-cmumosi"); d.Name != "mosi" || why != "" {
		t.Errorf("results-cmumosi -> %q, %q", d.Name, why)
	}
	if _, why := ForOutputs("results-mer2024"); why == "" {
		t.Error("results-mer2024 not skipped")
	}
}
