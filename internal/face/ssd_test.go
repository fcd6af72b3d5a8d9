package face

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSSDNMS(t *testing.T) {
	// Boxes are [ymin, xmin, ymax, xmax].
	unit := [4]float32{0, 0, 1, 1}
	tests := []struct {
		name   string
		boxes  [][4]float32
		scores []float32
		maxOut int
		want   []int
	}{
		{"best first", [][4]float32{{0, 0, 1, 1}, {2, 2, 3, 3}, {4, 4, 5, 5}}, []float32{0.6, 0.9, 0.7}, 100, []int{1, 2, 0}},
		{"at or below the threshold dropped", [][4]float32{{0, 0, 1, 1}, {2, 2, 3, 3}}, []float32{0.5, 0.4}, 100, nil},
		// IoU of unit and [0, 0, 1, 2] is 1/2: kept; of unit and
		// [0, 0, 1, 1.9], 1/1.9 > 1/2: dropped.
		{"IoU 0.5 kept", [][4]float32{unit, {0, 0, 1, 2}}, []float32{0.9, 0.8}, 100, []int{0, 1}},
		{"IoU above 0.5 dropped", [][4]float32{unit, {0, 0, 1, 1.9}}, []float32{0.9, 0.8}, 100, []int{0}},
		{"corners in either order", [][4]float32{unit, {1, 1.9, 0, 0}}, []float32{0.9, 0.8}, 100, []int{0}},
		{"an empty box overlaps nothing", [][4]float32{unit, {0, 0, 0, 1}}, []float32{0.9, 0.8}, 100, []int{0, 1}},
		{"ties in index order", [][4]float32{{0, 0, 1, 1}, {2, 2, 3, 3}}, []float32{0.7, 0.7}, 100, []int{0, 1}},
		{"at most maxOut", [][4]float32{{0, 0, 1, 1}, {2, 2, 3, 3}, {4, 4, 5, 5}}, []float32{0.6, 0.9, 0.7}, 2, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ssdNMS(tt.boxes, tt.scores, tt.maxOut, ssdIoU, 0.5)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeSSDBox(t *testing.T) {
	anchor := []float32{0.2, 0.4, 0.6, 0.6} // centre (0.4, 0.5), size 0.4 × 0.2
	tests := []struct {
		name string
		enc  []float32
		want [4]float32
	}{
		{"zero is the anchor", []float32{0, 0, 0, 0}, [4]float32{0.2, 0.4, 0.6, 0.6}},
		// Offsets are tenths of the anchor's size: 10 moves it by its size.
		{"shifted", []float32{10, -10, 0, 0}, [4]float32{0.6, 0.2, 1.0, 0.4}},
		// Log sizes are fifths: 5·ln 2 doubles it around its centre.
		{"doubled", []float32{0, 0, float32(5 * math.Ln2), float32(5 * math.Ln2)}, [4]float32{0, 0.3, 0.8, 0.7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeSSDBox(anchor, tt.enc)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-6 })); diff != "" {
				t.Errorf("box (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSSDDetections checks the scaling of relative boxes to image pixels:
// the input holds the image scaled to fit and padded at the bottom or
// right, and boxes are clipped to the input.
func TestSSDDetections(t *testing.T) {
	out := &SSDOutput{
		Boxes: [][4]float32{
			{0.25, 0.25, 0.5, 0.5}, // inside
			{-0.1, 0.9, 0.2, 1.2},  // clipped at the top and right
			{0.8, 0.1, 0.6, 0.3},   // ymax < ymin: dropped
		},
		Scores: []float32{0.9, 0.8, 0.7},
	}
	// 1000×500: the image fills the top half of the input (512×256).
	got := ssdDetections(out, 1000, 500, 0.5)
	want := []Detection{
		{Box: Box{X: 250, Y: 250, W: 250, H: 250}, Score: float64(float32(0.9))},
		{Box: Box{X: 900, Y: 0, W: 100, H: 200}, Score: float64(float32(0.8))},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-3 })); diff != "" {
		t.Errorf("detections (-want +got):\n%s", diff)
	}
}

func TestInt32AsFloat(t *testing.T) {
	manifest := `[{"paths":["a.bin"],"weights":[
		{"name":"axis","shape":[],"dtype":"int32","quantization":{"dtype":"uint8","scale":1,"min":0}},
		{"name":"raw","shape":[1],"dtype":"int32"},
		{"name":"f","shape":[2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":0}}]}]`
	got, err := int32AsFloat([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	var dtypes []string
	for _, w := range m[0].Weights {
		dtypes = append(dtypes, w.DType)
	}
	// Only the quantized int32 tensor changes: an unquantized one takes
	// four bytes a value and stays refused by LoadWeights.
	if diff := cmp.Diff([]string{"float32", "int32", "float32"}, dtypes); diff != "" {
		t.Errorf("dtypes (-want +got):\n%s", diff)
	}
	if _, err := int32AsFloat([]byte("{")); err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestSSDInputErrors(t *testing.T) {
	_, _, ssd := moreNets(t)
	if _, err := ssd.Forward(make([]float32, 10)); err == nil || !strings.Contains(err.Error(), "has 10 values") {
		t.Errorf("short input: %v", err)
	}
	img := &RGB{W: 4, H: 4, Pix: make([]byte, 4*4*3)}
	for _, c := range []float64{-0.1, 1} {
		if _, err := ssd.Detect(img, c); err == nil || !strings.Contains(err.Error(), "between 0 and 1") {
			t.Errorf("confidence %g: %v", c, err)
		}
		if _, err := ssd.DetectZoomedOut(img, c); err == nil || !strings.Contains(err.Error(), "between 0 and 1") {
			t.Errorf("zoomed out, confidence %g: %v", c, err)
		}
	}
	if _, err := ssd.Detect(&RGB{W: 4, H: 4}, 0); err == nil || !strings.Contains(err.Error(), "not RGB") {
		t.Errorf("no pixels: %v", err)
	}
}

// TestSSDZoomedOut checks that the zoomed-out pass puts the faces it
// finds where the full-size pass does, on a wide photo and on a tall cut
// of it (padding on the other axis).
func TestSSDZoomedOut(t *testing.T) {
	_, _, ssd := moreNets(t)
	img, err := DecodeFile(mediaPath(t, "sample6.jpegjs.png"))
	if err != nil {
		t.Fatal(err)
	}
	// The right half of the photo, 960×1537.
	tall := &RGB{W: img.W / 2, H: img.H, Pix: make([]byte, img.W/2*img.H*3)}
	for y := 0; y < img.H; y++ {
		copy(tall.Pix[y*tall.W*3:(y+1)*tall.W*3], img.Pix[(y*img.W+img.W/2)*3:])
	}
	for name, im := range map[string]*RGB{"wide": img, "tall": tall} {
		t.Run(name, func(t *testing.T) {
			full, err := ssd.Detect(im, 0)
			if err != nil {
				t.Fatal(err)
			}
			zoomed, err := ssd.DetectZoomedOut(im, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(zoomed) == 0 || len(full) == 0 {
				t.Fatalf("%d faces at full size, %d zoomed out", len(full), len(zoomed))
			}
			for _, z := range zoomed {
				best := 0.0
				for _, f := range full {
					best = math.Max(best, IoU(z.Box, f.Box))
				}
				if best < 0.6 {
					t.Errorf("zoomed out box %v overlaps no full-size box by IoU 0.6 (best %.2f): %v", z.Box, best, full)
				}
			}
		})
	}
}

// TestReLU6KernelsAgree checks the ReLU6 kernels against their plain Go
// twins, on lengths with and without a tail of fewer than 8 values and
// channel counts the vector kernel takes and leaves.
func TestReLU6KernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 8, 9, 64, 1000} {
		t.Run(fmt.Sprintf("relu6/%d", n), func(t *testing.T) {
			x := randSlice(r, n)
			for i := range x {
				x[i] *= 5 // values below 0, inside and above 6
			}
			want := slices.Clone(x)
			relu6Go(want)
			relu6(x)
			if d := maxDiff(x, want); d != 0 {
				t.Errorf("differs from the Go twin by %g", d)
			}
		})
	}
	for _, c := range []int{3, 8, 32, 1024} {
		for _, npix := range []int{1, 5} {
			t.Run(fmt.Sprintf("bias/%dx%d", npix, c), func(t *testing.T) {
				x, bias := randSlice(r, npix*c), randSlice(r, c)
				for i := range x {
					x[i] *= 5
				}
				want := slices.Clone(x)
				biasReLU6Go(want, bias)
				biasReLU6(x, bias)
				if d := maxDiff(x, want); d != 0 {
					t.Errorf("differs from the Go twin by %g", d)
				}
				for i, v := range want {
					if v < 0 || v > 6 {
						t.Fatalf("value %d is %g, outside [0, 6]", i, v)
					}
				}
			})
		}
	}
}
