package metric

import (
	"cmp"
	"slices"
)

// Sum adds values as numpy.add.reduce does for a contiguous float64 array:
// pairwise summation in blocks of eight, starting from zero.
func Sum(a []float64) float64 { return 0 + pairwise(a) }

func pairwise(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		res := 0.0
		for _, v := range a {
			res += v
		}
		return res
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwise(a[:n2]) + pairwise(a[n2:])
	}
}

// Mean is numpy.mean of a float64 array; 0 for an empty one (the
// reference's convention for an empty sample list).
func Mean(a []float64) float64 {
	if len(a) == 0 {
		return 0
	}
	return Sum(a) / float64(len(a))
}

// PRF is a precision, recall and F-score triple.
type PRF struct {
	F         float64 `json:"f"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// FScore is the harmonic mean of p and r, 0 when both are 0.
func FScore(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * (p * r) / (p + r)
}

// SetResult is the outcome of SetOverlap.
type SetResult struct {
	PRF
	Samples int // samples scored (ground truth not empty)
	Skipped int // samples skipped for an empty ground truth
}

// SetOverlap scores predicted label sets against ground-truth sets, sample
// by sample: a sample whose ground truth is empty is skipped; an empty
// prediction scores precision and recall 0; otherwise precision is
// |G∩P|/|P| and recall |G∩P|/|G|. Precision and recall are averaged over
// samples and F is their harmonic mean. gt[i] and pred[i] must be sets
// (no repeats).
func SetOverlap(gt, pred [][]string) SetResult {
	var res SetResult
	ps := make([]float64, 0, len(gt))
	rs := make([]float64, 0, len(gt))
	for i := range gt {
		g, p := gt[i], pred[i]
		if len(g) == 0 {
			res.Skipped++
			continue
		}
		if len(p) == 0 {
			ps, rs = append(ps, 0), append(rs, 0)
			continue
		}
		n := float64(Intersect(g, p))
		ps = append(ps, n/float64(len(p)))
		rs = append(rs, n/float64(len(g)))
	}
	res.Samples = len(ps)
	res.Precision, res.Recall = Mean(ps), Mean(rs)
	res.F = FScore(res.Precision, res.Recall)
	return res
}

// Intersect counts the elements two sets share.
func Intersect(a, b []string) int {
	if len(a) > len(b) {
		a, b = b, a
	}
	n := 0
	for _, x := range a {
		for _, y := range b {
			if x == y {
				n++
				break
			}
		}
	}
	return n
}

// HitRate is the MER-UniBench hit rate for one wheel: over samples whose
// ground truth is not empty, the mean of |G∩P|.
func HitRate(gt, pred [][]string) (rate float64, samples int) {
	hits := make([]float64, 0, len(gt))
	for i := range gt {
		if len(gt[i]) == 0 {
			continue
		}
		hits = append(hits, float64(Intersect(gt[i], pred[i])))
	}
	return Mean(hits), len(hits)
}

// WeightedF1 is scikit-learn's f1_score(average="weighted") over the
// classes present in truth or prediction: per-class F1 weighted by the
// class's support in truth, summed in class order (as scikit-learn's
// sorted labels are), so that the result does not depend on map order.
func WeightedF1[T cmp.Ordered](truth, pred []T) float64 {
	type counts struct{ tp, fp, fn, support float64 }
	per := map[T]*counts{}
	get := func(c T) *counts {
		if x, ok := per[c]; ok {
			return x
		}
		x := &counts{}
		per[c] = x
		return x
	}
	for i := range truth {
		t, p := truth[i], pred[i]
		get(t).support++
		if t == p {
			get(t).tp++
		} else {
			get(t).fn++
			get(p).fp++
		}
	}
	type cls struct {
		key  T
		f1   float64
		supp float64
	}
	var cs []cls
	for k, c := range per {
		f := 0.0
		if d := 2*c.tp + c.fp + c.fn; d > 0 {
			f = 2 * c.tp / d
		}
		cs = append(cs, cls{k, f, c.support})
	}
	// A fixed order keeps the floating-point sum reproducible.
	slices.SortFunc(cs, func(a, b cls) int { return cmp.Compare(a.key, b.key) })
	var num, den float64
	for _, c := range cs {
		num += c.f1 * c.supp
		den += c.supp
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// Accuracy is the fraction of equal pairs.
func Accuracy[T comparable](truth, pred []T) float64 {
	if len(truth) == 0 {
		return 0
	}
	ok := make([]float64, len(truth))
	for i := range truth {
		if truth[i] == pred[i] {
			ok[i] = 1
		}
	}
	return Mean(ok)
}
