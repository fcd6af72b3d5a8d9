package vocal

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"emer/internal/voice"
)

// ErrNoVoice marks audio with too little voiced speech to measure.
var ErrNoVoice = errors.New("too little voiced speech")

// MinVoiced is the least voiced speech, in seconds, Measure accepts.
const MinVoiced = 0.2

// Features are the named voice measures of one clip (see Catalog). A
// feature that is absent or NaN is treated by Predict as unmeasured.
type Features map[string]float64

// Feature groups, by what a listener would call them.
const (
	GroupPitch    = "pitch"
	GroupLoudness = "loudness"
	GroupQuality  = "voice quality"
	GroupTiming   = "timing"
	GroupFormants = "formants"
	GroupSpectrum = "spectral balance"
	GroupCepstrum = "cepstral shape" // MFCCs: real evidence, but with no plain name
)

// FeatureInfo describes one feature.
type FeatureInfo struct {
	Name        string
	Unit        string
	Description string
	Group       string
	// GainDependent marks a measure that moves with the recording gain and
	// the distance to the microphone as much as with the voice; it is
	// measured for explanations but not read by the default model.
	GainDependent bool
}

// f0RefHz is the reference of the semitone scale: F0 in semitones is
// 12·log2(F0 / 100 Hz), the same reference for every speaker.
const f0RefHz = 100

// mfccCount is the number of cepstral coefficients summarised (c1..c12;
// c0 is the frame's log energy and follows the recording gain).
const mfccCount = 12

var catalog = buildCatalog()

// bandEdges are the long-term spectrum bands, in Hz.
var bandEdges = voice.DefaultSpectrumConfig().BandEdges

func bandName(b int) string { return fmt.Sprintf("band_%g_%g", bandEdges[b], bandEdges[b+1]) }

func feat(name, unit, description string) FeatureInfo {
	return FeatureInfo{Name: name, Unit: unit, Description: description, Group: groupOf(name)}
}

func groupOf(name string) string {
	switch {
	case strings.HasPrefix(name, "f0_"):
		return GroupPitch
	case strings.HasPrefix(name, "intensity_"):
		return GroupLoudness
	case slices.Contains([]string{"jitter", "shimmer", "hnr", "hnr_sd", "h1h2", "cpp"}, name):
		return GroupQuality
	case strings.HasPrefix(name, "mfcc"):
		return GroupCepstrum
	case name == "f1" || name == "f2" || name == "f3" || strings.HasSuffix(name, "_bandwidth"):
		return GroupFormants
	case slices.Contains([]string{"voiced_fraction", "speech_rate", "syllable_rate", "voiced_run", "voiced_run_sd",
		"unvoiced_run", "unvoiced_run_sd", "pause_fraction"}, name):
		return GroupTiming
	}
	return GroupSpectrum
}

func buildCatalog() []FeatureInfo {
	c := []FeatureInfo{
		feat("f0_median", "st re 100 Hz", "median F0 of voiced frames"),
		feat("f0_range", "st", "F0 range, 90th minus 10th percentile"),
		feat("f0_sd", "st", "standard deviation of F0"),
		feat("f0_slope", "st/s", "least-squares slope of F0 over the clip"),
		feat("f0_end_slope", "st/s", "slope of F0 over the last 0.4 s of speech"),
		feat("f0_velocity", "st/s", "mean absolute change of F0 between consecutive voiced frames"),
		feat("f0_rise", "st/s", "mean rate of F0 rises between consecutive voiced frames"),
		feat("f0_fall", "st/s", "mean rate of F0 falls between consecutive voiced frames"),
		feat("f0_start", "st", "median F0 of the first third of the speech minus the median F0"),
		feat("f0_end", "st", "median F0 of the last third of the speech minus the median F0"),
		{Name: "intensity_level", Unit: "dB", Description: "mean intensity of voiced frames", Group: GroupLoudness, GainDependent: true},
		feat("intensity_sd", "dB", "standard deviation of intensity over voiced frames"),
		feat("intensity_range", "dB", "intensity range over voiced frames, 90th minus 10th percentile"),
		feat("intensity_slope", "dB/s", "least-squares slope of intensity over voiced frames"),
		feat("intensity_velocity", "dB/s", "mean absolute change of intensity between frames during speech"),
		feat("intensity_rise", "dB/s", "mean rate of intensity rises during speech"),
		feat("intensity_fall", "dB/s", "mean rate of intensity falls during speech"),
		feat("intensity_voiced_contrast", "dB", "mean intensity of voiced frames minus that of unvoiced frames during speech"),
		feat("syllable_rate", "1/s", "intensity peaks of voiced speech (syllable nuclei) per second"),
		feat("jitter", "%", "local jitter"),
		feat("shimmer", "%", "local shimmer"),
		feat("hnr", "dB", "mean harmonics-to-noise ratio of voiced frames"),
		feat("hnr_sd", "dB", "standard deviation of the harmonics-to-noise ratio"),
		feat("h1h2", "dB", "median level of the first harmonic over the second in voiced frames"),
		feat("cpp", "dB", "mean cepstral peak prominence of voiced frames"),
		feat("voiced_fraction", "fraction", "share of the speech span that is voiced"),
		feat("speech_rate", "1/s", "voiced segments per second of speech"),
		feat("voiced_run", "s", "mean length of a voiced segment"),
		feat("voiced_run_sd", "s", "standard deviation of the length of voiced segments"),
		feat("unvoiced_run", "s", "mean length of an unvoiced stretch between voiced segments"),
		feat("unvoiced_run_sd", "s", "standard deviation of the length of unvoiced stretches"),
		feat("pause_fraction", "fraction", "share of the speech span in pauses of at least 0.1 s"),
		feat("f1", "Hz", "mean first formant of voiced frames"),
		feat("f2", "Hz", "mean second formant of voiced frames"),
		feat("f3", "Hz", "mean third formant of voiced frames"),
		feat("f1_bandwidth", "Hz", "mean bandwidth of the first formant"),
		feat("f2_bandwidth", "Hz", "mean bandwidth of the second formant"),
		feat("f3_bandwidth", "Hz", "mean bandwidth of the third formant"),
		feat("alpha_ratio", "dB", "energy 50-1000 Hz over 1-5 kHz in voiced frames"),
		feat("alpha_ratio_sd", "dB", "standard deviation of the alpha ratio"),
		feat("hammarberg", "dB", "strongest peak 0-2 kHz over 2-5 kHz in voiced frames"),
		feat("hammarberg_sd", "dB", "standard deviation of the Hammarberg index"),
		feat("slope_0_500", "dB/kHz", "spectral slope 0-500 Hz in voiced frames"),
		feat("slope_500_1500", "dB/kHz", "spectral slope 500-1500 Hz in voiced frames"),
		feat("centroid", "Hz", "spectral centroid of voiced frames"),
		feat("centroid_unvoiced", "Hz", "spectral centroid of unvoiced frames during speech"),
		feat("flatness", "fraction", "spectral flatness of voiced frames"),
		feat("flux", "", "spectral flux between frames during speech"),
	}
	for b := 0; b+1 < len(bandEdges); b++ {
		c = append(c, FeatureInfo{Name: bandName(b), Unit: "dB", Group: GroupSpectrum,
			Description: fmt.Sprintf("share of the voiced frames' energy between %g and %g Hz", bandEdges[b], bandEdges[b+1])})
	}
	for k := 1; k <= mfccCount; k++ {
		c = append(c, FeatureInfo{Name: fmt.Sprintf("mfcc%d", k), Group: GroupCepstrum, Description: fmt.Sprintf("mean MFCC %d of voiced frames", k)})
	}
	for k := 0; k <= mfccCount; k++ {
		c = append(c, FeatureInfo{Name: fmt.Sprintf("mfcc%d_sd", k), Group: GroupCepstrum, Description: fmt.Sprintf("standard deviation of MFCC %d during speech", k)})
	}
	return c
}

// Catalog describes every feature Measure computes, in a fixed order.
func Catalog() []FeatureInfo { return slices.Clone(catalog) }

// Info returns the description of the feature name.
func Info(name string) (FeatureInfo, bool) {
	for _, f := range catalog {
		if f.Name == name {
			return f, true
		}
	}
	return FeatureInfo{}, false
}

// Measure computes the features of one clip's speech (see Catalog). Every
// measure is taken within the clip alone and only intensity_level depends
// on the recording gain: F0 is in semitones against a fixed 100 Hz
// reference, intensity otherwise enters as dynamics and contrasts, the
// spectrum as band shares, ratios, slopes and cepstral shape. A measure
// that cannot be taken (no unvoiced frame to compare with, too few
// periods for jitter) is NaN. It fails with ErrNoVoice when less than
// MinVoiced seconds are voiced.
func Measure(a voice.Audio) (Features, error) {
	return MeasureTrack(a, voice.TrackPitch(a, voice.DefaultPitchConfig()))
}

// MeasureTrack is Measure with a's pitch track already made with
// voice.DefaultPitchConfig (as voice.Analyze with its default settings
// makes it), sparing a second tracking.
func MeasureTrack(a voice.Audio, pt voice.PitchTrack) (Features, error) {
	var vi []int
	for i, f := range pt.F0 {
		if f > 0 {
			vi = append(vi, i)
		}
	}
	if float64(len(vi))*pt.Step < MinVoiced {
		return nil, fmt.Errorf("%w: %.2f s voiced in %.2f s of audio, need %.2f s",
			ErrNoVoice, float64(len(vi))*pt.Step, a.Duration(), MinVoiced)
	}
	it := voice.TrackIntensity(a, voice.DefaultPitchConfig().FloorHz)
	runs := pt.VoicedRuns()
	first, last := runs[0][0], runs[len(runs)-1][1]
	f := Features{}

	// F0.
	st := make([]float64, len(vi))
	tv := make([]float64, len(vi))
	for k, i := range vi {
		st[k] = 12 * math.Log2(pt.F0[i]/f0RefHz)
		tv[k] = pt.Times[i]
	}
	f["f0_median"] = percentile(st, 50)
	f["f0_range"] = percentile(st, 90) - percentile(st, 10)
	f["f0_sd"] = sd(st)
	f["f0_slope"] = slope(tv, st)
	endT := pt.Times[last] - 0.4
	var te, se []float64
	for k := range vi {
		if tv[k] >= endT {
			te, se = append(te, tv[k]), append(se, st[k])
		}
	}
	f["f0_end_slope"] = slope(te, se)
	t0, t1 := pt.Times[first], pt.Times[last]
	third := (t1 - t0) / 3
	var sa, sz []float64
	for k := range vi {
		switch {
		case tv[k] < t0+third:
			sa = append(sa, st[k])
		case tv[k] > t1-third:
			sz = append(sz, st[k])
		}
	}
	f["f0_start"] = percentile(sa, 50) - f["f0_median"]
	f["f0_end"] = percentile(sz, 50) - f["f0_median"]
	var df0 []float64
	for _, r := range runs {
		for i := r[0] + 1; i <= r[1]; i++ {
			df0 = append(df0, 12*math.Log2(pt.F0[i]/pt.F0[i-1])/pt.Step)
		}
	}
	f["f0_velocity"], f["f0_rise"], f["f0_fall"] = movement(df0)

	// Intensity, at the pitch frames.
	db := make([]float64, len(pt.Times))
	for i, t := range pt.Times {
		db[i] = intensityAt(it, t)
	}
	var dbv, dbu []float64
	for i := first; i <= last; i++ {
		if pt.F0[i] > 0 {
			dbv = append(dbv, db[i])
		} else {
			dbu = append(dbu, db[i])
		}
	}
	f["intensity_level"] = mean(dbv)
	f["intensity_sd"] = sd(dbv)
	f["intensity_range"] = percentile(dbv, 90) - percentile(dbv, 10)
	dbAtV := make([]float64, len(vi))
	for k, i := range vi {
		dbAtV[k] = db[i]
	}
	f["intensity_slope"] = slope(tv, dbAtV)
	var ddb []float64
	for i := first + 1; i <= last; i++ {
		ddb = append(ddb, (db[i]-db[i-1])/pt.Step)
	}
	f["intensity_velocity"], f["intensity_rise"], f["intensity_fall"] = movement(ddb)
	f["intensity_voiced_contrast"] = math.NaN()
	if len(dbu) > 0 {
		f["intensity_voiced_contrast"] = mean(dbv) - mean(dbu)
	}

	f["syllable_rate"] = float64(syllableNuclei(it, pt, first, last)) / (float64(last-first+1) * pt.Step)

	// Voice quality.
	pulses := voice.Pulses(a, pt)
	f["jitter"] = 100 * voice.JitterLocal(pulses)
	f["shimmer"] = 100 * voice.ShimmerLocal(a, pulses)
	hnr := voice.Harmonicity(a, pt)
	var hv []float64
	for _, h := range hnr {
		if !math.IsNaN(h) {
			hv = append(hv, h)
		}
	}
	f["hnr"], f["hnr_sd"] = mean(hv), sd(hv)
	var h12 []float64
	for _, h := range voice.H1H2(a, pt) {
		h12 = appendFinite(h12, h)
	}
	// The median, because a frame whose F0 was tracked an octave low
	// reads its true first harmonic as the second one.
	f["h1h2"] = percentile(h12, 50)
	var cpp []float64
	for _, c := range voice.CPP(a, pt) {
		cpp = appendFinite(cpp, c)
	}
	f["cpp"] = mean(cpp)

	// Timing.
	span := float64(last-first+1) * pt.Step
	f["voiced_fraction"] = float64(len(vi)) * pt.Step / span
	minRun := int(math.Ceil(0.03/pt.Step - 1e-9))
	var segs int
	for _, r := range runs {
		if r[1]-r[0]+1 >= minRun {
			segs++
		}
	}
	f["speech_rate"] = float64(segs) / span
	var vr, ur []float64
	for k, r := range runs {
		vr = append(vr, float64(r[1]-r[0]+1)*pt.Step)
		if k > 0 {
			ur = append(ur, float64(r[0]-runs[k-1][1]-1)*pt.Step)
		}
	}
	f["voiced_run"], f["voiced_run_sd"] = mean(vr), sdOrZero(vr)
	f["unvoiced_run"], f["unvoiced_run_sd"] = meanOrZero(ur), sdOrZero(ur)
	var paused float64
	for k := 1; k < len(runs); k++ {
		if g := float64(runs[k][0]-runs[k-1][1]-1) * pt.Step; g >= 0.1-1e-9 {
			paused += g
		}
	}
	f["pause_fraction"] = paused / span

	// Formants, at the voiced frames.
	vt := make([]float64, len(vi))
	for k, i := range vi {
		vt[k] = pt.Times[i]
	}
	fm := voice.MeasureFormants(a, vt, voice.DefaultFormantConfig())
	for q := range 3 {
		var fr, bw []float64
		for _, x := range fm {
			fr = appendFinite(fr, x.Freq[q])
			bw = appendFinite(bw, x.Bandwidth[q])
		}
		f[fmt.Sprintf("f%d", q+1)] = mean(fr)
		f[fmt.Sprintf("f%d_bandwidth", q+1)] = mean(bw)
	}

	// Spectrum, at the pitch frames of the speech span.
	sp := voice.MeasureSpectrum(a, pt.Times[first:last+1], voice.DefaultSpectrumConfig())
	var alpha, hamm, s05, s515, cent, centU, flat, flux []float64
	mf := make([][]float64, mfccCount+1)
	mfv := make([][]float64, mfccCount+1)
	bandE := make([]float64, len(bandEdges)-1)
	for j := range sp.Times {
		i := first + j
		for q := 0; q <= mfccCount; q++ {
			mf[q] = append(mf[q], sp.MFCC[j][q])
		}
		if j > 0 {
			flux = appendFinite(flux, sp.Flux[j])
		}
		if pt.F0[i] <= 0 {
			centU = appendFinite(centU, sp.Centroid[j])
			continue
		}
		for q := 1; q <= mfccCount; q++ {
			mfv[q] = append(mfv[q], sp.MFCC[j][q])
		}
		for b, e := range sp.Bands[j] {
			bandE[b] += e
		}
		alpha = appendFinite(alpha, sp.AlphaRatio[j])
		hamm = appendFinite(hamm, sp.Hammarberg[j])
		s05 = appendFinite(s05, sp.Slope0500[j])
		s515 = appendFinite(s515, sp.Slope5001500[j])
		cent = appendFinite(cent, sp.Centroid[j])
		flat = appendFinite(flat, sp.Flatness[j])
	}
	f["alpha_ratio"] = mean(alpha)
	f["alpha_ratio_sd"] = sd(alpha)
	f["hammarberg"] = mean(hamm)
	f["hammarberg_sd"] = sd(hamm)
	var totalE float64
	for _, e := range bandE {
		totalE += e
	}
	for b, e := range bandE {
		f[bandName(b)] = math.NaN()
		if totalE > 0 {
			f[bandName(b)] = 10 * math.Log10(math.Max(e, 1e-12*totalE)/totalE)
		}
	}
	f["slope_0_500"] = mean(s05)
	f["slope_500_1500"] = mean(s515)
	f["centroid"] = mean(cent)
	f["centroid_unvoiced"] = mean(centU)
	f["flatness"] = mean(flat)
	f["flux"] = mean(flux)
	for q := 1; q <= mfccCount; q++ {
		f[fmt.Sprintf("mfcc%d", q)] = mean(mfv[q])
	}
	for q := 0; q <= mfccCount; q++ {
		f[fmt.Sprintf("mfcc%d_sd", q)] = sd(mf[q])
	}
	return f, nil
}

// syllableNuclei counts the syllable nuclei between pitch frames first and
// last, after de Jong & Wempe (2009): peaks of the intensity track that
// stand at least 2 dB above the dips on either side, are voiced, and are
// no more than 25 dB below the loudest peak.
func syllableNuclei(it voice.IntensityTrack, pt voice.PitchTrack, first, last int) int {
	t0, t1 := pt.Times[first], pt.Times[last]
	var idx []int
	for i, t := range it.Times {
		if t >= t0 && t <= t1 {
			idx = append(idx, i)
		}
	}
	if len(idx) < 3 {
		return 0
	}
	db := make([]float64, len(idx))
	top := math.Inf(-1)
	for k, i := range idx {
		db[k] = it.DB[i]
		top = math.Max(top, db[k])
	}
	voicedAt := func(t float64) bool {
		k := int(math.Round((t - pt.Times[0]) / pt.Step))
		return pt.F0[max(0, min(len(pt.F0)-1, k))] > 0
	}
	var n int
	lastDip := db[0]
	var peak float64
	inPeak := false
	// Walk the track: a candidate peak is confirmed when the level has
	// fallen 2 dB below it after having risen 2 dB above the previous dip.
	var peakT float64
	for k := 1; k < len(db); k++ {
		v := db[k]
		if !inPeak {
			if v < lastDip {
				lastDip = v
			}
			if v-lastDip >= 2 {
				inPeak, peak, peakT = true, v, it.Times[idx[k]]
			}
			continue
		}
		if v > peak {
			peak, peakT = v, it.Times[idx[k]]
		}
		if peak-v >= 2 {
			if voicedAt(peakT) && peak >= top-25 {
				n++
			}
			inPeak, lastDip = false, v
		}
	}
	if inPeak && voicedAt(peakT) && peak >= top-25 {
		n++
	}
	return n
}

// movement summarises frame-to-frame changes d: the mean absolute change,
// the mean of the rises and the mean magnitude of the falls (0 when there
// are none), NaN with no changes at all.
func movement(d []float64) (velocity, rise, fall float64) {
	if len(d) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	var up, down []float64
	var abs float64
	for _, v := range d {
		abs += math.Abs(v)
		switch {
		case v > 0:
			up = append(up, v)
		case v < 0:
			down = append(down, -v)
		}
	}
	return abs / float64(len(d)), meanOrZero(up), meanOrZero(down)
}

// meanOrZero is the mean of v, 0 when v is empty (a clip with one voiced
// segment has no unvoiced stretches: their length is none, not unknown).
func meanOrZero(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return mean(v)
}

// sdOrZero is the standard deviation of v, 0 with fewer than two values.
func sdOrZero(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	return sd(v)
}

func intensityAt(it voice.IntensityTrack, t float64) float64 {
	n := len(it.DB)
	if n == 0 {
		return math.NaN()
	}
	k := int(math.Round((t - it.Times[0]) / it.Step))
	return it.DB[max(0, min(n-1, k))]
}

func appendFinite(v []float64, x float64) []float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return v
	}
	return append(v, x)
}

// mean is the mean of v, NaN when v is empty.
func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// sd is the sample standard deviation of v, NaN with fewer than two values.
func sd(v []float64) float64 {
	if len(v) < 2 {
		return math.NaN()
	}
	m := mean(v)
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(v)-1))
}

// percentile is the p-th percentile of v with linear interpolation between
// order statistics (NumPy's default), NaN when v is empty.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	h := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// slope is the least-squares slope of y against x, NaN with fewer than
// three points or no spread in x.
func slope(x, y []float64) float64 {
	if len(x) < 3 {
		return math.NaN()
	}
	mx, my := mean(x), mean(y)
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	if sxx == 0 {
		return math.NaN()
	}
	return sxy / sxx
}
