package agreement

import (
	"fmt"
	"slices"
)

// Kappa is Fleiss' κ of a complete design.
type Kappa struct {
	// Kappa is (Observed − Chance)/(1 − Chance).
	Kappa float64
	// Observed is P̄, the mean over clips of the share of rater pairs
	// that agree; Chance is P̄_e, the agreement expected from the
	// categories' overall shares.
	Observed, Chance float64
	// Subjects counts the clips, Raters the ratings of each.
	Subjects, Raters int
	// Shares is each category's share of all ratings, p_j.
	Shares []float64
}

// FleissKappa computes Fleiss' κ (Fleiss 1971) from counts, one row per
// clip giving how many raters put it in each category; every row has the
// same categories.
//
// κ is defined for complete designs only: every clip rated by the same
// number of raters, at least two. Rows whose totals differ are an error
// wrapping ErrIncomplete, not a κ computed anyway; KrippendorffAlpha at the
// Nominal level takes missing ratings instead. When every rating falls in
// one category the chance agreement is 1 and κ is undefined
// (ErrUndefined).
func FleissKappa(counts [][]int) (*Kappa, error) {
	if len(counts) == 0 {
		return nil, fmt.Errorf("fleiss' kappa: no clips: %w", ErrUndefined)
	}
	k := &Kappa{Subjects: len(counts)}
	cats := len(counts[0])
	totals := make([]int, cats)
	for i, row := range counts {
		if len(row) != cats {
			return nil, fmt.Errorf("fleiss' kappa: clip %d has %d categories, clip 0 has %d", i, len(row), cats)
		}
		n := 0
		for j, c := range row {
			if c < 0 {
				return nil, fmt.Errorf("fleiss' kappa: clip %d, category %d: negative count %d", i, j, c)
			}
			n += c
			totals[j] += c
		}
		if i == 0 {
			k.Raters = n
		} else if n != k.Raters {
			return nil, fmt.Errorf("fleiss' kappa: clip %d has %d ratings, clip 0 has %d; it needs the same raters for every clip (Krippendorff's alpha, nominal, takes missing ratings): %w", i, n, k.Raters, ErrIncomplete)
		}
	}
	if k.Raters < 2 {
		return nil, fmt.Errorf("fleiss' kappa: %d rating per clip, it needs at least two: %w", k.Raters, ErrUndefined)
	}
	n := float64(k.Raters)
	var pbar float64
	for _, row := range counts {
		var agree float64
		for _, c := range row {
			agree += float64(c) * float64(c-1)
		}
		pbar += agree / (n * (n - 1))
	}
	k.Observed = pbar / float64(k.Subjects)
	all := n * float64(k.Subjects)
	k.Shares = make([]float64, cats)
	for j, t := range totals {
		p := float64(t) / all
		k.Shares[j] = p
		k.Chance += p * p
	}
	if k.Chance == 1 {
		return nil, fmt.Errorf("fleiss' kappa: every rating is in one category, so chance agreement is 1: %w", ErrUndefined)
	}
	k.Kappa = (k.Observed - k.Chance) / (1 - k.Chance)
	return k, nil
}

// Tally counts ratings into categories for FleissKappa: the distinct
// ratings of all clips in ascending order, and for each clip how many of
// its ratings fall on each. A NaN rating is missing and not counted.
func Tally(units [][]float64) (categories []float64, counts [][]int, err error) {
	rated := make([][]float64, len(units))
	for u, r := range units {
		if rated[u], err = present(u, r); err != nil {
			return nil, nil, fmt.Errorf("tally: %w", err)
		}
		categories = append(categories, rated[u]...)
	}
	slices.Sort(categories)
	categories = slices.Compact(categories)
	counts = make([][]int, len(units))
	for u, p := range rated {
		counts[u] = make([]int, len(categories))
		for _, v := range p {
			j, _ := slices.BinarySearch(categories, v)
			counts[u][j]++
		}
	}
	return categories, counts, nil
}
