package voice

import (
	"fmt"
	"math"
	"sort"
)

// Config sets Analyze. DefaultConfig gives the values documented on each
// field.
type Config struct {
	Pitch PitchConfig
	// MinPause is the shortest gap without voicing inside speech that
	// counts as a pause (0.3 s).
	MinPause float64
	// LongPause is the pause length reported as an event (0.8 s).
	LongPause float64
	// Window is the span over which the speaker's local level is compared
	// with the clip's (1 s), moved by half its length.
	Window float64
	// PitchChange is the relative F0 change that makes an event (0.15).
	PitchChange float64
	// LoudnessChangeDB is the intensity change that makes an event (6 dB).
	LoudnessChangeDB float64
}

// DefaultConfig returns the default analysis settings.
func DefaultConfig() Config {
	return Config{
		Pitch:            DefaultPitchConfig(),
		MinPause:         0.3,
		LongPause:        0.8,
		Window:           1.0,
		PitchChange:      0.15,
		LoudnessChangeDB: 6,
	}
}

// Stats summarises a measure over frames.
type Stats struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Pause is a gap without voicing inside speech.
type Pause struct {
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
}

// Event kinds.
const (
	EventPitchHigh = "pitch_high" // local F0 level above the speaker's mean
	EventPitchLow  = "pitch_low"  // local F0 level below the speaker's mean
	EventPitchRise = "pitch_rise" // F0 rises towards the end of a phrase
	EventPitchFall = "pitch_fall" // F0 falls towards the end of a phrase
	EventLouder    = "louder"     // local intensity above the speaker's level
	EventQuieter   = "quieter"    // local intensity below the speaker's level
	EventLongPause = "long_pause" // a pause of at least Config.LongPause
)

// Event is a change in the voice relative to the speaker's own level within
// the clip. Change is a fraction for pitch events, dB for loudness events
// and seconds for pauses; Unit says which.
type Event struct {
	Kind   string  `json:"kind"`
	Start  float64 `json:"start_s"`
	End    float64 `json:"end_s"`
	Change float64 `json:"change"`
	Unit   string  `json:"unit"`
	Text   string  `json:"text"`
}

// Report is the prosody of one clip. F0 is nil when nothing is voiced;
// JitterLocal and ShimmerLocal (fractions, as Praat computes them before
// printing percentages) are nil when too few periods qualify.
type Report struct {
	Duration       float64  `json:"duration_s"`
	VoicedRatio    float64  `json:"voiced_ratio"`
	F0             *Stats   `json:"f0_hz"`
	Intensity      Stats    `json:"intensity_db"`
	JitterLocal    *float64 `json:"jitter_local"`
	ShimmerLocal   *float64 `json:"shimmer_local"`
	SpeechRate     float64  `json:"speech_rate"`
	VoicedSegments int      `json:"voiced_segments"`
	SpeechStart    float64  `json:"speech_start_s"`
	SpeechEnd      float64  `json:"speech_end_s"`
	Pauses         []Pause  `json:"pauses"`
	Events         []Event  `json:"events"`

	// Pitch is the F0 track the report was measured from (with
	// Config.Pitch), for measures that need it frame by frame; it stays
	// out of the JSON.
	Pitch PitchTrack `json:"-"`
}

// Analyze measures the prosody of a. Intensity statistics are over all
// frames with Praat's dB averaging; F0 statistics are over voiced frames.
// SpeechRate is voiced segments (runs of at least 30 ms of voicing) per
// second between the first and the last voiced frame.
func Analyze(a Audio, cfg Config) Report {
	r := Report{Duration: a.Duration(), Pauses: []Pause{}, Events: []Event{}}
	if a.Rate <= 0 || len(a.Samples) == 0 {
		return r
	}
	pt := TrackPitch(a, cfg.Pitch)
	r.Pitch = pt
	it := TrackIntensity(a, cfg.Pitch.FloorHz)
	r.Intensity = stats(it.DB)

	var voiced []float64
	for _, f := range pt.F0 {
		if f > 0 {
			voiced = append(voiced, f)
		}
	}
	if len(pt.F0) > 0 {
		r.VoicedRatio = float64(len(voiced)) / float64(len(pt.F0))
	}
	if len(voiced) == 0 {
		return r
	}
	s := stats(voiced)
	r.F0 = &s

	pulses := Pulses(a, pt)
	if j := JitterLocal(pulses); !math.IsNaN(j) {
		r.JitterLocal = &j
	}
	if sh := ShimmerLocal(a, pulses); !math.IsNaN(sh) {
		r.ShimmerLocal = &sh
	}

	runs := voicedRuns(pt)
	half := 0.5 * pt.Step
	r.SpeechStart = pt.Times[runs[0][0]] - half
	r.SpeechEnd = pt.Times[runs[len(runs)-1][1]] + half
	minRun := int(math.Ceil(0.03/pt.Step - 1e-9))
	for _, run := range runs {
		if run[1]-run[0]+1 >= minRun {
			r.VoicedSegments++
		}
	}
	if span := r.SpeechEnd - r.SpeechStart; span > 0 {
		r.SpeechRate = float64(r.VoicedSegments) / span
	}
	for k := 1; k < len(runs); k++ {
		p := Pause{Start: pt.Times[runs[k-1][1]] + half, End: pt.Times[runs[k][0]] - half}
		if p.End-p.Start >= cfg.MinPause-1e-9 {
			r.Pauses = append(r.Pauses, p)
		}
	}
	r.Events = events(pt, it, r, s.Mean, cfg)
	return r
}

func stats(v []float64) Stats {
	if len(v) == 0 {
		return Stats{}
	}
	s := Stats{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range v {
		s.Mean += x
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	s.Mean /= float64(len(v))
	if len(v) > 1 {
		var ss float64
		for _, x := range v {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(len(v)-1))
	}
	return s
}

// events finds changes relative to the speaker's own level: windowed F0
// and loudness levels against the clip's, the F0 movement at the end of each
// phrase, and long pauses.
func events(pt PitchTrack, it IntensityTrack, r Report, meanF0 float64, cfg Config) []Event {
	var out []Event
	// Intensity at each voiced pitch frame, and the speaker's level as the
	// mean dB over voiced frames (an energy average would be set by the
	// loudest stretch alone).
	var level float64
	dbAt := make([]float64, len(pt.F0))
	var nv int
	for i, f := range pt.F0 {
		if f <= 0 {
			continue
		}
		dbAt[i] = intensityAt(it, pt.Times[i])
		level += dbAt[i]
		nv++
	}
	level /= float64(nv)

	minVoiced := int(0.1/pt.Step + 0.5)
	hop := cfg.Window / 2
	var pitchEv, loudEv []Event
	for t0 := r.SpeechStart; t0+cfg.Window <= r.SpeechEnd+hop; t0 += hop {
		t1 := math.Min(t0+cfg.Window, r.SpeechEnd)
		var sf, se float64
		var n int
		for i, f := range pt.F0 {
			if f > 0 && pt.Times[i] >= t0 && pt.Times[i] < t1 {
				sf += f
				se += dbAt[i]
				n++
			}
		}
		if n < minVoiced {
			continue
		}
		if c := sf/float64(n)/meanF0 - 1; math.Abs(c) >= cfg.PitchChange {
			kind, word := EventPitchHigh, "above"
			if c < 0 {
				kind, word = EventPitchLow, "below"
			}
			pitchEv = appendMerged(pitchEv, Event{Kind: kind, Start: t0, End: t1, Change: c, Unit: "fraction",
				Text: fmt.Sprintf("pitch %.0f %% %s the speaker's mean (%.0f Hz)", math.Abs(c)*100, word, meanF0)})
		}
		if d := se/float64(n) - level; math.Abs(d) >= cfg.LoudnessChangeDB {
			kind, word := EventLouder, "louder"
			if d < 0 {
				kind, word = EventQuieter, "quieter"
			}
			loudEv = appendMerged(loudEv, Event{Kind: kind, Start: t0, End: t1, Change: d, Unit: "dB",
				Text: fmt.Sprintf("voice %.0f dB %s than the speaker's level", math.Abs(d), word)})
		}
	}
	out = append(out, pitchEv...)
	out = append(out, loudEv...)

	// Phrases are speech between pauses; look at F0 over the last window
	// of each.
	bounds := []float64{r.SpeechStart}
	for _, p := range r.Pauses {
		bounds = append(bounds, p.Start, p.End)
	}
	bounds = append(bounds, r.SpeechEnd)
	for k := 0; k+1 < len(bounds); k += 2 {
		ps, pe := bounds[k], bounds[k+1]
		if pe-ps < 0.5 {
			continue
		}
		ws := math.Max(ps, pe-cfg.Window)
		var ts, fs []float64
		for i, f := range pt.F0 {
			if f > 0 && pt.Times[i] >= ws && pt.Times[i] <= pe {
				ts = append(ts, pt.Times[i])
				fs = append(fs, f)
			}
		}
		if len(ts) < minVoiced {
			continue
		}
		a, b := lineFit(ts, fs)
		t0, t1 := ts[0], ts[len(ts)-1]
		f0, f1 := a+b*t0, a+b*t1
		if f0 <= 0 || t1-t0 < 0.2 {
			continue
		}
		c := f1/f0 - 1
		if math.Abs(c) < cfg.PitchChange {
			continue
		}
		kind, word := EventPitchRise, "rises"
		if c < 0 {
			kind, word = EventPitchFall, "falls"
		}
		where := fmt.Sprintf("over the last %.1f s of the phrase ending at %.1f s", t1-t0, pe)
		if k+2 >= len(bounds) {
			where = fmt.Sprintf("over the last %.1f s of speech", t1-t0)
		}
		out = append(out, Event{Kind: kind, Start: t0, End: t1, Change: c, Unit: "fraction",
			Text: fmt.Sprintf("pitch %s %.0f %% %s", word, math.Abs(c)*100, where)})
	}
	for _, p := range r.Pauses {
		if d := p.End - p.Start; d >= cfg.LongPause {
			out = append(out, Event{Kind: EventLongPause, Start: p.Start, End: p.End, Change: d, Unit: "s",
				Text: fmt.Sprintf("long pause of %.1f s", d)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// appendMerged appends e, or merges it into the last event when that one
// has the same kind and overlaps it, keeping the larger change.
func appendMerged(evs []Event, e Event) []Event {
	if n := len(evs); n > 0 && evs[n-1].Kind == e.Kind && e.Start <= evs[n-1].End {
		last := &evs[n-1]
		last.End = e.End
		if math.Abs(e.Change) > math.Abs(last.Change) {
			last.Change, last.Text = e.Change, e.Text
		}
		return evs
	}
	return append(evs, e)
}

func intensityAt(it IntensityTrack, t float64) float64 {
	n := len(it.DB)
	if n == 0 {
		return 0
	}
	k := int(math.Round((t - it.Times[0]) / it.Step))
	return it.DB[clampInt(k, 0, n-1)]
}

// lineFit returns the least-squares line y = a + b x.
func lineFit(x, y []float64) (a, b float64) {
	var sx, sy, sxx, sxy float64
	n := float64(len(x))
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return sy / n, 0
	}
	b = (n*sxy - sx*sy) / den
	return (sy - b*sx) / n, b
}
