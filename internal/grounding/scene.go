package grounding

import (
	"math"
	"math/cmplx"
	"sort"

	"emer/internal/voice"
)

// Scene is what the check measures of a clip's sound beyond the prosody
// package voice reports: how loud the recording is, and whether music
// plays in it.
//
// Music is told from speech by steady tones. An instrument or a singer
// holds a note at one pitch for a good part of a second; a speaking voice
// does not: its harmonics glide with the intonation and break off at
// consonants and pauses. So the sound is cut into 64 ms frames every
// 16 ms, the prominent spectral peaks of each frame are found, and a peak
// that stays within ±1.1 % of one frequency over consecutive frames is a
// tone. Two measures follow:
//
//   - ToneShare, the share of the sounding frames held by a tone of at
//     least 0.3 s. Music alone keeps nearly every frame tonal; speech
//     alone, few (an held vowel).
//   - ForeignShare, the share held by a foreign tone: one present in at
//     least 80 % of the frames of 0.25 s or more while the voice's own
//     pitch (package voice's tracker) moves by more than 5 %, or is
//     unvoiced for half the time. A harmonic of the voice moves with it,
//     so a tone that holds while the voice moves is another source: music
//     under speech.
//
// The thresholds that turn these into a verdict, and how well they
// separate music from speech, are in rules.go (MusicToneShare and the
// constants after it).
type Scene struct {
	Duration float64 `json:"duration_s"`
	// LevelDB is the active level: the 95th percentile of the intensity
	// of the frames, in dB re 2e-5 Pa with samples read as pascals, as
	// package voice measures intensity. Pauses and silence do not lower
	// it, unlike a mean over the clip.
	LevelDB float64 `json:"level_db"`
	// Sounding is the number of frames within silenceDB of the loudest
	// and above silenceFloorDB;
	// SoundSec, the time they span between them.
	Sounding     int     `json:"sounding_frames"`
	SoundSec     float64 `json:"sound_s"`
	ToneShare    float64 `json:"tone_share"`
	ForeignShare float64 `json:"foreign_share"`
	// LongestTone is the longest tone, in seconds.
	LongestTone float64 `json:"longest_tone_s"`
}

// Settings of MeasureScene.
const (
	sceneFrame = 1024 // samples a frame: 64 ms at 16 kHz, 15.6 Hz bins
	sceneHop   = 256  // samples between frames: 16 ms at 16 kHz
	// Peaks are looked for between peakLoHz and peakHiHz, where the
	// notes of music and the strong harmonics of a voice lie.
	peakLoHz = 100
	peakHiHz = 4000
	// A peak stands peakProminenceDB above the deeper of the two valleys
	// within valleyBins on either side (a pure tone's Hann window
	// sidelobes are 31 dB down, noise rarely stands out so), and within
	// peakRangeDB of the frame's strongest peak.
	peakProminenceDB = 12
	valleyBins       = 3
	peakRangeDB      = 45
	// silenceDB: frames quieter than the loudest by more than this, or
	// than silenceFloorDB (74 dB under full scale), are silence and hold
	// no peaks.
	silenceDB      = 40
	silenceFloorDB = 20
	// toneCell is the width of the log-frequency cells peaks fall into;
	// a tone stays in a cell or its two neighbours (±1.1 %).
	toneCell = 0.0075
	// A tone of ToneShare lasts toneMinSec and may miss toneGap frames
	// in a row.
	toneMinSec = 0.3
	toneGap    = 1
	// A foreign tone lasts foreignMinSec, may miss foreignGap frames in
	// a row, is present in foreignDensity of its frames, and holds while
	// the voice's pitch range (10th to 90th percentile) exceeds
	// voiceMoved of its middle or the voice is unvoiced for half of it.
	foreignMinSec  = 0.25
	foreignGap     = 3
	foreignDensity = 0.8
	voiceMoved     = 0.05
)

// MeasureScene measures the level and the tones of a. It tracks the
// voice's pitch itself (package voice's tracker with its default
// settings).
func MeasureScene(a voice.Audio) Scene {
	return measureScene(a, func() voice.PitchTrack { return voice.TrackPitch(a, voice.DefaultPitchConfig()) })
}

// MeasureSceneTrack is MeasureScene with a's pitch track already made with
// voice.DefaultPitchConfig (the cues' audio report holds it).
func MeasureSceneTrack(a voice.Audio, pt voice.PitchTrack) Scene {
	return measureScene(a, func() voice.PitchTrack { return pt })
}

func measureScene(a voice.Audio, track func() voice.PitchTrack) Scene {
	s := Scene{Duration: a.Duration()}
	n := len(a.Samples)
	if a.Rate <= 0 || n < sceneFrame {
		return s
	}
	rate := float64(a.Rate)
	frames := (n-sceneFrame)/sceneHop + 1
	binHz := rate / sceneFrame
	hop := sceneHop / rate

	levels := make([]float64, frames)
	for f := range frames {
		var e float64
		for _, x := range a.Samples[f*sceneHop : f*sceneHop+sceneFrame] {
			e += float64(x) * float64(x)
		}
		levels[f] = intensityDB(e / sceneFrame)
	}
	sorted := append([]float64(nil), levels...)
	sort.Float64s(sorted)
	s.LevelDB = round3(sorted[int(math.Ceil(0.95*float64(frames)))-1])
	loudest := sorted[frames-1]

	win := make([]float64, sceneFrame)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(sceneFrame-1))
	}
	lo := int(math.Ceil(peakLoHz / binHz))
	hi := min(int(peakHiHz/binHz), sceneFrame/2-valleyBins-1)
	buf := make([]complex128, sceneFrame)
	pow := make([]float64, sceneFrame/2+1)
	sounding := make([]bool, frames)
	cells := make([][]int, frames) // each frame's peaks as tone cells
	for f := range frames {
		if levels[f] < loudest-silenceDB || levels[f] < silenceFloorDB {
			continue
		}
		sounding[f] = true
		s.Sounding++
		for i, x := range a.Samples[f*sceneHop : f*sceneHop+sceneFrame] {
			buf[i] = complex(float64(x)*win[i], 0)
		}
		fft(buf)
		for k := range pow {
			pow[k] = real(buf[k])*real(buf[k]) + imag(buf[k])*imag(buf[k]) + 1e-20
		}
		for _, p := range findPeaks(pow, lo, hi, binHz) {
			cells[f] = append(cells[f], int(math.Round(math.Log(p)/math.Log1p(toneCell))))
		}
	}
	if s.Sounding == 0 {
		return s
	}
	s.SoundSec = round3(float64(s.Sounding) * hop)

	tonal := make([]bool, frames)
	for _, r := range toneRuns(cells, int(math.Ceil(toneMinSec/hop)), toneGap) {
		mark(tonal, r)
		s.LongestTone = max(s.LongestTone, float64(r.last-r.first+1)*hop)
	}

	pt := track()
	f0At := func(f int) float64 {
		if len(pt.Times) == 0 || pt.Step <= 0 {
			return 0
		}
		t := (float64(f*sceneHop) + sceneFrame/2) / rate
		i := int(math.Round((t - pt.Times[0]) / pt.Step))
		if i < 0 || i >= len(pt.F0) {
			return 0
		}
		return pt.F0[i]
	}
	foreign := make([]bool, frames)
	for _, r := range toneRuns(cells, int(math.Ceil(foreignMinSec/hop)), foreignGap) {
		frames := r.last - r.first + 1
		if float64(r.hits) < foreignDensity*float64(frames) {
			continue
		}
		var f0 []float64
		for f := r.first; f <= r.last; f++ {
			if v := f0At(f); v > 0 {
				f0 = append(f0, v)
			}
		}
		moved := false
		if len(f0) >= 4 {
			sort.Float64s(f0)
			p10, p90 := f0[len(f0)/10], f0[len(f0)-1-len(f0)/10]
			moved = (p90-p10)/((p90+p10)/2) > voiceMoved
		}
		if moved || float64(len(f0)) < 0.5*float64(frames) {
			mark(foreign, r)
		}
	}
	var toneFrames, foreignFrames int
	for f := range frames {
		if !sounding[f] {
			continue
		}
		if tonal[f] {
			toneFrames++
		}
		if foreign[f] {
			foreignFrames++
		}
	}
	s.ToneShare = round3(float64(toneFrames) / float64(s.Sounding))
	s.ForeignShare = round3(float64(foreignFrames) / float64(s.Sounding))
	s.LongestTone = round3(s.LongestTone)
	return s
}

// toneRun is a tone: frames first to last, hits of which hold its peak,
// in tone cell cell or a neighbour.
type toneRun struct{ first, last, hits, cell int }

func mark(frames []bool, r toneRun) {
	for f := r.first; f <= r.last; f++ {
		frames[f] = true
	}
}

// toneRuns finds the tones of cells (each frame's peak cells): runs of at
// least minFrames frames in which a peak stays in one cell or its two
// neighbours, missing from at most gap frames in a row.
func toneRuns(cells [][]int, minFrames, gap int) []toneRun {
	var out []toneRun
	open := map[int]*toneRun{}
	keep := func(r *toneRun) {
		if r.last-r.first+1 >= minFrames {
			out = append(out, *r)
		}
	}
	for f, fc := range cells {
		seen := map[int]bool{}
		for _, c := range fc {
			for d := -1; d <= 1; d++ {
				seen[c+d] = true
			}
		}
		for c := range seen {
			if r, ok := open[c]; ok {
				r.last = f
				r.hits++
			} else {
				open[c] = &toneRun{first: f, last: f, hits: 1, cell: c}
			}
		}
		for c, r := range open {
			if f-r.last > gap {
				keep(r)
				delete(open, c)
			}
		}
	}
	for _, r := range open {
		keep(r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].first != out[j].first {
			return out[i].first < out[j].first
		}
		return out[i].cell < out[j].cell
	})
	return out
}

// findPeaks returns the frequencies, refined by a parabola through the
// log power of the three bins around each, of the prominent peaks of pow
// between bins lo and hi.
func findPeaks(pow []float64, lo, hi int, binHz float64) []float64 {
	var top float64
	for k := lo; k <= hi; k++ {
		top = math.Max(top, pow[k])
	}
	floor := top * math.Pow(10, -peakRangeDB/10.0)
	prom := math.Pow(10, peakProminenceDB/10.0)
	var out []float64
	for k := lo; k <= hi; k++ {
		p := pow[k]
		if p < floor || p <= pow[k-1] || p < pow[k+1] {
			continue
		}
		lv, rv := p, p
		for j := 1; j <= valleyBins; j++ {
			lv = math.Min(lv, pow[k-j])
			rv = math.Min(rv, pow[k+j])
		}
		if p < prom*math.Max(lv, rv) {
			continue
		}
		l, c, r := math.Log(pow[k-1]), math.Log(p), math.Log(pow[k+1])
		d := 0.0
		if den := l - 2*c + r; den < 0 {
			d = 0.5 * (l - r) / den
		}
		out = append(out, (float64(k)+d)*binHz)
	}
	return out
}

// intensityDB is the intensity of a mean square in Pa², in dB re 2e-5 Pa.
func intensityDB(ms float64) float64 {
	if ms <= 0 {
		return -100
	}
	return 10 * math.Log10(ms/4e-10)
}

// fft is an in-place radix-2 transform; len(x) is a power of two.
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j |= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := range size / 2 {
				a, b := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = a+b, a-b
				wk *= w
			}
		}
	}
}

// round3 rounds a measured value to 3 decimals for the evidence.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
