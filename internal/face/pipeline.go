package face

import (
	"errors"
	"fmt"
)

// DetectorModel names the face detector an Analyzer runs.
type DetectorModel string

const (
	// DetectorTiny is face-api's TinyFaceDetector: fast, but it misses
	// faces that fill the frame.
	DetectorTiny DetectorModel = "tiny"
	// DetectorSSD is face-api's SsdMobilenetv1 at 512×512: several times
	// slower, and it finds close-ups and smaller faces the tiny detector
	// misses.
	DetectorSSD DetectorModel = "ssd"
	// DetectorAuto runs the tiny detector; on an image where it finds no
	// face, SSD; and where SSD finds none either, SSD again on the image
	// zoomed out (see SSD.DetectZoomedOut), which finds the faces that
	// fill the frame. On 224×224 close-ups cut from the sample photos
	// around the 19 faces both detectors find there (the tiny box's longer
	// side 80% of the frame), the tiny detector alone finds 8, tiny then
	// SSD 12, and the three steps all 19. On video, a Clip bounds the SSD
	// passes per clip (see ClipPolicy).
	DetectorAuto DetectorModel = "auto"
)

// validateModels reports a detector or landmark model o does not know.
func (o Options) validateModels() error {
	switch o.Detector {
	case "", DetectorTiny, DetectorSSD, DetectorAuto:
	default:
		return fmt.Errorf("detector %q is not one of tiny, ssd, auto", o.Detector)
	}
	switch o.Landmarks {
	case "", LandmarksNone, LandmarksNet, LandmarksTiny:
	default:
		return fmt.Errorf("landmark model %q is not one of net, tiny, none", o.Landmarks)
	}
	return nil
}

// loadModels loads into a the networks opts asks for besides the
// expression net: the detectors and the landmark net.
func (a *Analyzer) loadModels(dir string, opts Options) error {
	var err error
	det := opts.Detector
	if det == "" {
		det = DetectorAuto
	}
	if det == DetectorTiny || det == DetectorAuto {
		if a.Detector, err = LoadDetector(dir); err != nil {
			return err
		}
	}
	if det == DetectorSSD || det == DetectorAuto {
		if a.SSD, err = LoadSSD(dir); err != nil {
			return err
		}
	}
	if lm := opts.Landmarks; lm != "" && lm != LandmarksNone {
		if a.Landmarks, err = LoadLandmarkNet(dir, lm); err != nil {
			return err
		}
	}
	return nil
}

// errNoDetector reports an analyzer without the detector its options ask
// for.
var errNoDetector = errors.New("face: the analyzer has no detector loaded")

// detect finds the faces of img with the detector a.Options names. Auto
// runs the steps of DetectorAuto with the detectors a has.
func (a *Analyzer) detect(img *RGB) ([]Detection, error) {
	minConf := a.Options.withDefaults().ScoreThreshold
	switch a.Options.Detector {
	case DetectorTiny:
		if a.Detector == nil {
			return nil, fmt.Errorf("%w: tiny", errNoDetector)
		}
		return a.Detector.Detect(img, a.Options)
	case DetectorSSD:
		if a.SSD == nil {
			return nil, fmt.Errorf("%w: ssd", errNoDetector)
		}
		return a.SSD.Detect(img, minConf)
	}
	if a.Detector == nil && a.SSD == nil {
		return nil, fmt.Errorf("%w: auto needs tiny or ssd", errNoDetector)
	}
	if a.Detector != nil {
		dets, err := a.Detector.Detect(img, a.Options)
		if err != nil || len(dets) > 0 || a.SSD == nil {
			return dets, err
		}
	}
	dets, err := a.SSD.Detect(img, minConf)
	if err != nil || len(dets) > 0 {
		return dets, err
	}
	return a.SSD.DetectZoomedOut(img, minConf)
}

// analyzeFace reads the expression of detection d of img and, when a has
// a landmark net, its landmarks, as face-api's
// withFaceLandmarks().withFaceExpressions() does: the expression net then
// sees the face cut out at the box aligned on the landmarks rather than at
// the detection box. ok is false when the box lies outside the image.
func (a *Analyzer) analyzeFace(img *RGB, d Detection) (f Face, ok bool, err error) {
	f = Face{Box: d.Box, Score: d.Score}
	exprBox := d.Box
	if a.Landmarks != nil {
		lm, ok, err := a.Landmarks.Detect(img, d.Box)
		if err != nil || !ok {
			return f, false, err
		}
		f.Landmarks = &lm
		exprBox = lm.AlignedBox(img.W, img.H)
	}
	in, ok := ExpressionInput(img, exprBox)
	if !ok {
		return f, false, nil
	}
	probs, err := a.Expressions.Infer([][]float32{in})
	if err != nil {
		return f, false, err
	}
	f.Expressions = probs[0]
	return f, true, nil
}
