package voice

import "math"

// hnrCeilingDB bounds the harmonics-to-noise ratio of a perfectly periodic
// frame, as Praat's harmonicity does in practice (r near 1 gives +∞).
const hnrCeilingDB = 40

// Harmonicity returns the harmonics-to-noise ratio in dB at each frame of
// tr, NaN where the frame is unvoiced. As in Praat's "To Harmonicity (cc)",
// it is 10·log10(r/(1-r)) for r the normalised cross-correlation between
// one and a half periods of the waveform around the frame and the same
// span one period later, the lag searched within ±10 % of the tracked
// period and refined between samples by parabolic interpolation. Values
// are clamped to [-hnrCeilingDB, hnrCeilingDB].
func Harmonicity(a Audio, tr PitchTrack) []float64 {
	out := make([]float64, len(tr.F0))
	rate := float64(a.Rate)
	x := a.Samples
	for i, f := range tr.F0 {
		out[i] = math.NaN()
		if f <= 0 || a.Rate <= 0 {
			continue
		}
		T := rate / f
		w := int(math.Round(1.5 * T))
		c := int(math.Round(tr.Times[i] * rate))
		lo := c - w/2
		minL, maxL := int(math.Floor(0.9*T)), int(math.Ceil(1.1*T))
		if lo < 0 || lo+w+maxL > len(x) || w < 2 {
			continue
		}
		best, bestL := math.Inf(-1), minL
		for L := minL; L <= maxL; L++ {
			if r := ncc(x[lo:lo+w], x[lo+L:lo+L+w]); r > best {
				best, bestL = r, L
			}
		}
		// The period is rarely a whole number of samples: take the peak
		// of the parabola through the best lag and its neighbours.
		if bestL > minL && bestL < maxL {
			ra := ncc(x[lo:lo+w], x[lo+bestL-1:lo+bestL-1+w])
			rc := ncc(x[lo:lo+w], x[lo+bestL+1:lo+bestL+1+w])
			if den := ra - 2*best + rc; den < 0 {
				best -= 0.125 * (ra - rc) * (ra - rc) / den
			}
		}
		r := math.Min(math.Max(best, 1e-4), 1-1e-4)
		out[i] = math.Max(-hnrCeilingDB, math.Min(hnrCeilingDB, 10*math.Log10(r/(1-r))))
	}
	return out
}

// VoicedRuns returns the voiced stretches of tr as [first, last] frame
// index pairs, in time order.
func (tr PitchTrack) VoicedRuns() [][2]int { return voicedRuns(tr) }

// H1H2 returns, at each frame of tr, the level of the first harmonic over
// the second in dB (uncorrected for formants), NaN where the frame is
// unvoiced or reaches past the audio. Each harmonic's amplitude is the
// largest magnitude of the Hann-windowed discrete-time Fourier transform
// over four periods, searched within ±4 % of the harmonic's frequency. A
// breathy voice has a strong first harmonic (high H1-H2), a pressed one a
// weak one.
func H1H2(a Audio, tr PitchTrack) []float64 {
	out := make([]float64, len(tr.F0))
	rate := float64(a.Rate)
	x := a.Samples
	for i, f := range tr.F0 {
		out[i] = math.NaN()
		if f <= 0 || a.Rate <= 0 || 2*f*1.04 >= rate/2 {
			continue
		}
		n := int(math.Round(4 * rate / f))
		lo := int(math.Round(tr.Times[i]*rate)) - n/2
		if lo < 0 || lo+n > len(x) {
			continue
		}
		seg := make([]float64, n)
		for j, v := range x[lo : lo+n] {
			seg[j] = float64(v) * (0.5 - 0.5*math.Cos(2*math.Pi*float64(j)/float64(n-1)))
		}
		h1 := harmonicPeak(seg, rate, f)
		h2 := harmonicPeak(seg, rate, 2*f)
		if h1 <= 0 || h2 <= 0 {
			continue
		}
		out[i] = 20 * math.Log10(h1/h2)
	}
	return out
}

// harmonicPeak is the largest DTFT magnitude of the windowed seg within
// ±4 % of f, sampled in 1 % steps.
func harmonicPeak(seg []float64, rate, f float64) float64 {
	var best float64
	for k := -4; k <= 4; k++ {
		w := 2 * math.Pi * f * (1 + 0.01*float64(k)) / rate
		// Rotate by e^{-jw} sample by sample.
		cr, ci := math.Cos(w), -math.Sin(w)
		pr, pi := 1.0, 0.0
		var re, im float64
		for _, s := range seg {
			re += s * pr
			im += s * pi
			pr, pi = pr*cr-pi*ci, pr*ci+pi*cr
		}
		best = math.Max(best, math.Hypot(re, im))
	}
	return best
}

// CPP returns the cepstral peak prominence in dB at each frame of tr, NaN
// where the frame is unvoiced or reaches past the audio (Hillenbrand et al.
// 1994): the cepstrum of a 40 ms Hann-windowed frame's dB spectrum, its
// peak between the quefrencies of the pitch ceiling and floor (500 and
// 60 Hz) measured above the least-squares line through the cepstrum from
// 1 ms to the floor's quefrency. A clear, well-phonated voice has a
// prominent peak; a breathy or rough one a low one.
func CPP(a Audio, tr PitchTrack) []float64 {
	out := make([]float64, len(tr.F0))
	for i := range out {
		out[i] = math.NaN()
	}
	if a.Rate <= 0 {
		return out
	}
	rate := float64(a.Rate)
	n := int(math.Round(0.04 * rate))
	nfft := 1
	for nfft < n {
		nfft <<= 1
	}
	win := make([]float64, n)
	for j := range win {
		win[j] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(j)/float64(n-1))
	}
	qLo, qHi := int(math.Ceil(rate/500)), int(math.Floor(rate/60))
	q1 := int(math.Ceil(0.001 * rate))
	if qHi >= nfft/2 || qLo >= qHi {
		return out
	}
	buf := make([]complex128, nfft)
	cep := make([]float64, nfft/2)
	var qs []float64
	for q := q1; q <= qHi; q++ {
		qs = append(qs, float64(q))
	}
	ys := make([]float64, len(qs))
	for i, f := range tr.F0 {
		if f <= 0 {
			continue
		}
		lo := int(math.Round(tr.Times[i]*rate)) - n/2
		if lo < 0 || lo+n > len(a.Samples) {
			continue
		}
		for j := range buf {
			buf[j] = 0
		}
		for j := 0; j < n; j++ {
			buf[j] = complex(float64(a.Samples[lo+j])*win[j], 0)
		}
		fft(buf)
		for j := range buf {
			p := real(buf[j])*real(buf[j]) + imag(buf[j])*imag(buf[j])
			buf[j] = complex(10*math.Log10(math.Max(p, energyFloor)), 0)
		}
		fft(buf)
		for q := range cep {
			c := buf[q]
			cep[q] = 10 * math.Log10(math.Max(real(c)*real(c)+imag(c)*imag(c), energyFloor))
		}
		for k, q := range qs {
			ys[k] = cep[int(q)]
		}
		a0, b0 := lineFit(qs, ys)
		best, arg := math.Inf(-1), qLo
		for q := qLo; q <= qHi; q++ {
			if cep[q] > best {
				best, arg = cep[q], q
			}
		}
		out[i] = best - (a0 + b0*float64(arg))
	}
	return out
}
