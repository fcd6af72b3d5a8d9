package voice

import (
	"math"
	"math/cmplx"
)

// SpectrumConfig sets MeasureSpectrum. DefaultSpectrumConfig gives the
// values documented on each field.
type SpectrumConfig struct {
	// FrameSec is the analysis window (25 ms), a Hamming window centred on
	// each requested time.
	FrameSec float64
	// MelFilters is the number of triangular mel filters (26) between
	// 20 Hz and MaxHz.
	MelFilters int
	// Coeffs is the number of cepstral coefficients kept, c0 included (13).
	Coeffs int
	// MaxHz is the top of the mel filter bank (8000 Hz, or half the
	// sampling rate when that is lower).
	MaxHz float64
	// PreEmphasis is the first-order pre-emphasis applied to the spectrum
	// before the mel filters (0.97); the band measures (alpha ratio,
	// Hammarberg index, slopes, centroid) are taken without it.
	PreEmphasis float64
	// BandEdges are the edges in Hz of the bands whose energies are
	// reported in Spectrum.Bands (0, 500, 1000, 2000, 4000, 8000).
	BandEdges []float64
}

// DefaultSpectrumConfig returns the default spectral settings.
func DefaultSpectrumConfig() SpectrumConfig {
	return SpectrumConfig{FrameSec: 0.025, MelFilters: 26, Coeffs: 13, MaxHz: 8000, PreEmphasis: 0.97,
		BandEdges: []float64{0, 500, 1000, 2000, 4000, 8000}}
}

// Spectrum holds short-time spectral measures, one entry per frame at
// Times. Band measures follow the eGeMAPS definitions (Eyben et al. 2016):
//
//   - MFCC[i] are the mel-frequency cepstral coefficients c0..c(Coeffs-1)
//     of frame i (natural-log mel energies, orthonormal DCT-II).
//   - AlphaRatio is the energy in 50–1000 Hz over the energy in
//     1–5 kHz, in dB.
//   - Hammarberg is the strongest peak in 0–2 kHz over the strongest in
//     2–5 kHz, in dB.
//   - Slope0500 and Slope5001500 are least-squares slopes of the dB
//     spectrum over 0–500 Hz and 500–1500 Hz, in dB per kHz.
//   - Centroid is the power-weighted mean frequency in Hz.
//   - Flux is the squared difference between the frame's and the previous
//     frame's sum-normalised magnitude spectra (0 for the first frame).
//   - Flatness is the geometric over the arithmetic mean of the power
//     spectrum between 50 Hz and 5 kHz (0..1; 1 is white noise).
//   - Bands[i][b] is the energy (sum of the power spectrum, same scale in
//     every frame) between BandEdges[b] and BandEdges[b+1].
//
// A frame with no energy has MFCCs of the energy floor and NaN band
// measures.
type Spectrum struct {
	Times        []float64
	MFCC         [][]float64
	AlphaRatio   []float64
	Hammarberg   []float64
	Slope0500    []float64
	Slope5001500 []float64
	Centroid     []float64
	Flux         []float64
	Flatness     []float64
	Bands        [][]float64
}

// energyFloor keeps the log of an empty band finite.
const energyFloor = 1e-12

// MeasureSpectrum measures the spectrum of a in frames centred on times
// (seconds; pass a PitchTrack's Times to align the frames with F0). Frames
// reaching past either end of a are zero-padded.
func MeasureSpectrum(a Audio, times []float64, cfg SpectrumConfig) Spectrum {
	def := DefaultSpectrumConfig()
	if cfg.FrameSec <= 0 {
		cfg.FrameSec = def.FrameSec
	}
	if cfg.MelFilters <= 0 {
		cfg.MelFilters = def.MelFilters
	}
	if cfg.Coeffs <= 0 || cfg.Coeffs > cfg.MelFilters {
		cfg.Coeffs = min(def.Coeffs, cfg.MelFilters)
	}
	if cfg.BandEdges == nil {
		cfg.BandEdges = def.BandEdges
	}
	n := len(times)
	s := Spectrum{
		Times:        append([]float64(nil), times...),
		MFCC:         make([][]float64, n),
		AlphaRatio:   make([]float64, n),
		Hammarberg:   make([]float64, n),
		Slope0500:    make([]float64, n),
		Slope5001500: make([]float64, n),
		Centroid:     make([]float64, n),
		Flux:         make([]float64, n),
		Flatness:     make([]float64, n),
		Bands:        make([][]float64, n),
	}
	if n == 0 || a.Rate <= 0 {
		return s
	}
	rate := float64(a.Rate)
	frameLen := int(math.Round(cfg.FrameSec * rate))
	if frameLen < 4 {
		frameLen = 4
	}
	nfft := 1
	for nfft < frameLen {
		nfft <<= 1
	}
	nbin := nfft/2 + 1
	binHz := rate / float64(nfft)
	win := make([]float64, frameLen)
	for i := range win {
		win[i] = 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(frameLen-1))
	}
	maxHz := math.Min(cfg.MaxHz, rate/2)
	if maxHz <= 0 {
		maxHz = rate / 2
	}
	bank := melBank(cfg.MelFilters, nbin, binHz, 20, maxHz)
	emph := make([]float64, nbin)
	for k := range emph {
		w := 2 * math.Pi * float64(k) / float64(nfft)
		// |1 - p e^{-jw}|^2
		emph[k] = 1 + cfg.PreEmphasis*cfg.PreEmphasis - 2*cfg.PreEmphasis*math.Cos(w)
	}
	dct := dctMatrix(cfg.Coeffs, cfg.MelFilters)

	buf := make([]complex128, nfft)
	pow := make([]float64, nbin)
	mag := make([]float64, nbin)
	prevMag := make([]float64, nbin)
	havePrev := false
	logMel := make([]float64, cfg.MelFilters)
	for f, t := range times {
		start := int(math.Round(t*rate)) - frameLen/2
		for i := range buf {
			buf[i] = 0
		}
		for i := 0; i < frameLen; i++ {
			if j := start + i; j >= 0 && j < len(a.Samples) {
				buf[i] = complex(float64(a.Samples[j])*win[i], 0)
			}
		}
		fft(buf)
		var total float64
		for k := 0; k < nbin; k++ {
			pow[k] = real(buf[k])*real(buf[k]) + imag(buf[k])*imag(buf[k])
			mag[k] = math.Sqrt(pow[k])
			total += mag[k]
		}
		for m, filt := range bank {
			var e float64
			for k, w := range filt.w {
				e += w * pow[filt.lo+k] * emph[filt.lo+k]
			}
			logMel[m] = math.Log(math.Max(e, energyFloor))
		}
		c := make([]float64, cfg.Coeffs)
		for q := range c {
			var v float64
			for m, l := range logMel {
				v += dct[q][m] * l
			}
			c[q] = v
		}
		s.MFCC[f] = c
		bands := make([]float64, max(0, len(cfg.BandEdges)-1))
		for b := range bands {
			bands[b] = bandSum(pow, binHz, cfg.BandEdges[b], cfg.BandEdges[b+1])
		}
		s.Bands[f] = bands

		if total == 0 {
			nan := math.NaN()
			s.AlphaRatio[f], s.Hammarberg[f], s.Slope0500[f], s.Slope5001500[f] = nan, nan, nan, nan
			s.Centroid[f], s.Flatness[f] = nan, nan
			havePrev = false
			continue
		}
		s.AlphaRatio[f] = 10 * math.Log10(math.Max(bandSum(pow, binHz, 50, 1000), energyFloor)/
			math.Max(bandSum(pow, binHz, 1000, 5000), energyFloor))
		s.Hammarberg[f] = 10 * math.Log10(math.Max(bandMax(pow, binHz, 0, 2000), energyFloor)/
			math.Max(bandMax(pow, binHz, 2000, 5000), energyFloor))
		s.Slope0500[f] = dbSlope(pow, binHz, 0, 500)
		s.Slope5001500[f] = dbSlope(pow, binHz, 500, 1500)
		var cw, cp float64
		for k := 0; k < nbin; k++ {
			cw += float64(k) * binHz * pow[k]
			cp += pow[k]
		}
		s.Centroid[f] = cw / cp
		s.Flatness[f] = flatness(pow, binHz, 50, 5000)
		if havePrev {
			var fl float64
			for k := 0; k < nbin; k++ {
				d := mag[k]/total - prevMag[k]
				fl += d * d
			}
			s.Flux[f] = fl
		}
		for k := 0; k < nbin; k++ {
			prevMag[k] = mag[k] / total
		}
		havePrev = true
	}
	return s
}

// melFilter is one triangular filter: weights w for bins lo, lo+1, ...
type melFilter struct {
	lo int
	w  []float64
}

func hzToMel(f float64) float64 { return 2595 * math.Log10(1+f/700) }
func melToHz(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }

// melBank builds n triangular filters equally spaced on the mel scale
// between loHz and hiHz, with unit peak.
func melBank(n, nbin int, binHz, loHz, hiHz float64) []melFilter {
	ml, mh := hzToMel(loHz), hzToMel(hiHz)
	edges := make([]float64, n+2)
	for i := range edges {
		edges[i] = melToHz(ml + (mh-ml)*float64(i)/float64(n+1))
	}
	bank := make([]melFilter, n)
	for m := 0; m < n; m++ {
		l, c, r := edges[m], edges[m+1], edges[m+2]
		lo := int(math.Ceil(l / binHz))
		hi := min(int(math.Floor(r/binHz)), nbin-1)
		f := melFilter{lo: lo}
		for k := lo; k <= hi; k++ {
			hz := float64(k) * binHz
			var w float64
			switch {
			case hz <= c:
				w = (hz - l) / (c - l)
			default:
				w = (r - hz) / (r - c)
			}
			f.w = append(f.w, math.Max(0, w))
		}
		bank[m] = f
	}
	return bank
}

// dctMatrix is the orthonormal DCT-II from n log energies to q coefficients.
func dctMatrix(q, n int) [][]float64 {
	d := make([][]float64, q)
	for i := range d {
		d[i] = make([]float64, n)
		scale := math.Sqrt(2 / float64(n))
		if i == 0 {
			scale = math.Sqrt(1 / float64(n))
		}
		for m := range d[i] {
			d[i][m] = scale * math.Cos(math.Pi*float64(i)*(float64(m)+0.5)/float64(n))
		}
	}
	return d
}

// binRange returns the bins from loHz (inclusive) to hiHz (exclusive).
func binRange(nbin int, binHz, loHz, hiHz float64) (int, int) {
	lo := int(math.Ceil(loHz / binHz))
	hi := min(int(math.Ceil(hiHz/binHz)), nbin)
	return lo, hi
}

func bandSum(pow []float64, binHz, loHz, hiHz float64) float64 {
	lo, hi := binRange(len(pow), binHz, loHz, hiHz)
	var s float64
	for k := lo; k < hi; k++ {
		s += pow[k]
	}
	return s
}

func bandMax(pow []float64, binHz, loHz, hiHz float64) float64 {
	lo, hi := binRange(len(pow), binHz, loHz, hiHz)
	var m float64
	for k := lo; k < hi; k++ {
		m = math.Max(m, pow[k])
	}
	return m
}

// dbSlope is the least-squares slope of 10·log10(pow) against frequency
// over loHz..hiHz, in dB per kHz.
func dbSlope(pow []float64, binHz, loHz, hiHz float64) float64 {
	lo, hi := binRange(len(pow), binHz, loHz, hiHz+binHz/2)
	var x, y []float64
	for k := lo; k < hi; k++ {
		x = append(x, float64(k)*binHz/1000)
		y = append(y, 10*math.Log10(math.Max(pow[k], energyFloor)))
	}
	if len(x) < 2 {
		return math.NaN()
	}
	_, b := lineFit(x, y)
	return b
}

func flatness(pow []float64, binHz, loHz, hiHz float64) float64 {
	lo, hi := binRange(len(pow), binHz, loHz, hiHz)
	var lg, ar float64
	for k := lo; k < hi; k++ {
		p := math.Max(pow[k], energyFloor)
		lg += math.Log(p)
		ar += p
	}
	n := float64(hi - lo)
	if n == 0 || ar == 0 {
		return math.NaN()
	}
	return math.Exp(lg/n) / (ar / n)
}

// fft transforms x in place (radix-2; len(x) must be a power of two).
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u := x[start+k]
				v := x[start+k+size/2] * w
				x[start+k] = u + v
				x[start+k+size/2] = u - v
				w *= step
			}
		}
	}
}
