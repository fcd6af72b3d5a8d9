package actions

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"emer/internal/agreement"
	"emer/internal/face"
	"emer/internal/models"
	"emer/internal/sharedtest"
)

// photoFace is one face found in a sample photo.
type photoFace struct {
	where string
	happy float64
	m     Measures
	pose  Pose
}

// photoFaces runs face-api's SSD detector, 68-point landmark net and
// expression net (internal/face) on the shared sample photos and measures
// every face found, or skips when the photos or model files are absent.
func photoFaces(t *testing.T) []photoFace {
	t.Helper()
	dir := sharedtest.Path(t, "reference", "media")
	mdir, err := models.Dir()
	if err != nil {
		t.Skip(err)
	}
	an, err := face.Load(mdir, face.Options{Detector: face.DetectorSSD, Landmarks: face.LandmarksNet})
	if errors.Is(err, models.ErrNotInstalled) {
		t.Skipf("face models not installed: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	happy := -1
	for i, c := range face.Expressions {
		if c == "happy" {
			happy = i
		}
	}
	var out []photoFace
	for n := 1; n <= 6; n++ {
		name := fmt.Sprintf("sample%d.jpg", n)
		img, err := face.DecodeFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		faces, err := an.Faces(img)
		if err != nil {
			t.Fatal(err)
		}
		for k, f := range faces {
			if f.Landmarks == nil {
				t.Fatalf("%s face %d: no landmarks", name, k)
			}
			var p Points
			for i, q := range f.Landmarks {
				p[i] = [2]float64{q.X, q.Y}
			}
			b := f.Box
			res, err := Analyze(Track{Frames: []Frame{{Points: p, Box: &Box{X: b.X, Y: b.Y, W: b.W, H: b.H}}}}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			where := fmt.Sprintf("%s face %d at (%.0f, %.0f)", name, k, b.X, b.Y)
			if len(res.Measures) != 1 || len(res.Pose) != 1 {
				t.Logf("%s: not measured: %v", where, res.Skipped)
				continue
			}
			out = append(out, photoFace{where, float64(f.Expressions[happy]), res.Measures[0], res.Pose[0]})
		}
	}
	return out
}

// smileIndex is the smile measure between people, without a baseline:
// the corners' lift plus half the mouth width, as the smile deviation
// weighs them, in eye distances.
func smileIndex(m *Measures) float64 { return m.CornerLift + m.MouthWidth/2 }

// TestSmileAgreesWithHappy checks, on the faces of the sample photos, that
// the smile measure ranks the faces as face-api's happy probability does:
// Spearman's ρ between them (0.561 over 21 faces when written; METHOD.md
// quotes the figures of go test -run TestSmileAgreesWithHappy -v), and the
// smiling faces (happy ≥ 0.5) above the others on average.
func TestSmileAgreesWithHappy(t *testing.T) {
	faces := photoFaces(t)
	sort.Slice(faces, func(i, j int) bool { return faces[i].happy > faces[j].happy })
	var happy, smile, lift, width []float64
	for _, f := range faces {
		happy = append(happy, f.happy)
		smile = append(smile, smileIndex(&f.m))
		lift = append(lift, f.m.CornerLift)
		width = append(width, f.m.MouthWidth)
		t.Logf("%-34s happy %.3f smile %.3f (lift %+.3f width %.3f) yaw %+5.1f pitch %+5.1f roll %+5.1f",
			f.where, f.happy, smileIndex(&f.m), f.m.CornerLift, f.m.MouthWidth, f.pose.Yaw, f.pose.Pitch, f.pose.Roll)
	}
	rho := func(name string, x []float64) float64 {
		c, err := agreement.Spearman(x, happy)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Spearman ρ(%s, happy) = %.3f over %d faces", name, c.Coef, c.N)
		return c.Coef
	}
	r := rho("smile", smile)
	rho("corner lift", lift)
	rho("mouth width", width)
	if len(faces) < 10 {
		t.Fatalf("only %d faces measured", len(faces))
	}
	if r < 0.5 {
		t.Errorf("ρ = %.3f, want ≥ 0.5", r)
	}
	var in, out []float64
	for i := range faces {
		if faces[i].happy >= 0.5 {
			in = append(in, smile[i])
		} else {
			out = append(out, smile[i])
		}
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	t.Logf("smile index: %.3f over %d smiling faces, %.3f over %d others", mean(in), len(in), mean(out), len(out))
	if len(in) == 0 || len(out) == 0 || !(mean(in) > mean(out)) {
		t.Errorf("smiling faces' mean smile index %.3f not above the others' %.3f", mean(in), mean(out))
	}
}
