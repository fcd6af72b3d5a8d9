package agreement

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// The scipy.stats documentation's examples, with ties, and hand-computed
// cases on the same data.
//
// Spearman, x = 1 2 3 4 5, y = 5 6 7 8 7: y's ranks 1 2 3.5 5 3.5;
// Σ dx·dy = 8, Σ dx² = 10, Σ dy² = 9.5, ρ = 8/√95 = 0.8207826816681233
// (spearmanr's documented result).
//
// Kendall, x = 12 2 1 12 2, y = 1 4 7 1 0: of the 10 pairs of pairs, 2
// concordant, 6 discordant, 2 tied in x, 1 tied in y (the pair tied in
// both counts in each), τ-b = (2 − 6)/√((10 − 2)(10 − 1)) = −4/√72 =
// −0.47140452079103173 (kendalltau's documented result).
//
// Spearman on the Kendall data: ranks 4.5 2.5 1 4.5 2.5 and 2.5 4 5 2.5 1;
// Σ dx·dy = −5, Σ dx² = 9, Σ dy² = 9.5, ρ = −5/√85.5 = −0.5407380704358752.
//
// Kendall on the Spearman data: 8 concordant, 1 discordant, 1 tied in y,
// τ-b = 7/√(10·9) = 0.7378647873726218.
//
// The coefficients are compared exactly, to the last digit printed.
func TestRankCorrelations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        func(x, y []float64) (*Correlation, error)
		x, y     []float64
		want     float64
		n, dropd int
	}{
		{"spearman scipy", Spearman, []float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 0.8207826816681233, 5, 0},
		{"kendall scipy", KendallTauB, []float64{12, 2, 1, 12, 2}, []float64{1, 4, 7, 1, 0}, -0.47140452079103173, 5, 0},
		{"spearman ties on both sides", Spearman, []float64{12, 2, 1, 12, 2}, []float64{1, 4, 7, 1, 0}, -0.5407380704358752, 5, 0},
		{"kendall tie in y", KendallTauB, []float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 0.7378647873726218, 5, 0},
		{"spearman missing left out", Spearman, []float64{1, nan, 2, 3, 4, 5, 9}, []float64{5, 1, 6, 7, 8, 7, nan}, 0.8207826816681233, 5, 2},
		{"kendall missing left out", KendallTauB, []float64{12, 2, nan, 1, 12, 2}, []float64{1, 4, 3, 7, 1, 0}, -0.47140452079103173, 5, 1},
		{"spearman monotone", Spearman, []float64{1, 2, 3, 4}, []float64{1, 4, 9, 16}, 1, 4, 0},
		{"kendall reversed", KendallTauB, []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1, 4, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.f(tc.x, tc.y)
			if err != nil {
				t.Fatal(err)
			}
			if c.Coef != tc.want || c.N != tc.n || c.Dropped != tc.dropd {
				t.Errorf("got %.17g over %d pairs, %d dropped; want %.17g, %d, %d", c.Coef, c.N, c.Dropped, tc.want, tc.n, tc.dropd)
			}
		})
	}
}

func TestRankCorrelationErrors(t *testing.T) {
	for name, f := range map[string]func(x, y []float64) (*Correlation, error){"spearman": Spearman, "kendall": KendallTauB} {
		for _, tc := range []struct {
			name      string
			x, y      []float64
			msg       string
			undefined bool
		}{
			{"lengths differ", []float64{1, 2, 3}, []float64{1, 2}, "3 values against 2: the series must pair up", false},
			{"one pair", []float64{1, nan}, []float64{2, 3}, "1 complete pairs, it needs two", true},
			{"first constant", []float64{2, 2, 2}, []float64{1, 2, 3}, "the first series is constant", true},
			{"second constant", []float64{1, 2, 3}, []float64{4, 4, 4}, "the second series is constant", true},
			{"infinite", []float64{1, 2, 3}, []float64{1, math.Inf(1), 3}, "pair 1 is (2, +Inf), not two numbers", false},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				c, err := f(tc.x, tc.y)
				if err == nil {
					t.Fatalf("coefficient %v, want an error", c.Coef)
				}
				if !strings.Contains(err.Error(), tc.msg) || errors.Is(err, ErrUndefined) != tc.undefined {
					t.Errorf("error %q (undefined: %v), want %q (undefined: %v)", err, errors.Is(err, ErrUndefined), tc.msg, tc.undefined)
				}
			})
		}
	}
}
