package face

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"sync"
	"testing"

	"emer/internal/models"
	"emer/internal/sharedtest"
)

// refPath returns a file of the outputs of the real TF.js face-api, shared
// read-only, or skips the test when it is absent.
func refPath(t testing.TB, name string) string {
	t.Helper()
	return sharedtest.Path(t, "reference", "face-api", name)
}

// mediaPath returns a shared sample photo or clip, or skips the test when
// it is absent.
func mediaPath(t testing.TB, name string) string {
	t.Helper()
	return sharedtest.Path(t, "reference", "media", name)
}

// needRef skips when the TF.js reference outputs are absent.
func needRef(t testing.TB) {
	t.Helper()
	refPath(t, "ref.json")
}

var (
	netsOnce sync.Once
	netDet   *Detector
	netExpr  *ExpressionNet
	netsErr  error
)

// nets loads the installed networks, or skips when the model files are
// not installed.
func nets(t testing.TB) (*Detector, *ExpressionNet) {
	t.Helper()
	netsOnce.Do(func() {
		dir, err := models.Dir()
		if err != nil {
			netsErr = err
			return
		}
		if netDet, netsErr = LoadDetector(dir); netsErr != nil {
			return
		}
		netExpr, netsErr = LoadExpressionNet(dir)
	})
	if netsErr != nil {
		t.Skipf("face model files are not installed (run `emer models install`): %v", netsErr)
	}
	return netDet, netExpr
}

func readF32(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

type refCrop struct {
	File  string    `json:"file"`
	Src   string    `json:"src"`
	Probs []float64 `json:"probs"`
}

func readRef(t testing.TB) ([]refCrop, [][]float32) {
	t.Helper()
	needRef(t)
	data, err := os.ReadFile(refPath(t, "ref.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []refCrop
	if err := json.Unmarshal(data, &refs); err != nil {
		t.Fatal(err)
	}
	inputs := make([][]float32, len(refs))
	for i, r := range refs {
		inputs[i] = readF32(t, refPath(t, r.File))
	}
	return refs, inputs
}

func TestExpressionMatchesTFJS(t *testing.T) {
	refs, inputs := readRef(t)
	_, net := nets(t)
	if len(refs) != 11 {
		t.Fatalf("ref.json lists %d crops, want 11", len(refs))
	}
	// All crops in one batch, then each alone: batching must not change results.
	batch, err := net.Infer(inputs)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, r := range refs {
		single, err := net.Infer(inputs[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range r.Probs {
			for _, got := range []float32{batch[i][k], single[0][k]} {
				d := math.Abs(float64(got) - want)
				worst = math.Max(worst, d)
				if d > 1e-4 {
					t.Errorf("%s %s: got %.6f, TF.js %.6f", r.File, Expressions[k], got, want)
				}
			}
		}
	}
	t.Logf("largest difference from TF.js over %d crops: %.2g", len(refs), worst)
}

func TestDetectorMatchesTFJS(t *testing.T) {
	needRef(t)
	det, _ := nets(t)
	in := readF32(t, refPath(t, "tfd_in.f32"))
	want := readF32(t, refPath(t, "tfd_out.f32"))
	got, err := det.Forward(in, 416)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 13*13*25 {
		t.Fatalf("output has %d values, TF.js %d, want %d", len(got), len(want), 13*13*25)
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	if worst > 1e-3 {
		t.Errorf("largest difference from TF.js raw output: %g, want ≤ 1e-3", worst)
	}
	t.Logf("largest difference from TF.js raw output: %.2g", worst)
	// TF.js found five faces in sample6.jpg (1920×1537).
	if dets := decode(want, 416, 1920, 1537, DefaultScoreThreshold); len(dets) != 5 {
		t.Errorf("decoding the TF.js output gives %d faces, want 5", len(dets))
	}
	if dets := decode(got, 416, 1920, 1537, DefaultScoreThreshold); len(dets) != 5 {
		t.Errorf("decoding our output gives %d faces, want 5", len(dets))
	}
}
