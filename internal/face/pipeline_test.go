package face

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"emer/internal/models"
)

// pipelineRef is shared/reference/face-api/pipelines.json: whole face-api
// pipelines run by TF.js on the jpeg-js decodings of the sample photos.
type pipelineRef struct {
	Runs []struct {
		Image         string    `json:"image"`
		Width         int       `json:"width"`
		Height        int       `json:"height"`
		TinyNet       []refFace `json:"tiny416_landmark68"`
		TinyTinyMarks []refFace `json:"tiny416_landmark68_tiny"`
		SSDNet        []refFace `json:"ssd_landmark68"`
	} `json:"runs"`
}

type refFace struct {
	Score       float64            `json:"score"`
	Box         Box                `json:"box"`
	Landmarks   []Point            `json:"landmarks"`
	Expressions map[string]float64 `json:"expressions"`
}

func readPipelineRef(t testing.TB) *pipelineRef {
	t.Helper()
	data, err := os.ReadFile(refPath(t, "pipelines.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref pipelineRef
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	return &ref
}

// analyzers returns analyzers for the three pipelines of pipelines.json.
func pipelineAnalyzers(t testing.TB) map[string]*Analyzer {
	t.Helper()
	det, expr := nets(t)
	full, tiny, ssd := moreNets(t)
	return map[string]*Analyzer{
		"tiny+net":  {Detector: det, Expressions: expr, Landmarks: full, Options: Options{Detector: DetectorTiny}},
		"tiny+tiny": {Detector: det, Expressions: expr, Landmarks: tiny, Options: Options{Detector: DetectorTiny}},
		"ssd+net":   {SSD: ssd, Expressions: expr, Landmarks: full, Options: Options{Detector: DetectorSSD}},
	}
}

// byPosition sorts faces by box x, then y, as the reference lists them.
func byPosition(faces []Face) {
	slices.SortStableFunc(faces, func(a, b Face) int {
		if a.Box.X != b.Box.X {
			if a.Box.X < b.Box.X {
				return -1
			}
			return 1
		}
		switch {
		case a.Box.Y < b.Box.Y:
			return -1
		case a.Box.Y > b.Box.Y:
			return 1
		}
		return 0
	})
}

// TestPipelinesMatchTFJS runs the whole pipelines (detector, landmarks on
// the detection, expressions on the box aligned on the landmarks) on the
// pixels TF.js saw and compares them with its results: the same faces,
// boxes within 1 px, scores within 1e-3, landmarks within 0.5 px,
// expression probabilities within 1e-3.
func TestPipelinesMatchTFJS(t *testing.T) {
	ref := readPipelineRef(t)
	ans := pipelineAnalyzers(t)
	if len(ref.Runs) != 2 {
		t.Fatalf("pipelines.json has %d runs, want 2 (sample2, sample6)", len(ref.Runs))
	}
	for _, run := range ref.Runs {
		png := run.Image[:len(run.Image)-len(".jpg")] + ".jpegjs.png"
		img, err := DecodeFile(mediaPath(t, png))
		if err != nil {
			t.Fatal(err)
		}
		if img.W != run.Width || img.H != run.Height {
			t.Fatalf("%s is %dx%d, the reference %dx%d", png, img.W, img.H, run.Width, run.Height)
		}
		for name, want := range map[string][]refFace{"tiny+net": run.TinyNet, "tiny+tiny": run.TinyTinyMarks, "ssd+net": run.SSDNet} {
			t.Run(png+"/"+name, func(t *testing.T) {
				got, err := ans[name].Faces(img)
				if err != nil {
					t.Fatal(err)
				}
				byPosition(got)
				if len(got) != len(want) {
					t.Fatalf("%d faces, TF.js %d", len(got), len(want))
				}
				var worst struct{ box, score, lm, expr float64 }
				for i, w := range want {
					g := got[i]
					face := fmt.Sprintf("face %d at %.0f,%.0f", i, w.Box.X, w.Box.Y)
					for k, d := range [4]float64{g.Box.X - w.Box.X, g.Box.Y - w.Box.Y, g.Box.W - w.Box.W, g.Box.H - w.Box.H} {
						worst.box = math.Max(worst.box, math.Abs(d))
						if math.Abs(d) > 1 {
							t.Errorf("%s: box %v, TF.js %v (coordinate %d off by %.2f px)", face, g.Box, w.Box, k, d)
							break
						}
					}
					d := math.Abs(g.Score - w.Score)
					worst.score = math.Max(worst.score, d)
					if d > 1e-3 {
						t.Errorf("%s: score %.5f, TF.js %.5f", face, g.Score, w.Score)
					}
					if g.Landmarks == nil || len(w.Landmarks) != NumLandmarks {
						t.Fatalf("%s: %d landmarks, TF.js %d", face, map[bool]int{true: 0, false: NumLandmarks}[g.Landmarks == nil], len(w.Landmarks))
					}
					for k, p := range w.Landmarks {
						q := g.Landmarks[k]
						d := math.Hypot(q.X-p.X, q.Y-p.Y)
						worst.lm = math.Max(worst.lm, d)
						if d > 0.5 {
							t.Errorf("%s: landmark %d at %.2f,%.2f, TF.js %.2f,%.2f", face, k, q.X, q.Y, p.X, p.Y)
						}
					}
					for k, e := range Expressions {
						p, ok := w.Expressions[e]
						if !ok {
							continue // the tiny landmark run has no expressions
						}
						d := math.Abs(float64(g.Expressions[k]) - p)
						worst.expr = math.Max(worst.expr, d)
						if d > 1e-3 {
							t.Errorf("%s: %s %.5f, TF.js %.5f", face, e, g.Expressions[k], p)
						}
					}
				}
				t.Logf("%d faces; largest differences from TF.js: box %.2g px, score %.2g, landmark %.2g px, expression %.2g",
					len(got), worst.box, worst.score, worst.lm, worst.expr)
			})
		}
	}
}

// closeups cuts, around each face both detectors find in the sample
// photos (a tiny detector box and an SSD box overlapping by IoU 0.3 or
// more), a square whose side is 1.25 times the tiny box's longer side (the
// photo's edges bound it), and scales it to 224×224: frames the face
// fills. It returns the frames and, for each, the two boxes of the face in
// the frame.
func closeups(t *testing.T, det *Detector, ssd *SSD) ([]*RGB, [][2]Box) {
	t.Helper()
	const size = 224
	var frames []*RGB
	var faces [][2]Box
	for i := 1; i <= 6; i++ {
		img, err := DecodeFile(mediaPath(t, fmt.Sprintf("sample%d.jpg", i)))
		if err != nil {
			t.Fatal(err)
		}
		tiny, err := det.Detect(img, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ssdDets, err := ssd.Detect(img, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range tiny {
			j := slices.IndexFunc(ssdDets, func(e Detection) bool { return IoU(d.Box, e.Box) >= 0.3 })
			if j < 0 {
				continue
			}
			side := math.Max(d.Box.W, d.Box.H) * 1.25
			cx, cy := d.Box.X+d.Box.W/2, d.Box.Y+d.Box.H/2
			x0, y0 := int(math.Max(0, cx-side/2)), int(math.Max(0, cy-side/2))
			s := min(int(side), img.W-x0, img.H-y0)
			px := squareResize(img, region{x0, y0, s, s}, size, true)
			f := &RGB{W: size, H: size, Pix: make([]byte, len(px))}
			for k, v := range px {
				f.Pix[k] = byte(math.Round(float64(v)))
			}
			k := float64(size) / float64(s)
			inFrame := func(b Box) Box {
				return Box{X: (b.X - float64(x0)) * k, Y: (b.Y - float64(y0)) * k, W: b.W * k, H: b.H * k}
			}
			frames = append(frames, f)
			faces = append(faces, [2]Box{inFrame(d.Box), inFrame(ssdDets[j].Box)})
		}
	}
	if len(frames) < 15 {
		t.Fatalf("%d faces found by both detectors in the sample photos, want at least 15", len(frames))
	}
	return frames, faces
}

// TestDetectorAutoCloseups checks that the auto detector finds the face
// in every frame a face fills, where the tiny detector misses most, and
// that what it finds is that face.
func TestDetectorAutoCloseups(t *testing.T) {
	det, expr := nets(t)
	_, _, ssd := moreNets(t)
	frames, faces := closeups(t, det, ssd)
	tiny := &Analyzer{Detector: det, Expressions: expr, Options: Options{Detector: DetectorTiny}}
	auto := &Analyzer{Detector: det, SSD: ssd, Expressions: expr, Options: Options{Detector: DetectorAuto}}
	tinyFound := 0
	for i, f := range frames {
		dets, err := tiny.detect(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) > 0 {
			tinyFound++
		}
		dets, err = auto.detect(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) == 0 {
			t.Errorf("frame %d: auto finds no face", i)
			continue
		}
		best := 0.0
		for _, d := range dets {
			best = max(best, IoU(d.Box, faces[i][0]), IoU(d.Box, faces[i][1]))
		}
		if best < 0.3 {
			t.Errorf("frame %d: auto finds %v, the face is at %v (best IoU %.2f)", i, dets, faces[i], best)
		}
	}
	t.Logf("the tiny detector finds the face in %d of %d close-ups", tinyFound, len(frames))
	if tinyFound >= len(frames) {
		t.Errorf("the tiny detector finds every close-up: the frames do not test the fallback")
	}
}

func TestDetectorOptions(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		err  string
	}{
		{Options{}, ""},
		{Options{Detector: DetectorSSD, Landmarks: LandmarksTiny}, ""},
		{Options{Detector: "yolo"}, `detector "yolo" is not one of tiny, ssd, auto`},
		{Options{Landmarks: "dlib"}, `landmark model "dlib" is not one of net, tiny, none`},
	} {
		t.Run(fmt.Sprintf("%q/%q", tt.opts.Detector, tt.opts.Landmarks), func(t *testing.T) {
			err := tt.opts.Validate()
			if (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
				t.Errorf("Validate: %v, want %q", err, tt.err)
			}
		})
	}
	img := &RGB{W: 8, H: 8, Pix: make([]byte, 8*8*3)}
	for _, tt := range []struct {
		name string
		a    *Analyzer
	}{
		{"tiny without the tiny detector", &Analyzer{Options: Options{Detector: DetectorTiny}}},
		{"ssd without SSD", &Analyzer{Options: Options{Detector: DetectorSSD}}},
		{"auto without detectors", &Analyzer{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.a.Faces(img); !errors.Is(err, errNoDetector) {
				t.Errorf("got %v, want errNoDetector", err)
			}
		})
	}
}

// TestLoadModels checks that Load loads the networks the options name and
// no others.
func TestLoadModels(t *testing.T) {
	moreNets(t) // skips when the files are not installed
	dir, err := models.Dir()
	if err != nil {
		t.Skip(err)
	}
	for _, tt := range []struct {
		opts                 Options
		tiny, ssd, landmarks bool
		model                LandmarkModel
	}{
		{Options{}, true, true, false, ""},
		{Options{Detector: DetectorTiny, Landmarks: LandmarksNone}, true, false, false, ""},
		{Options{Detector: DetectorSSD, Landmarks: LandmarksNet}, false, true, true, LandmarksNet},
		{Options{Detector: DetectorAuto, Landmarks: LandmarksTiny}, true, true, true, LandmarksTiny},
	} {
		t.Run(fmt.Sprintf("%q/%q", tt.opts.Detector, tt.opts.Landmarks), func(t *testing.T) {
			a, err := Load(dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if (a.Detector != nil) != tt.tiny || (a.SSD != nil) != tt.ssd || (a.Landmarks != nil) != tt.landmarks || a.Expressions == nil {
				t.Errorf("loaded tiny %v, ssd %v, landmarks %v, expressions %v", a.Detector != nil, a.SSD != nil, a.Landmarks != nil, a.Expressions != nil)
			}
			if a.Landmarks != nil && a.Landmarks.Model() != tt.model {
				t.Errorf("landmark model %q, want %q", a.Landmarks.Model(), tt.model)
			}
		})
	}
	if _, err := Load(t.TempDir(), Options{Detector: DetectorSSD}); !errors.Is(err, models.ErrNotInstalled) {
		t.Errorf("empty model directory: %v, want ErrNotInstalled", err)
	}
}
