package face

import (
	"math"
	"sort"
	"testing"
)

// TestDetectorInputMatchesTFJS compares our pad-and-resize of sample6.jpg
// with the input TF.js built. JPEG decoders differ by a level or two, so
// the comparison is on the mean difference.
func TestDetectorInputMatchesTFJS(t *testing.T) {
	needRef(t)
	img, err := DecodeFile(mediaPath(t, "sample6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if img.W != 1920 || img.H != 1537 {
		t.Fatalf("sample6.jpg is %dx%d, want 1920x1537", img.W, img.H)
	}
	want := readF32(t, refPath(t, "tfd_in.f32"))
	got := DetectorInput(img, 416)
	var sum float64
	for i := range got {
		sum += math.Abs(float64(got[i] - want[i]))
	}
	mean := sum / float64(len(got))
	t.Logf("mean absolute difference from TF.js input: %.3f levels", mean)
	if mean > 1.5 {
		t.Errorf("mean absolute difference %.3f levels, want ≤ 1.5", mean)
	}
	// The bottom rows are padding: black in both.
	for i := 416 * 3 * 410; i < len(got); i++ {
		if got[i] != 0 || want[i] != 0 {
			t.Fatalf("padding value %d: ours %g, TF.js %g; want 0", i, got[i], want[i])
		}
	}
}

// TestCropsMatchTFJS finds, for every reference crop, the face of its
// photo whose crop is closest, and checks that crop and its expressions.
func TestCropsMatchTFJS(t *testing.T) {
	refs, inputs := readRef(t)
	det, expr := nets(t)
	a := &Analyzer{Detector: det, Expressions: expr}
	faces := map[string][]Face{}
	crops := map[string][][]float32{}
	for _, r := range refs {
		if _, ok := faces[r.Src]; ok {
			continue
		}
		img, err := DecodeFile(mediaPath(t, r.Src))
		if err != nil {
			t.Fatal(err)
		}
		fs, err := a.Faces(img)
		if err != nil {
			t.Fatal(err)
		}
		faces[r.Src] = fs
		for _, f := range fs {
			in, _ := ExpressionInput(img, f.Box)
			crops[r.Src] = append(crops[r.Src], in)
		}
	}
	var diffs []float64
	for i, r := range refs {
		best, bestDiff := -1, math.Inf(1)
		for j, c := range crops[r.Src] {
			var sum float64
			for k := range c {
				sum += math.Abs(float64(c[k] - inputs[i][k]))
			}
			if d := sum / float64(len(c)); d < bestDiff {
				best, bestDiff = j, d
			}
		}
		if best < 0 {
			t.Errorf("%s: no face found in %s", r.File, r.Src)
			continue
		}
		f := faces[r.Src][best]
		worst := 0.0
		for k, p := range r.Probs {
			worst = math.Max(worst, math.Abs(float64(f.Expressions[k])-p))
		}
		t.Logf("%s (%s): crop differs by %.2f levels on average, expressions by at most %.3f", r.File, r.Src, bestDiff, worst)
		diffs = append(diffs, bestDiff)
		// A box a pixel off shifts a textured crop by several levels, so
		// only a clear reference winner must be the same.
		var ref Probs
		for k, p := range r.Probs {
			ref[k] = float32(p)
		}
		if k, p := ref.Dominant(); p > 0.6 {
			if got, _ := f.Expressions.Dominant(); got != k {
				t.Errorf("%s: dominant expression %s, TF.js %s (%.2f)", r.File, Expressions[got], Expressions[k], p)
			}
		}
		if bestDiff > 10 {
			t.Errorf("%s: closest crop differs by %.2f levels on average, want ≤ 10", r.File, bestDiff)
		}
	}
	sort.Float64s(diffs)
	if med := diffs[len(diffs)/2]; med > 2 {
		t.Errorf("median crop difference %.2f levels, want ≤ 2", med)
	}
}

func TestDegenerateImages(t *testing.T) {
	det, expr := nets(t)
	a := &Analyzer{Detector: det, Expressions: expr}
	for _, sz := range [][2]int{{1, 1}, {3, 2000}, {2000, 3}, {31, 33}} {
		img := &RGB{W: sz[0], H: sz[1], Pix: make([]byte, sz[0]*sz[1]*3)}
		for i := range img.Pix {
			img.Pix[i] = byte(i * 7)
		}
		faces, err := a.Faces(img)
		if err != nil || len(faces) != 0 {
			t.Errorf("%dx%d: %d faces, %v; want none", sz[0], sz[1], len(faces), err)
		}
	}
	if _, err := a.Faces(&RGB{W: 10, H: 10, Pix: make([]byte, 10)}); err == nil {
		t.Error("an RGB image with too few bytes was accepted")
	}
	if _, err := det.Detect(&RGB{W: 4, H: 4, Pix: make([]byte, 48)}, Options{InputSize: 100}); err == nil {
		t.Error("input size 100 was accepted")
	}
	// A box partly or wholly outside the image.
	img := &RGB{W: 50, H: 40, Pix: make([]byte, 50*40*3)}
	if _, ok := ExpressionInput(img, Box{X: 60, Y: 0, W: 10, H: 10}); ok {
		t.Error("a box outside the image gave a crop")
	}
	if in, ok := ExpressionInput(img, Box{X: -5, Y: -5, W: 30, H: 20}); !ok || len(in) != 112*112*3 {
		t.Error("a box overlapping the corner gave no crop")
	}
}

func TestFaceRegion(t *testing.T) {
	tests := []struct {
		b    Box
		want region
		ok   bool
	}{
		{Box{10.7, 20.2, 30.9, 40.5}, region{10, 20, 30, 40}, true},
		{Box{-3.5, -1, 20, 20}, region{0, 0, 16, 19}, true},
		{Box{90, 90, 50, 50}, region{90, 90, 10, 10}, true},
		{Box{100, 0, 5, 5}, region{}, false},
	}
	for _, tt := range tests {
		got, ok := faceRegion(tt.b, 100, 100)
		if got != tt.want || ok != tt.ok {
			t.Errorf("faceRegion(%+v) = %+v, %v; want %+v, %v", tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSquareResizePadding(t *testing.T) {
	// A 4×2 white image padded centred to 4×4 then kept at 4×4: one black
	// row above and below.
	img := &RGB{W: 4, H: 2, Pix: make([]byte, 4*2*3)}
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	got := squareResize(img, region{0, 0, 4, 2}, 4, true)
	for y := 0; y < 4; y++ {
		want := float32(255)
		if y == 0 || y == 3 {
			want = 0
		}
		if v := got[y*4*3]; v != want {
			t.Errorf("centred row %d: %g, want %g", y, v, want)
		}
	}
	// Bottom padding only for the detector.
	got = squareResize(img, region{0, 0, 4, 2}, 4, false)
	for y := 0; y < 4; y++ {
		want := float32(255)
		if y >= 2 {
			want = 0
		}
		if v := got[y*4*3]; v != want {
			t.Errorf("bottom-padded row %d: %g, want %g", y, v, want)
		}
	}
}
