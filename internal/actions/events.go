package actions

import (
	"cmp"
	"math"
	"slices"
)

// Action names a facial action or head movement.
type Action string

// The actions an Analysis reports.
const (
	BrowRaise        Action = "brow_raise"         // AU1, AU2
	BrowLower        Action = "brow_lower"         // AU4
	EyeWiden         Action = "eye_widen"          // AU5
	EyeClose         Action = "eye_close"          // AU43: a closure longer than a blink
	Blink            Action = "blink"              // AU45
	Smile            Action = "smile"              // AU12
	LipCornerDepress Action = "lip_corner_depress" // AU15
	MouthOpen        Action = "mouth_open"         // AU25, AU27
	JawDrop          Action = "jaw_drop"           // AU26, AU27
	LipPress         Action = "lip_press"          // AU24
	Nod              Action = "nod"
	HeadShake        Action = "head_shake"
	LookDown         Action = "look_down"
	LookAway         Action = "look_away"
)

// Event is one action of one face track, from the first to the last frame
// it spans. Magnitude is the action's peak: for face actions the deviation
// its thresholds use (a fraction, 0.24 for +24 %), for head movements
// degrees (look_away signed, > 0 towards the image's right).
type Event struct {
	Action    Action  `json:"action"`
	Start     float64 `json:"start_s"`
	End       float64 `json:"end_s"`
	Magnitude float64 `json:"magnitude"`
	Track     int     `json:"track"`
}

// Threshold is the hysteresis of one action: an event needs a frame at or
// beyond Enter, spans the frames around it at or beyond Exit, and lasts at
// least MinDuration seconds, counting each frame as one frame interval.
type Threshold struct {
	Enter       float64 `json:"enter"`
	Exit        float64 `json:"exit"`
	MinDuration float64 `json:"min_duration_s"`
}

// run is a stretch of frames [i, j] with the peak value and its frame.
type run struct {
	i, j int
	peak float64
	at   int
}

// hysteresis returns the runs of v that reach th.Enter: maximal stretches
// of frames at or above th.Exit holding at least one frame at or above
// th.Enter. NaN values and time gaps longer than maxGap end a stretch.
// Runs shorter than th.MinDuration (frames × step) are dropped.
func hysteresis(ts, v []float64, th Threshold, step, maxGap float64) []run {
	var out []run
	flush := func(r run, entered bool) {
		if entered && ts[r.j]-ts[r.i]+step >= th.MinDuration-1e-9 {
			out = append(out, r)
		}
	}
	var cur run
	in, entered := false, false
	for k := range v {
		ok := !math.IsNaN(v[k]) && v[k] >= th.Exit
		if in && (!ok || ts[k]-ts[k-1] > maxGap) {
			flush(cur, entered)
			in, entered = false, false
		}
		if !ok {
			continue
		}
		if !in {
			cur = run{i: k, j: k, peak: v[k], at: k}
			in = true
		}
		cur.j = k
		if v[k] > cur.peak {
			cur.peak, cur.at = v[k], k
		}
		if v[k] >= th.Enter {
			entered = true
		}
	}
	if in {
		flush(cur, entered)
	}
	return out
}

// sortEvents orders events by start, then end, then action.
func sortEvents(ev []Event) {
	slices.SortStableFunc(ev, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), cmp.Compare(a.Action, b.Action))
	})
}
