package voice

import (
	"math"
	"sort"
)

// PitchConfig sets the pitch tracker. The defaults (DefaultPitchConfig)
// follow Praat's "To Pitch" settings: floor 75 Hz, ceiling 500 Hz, a 10 ms
// step and three floor periods of analysis window, a silence threshold of
// 0.03 of the clip's peak, voicing threshold 0.45, and path costs for
// octave jumps and voicing changes.
type PitchConfig struct {
	FloorHz            float64
	CeilingHz          float64
	TimeStep           float64 // seconds between frames; 0 means 0.75/FloorHz
	SilenceThreshold   float64 // frame peak relative to the clip's peak below which a frame leans unvoiced
	VoicingThreshold   float64 // periodicity strength a voiced frame needs
	OctaveCost         float64 // per octave, favours higher candidates
	OctaveJumpCost     float64 // per octave of change between voiced frames
	VoicedUnvoicedCost float64 // for each switch between voiced and unvoiced
}

// DefaultPitchConfig returns Praat-like pitch settings.
func DefaultPitchConfig() PitchConfig {
	return PitchConfig{
		FloorHz:            75,
		CeilingHz:          500,
		SilenceThreshold:   0.03,
		VoicingThreshold:   0.45,
		OctaveCost:         0.01,
		OctaveJumpCost:     0.35,
		VoicedUnvoicedCost: 0.14,
	}
}

// PitchTrack is F0 over time: F0[i] is the frequency in Hz at Times[i], or
// 0 where the frame is unvoiced.
type PitchTrack struct {
	Times []float64
	F0    []float64
	Step  float64
}

type pitchCandidate struct {
	f        float64 // 0 for the unvoiced candidate
	strength float64
}

// TrackPitch estimates F0 with the YIN difference function (de Cheveigné &
// Kawahara 2002): per frame, the dips of the cumulative-mean-normalised
// difference are candidates, refined by parabolic interpolation; a Viterbi
// path through the candidates (as in Praat) then picks one per frame,
// penalising octave jumps and voicing switches.
func TrackPitch(a Audio, cfg PitchConfig) PitchTrack {
	if cfg.FloorHz <= 0 || cfg.CeilingHz <= cfg.FloorHz {
		cfg = DefaultPitchConfig()
	}
	step := cfg.TimeStep
	if step <= 0 {
		step = 0.75 / cfg.FloorHz
	}
	rate := float64(a.Rate)
	x := a.Samples
	winDur := 3 / cfg.FloorHz
	frameLen := int(math.Round(winDur * rate))
	tauMax := int(math.Ceil(rate / cfg.FloorHz))
	tauMin := int(math.Floor(rate / cfg.CeilingHz))
	if tauMin < 2 {
		tauMin = 2
	}
	w := frameLen - tauMax - 1
	dur := a.Duration()
	n := 0
	if dur >= winDur && w > 0 {
		n = int(math.Floor((dur-winDur)/step)) + 1
	}
	tr := PitchTrack{Times: make([]float64, n), F0: make([]float64, n), Step: step}
	if n == 0 {
		return tr
	}
	first := 0.5*dur - 0.5*float64(n-1)*step

	var globalPeak float64
	for _, v := range x {
		globalPeak = math.Max(globalPeak, math.Abs(float64(v)))
	}

	cands := make([][]pitchCandidate, n)
	d := make([]float64, tauMax+2)
	cm := make([]float64, tauMax+2)
	for i := 0; i < n; i++ {
		t := first + float64(i)*step
		tr.Times[i] = t
		start := int(math.Round(t*rate)) - frameLen/2
		if start < 0 {
			start = 0
		}
		if start+frameLen > len(x) {
			start = len(x) - frameLen
		}
		fr := x[start : start+frameLen]
		var localPeak, mean float64
		for _, v := range fr {
			mean += float64(v)
		}
		mean /= float64(len(fr))
		for _, v := range fr {
			localPeak = math.Max(localPeak, math.Abs(float64(v)-mean))
		}
		unvoiced := cfg.VoicingThreshold
		if globalPeak > 0 {
			unvoiced += math.Max(0, 2-(localPeak/globalPeak)/(cfg.SilenceThreshold/(1+cfg.VoicingThreshold)))
		} else {
			unvoiced += 2
		}
		cs := []pitchCandidate{{f: 0, strength: unvoiced}}
		// A voiced candidate scores at most 1 + OctaveCost·log2(ceiling/floor)
		// and avoids at most two voicing switches; when the unvoiced one
		// beats that, the frame is unvoiced on any path and needs no search.
		maxVoiced := 1 + cfg.OctaveCost*math.Log2(cfg.CeilingHz/cfg.FloorHz) + 2*cfg.VoicedUnvoicedCost*0.01/step
		if localPeak == 0 || unvoiced > maxVoiced {
			cands[i] = cs
			continue
		}
		yinDiff(fr[:w+tauMax+1], w, tauMax+1, d)
		// Cumulative mean normalised difference.
		cm[0] = 1
		var run float64
		for tau := 1; tau <= tauMax+1; tau++ {
			run += d[tau]
			if run > 0 {
				cm[tau] = d[tau] * float64(tau) / run
			} else {
				cm[tau] = 1
			}
		}
		for tau := tauMin; tau <= tauMax; tau++ {
			if !(cm[tau] < cm[tau-1] && cm[tau] <= cm[tau+1]) || cm[tau] >= 1-0.5*cfg.VoicingThreshold {
				continue
			}
			// Parabolic interpolation of the dip.
			a0, b0, c0 := cm[tau-1], cm[tau], cm[tau+1]
			shift, val := 0.0, b0
			if den := a0 - 2*b0 + c0; den > 0 {
				shift = 0.5 * (a0 - c0) / den
				val = b0 - 0.25*(a0-c0)*shift
			}
			f := rate / (float64(tau) + shift)
			if f < cfg.FloorHz || f > cfg.CeilingHz {
				continue
			}
			s := 1 - math.Max(0, val) + cfg.OctaveCost*math.Log2(f/cfg.FloorHz)
			cs = append(cs, pitchCandidate{f: f, strength: s})
		}
		if len(cs) > 8 {
			v := cs[1:]
			sort.Slice(v, func(p, q int) bool { return v[p].strength > v[q].strength })
			cs = cs[:8]
		}
		cands[i] = cs
	}
	path := viterbi(cands, cfg, step)
	for i, c := range path {
		tr.F0[i] = cands[i][c].f
	}
	return tr
}

// yinDiff fills d[tau] = sum_{j<w} (x[j]-x[j+tau])^2 for tau in [1, maxTau]
// using d = e0 + e_tau - 2 r(tau).
func yinDiff(x []float32, w, maxTau int, d []float64) {
	var e0 float64
	for j := 0; j < w; j++ {
		e0 += float64(x[j]) * float64(x[j])
	}
	var et float64
	for j := 0; j < w; j++ {
		v := float64(x[j+1])
		et += v * v
	}
	d[0] = 0
	base := x[:w]
	for tau := 1; tau <= maxTau; tau++ {
		if tau > 1 {
			out := float64(x[tau-1])
			in := float64(x[tau+w-1])
			et += in*in - out*out
		}
		r := dot(base, x[tau:tau+w])
		v := e0 + et - 2*r
		if v < 0 {
			v = 0
		}
		d[tau] = v
	}
}

// dotGo is the plain Go dot product of a and b[:len(a)], in four
// interleaved float32 sums.
func dotGo(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return float64(s0) + float64(s1) + float64(s2) + float64(s3)
}

func viterbi(cands [][]pitchCandidate, cfg PitchConfig, step float64) []int {
	n := len(cands)
	corr := 0.01 / step
	score := make([][]float64, n)
	back := make([][]int, n)
	score[0] = make([]float64, len(cands[0]))
	for c, k := range cands[0] {
		score[0][c] = k.strength
	}
	for i := 1; i < n; i++ {
		score[i] = make([]float64, len(cands[i]))
		back[i] = make([]int, len(cands[i]))
		for c, k := range cands[i] {
			best, arg := math.Inf(-1), 0
			for p, q := range cands[i-1] {
				cost := 0.0
				switch {
				case k.f == 0 && q.f == 0:
				case k.f == 0 || q.f == 0:
					cost = cfg.VoicedUnvoicedCost * corr
				default:
					cost = cfg.OctaveJumpCost * math.Abs(math.Log2(k.f/q.f)) * corr
				}
				if v := score[i-1][p] - cost; v > best {
					best, arg = v, p
				}
			}
			score[i][c] = best + k.strength
			back[i][c] = arg
		}
	}
	path := make([]int, n)
	best := math.Inf(-1)
	for c, v := range score[n-1] {
		if v > best {
			best, path[n-1] = v, c
		}
	}
	for i := n - 1; i > 0; i-- {
		path[i-1] = back[i][path[i]]
	}
	return path
}
