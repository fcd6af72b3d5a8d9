package face

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"emer/internal/models"
)

// SSD settings of face-api's SsdMobilenetv1.
const (
	// SSDInputSize is the side of the detector's square input.
	SSDInputSize = 512
	// DefaultMinConfidence is face-api's default minConfidence: boxes
	// scoring above it are kept.
	DefaultMinConfidence = 0.5
	// ssdMaxResults is face-api's default maxResults.
	ssdMaxResults = 100
	// ssdIoU is the overlap above which NMS drops the weaker box.
	ssdIoU = 0.5
	// ssdBoxes is the number of anchor boxes of the 512×512 network.
	ssdBoxes = 5118
	// bnEpsilon is the variance epsilon of the batch normalisations.
	bnEpsilon = 0.0010000000474974513
)

// SSD is face-api's SsdMobilenetv1 face detector: MobileNet v1 (a 3×3
// convolution and 13 depthwise-separable pairs, batch norm and ReLU6) over
// a 512×512 input, eight more convolutions, and box predictors on six
// feature maps (32², 16², 8², 4², 2², 1²) giving 5118 anchor boxes, each a
// box encoding and a face score.
type SSD struct {
	conv0 *conv
	pairs [13]ssdPair
	extra [8]*conv // the prediction layer's conv_0..conv_7
	// box predictors 0..5: the box encodings (4 per anchor) and class
	// logits (3 per anchor, background first) of each map's anchors.
	boxEnc, class [6]*conv
	anchors       []float32 // 5118 × [ymin, xmin, ymax, xmax], relative
}

// ssdPair is one of MobileNet v1's depthwise-separable pairs: a 3×3
// depthwise convolution, batch norm (folded into the filter and a bias)
// and ReLU6, then a 1×1 convolution with bias and ReLU6.
type ssdPair struct {
	c, cout, stride int
	dw              []float32 // 3×3×c, scaled by the batch norm
	dwBias          []float32 // c
	pw              *matB     // c×cout
	pwBias          []float32
}

// LoadSSD loads the installed SsdMobilenetv1 from the model directory dir
// (see package models).
func LoadSSD(dir string) (*SSD, error) {
	man, err := models.ReadFile(dir, models.SSDMobilenetManifest)
	if err != nil {
		return nil, err
	}
	bin, err := models.ReadFile(dir, models.SSDMobilenetWeights)
	if err != nil {
		return nil, err
	}
	return NewSSD(man, bin)
}

// NewSSD builds SsdMobilenetv1 from a TF.js weights manifest and its
// binary.
func NewSSD(manifest, bin []byte) (*SSD, error) {
	manifest, err := int32AsFloat(manifest)
	if err != nil {
		return nil, err
	}
	w, err := LoadWeights(manifest, bin)
	if err != nil {
		return nil, err
	}
	s := &SSD{}
	if s.conv0, err = loadConv(w, "MobilenetV1/Conv2d_0_pointwise/weights", "MobilenetV1/Conv2d_0_pointwise/convolution_bn_offset", 3, 3, 32, 2, true); err != nil {
		return nil, err
	}
	chans := [14]int{32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024}
	for i := range s.pairs {
		stride := 1
		if l := i + 1; l == 2 || l == 4 || l == 6 || l == 12 {
			stride = 2
		}
		if err := s.pairs[i].load(w, i+1, chans[i], chans[i+1], stride); err != nil {
			return nil, err
		}
	}
	extra := [8]struct{ k, cin, cout, stride int }{
		{1, 1024, 256, 1}, {3, 256, 512, 2}, {1, 512, 128, 1}, {3, 128, 256, 2},
		{1, 256, 128, 1}, {3, 128, 256, 2}, {1, 256, 64, 1}, {3, 64, 128, 2},
	}
	for i, e := range extra {
		pre := fmt.Sprintf("Prediction/Conv2d_%d_pointwise/", i)
		// A 1×1 convolution of stride 1 is the same with or without
		// padding, and the unpadded one needs no im2col.
		if s.extra[i], err = loadConv(w, pre+"weights", pre+"convolution_bn_offset", e.k, e.cin, e.cout, e.stride, e.k != 1); err != nil {
			return nil, err
		}
	}
	// Feature maps the box predictors read, with their anchors per cell.
	pred := [6]struct{ cin, anchors int }{{512, 3}, {1024, 6}, {512, 6}, {256, 6}, {256, 6}, {128, 6}}
	for i, p := range pred {
		pre := fmt.Sprintf("Prediction/BoxPredictor_%d/", i)
		if s.boxEnc[i], err = loadConv(w, pre+"BoxEncodingPredictor/weights", pre+"BoxEncodingPredictor/biases", 1, p.cin, 4*p.anchors, 1, false); err != nil {
			return nil, err
		}
		if s.class[i], err = loadConv(w, pre+"ClassPredictor/weights", pre+"ClassPredictor/biases", 1, p.cin, 3*p.anchors, 1, false); err != nil {
			return nil, err
		}
	}
	if s.anchors, err = take(w, "Output/extra_dim", 1, ssdBoxes, 4); err != nil {
		return nil, err
	}
	return s, nil
}

// int32AsFloat rewrites the dtype of quantized int32 tensors in a TF.js
// manifest to float32. The SSD manifest holds a few such tensors, constants
// of the TensorFlow graph (slice bounds, axes) that the network does not
// use; stored quantized, they take one byte a value whatever their dtype,
// so reading them as floats keeps the offsets of the tensors after them.
func int32AsFloat(manifest []byte) ([]byte, error) {
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("weights manifest: %w", err)
	}
	for g := range m {
		for i := range m[g].Weights {
			if w := &m[g].Weights[i]; w.DType == "int32" && w.Quantization != nil {
				w.DType = "float32"
			}
		}
	}
	return json.Marshal(m)
}

func (p *ssdPair) load(w map[string]*Tensor, idx, cin, cout, stride int) error {
	pre := fmt.Sprintf("MobilenetV1/Conv2d_%d_depthwise/", idx)
	f, err := take(w, pre+"depthwise_weights", 3, 3, cin, 1)
	if err != nil {
		return err
	}
	var bn [4][]float32
	for i, name := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
		if bn[i], err = take(w, pre+"BatchNorm/"+name, cin); err != nil {
			return err
		}
	}
	// TF.js computes offset + (x - mean)·scale/√(variance + ε); with the
	// factor k = scale/√(variance + ε) in the filter that is x·k + bias.
	p.c, p.cout, p.stride = cin, cout, stride
	p.dw = make([]float32, len(f))
	p.dwBias = make([]float32, cin)
	for c := 0; c < cin; c++ {
		k := float64(bn[0][c]) / math.Sqrt(float64(bn[3][c])+bnEpsilon)
		for tap := 0; tap < 9; tap++ {
			p.dw[tap*cin+c] = float32(float64(f[tap*cin+c]) * k)
		}
		p.dwBias[c] = float32(float64(bn[1][c]) - float64(bn[2][c])*k)
	}
	pw := fmt.Sprintf("MobilenetV1/Conv2d_%d_pointwise/", idx)
	pwf, err := take(w, pw+"weights", 1, 1, cin, cout)
	if err != nil {
		return err
	}
	if p.pwBias, err = take(w, pw+"convolution_bn_offset", cout); err != nil {
		return err
	}
	p.pw = newMatB(cin, cout, pwf)
	return nil
}

// forward runs the pair strip by strip, so that the depthwise result is
// used while it is in cache.
func (p *ssdPair) forward(x fmap) fmap {
	oh, _ := padding(x.h, 3, p.stride, true)
	ow, _ := padding(x.w, 3, p.stride, true)
	rows := max(1, min(oh, sepStripValues/(ow*max(p.c, p.cout))))
	y := newFmap(x.n, oh, ow, p.cout)
	d := getBuf(rows * ow * p.c)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy0 := 0; oy0 < oh; oy0 += rows {
			r := min(rows, oh-oy0)
			dw := d[:r*ow*p.c]
			depthwiseRows(dw, in, x.h, x.w, p.c, p.dw, p.stride, oy0, r)
			biasReLU6(dw, p.dwBias)
			strip := out[oy0*ow*p.cout : (oy0+r)*ow*p.cout]
			gemmBias(r*ow, dw, p.c, p.pw, p.pwBias, strip, p.cout)
			relu6(strip)
		}
	}
	putBuf(d)
	return y
}

// relu6Go clips x to [0, 6] in place.
func relu6Go(x []float32) {
	for i, v := range x {
		x[i] = min(max(v, 0), 6)
	}
}

// biasReLU6Go adds bias, one value per channel, to each whole pixel of x
// and clips the result to [0, 6].
func biasReLU6Go(x, bias []float32) {
	c := len(bias)
	for p := 0; p+c <= len(x); p += c {
		px := x[p : p+c : p+c]
		for j, b := range bias {
			px[j] = min(max(px[j]+b, 0), 6)
		}
	}
}

// convReLU6 is a convolution with bias followed by ReLU6, face-api's
// pointwiseConvLayer.
func convReLU6(cv *conv, x fmap) fmap {
	y := cv.forward(x, actNone)
	relu6(y.d)
	return y
}

// SSDOutput is the decoded output of the network for one input: for each
// of its 5118 anchors, a box [ymin, xmin, ymax, xmax] relative to the
// 512×512 input, and a face score.
type SSDOutput struct {
	Boxes  [][4]float32
	Scores []float32
}

// Forward runs the network on a 512×512×3 image, RGB values in [0, 255]
// already padded and resized (see DetectorInput), scaling them to [-1, 1]
// itself as face-api does, and decodes the box predictions against the
// anchors (face-api's outputLayer).
func (s *SSD) Forward(input []float32) (*SSDOutput, error) {
	const size = SSDInputSize
	if len(input) != size*size*3 {
		return nil, fmt.Errorf("SSD input has %d values, want %d", len(input), size*size*3)
	}
	x := newFmap(1, size, size, 3)
	for i, v := range input {
		x.d[i] = v/127.5 - 1
	}
	y := convReLU6(s.conv0, x)
	x.release()
	x = y
	var conv11 fmap
	for i := range s.pairs {
		y := s.pairs[i].forward(x)
		if i == 10 {
			conv11 = y // the output of pair 11 feeds box predictor 0 too
		}
		if i != 11 {
			x.release()
		}
		x = y
	}
	// The maps the box predictors read: conv11, the last MobileNet map and
	// the outputs of extra convolutions 1, 3, 5 and 7; the outputs of 0,
	// 2, 4 and 6 are only the next one's input.
	maps := [6]fmap{conv11, x}
	cur := x
	for i, cv := range s.extra {
		y := convReLU6(cv, cur)
		if i%2 == 1 {
			cur.release()
			maps[2+i/2] = y
		}
		cur = y
	}
	out := &SSDOutput{Boxes: make([][4]float32, 0, ssdBoxes), Scores: make([]float32, 0, ssdBoxes)}
	var enc []float32
	for i, m := range maps {
		e := s.boxEnc[i].forward(m, actNone)
		c := s.class[i].forward(m, actNone)
		enc = append(enc, e.d...)
		for j := 1; j < len(c.d); j += 3 {
			out.Scores = append(out.Scores, float32(1/(1+math.Exp(-float64(c.d[j])))))
		}
		e.release()
		c.release()
	}
	for _, m := range maps {
		m.release()
	}
	if len(out.Scores) != ssdBoxes || len(enc) != 4*ssdBoxes {
		return nil, fmt.Errorf("SSD gives %d boxes, its anchors are %d", len(out.Scores), ssdBoxes)
	}
	for i := 0; i < ssdBoxes; i++ {
		out.Boxes = append(out.Boxes, decodeSSDBox(s.anchors[4*i:4*i+4], enc[4*i:4*i+4]))
	}
	return out, nil
}

// decodeSSDBox decodes one box encoding e against its anchor a, both in
// TensorFlow's [y, x, y, x] order, in float32 step by step as TF.js does:
// centre offsets are tenths of the anchor's size, log sizes fifths.
func decodeSSDBox(a, e []float32) [4]float32 {
	sy, sx := a[2]-a[0], a[3]-a[1]
	cy, cx := a[0]+sy/2, a[1]+sx/2
	hy := float32(math.Exp(float64(e[2]/5))) * sy / 2
	hx := float32(math.Exp(float64(e[3]/5))) * sx / 2
	y := e[0]/10*sy + cy
	x := e[1]/10*sx + cx
	return [4]float32{y - hy, x - hx, y + hy, x + hx}
}

// Detect finds the faces in img, strongest first: the image is padded at
// the bottom or right to a square and resized to 512×512, and the boxes
// scoring above minConfidence (0 means DefaultMinConfidence) go through
// non-maximum suppression at IoU 0.5, keeping at most 100, as face-api's
// locateFaces does.
func (s *SSD) Detect(img *RGB, minConfidence float64) ([]Detection, error) {
	if minConfidence == 0 {
		minConfidence = DefaultMinConfidence
	}
	if minConfidence <= 0 || minConfidence >= 1 {
		return nil, fmt.Errorf("minimum confidence %g must be between 0 and 1", minConfidence)
	}
	if img.W <= 0 || img.H <= 0 || len(img.Pix) != img.W*img.H*3 {
		return nil, fmt.Errorf("image of %dx%d with %d bytes is not RGB", img.W, img.H, len(img.Pix))
	}
	out, err := s.Forward(DetectorInput(img, SSDInputSize))
	if err != nil {
		return nil, err
	}
	return ssdDetections(out, img.W, img.H, minConfidence), nil
}

// zoomOut is how much smaller DetectZoomedOut shows the image to SSD.
const zoomOut = 2

// DetectZoomedOut is Detect on img shown at half the size: scaled so that
// its longer side is 256 pixels, centred, with black around it, in the
// 512×512 input. A face that fills the frame is then the size of the
// faces SSD was trained to find, which it often misses at full size.
// Boxes are in img's pixels, clipped to the image.
func (s *SSD) DetectZoomedOut(img *RGB, minConfidence float64) ([]Detection, error) {
	if minConfidence == 0 {
		minConfidence = DefaultMinConfidence
	}
	if minConfidence <= 0 || minConfidence >= 1 {
		return nil, fmt.Errorf("minimum confidence %g must be between 0 and 1", minConfidence)
	}
	if img.W <= 0 || img.H <= 0 || len(img.Pix) != img.W*img.H*3 {
		return nil, fmt.Errorf("image of %dx%d with %d bytes is not RGB", img.W, img.H, len(img.Pix))
	}
	const size, inner = SSDInputSize, SSDInputSize / zoomOut
	const at = (size - inner) / 2
	sq := squareResize(img, region{0, 0, img.W, img.H}, inner, true)
	in := make([]float32, size*size*3)
	for y := 0; y < inner; y++ {
		copy(in[((at+y)*size+at)*3:], sq[y*inner*3:(y+1)*inner*3])
	}
	out, err := s.Forward(in)
	if err != nil {
		return nil, err
	}
	// squareResize centres the image in its square, the odd pixel of
	// padding after it.
	side := max(img.W, img.H)
	pad := side - min(img.W, img.H)
	before := float64(pad - int(math.Floor(float64(pad)*0.5+0.5)))
	offX, offY := 0.0, 0.0
	if img.H > img.W {
		offX = before
	} else {
		offY = before
	}
	scale := float64(side) / inner
	toImage := func(v float32, off float64, limit int) float64 {
		p := (float64(v)*size-at)*scale - off
		return math.Min(math.Max(p, 0), float64(limit))
	}
	var dets []Detection
	for _, i := range ssdNMS(out.Boxes, out.Scores, ssdMaxResults, ssdIoU, minConfidence) {
		b := out.Boxes[i]
		top, bottom := toImage(b[0], offY, img.H), toImage(b[2], offY, img.H)
		left, right := toImage(b[1], offX, img.W), toImage(b[3], offX, img.W)
		if right <= left || bottom <= top {
			continue
		}
		dets = append(dets, Detection{Box: Box{X: left, Y: top, W: right - left, H: bottom - top}, Score: float64(out.Scores[i])})
	}
	return dets, nil
}

// ssdDetections selects and scales the boxes of out for a w×h image.
func ssdDetections(out *SSDOutput, w, h int, minConfidence float64) []Detection {
	keep := ssdNMS(out.Boxes, out.Scores, ssdMaxResults, ssdIoU, minConfidence)
	// The image filled round(w·scale) × round(h·scale) of the input; the
	// rest is padding, which the relative boxes are corrected for.
	scale := float64(SSDInputSize) / float64(max(w, h))
	padX := float64(SSDInputSize) / math.Round(float64(w)*scale)
	padY := float64(SSDInputSize) / math.Round(float64(h)*scale)
	var dets []Detection
	for _, i := range keep {
		b := out.Boxes[i]
		top, bottom := math.Max(0, float64(b[0]))*padY, math.Min(1, float64(b[2]))*padY
		left, right := math.Max(0, float64(b[1]))*padX, math.Min(1, float64(b[3]))*padX
		if right < left || bottom < top {
			continue // face-api refuses such a box (it throws)
		}
		dets = append(dets, Detection{
			Box:   Box{X: left * float64(w), Y: top * float64(h), W: (right - left) * float64(w), H: (bottom - top) * float64(h)},
			Score: float64(out.Scores[i]),
		})
	}
	return dets
}

// ssdNMS is face-api's nonMaxSuppression for the SSD: the boxes scoring
// above threshold, best first (ties in index order), each kept unless it
// overlaps a kept box by more than iou, up to maxOut boxes. It returns the
// indices kept, best first.
func ssdNMS(boxes [][4]float32, scores []float32, maxOut int, iou, threshold float64) []int {
	var cand []int
	for i, s := range scores {
		if float64(s) > threshold {
			cand = append(cand, i)
		}
	}
	slices.SortStableFunc(cand, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	maxOut = min(maxOut, len(boxes))
	var keep []int
	for _, c := range cand {
		if len(keep) >= maxOut {
			break
		}
		ok := true
		for j := len(keep) - 1; j >= 0; j-- {
			if ssdIoUOf(boxes[c], boxes[keep[j]]) > iou {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, c)
		}
	}
	return keep
}

// ssdIoUOf is the intersection over union of two [y, x, y, x] boxes whose
// corners may come in either order; 0 when either is empty.
func ssdIoUOf(a, b [4]float32) float64 {
	norm := func(v [4]float32) (y0, x0, y1, x1 float64) {
		return math.Min(float64(v[0]), float64(v[2])), math.Min(float64(v[1]), float64(v[3])),
			math.Max(float64(v[0]), float64(v[2])), math.Max(float64(v[1]), float64(v[3]))
	}
	ay0, ax0, ay1, ax1 := norm(a)
	by0, bx0, by1, bx1 := norm(b)
	areaA := (ay1 - ay0) * (ax1 - ax0)
	areaB := (by1 - by0) * (bx1 - bx0)
	if areaA <= 0 || areaB <= 0 {
		return 0
	}
	inter := math.Max(math.Min(ay1, by1)-math.Max(ay0, by0), 0) * math.Max(math.Min(ax1, bx1)-math.Max(ax0, bx0), 0)
	return inter / (areaA + areaB - inter)
}
