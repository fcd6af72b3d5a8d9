package face

import "fmt"

// Options are the detection settings; the zero value means face-api's
// defaults.
type Options struct {
	InputSize      int           // side of the tiny detector's input, a multiple of 32 (default 416)
	ScoreThreshold float64       // keep boxes scoring above this, SSD's minConfidence too (default 0.5)
	Detector       DetectorModel // tiny, ssd or auto (default auto)
	Landmarks      LandmarkModel // net, tiny or none (default none)
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
	return o.validateModels()
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
	// Landmarks are the 68 points of the face, when the analyzer has a
	// landmark net.
	Landmarks *Landmarks `json:"landmarks,omitempty"`
}

// Analyzer detects faces, reads their expressions and, with a landmark
// net, finds their landmarks.
type Analyzer struct {
	Detector    *Detector // nil when Options.Detector is ssd
	SSD         *SSD      // nil when Options.Detector is tiny
	Expressions *ExpressionNet
	Landmarks   *LandmarkNet // nil for no landmarks
	Options     Options
}

// Load loads the networks opts asks for from the model directory dir (see
// package models). A missing model file is an error wrapping models.ErrNotInstalled,
// an altered one an error wrapping models.ErrCorrupt; both say to run
// `emer models install`.
func Load(dir string, opts Options) (*Analyzer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	a := &Analyzer{Options: opts}
	if err := a.loadModels(dir, opts); err != nil {
		return nil, err
	}
	expr, err := LoadExpressionNet(dir)
	if err != nil {
		return nil, err
	}
	a.Expressions = expr
	return a, nil
}

// Faces detects the faces in img and classifies the expression of each,
// after finding its landmarks when a has a landmark net. Faces are
// strongest first. The faces go through the networks one at a time: a
// single face's feature maps stay in cache, which makes that faster per
// face than a batch.
func (a *Analyzer) Faces(img *RGB) ([]Face, error) {
	dets, err := a.detect(img)
	if err != nil {
		return nil, err
	}
	return a.faces(img, dets)
}

// faces reads the faces of detections dets of img, in their order.
func (a *Analyzer) faces(img *RGB, dets []Detection) ([]Face, error) {
	faces := make([]Face, 0, len(dets))
	for _, d := range dets {
		f, ok, err := a.analyzeFace(img, d)
		if err != nil {
			return nil, err
		}
		if ok {
			faces = append(faces, f)
		}
	}
	return faces, nil
}
