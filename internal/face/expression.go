package face

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"emer/internal/models"
)

// Expressions are the labels of FaceExpressionNet, in output order.
var Expressions = [7]string{"neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"}

// ExpressionInputSize is the side of FaceExpressionNet's square input.
const ExpressionInputSize = 112

// expressionMean is the mean RGB subtracted before dividing by 255.
var expressionMean = [3]float32{122.782, 117.001, 104.298}

// Probs holds one probability per expression, in the order of Expressions.
type Probs [7]float32

// Dominant returns the index and probability of the likeliest expression.
func (p Probs) Dominant() (int, float32) {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best, p[best]
}

// MarshalJSON writes the probabilities as an object keyed by expression
// name, in the order of Expressions.
func (p Probs) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, name := range Expressions {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, name)
		b = append(b, ':')
		b = strconv.AppendFloat(b, float64(p[i]), 'g', -1, 32)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads probabilities keyed by expression name; names not in
// Expressions are an error.
func (p *Probs) UnmarshalJSON(data []byte) error {
	var m map[string]float32
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*p = Probs{}
	for k, v := range m {
		i := slices.Index(Expressions[:], k)
		if i < 0 {
			return fmt.Errorf("unknown expression %q", k)
		}
		p[i] = v
	}
	return nil
}

// Map returns the probabilities keyed by expression name.
func (p Probs) Map() map[string]float64 {
	m := make(map[string]float64, len(p))
	for i, name := range Expressions {
		m[name] = float64(p[i])
	}
	return m
}

// ExpressionNet is face-api's FaceExpressionNet: four dense blocks of
// separable convolutions over a 112×112 face, average pooling, a fully
// connected layer and softmax.
type ExpressionNet struct {
	blocks [4]denseBlock
	fc     *matB // 256×7
	fcBias []float32
}

type denseBlock struct {
	first      *conv    // dense0: a plain stride-2 convolution
	firstSep   *sepConv // dense1..3: a stride-2 separable convolution
	c1, c2, c3 *sepConv
}

// LoadExpressionNet loads the installed FaceExpressionNet from the model
// directory dir (see package models).
func LoadExpressionNet(dir string) (*ExpressionNet, error) {
	man, err := models.ReadFile(dir, models.FaceExpressionManifest)
	if err != nil {
		return nil, err
	}
	bin, err := models.ReadFile(dir, models.FaceExpressionWeights)
	if err != nil {
		return nil, err
	}
	return NewExpressionNet(man, bin)
}

// NewExpressionNet builds FaceExpressionNet from a TF.js weights manifest
// and its binary.
func NewExpressionNet(manifest, bin []byte) (*ExpressionNet, error) {
	w, err := LoadWeights(manifest, bin)
	if err != nil {
		return nil, err
	}
	net := &ExpressionNet{}
	chans := [5]int{3, 32, 64, 128, 256}
	for b := 0; b < 4; b++ {
		cin, cout := chans[b], chans[b+1]
		pre := fmt.Sprintf("dense%d/", b)
		blk := &net.blocks[b]
		if b == 0 {
			blk.first, err = loadConv(w, pre+"conv0/filters", pre+"conv0/bias", 3, cin, cout, 2, true)
		} else {
			blk.firstSep, err = loadSep(w, pre+"conv0/", cin, cout, 2)
		}
		if err != nil {
			return nil, err
		}
		for i, dst := range []**sepConv{&blk.c1, &blk.c2, &blk.c3} {
			if *dst, err = loadSep(w, fmt.Sprintf("%sconv%d/", pre, i+1), cout, cout, 1); err != nil {
				return nil, err
			}
		}
	}
	fcw, err := take(w, "fc/weights", 256, 7)
	if err != nil {
		return nil, err
	}
	if net.fcBias, err = take(w, "fc/bias", 7); err != nil {
		return nil, err
	}
	net.fc = newMatB(256, 7, fcw)
	return net, nil
}

func loadConv(w map[string]*Tensor, filters, bias string, k, cin, cout, stride int, same bool) (*conv, error) {
	f, err := take(w, filters, k, k, cin, cout)
	if err != nil {
		return nil, err
	}
	b, err := take(w, bias, cout)
	if err != nil {
		return nil, err
	}
	return newConv(k, cin, cout, stride, same, f, b), nil
}

func loadSep(w map[string]*Tensor, prefix string, cin, cout, stride int) (*sepConv, error) {
	dw, err := take(w, prefix+"depthwise_filter", 3, 3, cin, 1)
	if err != nil {
		return nil, err
	}
	pw, err := take(w, prefix+"pointwise_filter", 1, 1, cin, cout)
	if err != nil {
		return nil, err
	}
	b, err := take(w, prefix+"bias", cout)
	if err != nil {
		return nil, err
	}
	return &sepConv{c: cin, cout: cout, stride: stride, dw: dw, pw: newMatB(cin, cout, pw), bias: b}, nil
}

func (blk *denseBlock) forward(x fmap) fmap {
	var out1 fmap
	if blk.first != nil {
		out1 = blk.first.forward(x, actReLU)
	} else {
		out1 = blk.firstSep.forward(x, actReLU)
	}
	out2 := blk.c1.forward(out1, actNone)
	tmp := newFmap(out1.n, out1.h, out1.w, out1.c)
	add(tmp.d, out1.d, out2.d, true) // in3 = relu(out1 + out2)
	out3 := blk.c2.forward(tmp, actNone)
	// in4 = relu(out1 + (out2 + out3)), reusing tmp.
	add(tmp.d, out2.d, out3.d, false)
	add(tmp.d, out1.d, tmp.d, true)
	out4 := blk.c3.forward(tmp, actNone)
	// relu(out1 + (out2 + (out3 + out4)))
	add(out3.d, out3.d, out4.d, false)
	add(out2.d, out2.d, out3.d, false)
	add(out1.d, out1.d, out2.d, true)
	for _, f := range []fmap{tmp, out2, out3, out4} {
		f.release()
	}
	return out1
}

// Infer runs the network on a batch of face crops, each 112×112×3 RGB
// values in [0, 255], row-major, already padded and resized (see
// ExpressionInput), and returns their expression probabilities. The mean
// RGB is subtracted and the result divided by 255 here, as face-api does.
func (net *ExpressionNet) Infer(inputs [][]float32) ([]Probs, error) {
	const s = ExpressionInputSize
	if len(inputs) == 0 {
		return nil, nil
	}
	x := newFmap(len(inputs), s, s, 3)
	for i, in := range inputs {
		if len(in) != s*s*3 {
			return nil, fmt.Errorf("expression input %d has %d values, want %d", i, len(in), s*s*3)
		}
		normalize(x.image(i), in, expressionMean)
	}
	for b := range net.blocks {
		y := net.blocks[b].forward(x)
		x.release()
		x = y
	}
	// 7×7 average pool, then the fully connected layer.
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
	x.release()
	logits := make([]float32, x.n*7)
	fillBias(logits, net.fcBias)
	gemm(x.n, pooled, x.c, net.fc, logits, 7)
	out := make([]Probs, x.n)
	for i := range out {
		softmax(logits[i*7:(i+1)*7], out[i][:])
	}
	return out, nil
}

// normalize sets dst to (x - mean) / 255 per channel of packed RGB values.
// It multiplies by 1/255, which is several times cheaper than dividing and
// differs from it by at most one unit in the last place.
func normalize(dst, x []float32, mean [3]float32) {
	const inv = 1.0 / 255
	dst = dst[:len(x)]
	for i := 0; i+3 <= len(x); i += 3 {
		p, d := x[i:i+3:i+3], dst[i:i+3:i+3]
		d[0] = (p[0] - mean[0]) * inv
		d[1] = (p[1] - mean[1]) * inv
		d[2] = (p[2] - mean[2]) * inv
	}
}

func softmax(logits, out []float32) {
	m := logits[0]
	for _, v := range logits {
		m = max(m, v)
	}
	var sum float64
	for i, v := range logits {
		e := math.Exp(float64(v - m))
		out[i] = float32(e)
		sum += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / sum)
	}
}
