package face

import (
	"math"
	"path/filepath"
	"sort"
	"testing"
)

const mediaDir = "../../../shared/reference/media"

// TestDetectorInputMatchesTFJS compares our pad-and-resize of sample6.jpg
// with the input TF.js built. JPEG decoders differ by a level or two, so
// the comparison is on the mean difference.
func TestDetectorInputMatchesTFJS(t *testing.T) {
	needRef(t)
	img, err := DecodeFile(filepath.Join(mediaDir, "sample6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if img.W != 1920 || img.H != 1537 {
		t.Fatalf("sample6.jpg is %dx%d, want 1920x1537", img.W, img.H)
	}
	want := readF32(t, filepath.Join(refDir, "tfd_in.f32"))
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
		img, err := DecodeFile(filepath.Join(mediaDir, r.Src))
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
