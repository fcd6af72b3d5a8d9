package unibench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
			t.Logf("%s best %s %.4f; %s; warnings %q", d.Title, r.Best.Name, r.Best.Score, r.Coverage(), r.Warnings)
			if r.Undefined != "" || r.Scored == 0 || r.Scored > r.Clips {
				t.Errorf("coverage %s", r.Coverage())
			}
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

// writePreds writes a prediction CSV (name, openset) and returns it as the
// one checkpoint of a run.
func writePreds(t *testing.T, d Dataset, rows map[string]string) []Checkpoint {
	t.Helper()
	var b strings.Builder
	b.WriteString("name,openset\n")
	for _, n := range slices.Sorted(maps.Keys(rows)) {
		fmt.Fprintf(&b, "%s,%q\n", n, rows[n])
	}
	path := filepath.Join(t.TempDir(), "run"+d.Suffix()+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return []Checkpoint{{Name: "run", Path: path}}
}

// Clips the metric cannot compare are counted with the reason; when no
// clip is left the checkpoints have no score (null in JSON, not 0) and
// there is no best.
func TestCoverage(t *testing.T) {
	mosi, _ := Lookup("mosi")
	meld, _ := Lookup("meld")
	type outcome struct {
		Clips, Scored int
		Skipped       []Skip
		Undefined     string
		Coverage      string
		Scores        int // checkpoints with a score
		Best          bool
		JSON          map[string]string // the checkpoint's JSON fields and their kinds
	}
	for _, tc := range []struct {
		name   string
		d      Dataset
		wheels bool
		lab    *Labels
		preds  map[string]string
		want   outcome
	}{
		{
			name:  "every valence 0",
			d:     mosi,
			lab:   &Labels{Names: []string{"a", "b"}, Valence: map[string]float64{"a": 0, "b": 0}},
			preds: map[string]string{"a": "positive", "b": "negative"},
			want: outcome{Clips: 2, Skipped: []Skip{{"with valence 0", 2}},
				Undefined: "the weighted F1 and accuracy are undefined",
				Coverage:  "2 clips, 0 scored: 2 with valence 0; the weighted F1 and accuracy are undefined",
				JSON:      map[string]string{"name": "run", "score": "null", "accuracy": "null", "samples": "0"}},
		},
		{
			name:  "some valence 0",
			d:     mosi,
			lab:   &Labels{Names: []string{"a", "b", "c"}, Valence: map[string]float64{"a": 0, "b": 1.5, "c": -0.5}},
			preds: map[string]string{"a": "positive", "b": "positive", "c": "positive"},
			want: outcome{Clips: 3, Scored: 2, Skipped: []Skip{{"with valence 0", 1}},
				Coverage: "3 clips, 2 scored: 1 with valence 0", Scores: 1, Best: true,
				JSON: map[string]string{"name": "run", "score": "number", "accuracy": "number", "samples": "2"}},
		},
		{
			name:   "no emotion on a wheel",
			d:      meld,
			wheels: true,
			lab:    &Labels{Names: []string{"a", "b"}, Emotion: map[string]string{"a": "neutral", "b": "xyzzy"}},
			preds:  map[string]string{"a": "['happy']", "b": "['sad']"},
			want: outcome{Clips: 2, Skipped: []Skip{{`with an emotion on no wheel (e.g. "neutral", "xyzzy")`, 2}},
				Undefined: "the hit rate is undefined",
				Coverage:  `2 clips, 0 scored: 2 with an emotion on no wheel (e.g. "neutral", "xyzzy"); the hit rate is undefined`,
				JSON:      map[string]string{"name": "run", "score": "null", "samples": "0"}},
		},
		{
			name:   "some emotions on no wheel",
			d:      meld,
			wheels: true,
			lab:    &Labels{Names: []string{"a", "b"}, Emotion: map[string]string{"a": "neutral", "b": "sadness"}},
			preds:  map[string]string{"a": "['happy']", "b": "['sad']"},
			want: outcome{Clips: 2, Scored: 1, Skipped: []Skip{{`with an emotion on no wheel (e.g. "neutral")`, 1}},
				Coverage: `2 clips, 1 scored: 1 with an emotion on no wheel (e.g. "neutral")`, Scores: 1, Best: true,
				JSON: map[string]string{"name": "run", "score": "number", "samples": "1"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var x *wheel.Lexicon
			if tc.wheels {
				var err error
				if x, err = wheel.Load(shared(t, "emotion-wheel", "affectgpt2025")); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Score(context.Background(), tc.d, tc.lab, x, writePreds(t, tc.d, tc.preds))
			if err != nil {
				t.Fatal(err)
			}
			c := r.Checkpoints[0]
			if c.Error != "" {
				t.Fatalf("checkpoint error %s", c.Error)
			}
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			got := outcome{Clips: r.Clips, Scored: r.Scored, Skipped: r.SkippedClips, Undefined: r.Undefined,
				Coverage: r.Coverage(), Best: r.Best != nil, JSON: jsonShape(t, b)}
			if c.Score != nil {
				got.Scores++
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// jsonShape decodes a JSON object into its fields: strings and the sample
// count as written, null as "null", other numbers as "number".
func jsonShape(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			out[k] = "null"
		case string:
			out[k] = v
		case float64:
			if v == math.Trunc(v) && k == "samples" {
				out[k] = fmt.Sprint(v)
			} else {
				out[k] = "number"
			}
		default:
			out[k] = fmt.Sprintf("%T", v)
		}
	}
	return out
}
