package actions

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Frame is one face of a track in one video frame.
type Frame struct {
	T      float64 `json:"t"` // seconds
	Points Points  `json:"points"`
	// Box is the detected face box in image pixels, when known: frames
	// whose eye centres fall outside it or whose eye distance is under a
	// tenth of its width are skipped as failed landmark fits.
	Box *Box `json:"box,omitempty"`
	// Expr holds expression probabilities by class, when known (face-api's
	// neutral, happy, sad, angry, fearful, disgusted, surprised). The
	// "neutral" probability chooses the baseline frames.
	Expr map[string]float64 `json:"expressions,omitempty"`
}

// Box is a face box in image pixels.
type Box struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"width"`
	H float64 `json:"height"`
}

// Track is the frames of one face over time, in time order.
type Track struct {
	ID     int     `json:"track"`
	Frames []Frame `json:"frames"`
}

// Options are the analysis settings. Start from DefaultOptions.
type Options struct {
	// Face holds the thresholds of the face actions, on their deviations
	// from the baseline (see METHOD.md for the units). EyeClose's serve
	// blinks too.
	Face map[Action]Threshold `json:"face"`
	// Blinks are closures lasting at most BlinkMax seconds and at least
	// BlinkMin; longer ones are eye_close events.
	BlinkMax float64 `json:"blink_max_s"`
	BlinkMin float64 `json:"blink_min_s"`
	// LookDown is on the fall of pitch below the baseline and LookAway on
	// the turn of yaw from it, both in degrees.
	LookDown Threshold `json:"look_down"`
	LookAway Threshold `json:"look_away"`
	// Nod is on pitch, Shake on yaw.
	Nod   Oscillation `json:"nod"`
	Shake Oscillation `json:"shake"`
	// The baseline is the median of the BaselineShare least expressive
	// frames, at least BaselineMin of them; a clip of BaselineMin frames or
	// fewer uses all.
	BaselineShare float64 `json:"baseline_share"`
	BaselineMin   int     `json:"baseline_min"`
	// MaxGap is the longest time in seconds between two frames that an
	// event spans; a face lost for longer ends it.
	MaxGap float64 `json:"max_gap_s"`
	// Model is the generic 3D face the head pose is fitted with.
	Model *Model `json:"-"`
}

// DefaultOptions returns the settings METHOD.md describes.
func DefaultOptions() Options {
	return Options{
		Face: map[Action]Threshold{
			BrowRaise:        {Enter: 0.10, Exit: 0.05, MinDuration: 0.2},
			BrowLower:        {Enter: 0.10, Exit: 0.05, MinDuration: 0.2},
			EyeWiden:         {Enter: 0.15, Exit: 0.08, MinDuration: 0.2},
			EyeClose:         {Enter: 0.50, Exit: 0.30, MinDuration: 0.5},
			Smile:            {Enter: 0.06, Exit: 0.03, MinDuration: 0.3},
			LipCornerDepress: {Enter: 0.05, Exit: 0.025, MinDuration: 0.3},
			MouthOpen:        {Enter: 0.12, Exit: 0.06, MinDuration: 0.3},
			JawDrop:          {Enter: 0.10, Exit: 0.05, MinDuration: 0.2},
			LipPress:         {Enter: 0.25, Exit: 0.12, MinDuration: 0.3},
		},
		BlinkMax:      0.5,
		BlinkMin:      0.06,
		LookDown:      Threshold{Enter: 15, Exit: 10, MinDuration: 1},
		LookAway:      Threshold{Enter: 20, Exit: 15, MinDuration: 1},
		Nod:           Oscillation{Amplitude: 6, MaxSwing: 0.8, MaxDwell: 0.4, MinSwings: 2},
		Shake:         Oscillation{Amplitude: 8, MaxSwing: 0.8, MaxDwell: 0.4, MinSwings: 3},
		BaselineShare: 0.25,
		BaselineMin:   5,
		MaxGap:        0.5,
		Model:         &SixPointModel,
	}
}

// faceActions are the face actions with thresholds in Options.Face, in
// report order.
var faceActions = []Action{BrowRaise, BrowLower, EyeWiden, EyeClose, Smile, LipCornerDepress, MouthOpen, JawDrop, LipPress}

// Validate reports every setting Analyze cannot use.
func (o *Options) Validate() error {
	var errs []error
	th := func(name string, t Threshold) {
		if !(t.Enter > t.Exit) || !(t.Exit > 0) || !(t.MinDuration >= 0) {
			errs = append(errs, fmt.Errorf("%s: thresholds enter %g, exit %g, min duration %g s: need enter > exit > 0 and a duration ≥ 0", name, t.Enter, t.Exit, t.MinDuration))
		}
	}
	for _, a := range faceActions {
		t, ok := o.Face[a]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no thresholds", a))
			continue
		}
		th(string(a), t)
	}
	th(string(LookDown), o.LookDown)
	th(string(LookAway), o.LookAway)
	osc := func(name string, v Oscillation) {
		if !(v.Amplitude > 0) || !(v.MaxSwing > 0) || !(v.MaxDwell >= 0) || v.MinSwings < 2 {
			errs = append(errs, fmt.Errorf("%s: amplitude %g°, swing %g s, dwell %g s, %d swings: need positive amplitude and swing, dwell ≥ 0, two swings or more", name, v.Amplitude, v.MaxSwing, v.MaxDwell, v.MinSwings))
		}
	}
	osc(string(Nod), o.Nod)
	osc(string(HeadShake), o.Shake)
	if !(o.BlinkMax > o.BlinkMin) || o.BlinkMin < 0 {
		errs = append(errs, fmt.Errorf("blinks from %g s to %g s: need 0 ≤ min < max", o.BlinkMin, o.BlinkMax))
	}
	if !(o.BaselineShare > 0 && o.BaselineShare <= 1) || o.BaselineMin < 1 {
		errs = append(errs, fmt.Errorf("baseline share %g, at least %d frames: need a share in (0, 1] and one frame or more", o.BaselineShare, o.BaselineMin))
	}
	if !(o.MaxGap > 0) {
		errs = append(errs, fmt.Errorf("max gap %g s must be positive", o.MaxGap))
	}
	if o.Model == nil {
		errs = append(errs, errors.New("no head pose model"))
	}
	return errors.Join(errs...)
}

// Skip is a frame left out of the measures, and why.
type Skip struct {
	T      float64 `json:"t"`
	Reason string  `json:"reason"`
}

// Baseline is the person's neutral face within the clip.
type Baseline struct {
	// Rule says how the frames were chosen: most_neutral (highest neutral
	// probability), least_change (closest to the clip's median face) or
	// all_frames (a clip too short to choose).
	Rule string `json:"rule"`
	// Frames are the times of the frames the baseline is the median of.
	Frames   []float64 `json:"frames"`
	Measures Measures  `json:"measures"`
	// Expressions are the mean probabilities over the baseline frames.
	Expressions map[string]float64 `json:"expressions,omitempty"`
	// Pose is the median head pose over every frame with a pose, the
	// reference of look_down, look_away (its T is 0).
	Pose Pose `json:"pose"`
}

// Peak is the frame of strongest expression change from the baseline.
type Peak struct {
	T      float64 `json:"t"`
	Reason string  `json:"reason"`
	// Score is the change, not part of the JSON form: the sum of the face actions' deviations in
	// units of their entry thresholds, plus the expression probabilities'
	// distance from the baseline's over PeakExpressionUnit.
	Score float64 `json:"-"`
}

// PeakExpressionUnit is the total variation distance between a frame's
// expression probabilities and the baseline's that counts as much, in the
// peak score, as one face action at its entry threshold.
const PeakExpressionUnit = 0.5

// Result is the analysis of one track.
type Result struct {
	Track    int        `json:"track"`
	Frames   int        `json:"frames"` // frames given
	Skipped  []Skip     `json:"skipped,omitempty"`
	Baseline *Baseline  `json:"baseline,omitempty"` // nil when no frame could be measured
	Measures []Measures `json:"measures"`
	Pose     []Pose     `json:"pose"`
	Events   []Event    `json:"events"`
	Peak     *Peak      `json:"peak,omitempty"`
}

// ErrInput reports a track Analyze cannot read: frames out of time order,
// times or probabilities that are not numbers.
var ErrInput = errors.New("bad track")

// checkTrack reports every frame whose time is not a number or not after
// the previous frame's, and every probability outside 0..1.
func checkTrack(tr *Track) error {
	var errs []error
	for i, f := range tr.Frames {
		switch {
		case math.IsNaN(f.T) || math.IsInf(f.T, 0):
			errs = append(errs, fmt.Errorf("frame %d: time %v is not a number", i, f.T))
		case i > 0 && !(f.T > tr.Frames[i-1].T):
			errs = append(errs, fmt.Errorf("frame %d: time %g s is not after frame %d's %g s", i, f.T, i-1, tr.Frames[i-1].T))
		}
		for _, k := range sortedKeys(f.Expr) {
			if v := f.Expr[k]; !(v >= 0 && v <= 1) {
				errs = append(errs, fmt.Errorf("frame %d (%g s): %s probability %v is not in 0..1", i, f.T, k, v))
			}
		}
		if len(errs) >= 20 {
			errs = append(errs, errors.New("more problems not listed"))
			break
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("track %d: %w: %w", tr.ID, ErrInput, errors.Join(errs...))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fitsBox reports whether landmarks p sit in the face box b: both eye
// centres inside it (widened by a tenth each side) and the eye distance at
// least a tenth of its width.
func fitsBox(p *Points, b *Box) bool {
	l, r := p.eyeCentres()
	in := func(v vec) bool {
		mx, my := b.W/10, b.H/10
		return v.x >= b.X-mx && v.x <= b.X+b.W+mx && v.y >= b.Y-my && v.y <= b.Y+b.H+my
	}
	return in(l) && in(r) && dist(l, r) >= b.W/10
}

// frameData is what Analyze keeps of one measured frame.
type frameData struct {
	frame int // index into the track
	m     Measures
}

// Analyze measures the facial actions and head movements of one face
// track. It is a pure function of its arguments.
func Analyze(tr Track, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("actions: options: %w", err)
	}
	if err := checkTrack(&tr); err != nil {
		return nil, err
	}
	res := &Result{Track: tr.ID, Frames: len(tr.Frames), Measures: []Measures{}, Pose: []Pose{}, Events: []Event{}}
	var data []frameData
	for i := range tr.Frames {
		f := &tr.Frames[i]
		if err := f.Points.check(); err != nil {
			res.Skipped = append(res.Skipped, Skip{f.T, err.Error()})
			continue
		}
		if f.Box != nil && !fitsBox(&f.Points, f.Box) {
			res.Skipped = append(res.Skipped, Skip{f.T, "the landmarks do not fit the face box"})
			continue
		}
		var yaw, pitch float64
		if wf, err := fitWeak(&f.Points, opts.Model); err == nil {
			y, p, r := angles(&wf.R)
			res.Pose = append(res.Pose, Pose{T: f.T, Yaw: y, Pitch: p, Roll: r})
			yaw, pitch = y, p
		}
		m, err := measure(f.T, &f.Points, yaw, pitch)
		if err != nil {
			res.Skipped = append(res.Skipped, Skip{f.T, err.Error()})
			continue
		}
		data = append(data, frameData{frame: i, m: m})
		res.Measures = append(res.Measures, m)
	}
	step := frameStep(&tr)
	maxGap := math.Max(opts.MaxGap, 1.5*step)
	headBase := medianPose(res.Pose)
	res.Events = append(res.Events, headEvents(res.Pose, headBase, &opts, step, maxGap, tr.ID)...)
	if len(data) > 0 {
		b := baseline(&tr, data, &opts)
		b.Pose = headBase
		res.Baseline = b
		res.Events = append(res.Events, faceEvents(data, b, &opts, step, maxGap, tr.ID)...)
		res.Peak = peak(&tr, data, b, &opts)
	}
	sortEvents(res.Events)
	return res, nil
}

// frameStep is the median interval between consecutive frames, 0 for a
// single frame.
func frameStep(tr *Track) float64 {
	if len(tr.Frames) < 2 {
		return 0
	}
	d := make([]float64, len(tr.Frames)-1)
	for i := range d {
		d[i] = tr.Frames[i+1].T - tr.Frames[i].T
	}
	return median(d)
}

// median returns the median of v (the mean of the middle two for an even
// count); v is reordered.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func medianPose(ps []Pose) Pose {
	if len(ps) == 0 {
		return Pose{}
	}
	ys, pt, rs := make([]float64, len(ps)), make([]float64, len(ps)), make([]float64, len(ps))
	for i, p := range ps {
		ys[i], pt[i], rs[i] = p.Yaw, p.Pitch, p.Roll
	}
	return Pose{Yaw: median(ys), Pitch: median(pt), Roll: median(rs)}
}

// medianMeasures is the per-measure median of the frames at idx.
func medianMeasures(data []frameData, idx []int) Measures {
	col := func(get func(*Measures) float64) float64 {
		v := make([]float64, len(idx))
		for k, i := range idx {
			v[k] = get(&data[i].m)
		}
		return median(v)
	}
	return Measures{
		InnerBrow:   col(func(m *Measures) float64 { return m.InnerBrow }),
		OuterBrow:   col(func(m *Measures) float64 { return m.OuterBrow }),
		BrowGap:     col(func(m *Measures) float64 { return m.BrowGap }),
		EyeAspect:   col(func(m *Measures) float64 { return m.EyeAspect }),
		MouthWidth:  col(func(m *Measures) float64 { return m.MouthWidth }),
		CornerLift:  col(func(m *Measures) float64 { return m.CornerLift }),
		MouthAspect: col(func(m *Measures) float64 { return m.MouthAspect }),
		Jaw:         col(func(m *Measures) float64 { return m.Jaw }),
		LipHeight:   col(func(m *Measures) float64 { return m.LipHeight }),
	}
}

// changeActions are the actions whose deviations make up a frame's
// expression change (for the baseline choice and the peak): every face
// action but closure, which blinks dominate without being expressions.
var changeActions = []Action{BrowRaise, BrowLower, EyeWiden, Smile, LipCornerDepress, MouthOpen, JawDrop, LipPress}

// change is the expression change of m against ref: the sum of the
// actions' deviations beyond the reference, each over its entry threshold.
// With abs, deviations count either way (for the baseline choice).
func change(m, ref *Measures, opts *Options, abs bool) float64 {
	var s float64
	for _, a := range changeActions {
		d := faceDeviations[a](m, ref)
		if math.IsNaN(d) {
			continue
		}
		if abs {
			d = math.Abs(d)
		}
		s += math.Max(0, d) / opts.Face[a].Enter
	}
	return s
}

// baseline chooses the neutral frames and takes their median.
func baseline(tr *Track, data []frameData, opts *Options) *Baseline {
	n := len(data)
	k := max(opts.BaselineMin, int(math.Ceil(opts.BaselineShare*float64(n))))
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	b := &Baseline{}
	withNeutral := 0
	for _, d := range data {
		if _, ok := tr.Frames[d.frame].Expr["neutral"]; ok {
			withNeutral++
		}
	}
	switch {
	case n <= k:
		b.Rule = "all_frames"
		k = n
	case 2*withNeutral >= n:
		b.Rule = "most_neutral"
		neutral := func(i int) float64 {
			if v, ok := tr.Frames[data[i].frame].Expr["neutral"]; ok {
				return v
			}
			return -1
		}
		slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(neutral(j), neutral(i)) })
	default:
		b.Rule = "least_change"
		all := medianMeasures(data, order)
		score := make([]float64, n)
		for i := range data {
			score[i] = change(&data[i].m, &all, opts, true)
		}
		slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(score[i], score[j]) })
	}
	pick := slices.Clone(order[:k])
	slices.Sort(pick)
	b.Measures = medianMeasures(data, pick)
	var withExpr int
	sum := map[string]float64{}
	for _, i := range pick {
		b.Frames = append(b.Frames, data[i].m.T)
		if e := tr.Frames[data[i].frame].Expr; len(e) > 0 {
			withExpr++
			for c, v := range e {
				sum[c] += v
			}
		}
	}
	if withExpr > 0 {
		b.Expressions = map[string]float64{}
		for c, v := range sum {
			b.Expressions[c] = v / float64(withExpr)
		}
	}
	return b
}
