package agreement

import (
	"fmt"
	"slices"
)

// Level is a level of measurement: it decides how far apart two ratings
// are (Krippendorff's difference function δ²).
type Level int

const (
	// Nominal ratings are names: two ratings agree or they do not.
	Nominal Level = iota
	// Ordinal ratings are ordered categories, such as the four levels of
	// the EMER human evaluation: two ratings are as far apart as the
	// ratings between them are many, δ²(c, k) = (Σ_{g=c..k} n_g − (n_c +
	// n_k)/2)², where n_g counts the pairable ratings g.
	Ordinal
	// Interval ratings are numbers whose differences mean the same along
	// the scale: δ²(c, k) = (c − k)².
	Interval
)

func (l Level) String() string {
	switch l {
	case Nominal:
		return "nominal"
	case Ordinal:
		return "ordinal"
	case Interval:
		return "interval"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Alpha is Krippendorff's α of a set of ratings.
type Alpha struct {
	Level Level
	// Alpha is 1 − Observed/Expected: 1 when the raters agree perfectly,
	// 0 when they agree as by chance, below 0 when they disagree
	// systematically.
	Alpha float64
	// Observed and Expected are the disagreements D_o, within clips, and
	// D_e, between any two pairable ratings.
	Observed, Expected float64
	// Units counts the clips with at least two ratings, the only ones α
	// compares; Dropped those with fewer, left out as α prescribes.
	Units, Dropped int
	// Values counts the pairable ratings, n: those of the Units.
	Values int
	// PerUnit is each clip's α in the order given, 1 − D_o(u)/D_e, with
	// D_o(u) the mean δ² over the ordered pairs of the clip's ratings
	// and D_e the expected disagreement of all the data; nil for a clip
	// with fewer than two ratings. The overall Alpha is the mean of the
	// clips' α weighted by their number of ratings, so a clip far below
	// it is one the raters disagree on.
	PerUnit []*float64
}

// KrippendorffAlpha computes Krippendorff's α ("Computing Krippendorff's
// Alpha-Reliability", 2011) over units, one slice of ratings per clip; a
// NaN rating is missing, and clips with fewer than two ratings are dropped.
// The result is an error wrapping ErrUndefined when no clip has two
// ratings or when all pairable ratings are equal (D_e = 0).
//
// It takes O(Σ m_u²) for the clips' m_u ratings plus, for ordinal data,
// O(V²) for the V distinct ratings.
func KrippendorffAlpha(units [][]float64, level Level) (*Alpha, error) {
	if level < Nominal || level > Interval {
		return nil, fmt.Errorf("krippendorff's alpha: unknown level of measurement %v", level)
	}
	a := &Alpha{Level: level, PerUnit: make([]*float64, len(units))}
	rated := make([][]float64, len(units))
	counts := map[float64]int{} // n_c: pairable ratings of each value
	for u, r := range units {
		p, err := present(u, r)
		if err != nil {
			return nil, fmt.Errorf("krippendorff's alpha: %w", err)
		}
		if len(p) < 2 {
			a.Dropped++
			continue
		}
		rated[u] = p
		a.Units++
		a.Values += len(p)
		for _, v := range p {
			counts[v]++
		}
	}
	if a.Units == 0 {
		return nil, fmt.Errorf("krippendorff's alpha: no clip has two ratings (%d clips): %w", len(units), ErrUndefined)
	}
	d := newDistance(level, counts)
	n := float64(a.Values)
	a.Expected = d.expected() / (n * (n - 1))
	if a.Expected == 0 {
		return nil, fmt.Errorf("krippendorff's alpha: all %d pairable ratings are equal, so there is no disagreement to expect: %w", a.Values, ErrUndefined)
	}
	var observed float64 // Σ_u Σ_{i≠j} δ²/(m_u − 1)
	for u, p := range rated {
		if p == nil {
			continue
		}
		var s float64 // Σ_{i<j} δ²
		for i := range p {
			for j := i + 1; j < len(p); j++ {
				s += d.delta2(p[i], p[j])
			}
		}
		m := float64(len(p))
		observed += 2 * s / (m - 1)
		au := 1 - 2*s/(m*(m-1))/a.Expected
		a.PerUnit[u] = &au
	}
	a.Observed = observed / n
	a.Alpha = 1 - a.Observed/a.Expected
	return a, nil
}

// distance is the difference function δ² of one level over the values of
// one set of ratings.
type distance struct {
	level  Level
	values []float64       // distinct, ascending
	n      []float64       // n_c of each value
	index  map[float64]int // value -> position in values
	cum    []float64       // cum[i] = n_0 + ... + n_{i-1}
}

func newDistance(level Level, counts map[float64]int) *distance {
	d := &distance{level: level, index: map[float64]int{}}
	for v := range counts {
		d.values = append(d.values, v)
	}
	slices.Sort(d.values)
	d.n = make([]float64, len(d.values))
	d.cum = make([]float64, len(d.values)+1)
	for i, v := range d.values {
		d.index[v] = i
		d.n[i] = float64(counts[v])
		d.cum[i+1] = d.cum[i] + d.n[i]
	}
	return d
}

// delta2 is δ²(a, b).
func (d *distance) delta2(a, b float64) float64 {
	switch d.level {
	case Nominal:
		if a == b {
			return 0
		}
		return 1
	case Ordinal:
		return d.ordinal(d.index[a], d.index[b])
	default:
		return (a - b) * (a - b)
	}
}

// ordinal is δ² between the values at positions i and j.
func (d *distance) ordinal(i, j int) float64 {
	if i > j {
		i, j = j, i
	}
	x := d.cum[j+1] - d.cum[i] - (d.n[i]+d.n[j])/2
	return x * x
}

// expected is Σ_c Σ_k n_c n_k δ²(c, k), which is n(n − 1) D_e.
func (d *distance) expected() float64 {
	total := d.cum[len(d.values)]
	switch d.level {
	case Nominal: // Σ_{c≠k} n_c n_k
		var same float64
		for _, c := range d.n {
			same += c * c
		}
		return total*total - same
	case Ordinal:
		var s float64
		for i := range d.values {
			for j := i + 1; j < len(d.values); j++ {
				s += d.n[i] * d.n[j] * d.ordinal(i, j)
			}
		}
		return 2 * s
	default: // Σ_c Σ_k n_c n_k (c − k)² = 2n Σ_c n_c (c − mean)²
		var sum float64
		for i, v := range d.values {
			sum += d.n[i] * v
		}
		mean := sum / total
		var ss float64
		for i, v := range d.values {
			ss += d.n[i] * (v - mean) * (v - mean)
		}
		return 2 * total * ss
	}
}
