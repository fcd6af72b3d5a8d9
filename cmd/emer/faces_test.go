package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/models"
	"emer/internal/sharedtest"
)

// sharedPhoto returns a shared sample photo, or skips the test when it is
// absent.
func sharedPhoto(t *testing.T, name string) string {
	t.Helper()
	return sharedtest.Path(t, "reference", "media", name)
}

// needFaceModels skips when the model files or the shared photos are absent.
func needFaceModels(t *testing.T) {
	t.Helper()
	sharedPhoto(t, "sample6.jpg")
	dir, err := models.Dir()
	if err != nil {
		t.Skip(err)
	}
	for _, st := range models.Check(dir) {
		if !st.Verified {
			t.Skipf("face model files are not installed (run `emer models install`): %v", st.Err)
		}
	}
}

func decodeLines(t *testing.T, out string) []imageJSON {
	t.Helper()
	var res []imageJSON
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r imageJSON
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		res = append(res, r)
	}
	return res
}

func TestFacesSample6(t *testing.T) {
	needFaceModels(t)
	var out, errOut bytes.Buffer
	path := sharedPhoto(t, "sample6.jpg")
	if code := execute(context.Background(), []string{"faces", "--json", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	res := decodeLines(t, out.String())
	if len(res) != 1 {
		t.Fatalf("%d lines, want 1", len(res))
	}
	r := res[0]
	if r.Image != path || r.Width != 1920 || r.Height != 1537 {
		t.Errorf("image %q %dx%d", r.Image, r.Width, r.Height)
	}
	// TF.js finds five faces in this photo.
	if len(r.Faces) != 5 {
		t.Fatalf("found %d faces, TF.js finds 5", len(r.Faces))
	}
	for i, f := range r.Faces {
		if f.Score <= 0.5 || f.Score > 1 {
			t.Errorf("face %d: score %g", i, f.Score)
		}
		if i > 0 && f.Score > r.Faces[i-1].Score {
			t.Errorf("face %d scores above face %d", i, i-1)
		}
		if f.Box[2] < 100 || f.Box[3] < 100 || f.Box[0] < 0 || f.Box[0]+f.Box[2] > 1920 {
			t.Errorf("face %d: box %v", i, f.Box)
		}
		e := f.Expressions
		if sum := e.Neutral + e.Happy + e.Sad + e.Angry + e.Fearful + e.Disgusted + e.Surprised; math.Abs(sum-1) > 1e-4 {
			t.Errorf("face %d: expressions sum to %g", i, sum)
		}
	}
	if !strings.Contains(out.String(), `"expressions":{"neutral":`) {
		t.Error("expressions are not keyed in contract order")
	}
}

func TestFacesBadImages(t *testing.T) {
	needFaceModels(t)
	dir := t.TempDir()
	good, err := os.ReadFile(sharedPhoto(t, "sample1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"empty.jpg":     {},
		"text.png":      []byte("not a picture\n"),
		"truncated.jpg": good[:len(good)/3],
	}
	for name, data := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.jpg"), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"faces", "--json",
		filepath.Join(dir, "empty.jpg"),
		sharedPhoto(t, "sample1.jpg"),
		filepath.Join(dir, "text.png"),
		filepath.Join(dir, "missing.jpg"),
		filepath.Join(dir, "truncated.jpg"),
		sharedPhoto(t, "sample6.jpg"),
		filepath.Join(dir, "folder.jpg"),
	}
	// What each bad image's error says, after its name.
	wantMsg := map[int]string{
		0: "is empty (0 bytes)",
		2: "not a JPEG or PNG image",
		3: "no such file or directory",
		4: "the JPEG image is truncated or corrupt",
		6: "is a directory",
	}
	var out, errOut bytes.Buffer
	if code := execute(context.Background(), args, &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	res := decodeLines(t, out.String())
	if len(res) != len(args)-2 {
		t.Fatalf("%d lines, want one per image:\n%s", len(res), out.String())
	}
	for i, r := range res {
		if r.Image != args[i+2] {
			t.Errorf("line %d is for %s, want %s", i, r.Image, args[i+2])
		}
		msg, wantErr := wantMsg[i]
		if (r.Error != "") != wantErr {
			t.Errorf("%s: error %q", r.Image, r.Error)
		}
		if wantErr && (!strings.Contains(r.Error, r.Image) || !strings.Contains(r.Error, msg)) {
			t.Errorf("%s: error %q, want one naming the file and saying %q", r.Image, r.Error, msg)
		}
		if wantErr && !strings.Contains(errOut.String(), r.Error) {
			t.Errorf("stderr does not report %s:\n%s", r.Image, errOut.String())
		}
	}
	if len(res[1].Faces) != 3 || len(res[5].Faces) != 5 {
		t.Errorf("good images gave %d and %d faces, want 3 and 5", len(res[1].Faces), len(res[5].Faces))
	}
	if !strings.Contains(errOut.String(), "5 of 7 images failed") {
		t.Errorf("stderr lacks the summary:\n%s", errOut.String())
	}
}

// TestFacesAlpha runs faces on PNG copies of a sample photo with every
// pixel transparent or half transparent: alpha is ignored, so they give
// the faces and expressions of the opaque copy.
func TestFacesAlpha(t *testing.T) {
	needFaceModels(t)
	f, err := os.Open(sharedPhoto(t, "sample1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	photo, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := photo.Bounds()
	dir := t.TempDir()
	var paths []string
	for _, a := range []uint8{255, 128, 0} {
		m := image.NewNRGBA(b)
		draw.Draw(m, b, photo, b.Min, draw.Src)
		for i := 3; i < len(m.Pix); i += 4 {
			m.Pix[i] = a
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("alpha%d.png", a))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var out, errOut bytes.Buffer
	if code := execute(context.Background(), append([]string{"faces", "--json"}, paths...), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	res := decodeLines(t, out.String())
	if len(res) != 3 {
		t.Fatalf("%d lines, want 3", len(res))
	}
	if len(res[0].Faces) != 3 {
		t.Fatalf("opaque copy: %d faces, want 3", len(res[0].Faces))
	}
	for _, r := range res[1:] {
		if diff := cmp.Diff(res[0].Faces, r.Faces); diff != "" {
			t.Errorf("%s: faces differ from the opaque copy's (-opaque +got):\n%s", r.Image, diff)
		}
	}
}

func TestFacesTableAndFlags(t *testing.T) {
	needFaceModels(t)
	var out, errOut bytes.Buffer
	path := sharedPhoto(t, "sample6.jpg")
	if code := execute(context.Background(), []string{"faces", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "1920x1537  5 faces") || strings.Count(out.String(), "score") != 5 {
		t.Errorf("table:\n%s", out.String())
	}
	// A stricter threshold keeps fewer faces.
	out.Reset()
	if code := execute(context.Background(), []string{"faces", "--json", "--score-threshold", "0.8", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if res := decodeLines(t, out.String()); len(res) != 1 || len(res[0].Faces) != 3 {
		t.Errorf("threshold 0.8: %+v, want 3 faces", res)
	}
	for _, bad := range [][]string{{"--input-size", "100"}, {"--score-threshold", "1.5"}} {
		errOut.Reset()
		if code := execute(context.Background(), append([]string{"faces"}, append(bad, path)...), &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errOut.String())
		}
	}
}

// TestFacesCorruptModels checks that damaged model files are reported as
// corrupt, naming the file and the repair, not as not installed.
func TestFacesCorruptModels(t *testing.T) {
	dir := t.TempDir()
	for _, f := range models.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), make([]byte, f.Size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"faces", "--models", dir, "x.jpg"}, &out, &errOut)
	msg := errOut.String()
	if code != 1 || strings.Contains(msg, "not installed") {
		t.Errorf("exit %d, stderr %q; want 1 and no claim that the models are not installed", code, msg)
	}
	for _, want := range []string{filepath.Join(dir, models.TinyFaceDetectorManifest), "corrupt", "SHA-256 mismatch", "run `emer models install` to repair it"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr %q lacks %q", msg, want)
		}
	}
}

func TestFacesWithoutModels(t *testing.T) {
	t.Setenv(models.EnvDir, t.TempDir())
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"faces", "x.jpg"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "emer models install") {
		t.Errorf("exit %d, stderr %q; want 1 and advice to run emer models install", code, errOut.String())
	}
}

// TestFacesDetectorAndLandmarks runs faces with each detector and landmark
// net on the pixels the TF.js reference saw, and checks the faces, boxes
// and landmarks against its pipelines.
func TestFacesDetectorAndLandmarks(t *testing.T) {
	needFaceModels(t)
	path := sharedtest.Path(t, "reference", "media", "sample2.jpegjs.png")
	data, err := os.ReadFile(sharedtest.Path(t, "reference", "face-api", "pipelines.json"))
	if err != nil {
		t.Fatal(err)
	}
	type refFace struct {
		Box       [4]float64   `json:"box"`
		Landmarks [][2]float64 `json:"landmarks"`
	}
	var ref struct {
		Runs []struct {
			Image    string    `json:"image"`
			TinyNet  []refFace `json:"tiny416_landmark68"`
			TinyTiny []refFace `json:"tiny416_landmark68_tiny"`
			SSDNet   []refFace `json:"ssd_landmark68"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Runs) == 0 || ref.Runs[0].Image != "sample2.jpg" {
		t.Fatalf("pipelines.json does not start with sample2.jpg")
	}
	run := ref.Runs[0]
	tests := []struct {
		name string
		args []string
		want []refFace // nil: no landmarks
		n    int
	}{
		{"default: auto and net", nil, run.TinyNet, 1},
		{"tiny and tiny landmarks", []string{"--detector", "tiny", "--landmarks", "tiny"}, run.TinyTiny, 1},
		{"ssd", []string{"--detector", "ssd"}, run.SSDNet, 3},
		{"no landmarks", []string{"--landmarks", "none"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append(append([]string{"faces", "--json"}, tt.args...), path)
			if code := execute(context.Background(), args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			res := decodeLines(t, out.String())
			if len(res) != 1 || len(res[0].Faces) != tt.n {
				t.Fatalf("got %+v, want %d faces", res, tt.n)
			}
			faces := res[0].Faces
			sort.Slice(faces, func(i, j int) bool { return faces[i].Box[0] < faces[j].Box[0] })
			for i, f := range faces {
				if tt.want == nil {
					if f.Landmarks != nil {
						t.Errorf("face %d has landmarks", i)
					}
					continue
				}
				w := tt.want[i]
				for k := range f.Box {
					if math.Abs(f.Box[k]-w.Box[k]) > 1 {
						t.Errorf("face %d: box %v, TF.js %v", i, f.Box, w.Box)
						break
					}
				}
				if len(f.Landmarks) != 68 {
					t.Fatalf("face %d: %d landmarks, want 68", i, len(f.Landmarks))
				}
				for k, p := range f.Landmarks {
					if d := math.Hypot(p[0]-w.Landmarks[k][0], p[1]-w.Landmarks[k][1]); d > 0.5 {
						t.Errorf("face %d landmark %d: %v, TF.js %v", i, k, p, w.Landmarks[k])
					}
				}
			}
			if tt.want != nil && !strings.Contains(out.String(), `"landmarks":[[`) {
				t.Errorf("landmarks are not [[x, y], ...]: %s", out.String())
			}
		})
	}
	for _, bad := range [][]string{{"--detector", "yolo"}, {"--landmarks", "dlib"}} {
		var out, errOut bytes.Buffer
		if code := execute(context.Background(), append([]string{"faces"}, append(bad, path)...), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), bad[1]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %q", bad, code, errOut.String(), bad[1])
		}
	}
}
