package voice

import "math"

// Pulses locates glottal pulses (one per period) in the voiced stretches of
// tr: starting at the strongest extremum in the middle of each stretch, it
// steps one period at a time in both directions, placing each next pulse
// where the waveform best cross-correlates with the current period (within
// 0.8–1.25 of the expected period) and then on the waveform's extremum of
// the same polarity, as Praat's "To PointProcess (periodic, cc)" does.
// Pulses are returned in time order as seconds.
func Pulses(a Audio, tr PitchTrack) []float64 {
	var out []float64
	for _, seg := range voicedRuns(tr) {
		out = append(out, pulsesIn(a, tr, seg[0], seg[1])...)
	}
	return out
}

// voicedRuns returns [first, last] frame index pairs of voiced runs.
func voicedRuns(tr PitchTrack) [][2]int {
	var runs [][2]int
	start := -1
	for i, f := range tr.F0 {
		if f > 0 && start < 0 {
			start = i
		}
		if f <= 0 && start >= 0 {
			runs = append(runs, [2]int{start, i - 1})
			start = -1
		}
	}
	if start >= 0 {
		runs = append(runs, [2]int{start, len(tr.F0) - 1})
	}
	return runs
}

// f0At interpolates F0 within voiced run [i0, i1] at time t.
func f0At(tr PitchTrack, i0, i1 int, t float64) float64 {
	if t <= tr.Times[i0] {
		return tr.F0[i0]
	}
	if t >= tr.Times[i1] {
		return tr.F0[i1]
	}
	k := i0 + int((t-tr.Times[i0])/tr.Step)
	if k >= i1 {
		return tr.F0[i1]
	}
	u := (t - tr.Times[k]) / tr.Step
	return tr.F0[k]*(1-u) + tr.F0[k+1]*u
}

func pulsesIn(a Audio, tr PitchTrack, i0, i1 int) []float64 {
	x := a.Samples
	rate := float64(a.Rate)
	tl := tr.Times[i0] - 0.5*tr.Step
	tr1 := tr.Times[i1] + 0.5*tr.Step
	lo, hi := int(math.Max(0, tl*rate)), int(math.Min(float64(len(x)-1), tr1*rate))
	if hi-lo < 4 {
		return nil
	}
	mid := 0.5 * (tl + tr1)
	period := rate / f0At(tr, i0, i1, mid)
	c := int(mid * rate)
	s0, s1 := clampInt(c-int(period/2), lo, hi), clampInt(c+int(period/2), lo, hi)
	best := s0
	for i := s0; i <= s1; i++ {
		if math.Abs(float64(x[i])) > math.Abs(float64(x[best])) {
			best = i
		}
	}
	var fwd, bwd []float64
	fwd = append(fwd, float64(best))
	for dir := -1; dir <= 1; dir += 2 {
		p := float64(best)
		for {
			T := rate / f0At(tr, i0, i1, p/rate)
			half := int(0.75 * T) // a 1.5-period window steadies the match
			minL, maxL := int(0.8*T), int(math.Ceil(1.25*T))
			ip := int(math.Round(p))
			bestL, bestR := -1, math.Inf(-1)
			for L := minL; L <= maxL; L++ {
				q := ip + dir*L
				if q-half < lo || q+half > hi || ip-half < lo || ip+half > hi {
					continue
				}
				r := ncc(x[ip-half:ip+half+1], x[q-half:q+half+1])
				if r > bestR {
					bestR, bestL = r, L
				}
			}
			if bestL < 0 {
				break
			}
			// Refine the lag by parabolic interpolation of the correlation.
			shift := 0.0
			if bestL > minL && bestL < maxL {
				q0, q2 := ip+dir*(bestL-1), ip+dir*(bestL+1)
				if q0-half >= lo && q0+half <= hi && q2-half >= lo && q2+half <= hi {
					ra := ncc(x[ip-half:ip+half+1], x[q0-half:q0+half+1])
					rc := ncc(x[ip-half:ip+half+1], x[q2-half:q2+half+1])
					if den := ra - 2*bestR + rc; den < 0 {
						shift = 0.5 * (ra - rc) / den
					}
				}
			}
			np := p + float64(dir)*(float64(bestL)+shift)
			if (np-p)*float64(dir) < 0.5*T {
				np = p + float64(dir)*T
			}
			p = np
			if dir > 0 {
				fwd = append(fwd, p)
			} else {
				bwd = append(bwd, p)
			}
		}
	}
	out := make([]float64, 0, len(fwd)+len(bwd))
	for i := len(bwd) - 1; i >= 0; i-- {
		out = append(out, bwd[i]/rate)
	}
	for _, p := range fwd {
		out = append(out, p/rate)
	}
	return out
}

func parabolicPeak(x []float32, i int) float64 {
	if i <= 0 || i >= len(x)-1 {
		return 0
	}
	a, b, c := float64(x[i-1]), float64(x[i]), float64(x[i+1])
	den := a - 2*b + c
	if den == 0 {
		return 0
	}
	s := 0.5 * (a - c) / den
	if s < -0.5 || s > 0.5 {
		return 0
	}
	return s
}

func ncc(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Perturbation bounds as in Praat's voice report defaults.
const (
	periodFloor        = 0.0001
	periodCeiling      = 0.02
	maxPeriodFactor    = 1.3
	maxAmplitudeFactor = 1.6
)

// JitterLocal is the mean absolute difference between consecutive periods
// divided by the mean period (a fraction; Praat prints it as a percentage).
// Periods outside 0.1–20 ms and pairs differing by more than a factor 1.3
// are left out, as in Praat. It returns NaN when fewer than two periods
// qualify.
func JitterLocal(pulses []float64) float64 {
	var sumPer, sumDiff float64
	var nPer, nDiff int
	for i := 1; i < len(pulses); i++ {
		p := pulses[i] - pulses[i-1]
		if p < periodFloor || p > periodCeiling {
			continue
		}
		sumPer += p
		nPer++
		if i >= 2 {
			q := pulses[i-1] - pulses[i-2]
			if q >= periodFloor && q <= periodCeiling && math.Max(p, q)/math.Min(p, q) <= maxPeriodFactor {
				sumDiff += math.Abs(p - q)
				nDiff++
			}
		}
	}
	if nDiff == 0 || nPer == 0 {
		return math.NaN()
	}
	return (sumDiff / float64(nDiff)) / (sumPer / float64(nPer))
}

// ShimmerLocal is the mean absolute difference between the amplitudes of
// consecutive periods divided by the mean amplitude (a fraction). As in
// Praat, a pulse's amplitude is the Hann-windowed RMS over 0.2 of the
// period on either side of it, taken only where both neighbouring periods
// are within 0.1–20 ms and differ by at most a factor 1.3; consecutive
// amplitudes differing by more than a factor 1.6 are left out. NaN when no
// pair qualifies.
func ShimmerLocal(a Audio, pulses []float64) float64 {
	n := len(pulses)
	amp := make([]float64, n)
	for i := 1; i+1 < n; i++ {
		p1, p2 := pulses[i]-pulses[i-1], pulses[i+1]-pulses[i]
		if p1 < periodFloor || p1 > periodCeiling || p2 < periodFloor || p2 > periodCeiling ||
			math.Max(p1, p2)/math.Min(p1, p2) > maxPeriodFactor {
			continue
		}
		amp[i] = hannRMS(a, pulses[i], 0.2*p1, 0.2*p2)
	}
	var sumAmp, sumDiff float64
	var nAmp, nDiff int
	prev := 0.0
	for i := 1; i+1 < n; i++ {
		if amp[i] <= 0 {
			prev = 0
			continue
		}
		sumAmp += amp[i]
		nAmp++
		if prev > 0 && math.Max(amp[i], prev)/math.Min(amp[i], prev) <= maxAmplitudeFactor {
			sumDiff += math.Abs(amp[i] - prev)
			nDiff++
		}
		prev = amp[i]
	}
	if nDiff == 0 || nAmp == 0 {
		return math.NaN()
	}
	return (sumDiff / float64(nDiff)) / (sumAmp / float64(nAmp))
}

// hannRMS is the RMS of a around t under a Hann window reaching left
// seconds before t and right seconds after it.
func hannRMS(a Audio, t, left, right float64) float64 {
	rate := float64(a.Rate)
	lo := clampInt(int(math.Ceil((t-left)*rate)), 0, len(a.Samples)-1)
	hi := clampInt(int(math.Floor((t+right)*rate)), 0, len(a.Samples)-1)
	var sw, sxw float64
	for i := lo; i <= hi; i++ {
		u := float64(i)/rate - t
		var w float64
		if u < 0 {
			w = 0.5 + 0.5*math.Cos(math.Pi*u/left)
		} else {
			w = 0.5 + 0.5*math.Cos(math.Pi*u/right)
		}
		x := float64(a.Samples[i])
		sw += w
		sxw += w * x * x
	}
	if sw == 0 {
		return 0
	}
	return math.Sqrt(sxw / sw)
}
