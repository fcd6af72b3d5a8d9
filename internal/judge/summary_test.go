package judge

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{[]float64{7}, 7}, {[]float64{9, 1, 5}, 5}, {[]float64{8, 2, 6, 4}, 5}} {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	items := []Judged{
		// s1: repeats 4, 6, and a failure: median of the ok ones is 5.
		{"s1", "a", MetricClue, StatusOK, f(4)},
		{"s1", "a", MetricClue, StatusOK, f(6)},
		{"s1", "a", MetricClue, StatusParseError, nil},
		// s2: 9.
		{"s2", "a", MetricClue, StatusOK, f(9)},
		// s3: no ok reply at all.
		{"s3", "a", MetricClue, StatusRequestError, nil},
		{"s3", "a", MetricClue, StatusRefused, nil},
		// one scored sample: a mean but no standard error.
		{"s1", "a", MetricEmotion, StatusOK, f(3)},
	}
	got := Summarize(items, []string{"a", "b"}, []Metric{MetricClue, MetricEmotion})
	clue := got["a"][MetricClue]
	wantSE := math.Sqrt(8) / math.Sqrt(2) // scores 5 and 9: sd = sqrt(8)
	if clue.NScored != 2 || clue.NFailed != 1 || *clue.Mean != 7 || math.Abs(*clue.Stderr-wantSE) > 1e-12 {
		t.Errorf("clue = %+v (mean %v, stderr %v)", clue, *clue.Mean, *clue.Stderr)
	}
	if emo := got["a"][MetricEmotion]; emo.NScored != 1 || *emo.Mean != 3 || emo.Stderr != nil {
		t.Errorf("emotion = %+v", emo)
	}
	if b := got["b"][MetricClue]; b.Mean != nil || b.NScored != 0 || b.NFailed != 0 {
		t.Errorf("system without results = %+v", b)
	}
}
