package metric

import (
	"fmt"
	"math"
	"testing"
)

func TestSumPairwise(t *testing.T) {
	// 0.1 summed 1000 times: sequential summation drifts by ~1e-12,
	// numpy's pairwise summation much less, and the two differ.
	a := make([]float64, 1000)
	for i := range a {
		a[i] = 0.1
	}
	naive := 0.0
	for _, v := range a {
		naive += v
	}
	got := Sum(a)
	if got == naive {
		t.Errorf("Sum = naive sum %v; pairwise summation should differ here", got)
	}
	if math.Abs(got-100) > 1e-12 {
		t.Errorf("Sum = %v, want ~100", got)
	}
	// Small arrays are summed in order.
	if s := Sum([]float64{1e16, 1, -1e16}); s != 0 {
		t.Errorf("Sum of three = %v, want 0 (sequential)", s)
	}
	if Mean(nil) != 0 {
		t.Error("Mean(nil) != 0")
	}
}

func TestSetOverlap(t *testing.T) {
	gt := [][]string{{"a", "b"}, {}, {"c"}, {"d"}}
	pred := [][]string{{"a"}, {"x"}, {}, {"d", "e"}}
	r := SetOverlap(gt, pred)
	// samples: (1/1, 1/2), skipped, (0, 0), (1/2, 1/1)
	wantP, wantR := (1+0+0.5)/3, (0.5+0+1)/3
	if r.Samples != 3 || r.Skipped != 1 || math.Abs(r.Precision-wantP) > 1e-15 || math.Abs(r.Recall-wantR) > 1e-15 {
		t.Errorf("got %+v, want P=%v R=%v over 3 samples", r, wantP, wantR)
	}
	if math.Abs(r.F-FScore(wantP, wantR)) > 1e-15 {
		t.Errorf("F = %v", r.F)
	}
	if FScore(0, 0) != 0 {
		t.Error("FScore(0,0) != 0")
	}
}

func TestHitRate(t *testing.T) {
	rate, n := HitRate([][]string{{"happy"}, {"sad"}, {}}, [][]string{{"happy", "sad"}, {"angry"}, {"x"}})
	if n != 2 || rate != 0.5 {
		t.Errorf("HitRate = %v over %d, want 0.5 over 2", rate, n)
	}
}

func TestWeightedF1(t *testing.T) {
	// sklearn: f1_score([1,1,0,0,1], [1,0,0,1,1], average="weighted") = 0.6
	truth := []int{1, 1, 0, 0, 1}
	pred := []int{1, 0, 0, 1, 1}
	if got := WeightedF1(truth, pred); math.Abs(got-0.6) > 1e-12 {
		t.Errorf("WeightedF1 = %v, want 0.6", got)
	}
	if got := Accuracy(truth, pred); got != 0.6 {
		t.Errorf("Accuracy = %v, want 0.6", got)
	}
	// A class only predicted has support 0 and weighs nothing.
	if got := WeightedF1([]string{"a", "a"}, []string{"a", "b"}); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("WeightedF1 = %v, want 2/3", got)
	}
}

// label is a class type of its own: WeightedF1 must order its classes as
// it orders plain strings, not as the map of counts happens to iterate.
type label string

func TestWeightedF1ClassOrder(t *testing.T) {
	// Twenty classes with supports and F1 values whose weighted sum
	// depends on the order of addition in the last bits.
	var truthS, predS []string
	for c := range 20 {
		for i := range c + 3 {
			truthS = append(truthS, fmt.Sprintf("c%02d", c))
			p := fmt.Sprintf("c%02d", c)
			if i%(c%4+2) == 0 {
				p = fmt.Sprintf("c%02d", (c+7)%20)
			}
			predS = append(predS, p)
		}
	}
	want := WeightedF1(truthS, predS)
	truthL := make([]label, len(truthS))
	predL := make([]label, len(predS))
	for i := range truthS {
		truthL[i], predL[i] = label(truthS[i]), label(predS[i])
	}
	for i := range 200 {
		if got := WeightedF1(truthL, predL); got != want {
			t.Fatalf("run %d: WeightedF1 over a named string type = %v, want %v as for strings", i, got, want)
		}
	}
}
