package face

import (
	"encoding/json"
	"fmt"
	"math"

	"emer/internal/models"
)

// DefaultInputSize and DefaultScoreThreshold are face-api's
// TinyFaceDetector defaults.
const (
	DefaultInputSize      = 416
	DefaultScoreThreshold = 0.5
	// nmsIoU is the overlap above which the weaker of two boxes is dropped.
	nmsIoU = 0.4
)

// detectorMean is the mean RGB subtracted before dividing by 255.
var detectorMean = [3]float32{117.001, 114.697, 97.404}

// anchors are TinyFaceDetector's box priors, in grid cells.
var anchors = [5][2]float64{{1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061}, {4.266906, 5.178857}, {9.041765, 10.66308}}

// Detector is face-api's TinyFaceDetector: a 3×3 convolution and five
// separable convolutions with leaky ReLU and max pooling, then a 1×1
// convolution giving 5 anchor boxes per cell of a size/32 grid.
type Detector struct {
	conv0 *conv
	seps  [5]*sepConv
	conv8 *conv
}

// LoadDetector loads the installed TinyFaceDetector from the model
// directory dir (see package models).
func LoadDetector(dir string) (*Detector, error) {
	man, err := models.ReadFile(dir, models.TinyFaceDetectorManifest)
	if err != nil {
		return nil, err
	}
	bin, err := models.ReadFile(dir, models.TinyFaceDetectorWeights)
	if err != nil {
		return nil, err
	}
	return NewDetector(man, bin)
}

// NewDetector builds TinyFaceDetector from a TF.js weights manifest and its
// binary.
func NewDetector(manifest, bin []byte) (*Detector, error) {
	w, err := LoadWeights(manifest, bin)
	if err != nil {
		return nil, err
	}
	d := &Detector{}
	if d.conv0, err = loadConv(w, "conv0/filters", "conv0/bias", 3, 3, 16, 1, false); err != nil {
		return nil, err
	}
	chans := [6]int{16, 32, 64, 128, 256, 512}
	for i := range d.seps {
		if d.seps[i], err = loadSep(w, fmt.Sprintf("conv%d/", i+1), chans[i], chans[i+1], 1); err != nil {
			return nil, err
		}
	}
	if d.conv8, err = loadConv(w, "conv8/filters", "conv8/bias", 1, 512, 25, 1, false); err != nil {
		return nil, err
	}
	return d, nil
}

// Forward runs the network on a size×size×3 image, RGB values in [0, 255]
// already padded and resized (see DetectorInput); it subtracts the mean RGB
// and divides by 255 itself, as face-api does. It returns the raw (size/32)×(size/32)×25 output:
// for each cell and anchor, tx, ty, tw, th and the confidence logit.
func (d *Detector) Forward(input []float32, size int) ([]float32, error) {
	if size <= 0 || size%32 != 0 {
		return nil, fmt.Errorf("detector input size %d is not a positive multiple of 32", size)
	}
	if len(input) != size*size*3 {
		return nil, fmt.Errorf("detector input has %d values, want %d", len(input), size*size*3)
	}
	x := newFmap(1, size, size, 3)
	normalize(x.d, input, detectorMean)
	next := func(y fmap) { x.release(); x = y }
	// Each convolution is followed by a 2×2 max pool, stride 2 but for the
	// last one; the stride-2 pools are applied as the rows are computed.
	next(d.conv0.forwardValidPool(x, actLeaky))
	for i, s := range d.seps {
		if i < 4 {
			next(s.forwardPool(x, actLeaky, true))
		} else {
			next(s.forward(x, actLeaky))
			next(maxPool2(x, 1))
		}
	}
	next(d.conv8.forward(x, actNone))
	return x.d, nil
}

// Box is a rectangle in pixels.
type Box struct {
	X, Y, W, H float64
}

// MarshalJSON writes the box as [x, y, w, h].
func (b Box) MarshalJSON() ([]byte, error) {
	return json.Marshal([4]float64{b.X, b.Y, b.W, b.H})
}

// UnmarshalJSON reads a box written as [x, y, w, h].
func (b *Box) UnmarshalJSON(data []byte) error {
	var v [4]float64
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("box: want [x, y, w, h]: %w", err)
	}
	*b = Box{X: v[0], Y: v[1], W: v[2], H: v[3]}
	return nil
}

// Right and Bottom return the far edges.
func (b Box) Right() float64  { return b.X + b.W }
func (b Box) Bottom() float64 { return b.Y + b.H }

// Area returns W·H.
func (b Box) Area() float64 { return b.W * b.H }

// IoU returns the intersection over union of two boxes.
func IoU(a, b Box) float64 {
	w := math.Max(0, math.Min(a.Right(), b.Right())-math.Max(a.X, b.X))
	h := math.Max(0, math.Min(a.Bottom(), b.Bottom())-math.Max(a.Y, b.Y))
	inter := w * h
	union := a.Area() + b.Area() - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// Detection is one face found in an image.
type Detection struct {
	Box   Box     `json:"box"`   // in image pixels
	Score float64 `json:"score"` // confidence in [0, 1]
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// decode turns the raw output for an image of width×height fed at
// inputSize into detections above threshold, strongest first, after
// non-maximum suppression, as face-api does.
func decode(raw []float32, inputSize, width, height int, threshold float64) []Detection {
	cells := inputSize / 32
	// face-api scales the image so its longer side is inputSize and pads
	// the rest at the bottom or right; boxes are corrected for that.
	scale := float64(inputSize) / float64(max(width, height))
	rw := math.Round(float64(width) * scale)
	rh := math.Round(float64(height) * scale)
	corrX := float64(inputSize) / rw
	corrY := float64(inputSize) / rh
	var cands []Detection
	for row := 0; row < cells; row++ {
		for col := 0; col < cells; col++ {
			for a := 0; a < len(anchors); a++ {
				v := raw[(row*cells+col)*25+a*5:]
				score := sigmoid(float64(v[4]))
				if score <= threshold {
					continue
				}
				cx := (float64(col) + sigmoid(float64(v[0]))) / float64(cells) * corrX
				cy := (float64(row) + sigmoid(float64(v[1]))) / float64(cells) * corrY
				bw := math.Exp(float64(v[2])) * anchors[a][0] / float64(cells) * corrX
				bh := math.Exp(float64(v[3])) * anchors[a][1] / float64(cells) * corrY
				cands = append(cands, Detection{
					Box:   Box{X: (cx - bw/2) * float64(width), Y: (cy - bh/2) * float64(height), W: bw * float64(width), H: bh * float64(height)},
					Score: score,
				})
			}
		}
	}
	return nms(cands, nmsIoU)
}

// nms keeps the strongest boxes, dropping any that overlaps a kept one by
// more than iou.
func nms(c []Detection, iou float64) []Detection {
	order := make([]int, len(c))
	for i := range order {
		order[i] = i
	}
	// Stable order by descending score.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && c[order[j]].Score > c[order[j-1]].Score; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	var keep []Detection
	dropped := make([]bool, len(c))
	for i, oi := range order {
		if dropped[i] {
			continue
		}
		keep = append(keep, c[oi])
		for j := i + 1; j < len(order); j++ {
			if !dropped[j] && IoU(c[oi].Box, c[order[j]].Box) > iou {
				dropped[j] = true
			}
		}
	}
	return keep
}
