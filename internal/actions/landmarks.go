package actions

import (
	"errors"
	"fmt"
	"math"
)

// NumPoints is the number of landmarks of a face in the iBUG 300-W layout.
const NumPoints = 68

// Landmark indices in the iBUG 300-W 68-point layout, 0-based, of the
// points the measures and the pose model name. "Left" and "right" are the
// image's: the image-left eye is the person's right eye.
const (
	chin = 8 // jaw 0..16

	browLeftInner  = 21 // image-left brow 17..21, outer to inner
	browRightInner = 22 // image-right brow 22..26, inner to outer

	noseBridgeTop = 27 // bridge 27..30, base 31..35
	noseTip       = 30

	eyeLeftOuter  = 36 // image-left eye 36..41: 39 inner corner, 37 38 upper lid, 40 41 lower
	eyeRightOuter = 45 // image-right eye 42..47: 42 inner corner, 43 44 upper lid, 46 47 lower

	mouthLeft, mouthRight = 48, 54 // outer lip corners; inner 60, 64
	upperLipTop           = 51     // outer upper lip, midline
	lowerLipBottom        = 57     // outer lower lip, midline
	upperLipInner         = 62     // inner upper lip, midline
	lowerLipInner         = 66     // inner lower lip, midline
)

// Points are a face's 68 landmarks [x, y] in image pixels (y down), in the
// iBUG 300-W layout: jaw 0-16, brows 17-21 and 22-26, nose 27-35, eyes
// 36-41 and 42-47, mouth 48-67.
type Points [NumPoints][2]float64

// vec is a 2D point or vector.
type vec struct{ x, y float64 }

func (p Points) at(i int) vec         { return vec{p[i][0], p[i][1]} }
func (a vec) sub(b vec) vec           { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec           { return vec{a.x + b.x, a.y + b.y} }
func (a vec) scale(k float64) vec     { return vec{a.x * k, a.y * k} }
func (a vec) norm() float64           { return math.Hypot(a.x, a.y) }
func dist(a, b vec) float64           { return a.sub(b).norm() }
func mid(a, b vec) vec                { return vec{(a.x + b.x) / 2, (a.y + b.y) / 2} }
func (a vec) rotate(c, s float64) vec { return vec{c*a.x - s*a.y, s*a.x + c*a.y} }
func (p Points) mean(idx ...int) vec  { return meanOf(p.at, idx) }
func meanOf(at func(int) vec, idx []int) vec {
	var m vec
	for _, i := range idx {
		m = m.add(at(i))
	}
	return m.scale(1 / float64(len(idx)))
}

var (
	leftEye  = []int{36, 37, 38, 39, 40, 41}
	rightEye = []int{42, 43, 44, 45, 46, 47}
)

// eyeCentres returns the centres of the image-left and image-right eyes:
// the means of their six points.
func (p Points) eyeCentres() (l, r vec) { return p.mean(leftEye...), p.mean(rightEye...) }

// ErrDegenerate reports landmarks that cannot be measured: points that are
// not finite, eyes on top of each other, or a pose fit with no solution.
var ErrDegenerate = errors.New("degenerate landmarks")

// check reports points that are not finite numbers and eye centres closer
// than a pixel.
func (p *Points) check() error {
	for i := range p {
		for _, v := range p[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("point %d is (%.6g, %.6g): %w", i, p[i][0], p[i][1], ErrDegenerate)
			}
		}
	}
	l, r := p.eyeCentres()
	if d := dist(l, r); d < 1 {
		return fmt.Errorf("eye centres %.2g px apart: %w", d, ErrDegenerate)
	}
	return nil
}
