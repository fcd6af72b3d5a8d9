package actions

import (
	"fmt"
	"math"
)

// Measures are one frame's facial measures, in units of the distance
// between the eye centres (IOD), on landmarks turned so that the eye line is
// horizontal, with y up. Vertical quantities are corrected for the
// foreshortening of the head pose (see METHOD.md).
type Measures struct {
	T float64 `json:"t"`
	// InnerBrow is the height of the inner brow ends (21, 22) above the top
	// of the nose bridge (27), which lies about as deep in the face
	// (AU1, AU4).
	InnerBrow float64 `json:"inner_brow"`
	// OuterBrow is the height of the outer brows (17-18, 25-26) above the
	// outer eye corners (36, 45) (AU2).
	OuterBrow float64 `json:"outer_brow"`
	// BrowGap is the distance between the inner brow ends (AU4).
	BrowGap float64 `json:"brow_gap"`
	// EyeAspect is the eye aspect ratio, lid distance over eye width, the
	// mean of both eyes (AU5, AU43, AU45).
	EyeAspect float64 `json:"eye_aspect"`
	// MouthWidth is the distance between the lip corners (48, 54) (AU12,
	// AU20).
	MouthWidth float64 `json:"mouth_width"`
	// CornerLift is the height of the lip corners above the mouth centre,
	// the mean of the four midline lip points (AU12, AU15).
	CornerLift float64 `json:"corner_lift"`
	// MouthAspect is the gap between the inner lips over the mouth width
	// (AU25, AU27).
	MouthAspect float64 `json:"mouth_aspect"`
	// Jaw is the depth of the chin (8) below the eye line (AU26, AU27).
	Jaw float64 `json:"jaw"`
	// LipHeight is the red-lip height: upper plus lower lip thickness on the
	// midline (AU24).
	LipHeight float64 `json:"lip_height"`
}

// lipDepth is how far the middle of the lips lies in front of the lip
// corners, in eye distances: 1.049 cm against an eye distance of 7.101 cm
// in Martins and Batista's anthropometric face (P. Martins, J. Batista,
// "Accurate single view model-based head pose estimation", IEEE FG 2008:
// mouth corners at depth 5.048531, lower lip 6.097667, eye centres ±3.550681).
// It corrects the corner lift for head pitch.
const lipDepth = 1.049136 / 7.101362

// maxMeasuredAngle is the largest yaw or pitch, in degrees, at which a
// frame's facial measures are taken; beyond it the foreshortening
// correction grows past a factor of two and the landmarks of the far side
// are guesses.
const maxMeasuredAngle = 60

// normalized returns the landmarks translated to the midpoint of the eye
// centres, turned so that the eye line is horizontal, scaled to an eye
// distance of 1, with y up; and the eye line's angle in the image, in
// degrees (> 0 sloping down to the right).
func normalized(p *Points) (u [NumPoints]vec, rollDeg float64) {
	l, r := p.eyeCentres()
	d := r.sub(l)
	iod := d.norm()
	theta := math.Atan2(d.y, d.x)
	o := mid(l, r)
	c, s := math.Cos(-theta), math.Sin(-theta)
	for i := range p {
		q := p.at(i).sub(o).rotate(c, s).scale(1 / iod)
		u[i] = vec{q.x, -q.y}
	}
	return u, theta * 180 / math.Pi
}

// measure takes the measures of landmarks p whose head pose is yaw and
// pitch degrees (0, 0 when unknown).
func measure(t float64, p *Points, yaw, pitch float64) (Measures, error) {
	if math.Abs(yaw) > maxMeasuredAngle || math.Abs(pitch) > maxMeasuredAngle {
		return Measures{}, fmt.Errorf("head turned too far to measure (yaw %.0f°, pitch %.0f°, beyond %d°)", yaw, pitch, maxMeasuredAngle)
	}
	u, _ := normalized(p)
	const rad = math.Pi / 180
	cy, cp := math.Cos(yaw*rad), math.Cos(pitch*rad)
	// kv undoes the foreshortening of vertical lengths (by cos pitch) and of
	// the eye distance they are measured in (by cos yaw).
	kv := cy / cp
	m := Measures{T: t}
	m.InnerBrow = kv * ((u[browLeftInner].y - u[noseBridgeTop].y) + (u[browRightInner].y - u[noseBridgeTop].y)) / 2
	lo := mid(u[17], u[18]).y - u[eyeLeftOuter].y
	ro := mid(u[25], u[26]).y - u[eyeRightOuter].y
	m.OuterBrow = kv * (lo + ro) / 2
	m.BrowGap = u[browRightInner].x - u[browLeftInner].x
	ear := func(o int) float64 {
		return (dist(u[o+1], u[o+5]) + dist(u[o+2], u[o+4])) / (2 * dist(u[o], u[o+3]))
	}
	m.EyeAspect = kv * (ear(36) + ear(42)) / 2
	m.MouthWidth = dist(u[mouthLeft], u[mouthRight])
	if m.MouthWidth <= 0 {
		return Measures{}, fmt.Errorf("lip corners on top of each other: %w", ErrDegenerate)
	}
	centre := (u[upperLipTop].y + u[lowerLipBottom].y + u[upperLipInner].y + u[lowerLipInner].y) / 4
	m.CornerLift = kv*((u[mouthLeft].y+u[mouthRight].y)/2-centre) + lipDepth*math.Tan(pitch*rad)
	gap := (u[61].y - u[67].y + u[62].y - u[66].y + u[63].y - u[65].y) / 3
	m.MouthAspect = kv * gap / m.MouthWidth
	m.Jaw = -kv * u[chin].y
	m.LipHeight = kv * ((u[upperLipTop].y - u[upperLipInner].y) + (u[lowerLipInner].y - u[lowerLipBottom].y))
	return m, nil
}

// deviation is an action's strength in one frame against the baseline: 0
// at the baseline, positive in the action's direction, in the units the
// action's thresholds use.
type deviation func(m, base *Measures) float64

// rel is the relative change of v against a positive baseline b.
func rel(v, b float64) float64 {
	if !(b > 0) {
		return math.NaN()
	}
	return (v - b) / b
}

// faceDeviations are the face actions' deviations. Closure serves blink and
// eye_close.
var faceDeviations = map[Action]deviation{
	// The larger relative rise of the inner or outer brows.
	BrowRaise: func(m, b *Measures) float64 {
		return math.Max(rel(m.InnerBrow, b.InnerBrow), rel(m.OuterBrow, b.OuterBrow))
	},
	// The mean relative fall of inner brow height and inner brow gap.
	BrowLower: func(m, b *Measures) float64 {
		return -(rel(m.InnerBrow, b.InnerBrow) + rel(m.BrowGap, b.BrowGap)) / 2
	},
	EyeWiden: func(m, b *Measures) float64 { return rel(m.EyeAspect, b.EyeAspect) },
	EyeClose: func(m, b *Measures) float64 { return -rel(m.EyeAspect, b.EyeAspect) },
	// Corners up and out in units of the neutral mouth width: the rise plus
	// half the widening, counted only when the corners both rise and
	// spread (a jaw drop lifts them against the centre without widening, a
	// lip stretch widens without lifting).
	Smile: func(m, b *Measures) float64 {
		up, out := m.CornerLift-b.CornerLift, m.MouthWidth-b.MouthWidth
		if !(b.MouthWidth > 0) {
			return math.NaN()
		}
		if up <= 0 || out < smileMinSpread*b.MouthWidth {
			return math.Min(0, up) / b.MouthWidth
		}
		return (up + out/2) / b.MouthWidth
	},
	LipCornerDepress: func(m, b *Measures) float64 {
		if !(b.MouthWidth > 0) {
			return math.NaN()
		}
		return (b.CornerLift - m.CornerLift) / b.MouthWidth
	},
	// The rise of the mouth aspect ratio: lips closed at the baseline have
	// none, so the change is absolute.
	MouthOpen: func(m, b *Measures) float64 { return m.MouthAspect - b.MouthAspect },
	JawDrop:   func(m, b *Measures) float64 { return rel(m.Jaw, b.Jaw) },
	LipPress:  func(m, b *Measures) float64 { return -rel(m.LipHeight, b.LipHeight) },
}

// smileMinSpread is the least widening of the mouth, as a share of its
// neutral width, that a smile needs.
const smileMinSpread = 0.02
