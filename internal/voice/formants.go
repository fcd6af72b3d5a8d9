package voice

import (
	"math"
	"math/cmplx"
	"slices"
)

// FormantConfig sets MeasureFormants. DefaultFormantConfig gives the values
// documented on each field.
type FormantConfig struct {
	// MaxHz is the top of the analysed band (4000 Hz): the audio is
	// low-passed and resampled to twice this rate first, so that the LPC
	// poles model the band where F1–F3 lie.
	MaxHz float64
	// Order is the LPC order (10: five resonances below MaxHz).
	Order int
	// FrameSec is the Gaussian-like (Hamming) window length (25 ms).
	FrameSec float64
	// MinHz and MaxBandwidthHz bound the poles read as formants (90 Hz,
	// 400 Hz): wider poles model the spectrum's overall shape.
	MinHz, MaxBandwidthHz float64
}

// DefaultFormantConfig returns the default formant settings.
func DefaultFormantConfig() FormantConfig {
	return FormantConfig{MaxHz: 4000, Order: 10, FrameSec: 0.025, MinHz: 90, MaxBandwidthHz: 400}
}

// Formants are the first formants of one frame, in Hz: Freq[k] and
// Bandwidth[k] for k = 0, 1, 2 (F1, F2, F3), NaN where fewer resonances
// were found.
type Formants struct {
	Freq      [3]float64
	Bandwidth [3]float64
}

// MeasureFormants estimates F1–F3 in frames centred on times by linear
// prediction: the frame is pre-emphasised from 50 Hz, windowed, and its
// autocorrelation LPC polynomial solved for its roots (Durand–Kerner);
// each root above MinHz with a bandwidth below MaxBandwidthHz is a
// formant, in order of frequency.
func MeasureFormants(a Audio, times []float64, cfg FormantConfig) []Formants {
	def := DefaultFormantConfig()
	if cfg.MaxHz <= 0 {
		cfg.MaxHz = def.MaxHz
	}
	if cfg.Order <= 0 {
		cfg.Order = def.Order
	}
	if cfg.FrameSec <= 0 {
		cfg.FrameSec = def.FrameSec
	}
	out := make([]Formants, len(times))
	for i := range out {
		for k := range 3 {
			out[i].Freq[k], out[i].Bandwidth[k] = math.NaN(), math.NaN()
		}
	}
	if a.Rate <= 0 || len(a.Samples) == 0 {
		return out
	}
	x, rate := resampleDown(a.Samples, float64(a.Rate), 2*cfg.MaxHz)
	n := int(math.Round(cfg.FrameSec * rate))
	if n <= cfg.Order+1 {
		return out
	}
	pre := math.Exp(-2 * math.Pi * 50 / rate)
	win := make([]float64, n)
	for i := range win {
		win[i] = 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(n-1))
	}
	frame := make([]float64, n)
	r := make([]float64, cfg.Order+1)
	roots := make([]complex128, cfg.Order)
	for f, t := range times {
		lo := int(math.Round(t*rate)) - n/2
		if lo < 1 || lo+n > len(x) {
			continue
		}
		for i := range frame {
			frame[i] = (x[lo+i] - pre*x[lo+i-1]) * win[i]
		}
		for lag := range r {
			var s float64
			for i := lag; i < n; i++ {
				s += frame[i] * frame[i-lag]
			}
			r[lag] = s
		}
		if r[0] <= 0 {
			continue
		}
		r[0] *= 1 + 1e-9 // a touch of white noise keeps the recursion stable
		lpc, ok := levinson(r)
		if !ok {
			continue
		}
		if !polyRoots(lpc, roots) {
			continue
		}
		type pole struct{ f, bw float64 }
		var poles []pole
		for _, z := range roots {
			if imag(z) <= 0 {
				continue
			}
			fr := cmplx.Phase(z) * rate / (2 * math.Pi)
			bw := -math.Log(cmplx.Abs(z)) * rate / math.Pi
			if fr >= cfg.MinHz && fr < cfg.MaxHz && bw > 0 && bw <= cfg.MaxBandwidthHz {
				poles = append(poles, pole{fr, bw})
			}
		}
		slices.SortFunc(poles, func(p, q pole) int {
			switch {
			case p.f < q.f:
				return -1
			case p.f > q.f:
				return 1
			}
			return 0
		})
		for k := 0; k < 3 && k < len(poles); k++ {
			out[f].Freq[k], out[f].Bandwidth[k] = poles[k].f, poles[k].bw
		}
	}
	return out
}

// levinson solves the normal equations of linear prediction for the
// autocorrelation r, returning the monic polynomial 1 + a1 z^-1 + ... It
// fails when the recursion is not stable.
func levinson(r []float64) ([]float64, bool) {
	p := len(r) - 1
	a := make([]float64, p+1)
	a[0] = 1
	e := r[0]
	tmp := make([]float64, p+1)
	for i := 1; i <= p; i++ {
		acc := r[i]
		for j := 1; j < i; j++ {
			acc += a[j] * r[i-j]
		}
		k := -acc / e
		if math.Abs(k) >= 1 {
			return nil, false
		}
		copy(tmp, a)
		for j := 1; j < i; j++ {
			a[j] = tmp[j] + k*tmp[i-j]
		}
		a[i] = k
		e *= 1 - k*k
	}
	return a, true
}

// polyRoots finds the roots of the monic polynomial z^p + c1 z^(p-1) + ...
// + cp (c[0] = 1) by Durand–Kerner iteration, writing them to roots. It
// reports whether the iteration converged.
func polyRoots(c []float64, roots []complex128) bool {
	p := len(c) - 1
	eval := func(z complex128) complex128 {
		v := complex(1, 0)
		for _, ck := range c[1:] {
			v = v*z + complex(ck, 0)
		}
		return v
	}
	// The usual start: powers of 0.4+0.9i, spread around the unit circle
	// off the real axis.
	w := complex(1, 0)
	for i := range roots {
		roots[i] = w
		w *= complex(0.4, 0.9)
	}
	for iter := 0; iter < 500; iter++ {
		var moved float64
		for i := 0; i < p; i++ {
			den := complex(1, 0)
			for j := 0; j < p; j++ {
				if j != i {
					den *= roots[i] - roots[j]
				}
			}
			if den == 0 {
				den = complex(1e-12, 0)
			}
			d := eval(roots[i]) / den
			roots[i] -= d
			moved = math.Max(moved, cmplx.Abs(d))
		}
		if moved < 1e-10 {
			return true
		}
	}
	return false
}

// resampleDown low-passes x below half the target rate and keeps every
// m-th sample, m = floor(rate/target) (at least 1); it returns the samples
// as float64 and the rate reached.
func resampleDown(x []float32, rate, target float64) ([]float64, float64) {
	m := int(math.Floor(rate/target + 1e-9))
	if m <= 1 {
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = float64(v)
		}
		return out, rate
	}
	// Windowed-sinc low-pass at 0.45 of the new rate.
	const half = 32
	cut := 0.45 / float64(m) // cycles per input sample
	h := make([]float64, 2*half+1)
	var sum float64
	for i := -half; i <= half; i++ {
		v := 2 * cut
		if i != 0 {
			v = math.Sin(2*math.Pi*cut*float64(i)) / (math.Pi * float64(i))
		}
		v *= 0.54 + 0.46*math.Cos(math.Pi*float64(i)/half)
		h[i+half] = v
		sum += v
	}
	out := make([]float64, (len(x)+m-1)/m)
	for o := range out {
		c := o * m
		var s float64
		for i := -half; i <= half; i++ {
			if j := c + i; j >= 0 && j < len(x) {
				s += h[i+half] * float64(x[j])
			}
		}
		out[o] = s / sum
	}
	return out, rate / float64(m)
}
