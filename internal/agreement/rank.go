package agreement

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Correlation is a rank correlation between two paired series.
type Correlation struct {
	Coef float64 // in -1..1
	// N counts the pairs compared: those with both values present.
	// Dropped counts the pairs left out for a missing (NaN) value.
	N, Dropped int
}

// pairs returns the pairs of x and y with both values present.
func pairs(what string, x, y []float64) (xs, ys []float64, dropped int, err error) {
	if len(x) != len(y) {
		return nil, nil, 0, fmt.Errorf("%s: %d values against %d: the series must pair up", what, len(x), len(y))
	}
	for i := range x {
		if math.IsInf(x[i], 0) || math.IsInf(y[i], 0) {
			return nil, nil, 0, fmt.Errorf("%s: pair %d is (%v, %v), not two numbers", what, i, x[i], y[i])
		}
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			dropped++
			continue
		}
		xs, ys = append(xs, x[i]), append(ys, y[i])
	}
	if len(xs) < 2 {
		return nil, nil, 0, fmt.Errorf("%s: %d complete pairs, it needs two: %w", what, len(xs), ErrUndefined)
	}
	return xs, ys, dropped, nil
}

// Spearman computes Spearman's ρ of x and y paired by index: the Pearson
// correlation of their ranks, tied values sharing the average of the ranks
// they span (as scipy.stats.spearmanr). Pairs with a NaN are left out and
// counted. ρ is undefined (ErrUndefined) when either series is constant.
func Spearman(x, y []float64) (*Correlation, error) {
	xs, ys, dropped, err := pairs("spearman's rho", x, y)
	if err != nil {
		return nil, err
	}
	rx, ry := ranks(xs), ranks(ys)
	mean := float64(len(xs)+1) / 2 // of ranks 1..n, ties or not
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mean, ry[i]-mean
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return nil, fmt.Errorf("spearman's rho: %s: %w", constant(sxx, syy), ErrUndefined)
	}
	return &Correlation{Coef: sxy / math.Sqrt(sxx*syy), N: len(xs), Dropped: dropped}, nil
}

// constant says which series has no variation.
func constant(sxx, syy float64) string {
	switch {
	case sxx == 0 && syy == 0:
		return "both series are constant"
	case sxx == 0:
		return "the first series is constant"
	}
	return "the second series is constant"
}

// ranks returns the 1-based ranks of v, ties getting the mean of the ranks
// they span.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[a], v[b]) })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+1+j) / 2 // mean of ranks i+1..j
		for _, k := range idx[i:j] {
			r[k] = avg
		}
		i = j
	}
	return r
}

// KendallTauB computes Kendall's τ-b of x and y paired by index:
// (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)) over the n₀ = n(n−1)/2
// pairs of pairs, n₁ and n₂ of them tied in x and in y (as
// scipy.stats.kendalltau). Pairs with a NaN are left out and counted. τ-b
// is undefined (ErrUndefined) when either series is constant. It compares
// every pair of pairs, O(n²).
func KendallTauB(x, y []float64) (*Correlation, error) {
	xs, ys, dropped, err := pairs("kendall's tau-b", x, y)
	if err != nil {
		return nil, err
	}
	var conc, disc, tx, ty int64
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			a, b := cmp.Compare(xs[i], xs[j]), cmp.Compare(ys[i], ys[j])
			switch {
			case a == 0 || b == 0:
				if a == 0 {
					tx++
				}
				if b == 0 {
					ty++
				}
			case a == b:
				conc++
			default:
				disc++
			}
		}
	}
	n := int64(len(xs))
	n0 := n * (n - 1) / 2
	if tx == n0 || ty == n0 {
		return nil, fmt.Errorf("kendall's tau-b: %s: %w", constant(float64(n0-tx), float64(n0-ty)), ErrUndefined)
	}
	coef := float64(conc-disc) / math.Sqrt(float64(n0-tx)*float64(n0-ty))
	return &Correlation{Coef: coef, N: len(xs), Dropped: dropped}, nil
}
