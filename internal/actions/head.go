package actions

import "math"

// Oscillation is what makes nods and head shakes: at least MinSwings
// consecutive swings of at least Amplitude degrees each, every swing
// moving within MaxSwing seconds and the head resting at most MaxDwell
// seconds between swings.
type Oscillation struct {
	Amplitude float64 `json:"amplitude_deg"`
	MaxSwing  float64 `json:"max_swing_s"`
	MaxDwell  float64 `json:"max_dwell_s"`
	MinSwings int     `json:"min_swings"`
}

// swing is a movement between two turning points of an angle series, from
// the last frame of the rest at the first turning point to the first frame
// of the rest at the second (a rest: the frames next to a turning point
// within swingTrim of the amplitude from it), with its amplitude in
// degrees.
type swing struct {
	from, to  int
	amplitude float64
}

// swingTrim is the share of a swing's amplitude within which its start and
// end frames lie from the turning points: the movement proper, without the
// rest before and after.
const swingTrim = 0.1

// turningPoints returns the indices of the alternating extremes of v (a
// zigzag): consecutive ones differ by at least rev, each is the extreme of
// the stretch between its neighbours. The first and last extremes are
// included even when the series does not turn back after them.
func turningPoints(v []float64, rev float64) []int {
	if len(v) == 0 {
		return nil
	}
	var piv []int
	dir, hi, lo, cand := 0, 0, 0, 0
	for i := 1; i < len(v); i++ {
		switch dir {
		case 0:
			if v[i] > v[hi] {
				hi = i
			}
			if v[i] < v[lo] {
				lo = i
			}
			if v[hi]-v[lo] >= rev {
				if lo < hi {
					piv, dir, cand = append(piv, lo), +1, hi
				} else {
					piv, dir, cand = append(piv, hi), -1, lo
				}
			}
		case +1:
			if v[i] > v[cand] {
				cand = i
			} else if v[cand]-v[i] >= rev {
				piv, dir, cand = append(piv, cand), -1, i
			}
		case -1:
			if v[i] < v[cand] {
				cand = i
			} else if v[i]-v[cand] >= rev {
				piv, dir, cand = append(piv, cand), +1, i
			}
		}
	}
	if dir != 0 {
		piv = append(piv, cand)
	}
	return piv
}

// swings returns the movements between consecutive turning points of v,
// trimmed to the movement proper.
func swings(v []float64, rev float64) []swing {
	piv := turningPoints(v, rev)
	var out []swing
	for k := 1; k < len(piv); k++ {
		a, b := piv[k-1], piv[k]
		amp := v[b] - v[a]
		tol := math.Abs(amp) * swingTrim
		from := a
		for i := a + 1; i < b && math.Abs(v[i]-v[a]) <= tol; i++ {
			from = i
		}
		to := b
		for i := b - 1; i > from && math.Abs(v[i]-v[b]) <= tol; i-- {
			to = i
		}
		out = append(out, swing{from: from, to: to, amplitude: math.Abs(amp)})
	}
	return out
}

// oscillations finds nods or shakes in the angle series v (degrees) at
// times ts: runs of qualifying swings (see Oscillation). It returns the
// runs' first and last frames and largest swing.
func oscillations(ts, v []float64, o Oscillation) []run {
	var out []run
	sw := swings(v, o.Amplitude)
	ok := func(s swing) bool {
		return s.amplitude >= o.Amplitude && ts[s.to]-ts[s.from] <= o.MaxSwing+1e-9
	}
	for k := 0; k < len(sw); {
		if !ok(sw[k]) {
			k++
			continue
		}
		e := k
		for e+1 < len(sw) && ok(sw[e+1]) && ts[sw[e+1].from]-ts[sw[e].to] <= o.MaxDwell+1e-9 {
			e++
		}
		if e-k+1 >= o.MinSwings {
			r := run{i: sw[k].from, j: sw[e].to}
			for _, s := range sw[k : e+1] {
				r.peak = math.Max(r.peak, s.amplitude)
			}
			out = append(out, r)
		}
		k = e + 1
	}
	return out
}
