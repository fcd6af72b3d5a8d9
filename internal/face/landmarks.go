package face

import (
	"encoding/json"
	"fmt"
	"math"

	"emer/internal/models"
)

// LandmarkModel names one of face-api's two 68-point landmark networks.
type LandmarkModel string

const (
	// LandmarksNone computes no landmarks.
	LandmarksNone LandmarkModel = "none"
	// LandmarksNet is FaceLandmark68Net: the expression net's feature
	// extractor (four dense blocks of four convolutions), 357 KB.
	LandmarksNet LandmarkModel = "net"
	// LandmarksTiny is FaceLandmark68TinyNet: three dense blocks of three
	// convolutions, 77 KB, about a quarter of the work.
	LandmarksTiny LandmarkModel = "tiny"
)

// LandmarkInputSize is the side of the landmark nets' square input.
const LandmarkInputSize = 112

// NumLandmarks is the number of points of the landmark nets: the 68-point
// markup of iBUG 300-W (jaw 0-16, eyebrows 17-26, nose 27-35, eyes 36-47,
// mouth 48-67).
const NumLandmarks = 68

// Point is a position in image pixels.
type Point struct{ X, Y float64 }

// MarshalJSON writes the point as [x, y].
func (p Point) MarshalJSON() ([]byte, error) { return json.Marshal([2]float64{p.X, p.Y}) }

// UnmarshalJSON reads a point written as [x, y].
func (p *Point) UnmarshalJSON(data []byte) error {
	var v [2]float64
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("point: want [x, y]: %w", err)
	}
	*p = Point{v[0], v[1]}
	return nil
}

// Landmarks are the 68 points of one face, in image pixels.
type Landmarks [NumLandmarks]Point

// LandmarkNet is face-api's FaceLandmark68Net or FaceLandmark68TinyNet: a
// feature extractor of dense blocks over a 112×112 face, average pooling
// and a fully connected layer of 136 outputs, the x and y of each point
// relative to the input, with no softmax.
type LandmarkNet struct {
	model  LandmarkModel
	blocks []denseBlock
	fc     *matB // features×136
	fcBias []float32
}

// LoadLandmarkNet loads the installed landmark network model (LandmarksNet
// or LandmarksTiny) from the model directory dir (see package models).
func LoadLandmarkNet(dir string, model LandmarkModel) (*LandmarkNet, error) {
	manName, binName := models.FaceLandmarkManifest, models.FaceLandmarkWeights
	switch model {
	case LandmarksNet:
	case LandmarksTiny:
		manName, binName = models.FaceLandmarkTinyManifest, models.FaceLandmarkTinyWeights
	default:
		return nil, fmt.Errorf("landmark model %q is not one of net, tiny", model)
	}
	man, err := models.ReadFile(dir, manName)
	if err != nil {
		return nil, err
	}
	bin, err := models.ReadFile(dir, binName)
	if err != nil {
		return nil, err
	}
	return NewLandmarkNet(man, bin, model)
}

// NewLandmarkNet builds the landmark network model from a TF.js weights
// manifest and its binary.
func NewLandmarkNet(manifest, bin []byte, model LandmarkModel) (*LandmarkNet, error) {
	chans, convs := []int{3, 32, 64, 128, 256}, 4
	switch model {
	case LandmarksNet:
	case LandmarksTiny:
		chans, convs = []int{3, 32, 64, 128}, 3
	default:
		return nil, fmt.Errorf("landmark model %q is not one of net, tiny", model)
	}
	w, err := LoadWeights(manifest, bin)
	if err != nil {
		return nil, err
	}
	net := &LandmarkNet{model: model}
	if net.blocks, err = loadDenseBlocks(w, chans, convs); err != nil {
		return nil, err
	}
	feat := chans[len(chans)-1]
	fcw, err := take(w, "fc/weights", feat, 2*NumLandmarks)
	if err != nil {
		return nil, err
	}
	if net.fcBias, err = take(w, "fc/bias", 2*NumLandmarks); err != nil {
		return nil, err
	}
	net.fc = newMatB(feat, 2*NumLandmarks, fcw)
	return net, nil
}

// Model returns which of the two networks net is.
func (net *LandmarkNet) Model() LandmarkModel { return net.model }

// loadDenseBlocks loads the dense blocks dense0, dense1, ... of face-api's
// feature extractors: block b goes from chans[b] to chans[b+1] channels
// with convs convolutions, the first one of stride 2 (a plain convolution
// in dense0, a separable one after).
func loadDenseBlocks(w map[string]*Tensor, chans []int, convs int) ([]denseBlock, error) {
	blocks := make([]denseBlock, len(chans)-1)
	var err error
	for b := range blocks {
		cin, cout := chans[b], chans[b+1]
		pre := fmt.Sprintf("dense%d/", b)
		blk := &blocks[b]
		if b == 0 {
			blk.first, err = loadConv(w, pre+"conv0/filters", pre+"conv0/bias", 3, cin, cout, 2, true)
		} else {
			blk.firstSep, err = loadSep(w, pre+"conv0/", cin, cout, 2)
		}
		if err != nil {
			return nil, err
		}
		for i, dst := range []**sepConv{&blk.c1, &blk.c2, &blk.c3}[:convs-1] {
			if *dst, err = loadSep(w, fmt.Sprintf("%sconv%d/", pre, i+1), cout, cout, 1); err != nil {
				return nil, err
			}
		}
	}
	return blocks, nil
}

// forward3 runs a dense block of three convolutions (c3 is nil), as
// face-api's denseBlock3: out1 = relu(conv0(x)), out2 = conv1(out1),
// out3 = conv2(relu(out1 + out2)), and relu(out1 + (out2 + out3)).
func (blk *denseBlock) forward3(x fmap) fmap {
	var out1 fmap
	if blk.first != nil {
		out1 = blk.first.forward(x, actReLU)
	} else {
		out1 = blk.firstSep.forward(x, actReLU)
	}
	out2 := blk.c1.forward(out1, actNone)
	tmp := newFmap(out1.n, out1.h, out1.w, out1.c)
	add(tmp.d, out1.d, out2.d, true)
	out3 := blk.c2.forward(tmp, actNone)
	add(out2.d, out2.d, out3.d, false)
	add(out1.d, out1.d, out2.d, true)
	for _, f := range []fmap{tmp, out2, out3} {
		f.release()
	}
	return out1
}

// meanPool averages each image of x over its pixels, one value per
// channel: the average pool over the whole last map of the extractors.
func meanPool(x fmap) []float32 {
	pooled := make([]float32, x.n*x.c)
	for i := 0; i < x.n; i++ {
		img := x.image(i)
		p := pooled[i*x.c : (i+1)*x.c]
		for px := 0; px < x.h*x.w; px++ {
			addTo(p, img[px*x.c:])
		}
		inv := float32(x.h * x.w)
		for j := range p {
			p[j] /= inv
		}
	}
	return pooled
}

// Forward runs the network on a batch of face crops, each 112×112×3 RGB
// values in [0, 255], row-major, already padded and resized (see
// LandmarkInput), and returns the raw outputs: 68 interleaved x, y pairs
// relative to the 112×112 input. The mean RGB is subtracted and the
// result divided by 255 here, as face-api does.
func (net *LandmarkNet) Forward(inputs [][]float32) ([][2 * NumLandmarks]float32, error) {
	const s = LandmarkInputSize
	if len(inputs) == 0 {
		return nil, nil
	}
	x := newFmap(len(inputs), s, s, 3)
	for i, in := range inputs {
		if len(in) != s*s*3 {
			return nil, fmt.Errorf("landmark input %d has %d values, want %d", i, len(in), s*s*3)
		}
		normalize(x.image(i), in, expressionMean)
	}
	for b := range net.blocks {
		var y fmap
		if net.blocks[b].c3 != nil {
			y = net.blocks[b].forward(x)
		} else {
			y = net.blocks[b].forward3(x)
		}
		x.release()
		x = y
	}
	pooled := meanPool(x)
	x.release()
	const n = 2 * NumLandmarks
	out := make([][n]float32, x.n)
	logits := make([]float32, x.n*n)
	fillBias(logits, net.fcBias)
	gemm(x.n, pooled, x.c, net.fc, logits, n)
	for i := range out {
		copy(out[i][:], logits[i*n:])
	}
	return out, nil
}

// LandmarkInput crops box out of img, pads it centred to a square and
// resizes it to 112×112, as face-api feeds its landmark nets (the same
// input as FaceExpressionNet's). It returns the crop's size in whole
// pixels too, which placing the points needs; ok is false when the box
// lies outside the image.
func LandmarkInput(img *RGB, box Box) (in []float32, w, h int, ok bool) {
	r, ok := faceRegion(viaRelative(box, img.W, img.H), img.W, img.H)
	if !ok {
		return nil, 0, 0, false
	}
	return squareResize(img, r, LandmarkInputSize, true), r.w, r.h, true
}

// viaRelative returns b after face-api's trip through coordinates
// relative to a w×h image and back (x·(1/w)·w), which its boxes take
// before a face is cut out: the whole-pixel crop floors the result, so the
// last bit can matter.
func viaRelative(b Box, w, h int) Box {
	fw, fh := float64(w), float64(h)
	iw, ih := 1/fw, 1/fh
	return Box{X: b.X * iw * fw, Y: b.Y * ih * fh, W: b.W * iw * fw, H: b.H * ih * fh}
}

// placeLandmarks maps the raw output of a landmark net on the crop of a
// cw×ch region, whose corner is at (x0, y0) in the image, to image
// pixels: face-api's postProcess (undo the centred padding of the square
// input, in float32 as TF.js computes it), then scaling by the crop's size
// and shifting by the corner.
func placeLandmarks(raw *[2 * NumLandmarks]float32, cw, ch int, x0, y0 float64) Landmarks {
	const size = LandmarkInputSize
	scale := float64(size) / float64(max(cw, ch))
	iw, ih := float64(cw)*scale, float64(ch)*scale
	var padX, padY float32
	if iw < ih {
		padX = float32(math.Abs(iw-ih) / 2)
	} else if ih < iw {
		padY = float32(math.Abs(iw-ih) / 2)
	}
	fw, fh := float32(iw), float32(ih)
	var lm Landmarks
	for i := range lm {
		rx := (raw[2*i]*size - padX) / fw
		ry := (raw[2*i+1]*size - padY) / fh
		lm[i] = Point{X: float64(rx)*float64(cw) + x0, Y: float64(ry)*float64(ch) + y0}
	}
	return lm
}

// Detect finds the 68 landmarks of the face in box, in image pixels, the
// way face-api's withFaceLandmarks does: the box is cut out of img in
// whole pixels, padded centred to a square and resized, and the points are
// placed back in the crop and shifted by the box's corner. face-api shifts
// by the corner of the box as detected, not of the crop it cut (its
// floored, clipped corner); so does Detect, but for a box reaching past
// the left or top edge it shifts by the image edge, where the crop starts,
// instead of by the corner outside the image. ok is false when the box
// lies outside the image.
func (net *LandmarkNet) Detect(img *RGB, box Box) (lm Landmarks, ok bool, err error) {
	in, cw, ch, ok := LandmarkInput(img, box)
	if !ok {
		return lm, false, nil
	}
	raw, err := net.Forward([][]float32{in})
	if err != nil {
		return lm, false, err
	}
	return placeLandmarks(&raw[0], cw, ch, math.Max(box.X, 0), math.Max(box.Y, 0)), true, nil
}

// AlignedBox returns face-api's aligned face box for landmarks lm in a
// w×h image: the smallest box holding the points, widened by a fifth of
// its width and height around its centre. face-api crops the face there,
// not at the detection box, for the expression net once landmarks are
// known.
func (lm *Landmarks) AlignedBox(w, h int) Box {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := 0.0, 0.0 // face-api's minBbox starts its maxima at 0
	for _, p := range lm {
		minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
		maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
	}
	bw, bh := maxX-minX, maxY-minY
	padX, padY := bw*0.2, bh*0.2
	b := Box{X: minX - padX/2, Y: minY - padY/2, W: bw + padX, H: bh + padY}
	// The aligned box becomes a detection relative to the image, and is
	// cut out through relative coordinates again.
	return viaRelative(viaRelative(b, w, h), w, h)
}
