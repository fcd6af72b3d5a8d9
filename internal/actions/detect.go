package actions

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// faceEvents finds the face actions' events against the baseline.
func faceEvents(data []frameData, b *Baseline, opts *Options, step, maxGap float64, track int) []Event {
	ts := make([]float64, len(data))
	for i := range data {
		ts[i] = data[i].m.T
	}
	var ev []Event
	v := make([]float64, len(data))
	for _, a := range faceActions {
		for i := range data {
			v[i] = faceDeviations[a](&data[i].m, &b.Measures)
		}
		th := opts.Face[a]
		if a != EyeClose {
			for _, r := range hysteresis(ts, v, th, step, maxGap) {
				ev = append(ev, Event{Action: a, Start: ts[r.i], End: ts[r.j], Magnitude: r.peak, Track: track})
			}
			continue
		}
		// Closures: blinks when short, eye_close when long.
		short := th
		short.MinDuration = opts.BlinkMin
		for _, r := range hysteresis(ts, v, short, step, maxGap) {
			cover := ts[r.j] - ts[r.i] + step
			e := Event{Start: ts[r.i], End: ts[r.j], Magnitude: r.peak, Track: track}
			switch {
			case cover <= opts.BlinkMax+1e-9:
				e.Action = Blink
			case cover >= th.MinDuration-1e-9:
				e.Action = EyeClose
			default:
				continue
			}
			ev = append(ev, e)
		}
	}
	return ev
}

// headEvents finds nods, shakes, looking down and looking away in the pose
// series, against the baseline pose base.
func headEvents(ps []Pose, base Pose, opts *Options, step, maxGap float64, track int) []Event {
	if len(ps) == 0 {
		return nil
	}
	ts := make([]float64, len(ps))
	down := make([]float64, len(ps))
	away := make([]float64, len(ps))
	for i, p := range ps {
		ts[i] = p.T
		down[i] = base.Pitch - p.Pitch
		away[i] = math.Abs(p.Yaw - base.Yaw)
	}
	var ev []Event
	for _, r := range hysteresis(ts, down, opts.LookDown, step, maxGap) {
		ev = append(ev, Event{Action: LookDown, Start: ts[r.i], End: ts[r.j], Magnitude: r.peak, Track: track})
	}
	for _, r := range hysteresis(ts, away, opts.LookAway, step, maxGap) {
		ev = append(ev, Event{Action: LookAway, Start: ts[r.i], End: ts[r.j], Magnitude: ps[r.at].Yaw - base.Yaw, Track: track})
	}
	// Oscillations within each stretch without a gap.
	for lo := 0; lo < len(ps); {
		hi := lo + 1
		for hi < len(ps) && ts[hi]-ts[hi-1] <= maxGap {
			hi++
		}
		seg := ts[lo:hi]
		pitch, yaw := make([]float64, hi-lo), make([]float64, hi-lo)
		for i := range pitch {
			pitch[i], yaw[i] = ps[lo+i].Pitch, ps[lo+i].Yaw
		}
		for _, r := range oscillations(seg, pitch, opts.Nod) {
			ev = append(ev, Event{Action: Nod, Start: seg[r.i], End: seg[r.j], Magnitude: r.peak, Track: track})
		}
		for _, r := range oscillations(seg, yaw, opts.Shake) {
			ev = append(ev, Event{Action: HeadShake, Start: seg[r.i], End: seg[r.j], Magnitude: r.peak, Track: track})
		}
		lo = hi
	}
	return ev
}

// actionNames are the phrases of the peak's reason.
var actionNames = map[Action]string{
	BrowRaise:        "eyebrows raised",
	BrowLower:        "brows lowered",
	EyeWiden:         "eyes widened",
	Smile:            "smile",
	LipCornerDepress: "lip corners down",
	MouthOpen:        "lips parted",
	JawDrop:          "jaw dropped",
	LipPress:         "lips pressed",
}

// peak finds the frame of strongest expression change: the sum over the
// face actions (closure aside) of their positive deviations over their
// entry thresholds, plus, where the frame has expression probabilities,
// their total variation distance from the baseline's mean over
// PeakExpressionUnit. Ties go to the earliest frame. A clip whose
// strongest change scores under 1 (one action at its threshold) has no
// peak: that much is the landmarks' jitter on a still face.
func peak(tr *Track, data []frameData, b *Baseline, opts *Options) *Peak {
	best, bestScore := -1, 0.0
	for i := range data {
		s := change(&data[i].m, &b.Measures, opts, false)
		if e := tr.Frames[data[i].frame].Expr; len(e) > 0 && b.Expressions != nil {
			s += totalVariation(e, b.Expressions) / PeakExpressionUnit
		}
		if s > bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 || bestScore < 1 {
		return nil
	}
	d := &data[best]
	type part struct {
		what string
		x    float64
	}
	var parts []part
	for _, a := range changeActions {
		if x := faceDeviations[a](&d.m, &b.Measures) / opts.Face[a].Enter; x > 0 {
			parts = append(parts, part{fmt.Sprintf("%s %.1f× its threshold", actionNames[a], x), x})
		}
	}
	if e := tr.Frames[d.frame].Expr; len(e) > 0 && b.Expressions != nil {
		if tv := totalVariation(e, b.Expressions); tv > 0 {
			c := risen(e, b.Expressions)
			parts = append(parts, part{fmt.Sprintf("expression %s %.2f against %.2f at baseline", c, e[c], b.Expressions[c]), tv / PeakExpressionUnit})
		}
	}
	slices.SortStableFunc(parts, func(p, q part) int { return cmp.Compare(q.x, p.x) })
	var words []string
	for _, p := range parts {
		if p.x >= 0.1*bestScore {
			words = append(words, p.what)
		}
	}
	return &Peak{T: d.m.T, Reason: strings.Join(words, "; "), Score: bestScore}
}

// totalVariation is half the sum of absolute differences between two
// probability maps over the union of their classes.
func totalVariation(p, q map[string]float64) float64 {
	var s float64
	for c, v := range p {
		s += math.Abs(v - q[c])
	}
	for c, v := range q {
		if _, ok := p[c]; !ok {
			s += v
		}
	}
	return s / 2
}

// risen returns the class whose probability rose most from q to p.
func risen(p, q map[string]float64) string {
	best, rise := "", math.Inf(-1)
	for _, c := range sortedKeys(p) {
		if d := p[c] - q[c]; d > rise {
			best, rise = c, d
		}
	}
	return best
}
