package agreement

import (
	"errors"
	"math"
	"strings"
	"testing"
)

var nan = math.NaN()

// byRater turns an observers × units matrix, as the literature prints it,
// into one slice of ratings per unit.
func byRater(m [][]float64) [][]float64 {
	units := make([][]float64, len(m[0]))
	for _, row := range m {
		for u, v := range row {
			units[u] = append(units[u], v)
		}
	}
	return units
}

// krippendorff2011 is the reliability data of Krippendorff, "Computing
// Krippendorff's Alpha-Reliability" (2011): 4 observers, 12 units, missing
// values (unit 12 has one rating and is dropped).
var krippendorff2011 = byRater([][]float64{
	{1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan},
	{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3},
	{nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan},
	{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan},
})

// wikipedia is the computational example of Wikipedia's article on
// Krippendorff's alpha: 3 coders, 15 units, units 1, 2 and 14 with fewer
// than two ratings.
var wikipedia = byRater([][]float64{
	{nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3},
	{1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan},
	{nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4},
})

// The published figures, to their printed precision, and the exact values
// computed by hand from the coincidence matrix: α = 1 − (n−1) Σ o_ck δ²_ck
// / Σ n_c n_k δ²_ck over ordered value pairs. Krippendorff's figures are
// as his paper is cited (nominal .743, ordinal .815, interval .849; the
// fast-krippendorff package's tests assert the .815 on the same data); the
// hand computation below agrees with each.
//
// Krippendorff 2011 (n = 40; n_1..n_5 = 9, 13, 10, 5, 3): nominal 1 − 39·8
// / 1216 = 113/152 = 0.7434 (published .743); ordinal 1 − 39·1891 /
// 399480 = 108577/133160 = 0.8154 (published .815); interval 1 − 39·(52/3)
// / 4480 = 951/1120 = 0.8491 (published .849).
//
// Wikipedia (n = 26; n_1..n_4 = 7, 4, 10, 5): nominal 1 − 25·6 / 486 =
// 56/81 = 0.691358 (published 0.691); interval 1 − 25·12 / 1586 = 643/793 =
// 0.810845 (as fast-krippendorff's tests).
func TestKrippendorffAlphaPublished(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		units                [][]float64
		level                Level
		exact                float64
		published            float64 // as printed
		digits               int
		units2, dropped, obs int
	}{
		{"Krippendorff 2011 nominal", krippendorff2011, Nominal, 113.0 / 152, 0.743, 3, 11, 1, 40},
		{"Krippendorff 2011 ordinal", krippendorff2011, Ordinal, 108577.0 / 133160, 0.815, 3, 11, 1, 40},
		{"Krippendorff 2011 interval", krippendorff2011, Interval, 951.0 / 1120, 0.849, 3, 11, 1, 40},
		{"Wikipedia nominal", wikipedia, Nominal, 56.0 / 81, 0.691, 3, 12, 3, 26},
		{"Wikipedia interval", wikipedia, Interval, 643.0 / 793, 0.810845, 6, 12, 3, 26},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := KrippendorffAlpha(tc.units, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(a.Alpha-tc.exact) > 1e-12 {
				t.Errorf("alpha = %.17g, want %.17g", a.Alpha, tc.exact)
			}
			if r := round(a.Alpha, tc.digits); r != tc.published {
				t.Errorf("alpha rounds to %v, published %v", r, tc.published)
			}
			if a.Units != tc.units2 || a.Dropped != tc.dropped || a.Values != tc.obs {
				t.Errorf("units %d, dropped %d, values %d; want %d, %d, %d", a.Units, a.Dropped, a.Values, tc.units2, tc.dropped, tc.obs)
			}
			// The overall α is the mean of the clips' α weighted by
			// their numbers of ratings.
			var weighted float64
			for u, au := range a.PerUnit {
				if au == nil {
					continue
				}
				m := 0
				for _, v := range tc.units[u] {
					if !math.IsNaN(v) {
						m++
					}
				}
				weighted += float64(m) * *au
			}
			if w := weighted / float64(a.Values); math.Abs(w-a.Alpha) > 1e-12 {
				t.Errorf("weighted mean of per-clip alpha %v, overall %v", w, a.Alpha)
			}
		})
	}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// Per-clip α on Krippendorff's data at the nominal level, D_e = 1216/(40·39)
// = 1216/1560: unit 1 (1, 1, 1) agrees, 1; unit 2 (2, 2, 3, 2) disagrees on
// 6 of its 12 ordered pairs, 1 − 0.5·1560/1216 = 436/1216; unit 6 (1, 2, 3,
// 4) on all, 1 − 1560/1216 = −344/1216; unit 12 has one rating, nil.
func TestKrippendorffAlphaPerUnit(t *testing.T) {
	a, err := KrippendorffAlpha(krippendorff2011, Nominal)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Expected, 1216.0/1560; math.Abs(got-want) > 1e-15 {
		t.Errorf("D_e = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		unit int
		want float64
	}{{0, 1}, {1, 436.0 / 1216}, {5, -344.0 / 1216}} {
		if au := a.PerUnit[tc.unit]; au == nil || math.Abs(*au-tc.want) > 1e-12 {
			t.Errorf("unit %d: alpha %v, want %v", tc.unit+1, au, tc.want)
		}
	}
	if a.PerUnit[11] != nil {
		t.Errorf("unit 12 (one rating): alpha %v, want nil", *a.PerUnit[11])
	}
}

func TestKrippendorffAlphaErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		units     [][]float64
		level     Level
		msg       string
		undefined bool
	}{
		{"no clip with two ratings", [][]float64{{1, nan}, {nan, 2}, {}}, Ordinal, "no clip has two ratings (3 clips)", true},
		{"no variation", [][]float64{{2, 2}, {2, 2, nan}}, Interval, "all 4 pairable ratings are equal", true},
		{"nothing at all", nil, Nominal, "no clip has two ratings (0 clips)", true},
		{"infinite rating", [][]float64{{1, 2}, {math.Inf(1), 2}}, Nominal, "units[1][0] is +Inf, not a rating", false},
		{"unknown level", [][]float64{{1, 2}}, Level(7), "unknown level of measurement Level(7)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := KrippendorffAlpha(tc.units, tc.level)
			if err == nil {
				t.Fatalf("alpha %v, want an error", a.Alpha)
			}
			if !strings.Contains(err.Error(), tc.msg) || errors.Is(err, ErrUndefined) != tc.undefined {
				t.Errorf("error %q (undefined: %v), want %q (undefined: %v)", err, errors.Is(err, ErrUndefined), tc.msg, tc.undefined)
			}
		})
	}
}

// Ragged lists of each clip's ratings and a matrix with NaN holes are the
// same data.
func TestKrippendorffAlphaRagged(t *testing.T) {
	var ragged [][]float64
	for _, u := range krippendorff2011 {
		var r []float64
		for _, v := range u {
			if !math.IsNaN(v) {
				r = append(r, v)
			}
		}
		ragged = append(ragged, r)
	}
	for _, l := range []Level{Nominal, Ordinal, Interval} {
		a, err := KrippendorffAlpha(krippendorff2011, l)
		if err != nil {
			t.Fatal(err)
		}
		b, err := KrippendorffAlpha(ragged, l)
		if err != nil {
			t.Fatal(err)
		}
		if a.Alpha != b.Alpha {
			t.Errorf("%v: matrix %v, ragged %v", l, a.Alpha, b.Alpha)
		}
	}
}
