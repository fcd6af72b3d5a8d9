package face

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/models"
)

var (
	moreOnce sync.Once
	netLm    *LandmarkNet
	netLmT   *LandmarkNet
	netSSD   *SSD
	moreErr  error
)

// moreNets loads the installed landmark nets and SSD detector, or skips
// when their model files are not installed.
func moreNets(t testing.TB) (full, tiny *LandmarkNet, ssd *SSD) {
	t.Helper()
	moreOnce.Do(func() {
		dir, err := models.Dir()
		if err != nil {
			moreErr = err
			return
		}
		if netLm, moreErr = LoadLandmarkNet(dir, LandmarksNet); moreErr != nil {
			return
		}
		if netLmT, moreErr = LoadLandmarkNet(dir, LandmarksTiny); moreErr != nil {
			return
		}
		netSSD, moreErr = LoadSSD(dir)
	})
	if moreErr != nil {
		t.Skipf("landmark and SSD model files are not installed (run `emer models install`): %v", moreErr)
	}
	return netLm, netLmT, netSSD
}

// landmarkRef is shared/reference/face-api/landmarks.json: TF.js's raw
// outputs of both landmark nets on the eleven crops.
type landmarkRef struct {
	Note  string `json:"note"`
	Crops []struct {
		Crop  string    `json:"crop"`
		Full  []float64 `json:"landmark68"`
		Tiny  []float64 `json:"landmark68_tiny"`
		input []float32 // the crop's pixels
	} `json:"crops"`
}

// readLandmarkRef reads landmarks.json and turns each crop*.f32 (the
// expression net's preprocessed input, (pixel - mean) / 255) back into the
// pixel values the TF.js run fed, x·255 + mean computed in float64 and
// stored as float32, as its script does.
func readLandmarkRef(t testing.TB) *landmarkRef {
	t.Helper()
	data, err := os.ReadFile(refPath(t, "landmarks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref landmarkRef
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ref.Note, "relative to the 112x112 input") {
		t.Fatalf("landmarks.json note %q: not the raw outputs on 112x112 inputs this test expects", ref.Note)
	}
	for i := range ref.Crops {
		c := &ref.Crops[i]
		x := readF32(t, refPath(t, c.Crop))
		c.input = make([]float32, len(x))
		for j, v := range x {
			c.input[j] = float32(float64(v)*255 + float64(expressionMean[j%3]))
		}
	}
	return &ref
}

func TestLandmarksMatchTFJS(t *testing.T) {
	ref := readLandmarkRef(t)
	full, tiny, _ := moreNets(t)
	if len(ref.Crops) != 11 {
		t.Fatalf("landmarks.json lists %d crops, want 11", len(ref.Crops))
	}
	inputs := make([][]float32, len(ref.Crops))
	for i, c := range ref.Crops {
		inputs[i] = c.input
	}
	for _, tc := range []struct {
		name string
		net  *LandmarkNet
		want func(i int) []float64
	}{
		{"net", full, func(i int) []float64 { return ref.Crops[i].Full }},
		{"tiny", tiny, func(i int) []float64 { return ref.Crops[i].Tiny }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// All crops in one batch, then each alone: batching must not
			// change results.
			batch, err := tc.net.Forward(inputs)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range inputs {
				single, err := tc.net.Forward(inputs[i : i+1])
				if err != nil {
					t.Fatal(err)
				}
				want := tc.want(i)
				if len(want) != 2*NumLandmarks {
					t.Fatalf("%s: TF.js gives %d values, want %d", ref.Crops[i].Crop, len(want), 2*NumLandmarks)
				}
				for k, w := range want {
					for _, got := range []float32{batch[i][k], single[0][k]} {
						d := math.Abs(float64(got) - w)
						worst = math.Max(worst, d)
						if d > 1e-4 {
							t.Errorf("%s value %d: got %.7f, TF.js %.7f", ref.Crops[i].Crop, k, got, w)
						}
					}
				}
			}
			t.Logf("largest difference from TF.js over %d crops: %.2g", len(inputs), worst)
		})
	}
}

func TestLandmarkInputErrors(t *testing.T) {
	full, _, _ := moreNets(t)
	if _, err := full.Forward([][]float32{make([]float32, 10)}); err == nil || !strings.Contains(err.Error(), "has 10 values") {
		t.Errorf("short input: %v", err)
	}
	if _, err := NewLandmarkNet(nil, nil, "big"); err == nil || !strings.Contains(err.Error(), `"big"`) {
		t.Errorf("unknown model: %v", err)
	}
	img := &RGB{W: 20, H: 20, Pix: make([]byte, 20*20*3)}
	if _, ok, err := full.Detect(img, Box{X: 30, Y: 0, W: 10, H: 10}); ok || err != nil {
		t.Errorf("box outside the image: ok %v, err %v", ok, err)
	}
}

// TestPlaceLandmarks checks face-api's postProcess on crops wider than
// tall, taller than wide and square: the padding added to centre the crop
// in the square input is taken off the axis it was added to.
func TestPlaceLandmarks(t *testing.T) {
	var raw [2 * NumLandmarks]float32
	// Point 0 at the centre of the input, point 1 at its top-left corner.
	raw[0], raw[1] = 0.5, 0.5
	tests := []struct {
		name   string
		cw, ch int
		x0, y0 float64
		want   [2]Point
	}{
		// 200×100: scaled by 112/200 to 112×56, padded by 28 above.
		{"wide", 200, 100, 10, 20, [2]Point{{110, 70}, {10, 20 - 50}}},
		// 100×200: padded by 28 on the left.
		{"tall", 100, 200, 0, 0, [2]Point{{50, 100}, {-50, 0}}},
		{"square", 112, 112, 5, 5, [2]Point{{61, 61}, {5, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lm := placeLandmarks(&raw, tt.cw, tt.ch, tt.x0, tt.y0)
			got := [2]Point{lm[0], lm[1]}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-4 })); diff != "" {
				t.Errorf("points (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAlignedBox(t *testing.T) {
	var lm Landmarks
	for i := range lm {
		lm[i] = Point{X: 100 + float64(i%2)*50, Y: 200 + float64(i%3)*50}
	}
	// Points span x 100..150 and y 200..300: widened by a fifth.
	got := lm.AlignedBox(1000, 1000)
	want := Box{X: 95, Y: 190, W: 60, H: 120}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("aligned box (-want +got):\n%s", diff)
	}
}

func TestPointJSON(t *testing.T) {
	b, err := json.Marshal(Landmarks{{1.5, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "[[1.5,2],[0,0],") {
		t.Errorf("landmarks JSON %s", b)
	}
	var back Landmarks
	if err := json.Unmarshal(b, &back); err != nil || back[0] != (Point{1.5, 2}) {
		t.Errorf("round trip: %v, %v", back[0], err)
	}
	var p Point
	if err := json.Unmarshal([]byte(`{"x":1}`), &p); err == nil || !strings.Contains(err.Error(), "[x, y]") {
		t.Errorf("object point: %v", err)
	}
}

// TestLandmarksBoxPastEdge checks that a box reaching past the left edge
// places the points on the crop face-api cuts (which starts at the edge),
// not shifted left by the part of the box outside the image as face-api
// does.
func TestLandmarksBoxPastEdge(t *testing.T) {
	full, _, _ := moreNets(t)
	img, err := DecodeFile(mediaPath(t, "sample6.jpegjs.png"))
	if err != nil {
		t.Fatal(err)
	}
	past, ok, err := full.Detect(img, Box{X: -40, Y: 500, W: 340, H: 300})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	inside, ok, err := full.Detect(img, Box{X: 0, Y: 500, W: 300, H: 300})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if past != inside {
		t.Errorf("a box from x = -40 gives other points than the same crop's box from x = 0: %v, want %v", past[:3], inside[:3])
	}
}
