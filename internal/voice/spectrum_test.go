package voice

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"
)

// harmonicTone is the sum of sines at f·(k+1) with amplitudes amps[k],
// plus white noise of the given standard deviation.
func harmonicTone(rate int, dur, f float64, amps []float64, noiseSD float64) Audio {
	n := int(dur * float64(rate))
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n)
	for i := range x {
		t := float64(i) / float64(rate)
		var v float64
		for k, a := range amps {
			v += a * math.Sin(2*math.Pi*f*float64(k+1)*t)
		}
		x[i] = float32(v + noiseSD*rng.NormFloat64())
	}
	return Audio{Samples: x, Rate: rate}
}

// steadyTrack is a pitch track voiced at f0 every 10 ms, away from the
// clip's ends.
func steadyTrack(dur, f0 float64) PitchTrack {
	tr := PitchTrack{Step: 0.01}
	for t := 0.1; t < dur-0.1; t += 0.01 {
		tr.Times = append(tr.Times, t)
		tr.F0 = append(tr.F0, f0)
	}
	return tr
}

func TestFFTMatchesDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 2, 8, 64} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		}
		want := make([]complex128, n)
		for k := range want {
			for j, v := range x {
				want[k] += v * cmplx.Exp(complex(0, -2*math.Pi*float64(j*k)/float64(n)))
			}
		}
		got := slices.Clone(x)
		fft(got)
		for k := range got {
			if cmplx.Abs(got[k]-want[k]) > 1e-9 {
				t.Errorf("n=%d bin %d: %v, want %v", n, k, got[k], want[k])
			}
		}
	}
}

func TestMeasureSpectrumTones(t *testing.T) {
	tests := []struct {
		name                 string
		f                    float64
		alphaAbove, alphaBel float64 // bounds on the alpha ratio
		band                 int     // the band holding the tone
	}{
		{"700 Hz", 700, 20, math.Inf(1), 1},
		{"3 kHz", 3000, math.Inf(-1), -20, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := harmonicTone(16000, 1, tt.f, []float64{0.5}, 0)
			times := []float64{0.3, 0.5, 0.7}
			s := MeasureSpectrum(a, times, DefaultSpectrumConfig())
			if len(s.MFCC) != 3 || len(s.MFCC[0]) != 13 || len(s.Bands[0]) != 5 {
				t.Fatalf("shapes: %d frames, %d coefficients, %d bands", len(s.MFCC), len(s.MFCC[0]), len(s.Bands[0]))
			}
			for i := range times {
				if d := math.Abs(s.Centroid[i] - tt.f); d > 0.05*tt.f {
					t.Errorf("frame %d: centroid %.0f Hz, tone at %.0f", i, s.Centroid[i], tt.f)
				}
				if s.AlphaRatio[i] <= tt.alphaAbove || s.AlphaRatio[i] >= tt.alphaBel {
					t.Errorf("frame %d: alpha ratio %.1f dB, want in (%g, %g)", i, s.AlphaRatio[i], tt.alphaAbove, tt.alphaBel)
				}
				var total float64
				for _, e := range s.Bands[i] {
					total += e
				}
				if share := s.Bands[i][tt.band] / total; share < 0.95 {
					t.Errorf("frame %d: band %d holds %.3f of the energy", i, tt.band, share)
				}
				if s.Flatness[i] > 0.05 {
					t.Errorf("frame %d: flatness %.3f for a pure tone", i, s.Flatness[i])
				}
			}
			// A steady tone does not change from frame to frame.
			if s.Flux[0] != 0 || s.Flux[1] > 1e-4 {
				t.Errorf("flux %v", s.Flux)
			}
		})
	}
}

func TestMeasureSpectrumNoise(t *testing.T) {
	a := harmonicTone(16000, 1, 100, nil, 0.1)
	s := MeasureSpectrum(a, []float64{0.5}, DefaultSpectrumConfig())
	if s.Flatness[0] < 0.3 {
		t.Errorf("flatness %.3f for white noise", s.Flatness[0])
	}
	// White noise: the spectrum is level, so its slopes are near zero.
	if math.Abs(s.Slope5001500[0]) > 10 {
		t.Errorf("slope 500-1500 Hz %.1f dB/kHz for white noise", s.Slope5001500[0])
	}
	silent := MeasureSpectrum(Audio{Samples: make([]float32, 16000), Rate: 16000}, []float64{0.5}, DefaultSpectrumConfig())
	if !math.IsNaN(silent.AlphaRatio[0]) || !math.IsNaN(silent.Centroid[0]) {
		t.Errorf("silence: alpha %v, centroid %v, want NaN", silent.AlphaRatio[0], silent.Centroid[0])
	}
	for _, c := range silent.MFCC[0] {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			t.Errorf("silence: MFCC %v", silent.MFCC[0])
			break
		}
	}
}

func TestHarmonicityAndCPP(t *testing.T) {
	const dur = 1.0
	// Forty harmonics of 120 Hz falling off as 1/k, as a voice's do.
	amps := make([]float64, 40)
	for k := range amps {
		amps[k] = 0.3 / float64(k+1)
	}
	clean := harmonicTone(16000, dur, 120, amps, 0.001)
	noisy := harmonicTone(16000, dur, 120, amps, 0.3)
	tr := steadyTrack(dur, 120)
	hc, hn := meanFinite(Harmonicity(clean, tr)), meanFinite(Harmonicity(noisy, tr))
	if hc < 28 || hn > 5 || hn >= hc {
		t.Errorf("HNR clean %.1f dB, noisy %.1f dB", hc, hn)
	}
	cc, cn := meanFinite(CPP(clean, tr)), meanFinite(CPP(noisy, tr))
	if cn >= cc-5 {
		t.Errorf("CPP clean %.1f dB, noisy %.1f dB: want the clean voice well above", cc, cn)
	}
	t.Logf("HNR clean %.1f dB, noisy %.1f dB; CPP clean %.1f dB, noisy %.1f dB", hc, hn, cc, cn)
	unvoiced := PitchTrack{Times: []float64{0.5}, F0: []float64{0}, Step: 0.01}
	if h := Harmonicity(clean, unvoiced); !math.IsNaN(h[0]) {
		t.Errorf("HNR of an unvoiced frame %v", h[0])
	}
	if c := CPP(clean, unvoiced); !math.IsNaN(c[0]) {
		t.Errorf("CPP of an unvoiced frame %v", c[0])
	}
}

func TestH1H2(t *testing.T) {
	tests := []struct {
		a1, a2 float64
	}{{0.4, 0.2}, {0.2, 0.4}, {0.3, 0.3}}
	for _, tt := range tests {
		a := harmonicTone(16000, 1, 150, []float64{tt.a1, tt.a2}, 0)
		// Track F0 2 % off: the search window absorbs it.
		got := meanFinite(H1H2(a, steadyTrack(1, 153)))
		if want := 20 * math.Log10(tt.a1/tt.a2); math.Abs(got-want) > 0.5 {
			t.Errorf("H1 %g, H2 %g: H1-H2 %.2f dB, want %.2f", tt.a1, tt.a2, got, want)
		}
	}
}

func TestMeasureFormants(t *testing.T) {
	const rate, dur = 16000, 1.0
	want := []float64{700, 1200, 2600}
	// An impulse train at 110 Hz through three resonators.
	n := int(dur * rate)
	x := make([]float64, n)
	for i := 0; i < n; i += rate / 110 {
		x[i] = 1
	}
	for k, f := range want {
		bw := 60 + 30*float64(k)
		r := math.Exp(-math.Pi * bw / rate)
		a1, a2 := 2*r*math.Cos(2*math.Pi*f/rate), -r*r
		y := make([]float64, n)
		for i := range y {
			y[i] = x[i]
			if i > 0 {
				y[i] += a1 * y[i-1]
			}
			if i > 1 {
				y[i] += a2 * y[i-2]
			}
		}
		x = y
	}
	a := Audio{Samples: make([]float32, n), Rate: rate}
	for i, v := range x {
		a.Samples[i] = float32(v / 50)
	}
	fm := MeasureFormants(a, []float64{0.3, 0.5, 0.7}, DefaultFormantConfig())
	for i, f := range fm {
		for k := range want {
			if d := math.Abs(f.Freq[k] - want[k]); !(d < 0.08*want[k]) {
				t.Errorf("frame %d: F%d %.0f Hz, want %.0f", i, k+1, f.Freq[k], want[k])
			}
			if !(f.Bandwidth[k] > 0 && f.Bandwidth[k] < 400) {
				t.Errorf("frame %d: F%d bandwidth %.0f Hz", i, k+1, f.Bandwidth[k])
			}
		}
	}
	// Frames reaching past the audio have no formants.
	edge := MeasureFormants(a, []float64{0}, DefaultFormantConfig())
	if !math.IsNaN(edge[0].Freq[0]) {
		t.Errorf("formant at the very start: %v", edge[0])
	}
}

func TestPolyRoots(t *testing.T) {
	// (z - 0.5)(z + 0.25)(z² - z + 0.5): roots 0.5, -0.25, 0.5 ± 0.5i.
	want := []complex128{0.5, -0.25, complex(0.5, 0.5), complex(0.5, -0.5)}
	q := []complex128{1}
	for _, r := range want {
		next := make([]complex128, len(q)+1)
		for i, c := range q {
			next[i] += c
			next[i+1] -= c * r
		}
		q = next
	}
	p := make([]float64, len(q))
	for i, c := range q {
		if math.Abs(imag(c)) > 1e-15 {
			t.Fatalf("coefficient %v is not real", c)
		}
		p[i] = real(c)
	}
	roots := make([]complex128, 4)
	if !polyRoots(p, roots) {
		t.Fatal("did not converge")
	}
	for _, w := range want {
		found := false
		for _, r := range roots {
			if cmplx.Abs(r-w) < 1e-8 {
				found = true
			}
		}
		if !found {
			t.Errorf("root %v not found in %v", w, roots)
		}
	}
}

func TestLevinsonRecoversAR2(t *testing.T) {
	// x[n] = 1.2 x[n-1] - 0.5 x[n-2] + e[n]: the predictor is 1 - 1.2 z^-1 + 0.5 z^-2.
	rng := rand.New(rand.NewPCG(5, 6))
	n := 200000
	x := make([]float64, n)
	for i := 2; i < n; i++ {
		x[i] = 1.2*x[i-1] - 0.5*x[i-2] + rng.NormFloat64()
	}
	r := make([]float64, 3)
	for lag := range r {
		for i := lag; i < n; i++ {
			r[lag] += x[i] * x[i-lag]
		}
	}
	a, ok := levinson(r)
	if !ok {
		t.Fatal("unstable")
	}
	if math.Abs(a[1]+1.2) > 0.02 || math.Abs(a[2]-0.5) > 0.02 {
		t.Errorf("predictor %v, want [1 -1.2 0.5]", a)
	}
}

func TestVoicedRuns(t *testing.T) {
	tr := PitchTrack{F0: []float64{0, 100, 110, 0, 0, 120, 0, 130, 140}, Times: make([]float64, 9), Step: 0.01}
	want := [][2]int{{1, 2}, {5, 5}, {7, 8}}
	if got := tr.VoicedRuns(); !slices.Equal(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
}

func meanFinite(v []float64) float64 {
	var s float64
	var n int
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	return s / float64(n)
}
