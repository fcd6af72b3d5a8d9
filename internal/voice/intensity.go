package voice

import "math"

// IntensityTrack is intensity over time in dB re 2e-5 Pa, samples read as
// pascals.
type IntensityTrack struct {
	Times []float64
	DB    []float64
	Step  float64
}

// silenceDB is the lowest intensity reported: digital silence would
// otherwise be minus infinity (Praat writes -300 dB, which makes averages
// meaningless). Dithered silence measures about -5 dB.
const silenceDB = -20

// TrackIntensity computes intensity as Praat's "To Intensity" does: a
// Kaiser window (β = 2π² + 0.5) of 6.4/floorHz seconds (effective length
// 3.2/floorHz), every 0.8/floorHz seconds, with the window's mean subtracted.
func TrackIntensity(a Audio, floorHz float64) IntensityTrack {
	if floorHz <= 0 {
		floorHz = 75
	}
	step := 0.8 / floorHz
	winDur := 6.4 / floorHz
	dur := a.Duration()
	n := 0
	if dur >= winDur {
		n = int(math.Floor((dur-winDur)/step)) + 1
	}
	tr := IntensityTrack{Times: make([]float64, n), DB: make([]float64, n), Step: step}
	if n == 0 {
		return tr
	}
	dx := 1 / float64(a.Rate)
	half := int(math.Floor(0.5 * winDur / dx))
	win := make([]float64, 2*half+1)
	beta := 2*math.Pi*math.Pi + 0.5
	for i := -half; i <= half; i++ {
		u := float64(i) * dx / (0.5 * winDur)
		if r := 1 - u*u; r > 0 {
			win[i+half] = besselI0(beta * math.Sqrt(r))
		}
	}
	first := 0.5*dur - 0.5*float64(n-1)*step
	x := a.Samples
	for f := 0; f < n; f++ {
		t := first + float64(f)*step
		tr.Times[f] = t
		mid := int(math.Round(t/dx - 0.5))
		lo, hi := mid-half, mid+half
		if lo < 0 {
			lo = 0
		}
		if hi > len(x)-1 {
			hi = len(x) - 1
		}
		var mean float64
		for i := lo; i <= hi; i++ {
			mean += float64(x[i])
		}
		mean /= float64(hi - lo + 1)
		var sxw, sw float64
		for i := lo; i <= hi; i++ {
			v := float64(x[i]) - mean
			wv := win[i-mid+half]
			sxw += v * v * wv
			sw += wv
		}
		e := sxw / sw
		tr.DB[f] = silenceDB
		if e > 0 {
			tr.DB[f] = math.Max(silenceDB, 10*math.Log10(e/4e-10))
		}
	}
	return tr
}

// besselI0 is the modified Bessel function of the first kind, order 0.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	h := x / 2
	for k := 1; k < 500; k++ {
		term *= (h / float64(k)) * (h / float64(k))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
