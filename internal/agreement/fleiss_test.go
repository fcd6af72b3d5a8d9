package agreement

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fleiss1971 is the worked example of Wikipedia's article on Fleiss' kappa:
// 10 subjects, 14 raters each, 5 categories.
var fleiss1971 = [][]int{
	{0, 0, 0, 0, 14},
	{0, 2, 6, 4, 2},
	{0, 0, 3, 5, 6},
	{0, 3, 9, 2, 0},
	{2, 2, 8, 1, 1},
	{7, 7, 0, 0, 0},
	{3, 2, 6, 3, 0},
	{2, 5, 3, 2, 2},
	{6, 5, 2, 1, 0},
	{0, 2, 2, 3, 7},
}

// By hand: p_j = 20/140, 28/140, 39/140, 21/140, 32/140 (0.143, 0.200,
// 0.279, 0.150, 0.229); P_i = (Σ_j n_ij² − 14)/(14·13), whose mean is P̄ =
// 172/455 = 0.378; P̄_e = Σ p_j² = 417/1960 = 0.213; κ = (P̄ − P̄_e)/(1 −
// P̄_e) = 4211/20059 = 0.20993, published as 0.210.
func TestFleissKappaPublished(t *testing.T) {
	k, err := FleissKappa(fleiss1971)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name             string
		got, exact, publ float64
	}{
		{"kappa", k.Kappa, 4211.0 / 20059, 0.210},
		{"P", k.Observed, 172.0 / 455, 0.378},
		{"Pe", k.Chance, 417.0 / 1960, 0.213},
	} {
		if math.Abs(c.got-c.exact) > 1e-12 || round(c.got, 3) != c.publ {
			t.Errorf("%s = %.17g, want %.17g (published %v)", c.name, c.got, c.exact, c.publ)
		}
	}
	want := []float64{0.143, 0.200, 0.279, 0.150, 0.229}
	for j, p := range k.Shares {
		if round(p, 3) != want[j] {
			t.Errorf("p_%d = %v, published %v", j+1, p, want[j])
		}
	}
	if k.Subjects != 10 || k.Raters != 14 {
		t.Errorf("%d subjects, %d raters; want 10 and 14", k.Subjects, k.Raters)
	}
}

func TestFleissKappaErrors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		counts       [][]int
		msg          string
		is           error
		isIncomplete bool
	}{
		{"raters differ", [][]int{{2, 1}, {1, 1}}, "clip 1 has 2 ratings, clip 0 has 3", ErrIncomplete, true},
		{"one category", [][]int{{3, 0}, {3, 0}}, "every rating is in one category", ErrUndefined, false},
		{"one rater", [][]int{{1, 0}, {0, 1}}, "1 rating per clip, it needs at least two", ErrUndefined, false},
		{"no clips", nil, "no clips", ErrUndefined, false},
		{"ragged categories", [][]int{{1, 1}, {1, 1, 0}}, "clip 1 has 3 categories, clip 0 has 2", nil, false},
		{"negative count", [][]int{{3, -1}, {1, 1}}, "clip 0, category 1: negative count -1", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := FleissKappa(tc.counts)
			if err == nil {
				t.Fatalf("kappa %v, want an error", k.Kappa)
			}
			if !strings.Contains(err.Error(), tc.msg) || (tc.is != nil && !errors.Is(err, tc.is)) || errors.Is(err, ErrIncomplete) != tc.isIncomplete {
				t.Errorf("error %q, want %q wrapping %v", err, tc.msg, tc.is)
			}
		})
	}
}

// Tally turns ratings into FleissKappa's counts: the Wikipedia table
// written out as 14 ratings per subject, shuffled within subjects and with
// missing ratings in between, tallies back to the table.
func TestTally(t *testing.T) {
	var units [][]float64
	for i, row := range fleiss1971 {
		var r []float64
		for j, c := range row {
			for range c {
				r = append(r, float64(j+1))
			}
		}
		// rotate and put a missing rating in front
		r = slices.Concat(r[i:], r[:i])
		units = append(units, append([]float64{nan}, r...))
	}
	cats, counts, err := Tally(units)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float64{1, 2, 3, 4, 5}, cats); diff != "" {
		t.Errorf("categories (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(fleiss1971, counts); diff != "" {
		t.Errorf("counts (-want +got)\n%s", diff)
	}
	if _, _, err := Tally([][]float64{{1}, {2, math.Inf(-1)}}); err == nil || !strings.Contains(err.Error(), "units[1][1] is -Inf") {
		t.Errorf("infinite rating: error %v", err)
	}
}
