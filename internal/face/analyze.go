package face

import "fmt"

// Options are the detection settings; the zero value means face-api's
// defaults.
type Options struct {
	InputSize      int     // side of the detector input, a multiple of 32 (default 416)
	ScoreThreshold float64 // keep boxes scoring above this (default 0.5)
}

func (o Options) withDefaults() Options {
	if o.InputSize == 0 {
		o.InputSize = DefaultInputSize
	}
	if o.ScoreThreshold == 0 {
		o.ScoreThreshold = DefaultScoreThreshold
	}
	return o
}

// Validate reports settings the detector cannot use.
func (o Options) Validate() error {
	o = o.withDefaults()
	if o.InputSize < 32 || o.InputSize%32 != 0 || o.InputSize > 4096 {
		return fmt.Errorf("input size %d must be a multiple of 32 between 32 and 4096", o.InputSize)
	}
	if o.ScoreThreshold <= 0 || o.ScoreThreshold >= 1 {
		return fmt.Errorf("score threshold %g must be between 0 and 1", o.ScoreThreshold)
	}
	return nil
}

// Detect finds the faces in img, strongest first.
func (d *Detector) Detect(img *RGB, opts Options) ([]Detection, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if img.W <= 0 || img.H <= 0 || len(img.Pix) != img.W*img.H*3 {
		return nil, fmt.Errorf("image of %dx%d with %d bytes is not RGB", img.W, img.H, len(img.Pix))
	}
	raw, err := d.Forward(DetectorInput(img, opts.InputSize), opts.InputSize)
	if err != nil {
		return nil, err
	}
	dets := decode(raw, opts.InputSize, img.W, img.H, opts.ScoreThreshold)
	putBuf(raw)
	return dets, nil
}

// Face is a detected face with its expression probabilities.
type Face struct {
	Box         Box     `json:"box"`
	Score       float64 `json:"score"`
	Expressions Probs   `json:"expressions"`
}

// Analyzer detects faces and reads their expressions.
type Analyzer struct {
	Detector    *Detector
	Expressions *ExpressionNet
	Options     Options
}

// Load loads both networks from the model directory dir (see package
// models). A missing model file is an error wrapping models.ErrNotInstalled,
// an altered one an error wrapping models.ErrCorrupt; both say to run
// `emer models install`.
func Load(dir string, opts Options) (*Analyzer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	det, err := LoadDetector(dir)
	if err != nil {
		return nil, err
	}
	expr, err := LoadExpressionNet(dir)
	if err != nil {
		return nil, err
	}
	return &Analyzer{Detector: det, Expressions: expr, Options: opts}, nil
}

// Faces detects the faces in img and classifies the expression of each.
// Faces are strongest first. The faces go through the expression network
// one at a time: a single face's feature maps stay in cache, which makes
// that faster per face than a batch.
func (a *Analyzer) Faces(img *RGB) ([]Face, error) {
	dets, err := a.Detector.Detect(img, a.Options)
	if err != nil {
		return nil, err
	}
	faces := make([]Face, 0, len(dets))
	for _, d := range dets {
		in, ok := ExpressionInput(img, d.Box)
		if !ok {
			continue
		}
		probs, err := a.Expressions.Infer([][]float32{in})
		if err != nil {
			return nil, err
		}
		faces = append(faces, Face{Box: d.Box, Score: d.Score, Expressions: probs[0]})
	}
	return faces, nil
}
