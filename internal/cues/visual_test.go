package cues

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/actions"
	"emer/internal/face"
	"emer/internal/sharedtest"
)

// referenceFace is a face of sample6.jpg as face-api's TF.js pipeline
// found it: its box and 68 landmarks.
func referenceFace(t *testing.T) (face.Box, face.Landmarks) {
	t.Helper()
	data, err := os.ReadFile(sharedtest.Path(t, "reference", "face-api", "pipelines.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Runs []struct {
			Image string `json:"image"`
			Faces []struct {
				Box       [4]float64   `json:"box"`
				Landmarks []face.Point `json:"landmarks"`
			} `json:"tiny416_landmark68"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	for _, r := range ref.Runs {
		if r.Image == "sample6.jpg" && len(r.Faces) > 0 && len(r.Faces[0].Landmarks) == face.NumLandmarks {
			f := r.Faces[0]
			var lm face.Landmarks
			copy(lm[:], f.Landmarks)
			return face.Box{X: f.Box[0], Y: f.Box[1], W: f.Box[2], H: f.Box[3]}, lm
		}
	}
	t.Fatal("pipelines.json has no sample6.jpg face with landmarks")
	return face.Box{}, face.Landmarks{}
}

// TestMeasureActions measures the actions of hand-made tracks: a main
// face that raises its brows from 4 to 5.5 s, a still face, a face
// without landmarks and one whose expression probabilities are out of
// range. The events of every measured track are listed, the head pose
// and peak are the main face's, the face without landmarks is left out
// and the bad one is a warning.
func TestMeasureActions(t *testing.T) {
	box, lm := referenceFace(t)
	neutral := face.Probs{1}
	point := func(i int, dx float64, raise bool, probs face.Probs, withLandmarks bool) face.TrackPoint {
		f := face.Face{Box: box, Score: 0.9, Expressions: probs}
		f.Box.X += dx
		if withLandmarks {
			l := lm
			for k := range l {
				l[k].X += dx
				if raise && k >= 17 && k <= 26 { // the brows
					l[k].Y -= 0.12 * box.H
				}
			}
			f.Landmarks = &l
		}
		return face.TrackPoint{T: float64(i) / 2, FrameIndex: i, Face: f}
	}
	track := func(id int, dx float64, raiseFrom, raiseTo int, probs face.Probs, withLandmarks bool) face.Track {
		tr := face.Track{ID: id}
		for i := range 20 {
			tr.Points = append(tr.Points, point(i, dx, i >= raiseFrom && i <= raiseTo, probs, withLandmarks))
		}
		return tr
	}
	tracks := []face.Track{
		track(1, 0, 8, 11, neutral, true),
		track(2, 400, -1, -1, neutral, true),
		track(3, 800, -1, -1, neutral, false),
		track(4, 1200, -1, -1, face.Probs{1.5}, true),
	}
	v := Visual{Actions: []actions.Event{}, HeadPose: []actions.Pose{}}
	warn := measureActions(&v, tracks, 0)

	if len(warn) != 1 || !strings.HasPrefix(warn[0], "visual: facial actions of track 4: ") || !strings.Contains(warn[0], "probability") {
		t.Errorf("warnings %q, want one about track 4's probabilities", warn)
	}
	var raised []actions.Event
	for _, e := range v.Actions {
		if e.Track != 1 {
			t.Errorf("event %+v of a still face", e)
		}
		if e.Action == actions.BrowRaise {
			raised = append(raised, e)
		}
	}
	want := []actions.Event{{Action: actions.BrowRaise, Start: 4, End: 5.5, Track: 1}}
	if diff := cmp.Diff(want, raised, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Magnitude"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("brow raises (-want +got):\n%s", diff)
	}
	if len(raised) == 1 && raised[0].Magnitude < 0.10 {
		t.Errorf("brow raise of %.2f, under its threshold", raised[0].Magnitude)
	}
	if len(v.HeadPose) != 20 || v.HeadPose[0].T != 0 || v.HeadPose[19].T != 9.5 {
		t.Errorf("head pose %+v, want the main face's 20 frames from 0 to 9.5 s", v.HeadPose)
	}
	if v.Peak == nil || v.Peak.T < 4 || v.Peak.T > 5.5 || !strings.Contains(v.Peak.Reason, "eyebrows raised") {
		t.Errorf("peak %+v, want the brow raise between 4 and 5.5 s", v.Peak)
	}
}

// TestScaleFaces checks that faces found in a frame shrunk for analysis
// are scaled back to the clip's pixels, landmarks as boxes.
func TestScaleFaces(t *testing.T) {
	lm := face.Landmarks{{X: 10, Y: 20}, {X: 30, Y: 40}}
	faces := []face.Face{{Box: face.Box{X: 1, Y: 2, W: 3, H: 4}, Landmarks: &lm}, {Box: face.Box{X: 5, Y: 6, W: 7, H: 8}}}
	scaleFaces(faces, 6, 4)
	if diff := cmp.Diff(face.Box{X: 6, Y: 8, W: 18, H: 16}, faces[0].Box); diff != "" {
		t.Errorf("box (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]face.Point{{X: 60, Y: 80}, {X: 180, Y: 160}, {}}, faces[0].Landmarks[:3]); diff != "" {
		t.Errorf("landmarks (-want +got):\n%s", diff)
	}
	if faces[1].Landmarks != nil || faces[1].Box != (face.Box{X: 30, Y: 24, W: 42, H: 32}) {
		t.Errorf("face without landmarks: %+v", faces[1])
	}
}

// TestFaceNetworks analyses clips with each choice of networks: the
// detection says which ran; without landmarks there are no landmarks and
// no actions; with them every face has 68 points inside its box; and a
// clip without faces gets at most the clip budget's SSD frames.
func TestFaceNetworks(t *testing.T) {
	needFFmpeg(t)
	if !modelsInstalled(t) {
		t.Skip("face models not installed (emer models install)")
	}
	faces := build(t, "faces.mp4", "-loop", "1", "-i", shared(t, "sample1.jpg"), "-t", "2", "-r", "10",
		"-vf", "scale=640:-2", "-pix_fmt", "yuv420p")
	noFace := build(t, "pattern.mp4", "-f", "lavfi", "-i", "smptebars=s=640x360:r=10:d=12", "-pix_fmt", "yuv420p")
	for _, tt := range []struct {
		name      string
		clip      string
		opts      Options
		detection Detection // Frames and TinyMisses checked as a whole
	}{
		{"default", faces, Options{}, Detection{Detector: face.DetectorAuto, Landmarks: face.LandmarksNet}},
		{"tiny, tiny landmarks", faces, Options{Detector: face.DetectorTiny, Landmarks: face.LandmarksTiny},
			Detection{Detector: face.DetectorTiny, Landmarks: face.LandmarksTiny}},
		{"ssd, no landmarks", faces, Options{Detector: face.DetectorSSD, Landmarks: face.LandmarksNone},
			Detection{Detector: face.DetectorSSD, Landmarks: face.LandmarksNone}},
		{"no face", noFace, Options{}, Detection{Detector: face.DetectorAuto, Landmarks: face.LandmarksNet}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Analyze(context.Background(), tt.clip, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			v := c.Visual
			d := v.Detection
			if d.Detector != tt.detection.Detector || d.Landmarks != tt.detection.Landmarks || d.Frames != v.FramesAnalyzed {
				t.Errorf("detection %+v over %d frames, want %s and %s", d, v.FramesAnalyzed, tt.detection.Detector, tt.detection.Landmarks)
			}
			if v.Actions == nil || v.HeadPose == nil {
				t.Error("nil lists would encode as null")
			}
			if tt.clip == noFace {
				// SSD is counted against the budget as it starts, so
				// frames analysed at once never take it past 4 frames.
				if v.Present || d.TinyMisses != v.FramesAnalyzed || d.SSDFrames < 1 || d.SSDFrames > face.DefaultClipPolicy.Probes ||
					d.SSDPasses != 2*d.SSDFrames || d.SSDFrames+d.Skipped != d.TinyMisses || d.SSDFound != 0 {
					t.Errorf("no face: %d frames, detection %+v; want SSD on 1 to %d", v.FramesAnalyzed, d, face.DefaultClipPolicy.Probes)
				}
				return
			}
			if !v.Present || v.FramesAnalyzed != 4 {
				t.Fatalf("visual: present %v, %d frames (%s)", v.Present, v.FramesAnalyzed, v.Reason)
			}
			switch tt.detection.Detector {
			case face.DetectorSSD:
				if d.SSDFrames != 4 || d.SSDPasses != 4 || d.TinyMisses != 0 {
					t.Errorf("ssd: detection %+v, want SSD alone on the 4 frames", d)
				}
			default:
				if d.TinyMisses != 0 || d.SSDFrames != 0 {
					t.Errorf("detection %+v, want the tiny detector to find the faces in every frame", d)
				}
			}
			for _, f := range v.Faces {
				if tt.detection.Landmarks == face.LandmarksNone {
					if f.Landmarks != nil {
						t.Fatalf("face at %.1f s has landmarks without a landmark net", f.T)
					}
					continue
				}
				checkLandmarksInBox(t, f)
			}
			if tt.detection.Landmarks == face.LandmarksNone && (len(v.Actions) != 0 || len(v.HeadPose) != 0 || v.Peak != nil) {
				t.Errorf("without landmarks: %d actions, %d head poses, peak %v", len(v.Actions), len(v.HeadPose), v.Peak)
			}
			if tt.detection.Landmarks != face.LandmarksNone {
				main := v.Tracks[v.MainTrack-1]
				if len(v.HeadPose) != main.Frames {
					t.Errorf("%d head poses for a main track of %d frames", len(v.HeadPose), main.Frames)
				}
			}
		})
	}
}

// checkLandmarksInBox checks that a face has 68 landmarks and that their
// centre lies in its box.
func checkLandmarksInBox(t *testing.T, f Face) {
	t.Helper()
	if len(f.Landmarks) != face.NumLandmarks {
		t.Fatalf("face at %.1f s: %d landmarks, want %d", f.T, len(f.Landmarks), face.NumLandmarks)
	}
	var cx, cy float64
	for _, p := range f.Landmarks {
		cx += p[0] / face.NumLandmarks
		cy += p[1] / face.NumLandmarks
	}
	b := f.Box
	if cx < b[0] || cx > b[0]+b[2] || cy < b[1] || cy > b[1]+b[3] {
		t.Errorf("face at %.1f s: landmarks centred at %.0f,%.0f, outside its box %v", f.T, cx, cy, b)
	}
}

// TestHeadPoseFollowsRotation rotates a face in the picture plane by up
// to 15° either way and checks that the main face's measured roll
// follows the rotation within 3°.
func TestHeadPoseFollowsRotation(t *testing.T) {
	needFFmpeg(t)
	if !modelsInstalled(t) {
		t.Skip("face models not installed (emer models install)")
	}
	// sample1.jpg's middle face is at about (931, 535): a 640×360 window
	// centred on it, turned about its centre by 15°·sin(2πt/4).
	const amplitude = 15.0
	// The clip's frame rate is the analysis's, so that each frame analysed
	// is the picture of its time.
	clip := build(t, "roll.mp4", "-loop", "1", "-framerate", "4", "-i", shared(t, "sample1.jpg"), "-t", "4",
		"-vf", "crop=1280:720:291:175,scale=640:360,rotate='15*PI/180*sin(2*PI*t/4)'", "-pix_fmt", "yuv420p")
	c, err := Analyze(context.Background(), clip, Options{FPS: 4})
	if err != nil {
		t.Fatal(err)
	}
	v := c.Visual
	if !v.Present || len(v.HeadPose) < 14 {
		t.Fatalf("visual: present %v, %d head poses of %d frames (%s)", v.Present, len(v.HeadPose), v.FramesAnalyzed, v.Reason)
	}
	roll0 := v.HeadPose[0].Roll
	worst := 0.0
	for _, p := range v.HeadPose {
		// ffmpeg's rotate turns the picture clockwise for a positive
		// angle, which is a positive roll.
		want := amplitude * math.Sin(2*math.Pi*p.T/4)
		d := p.Roll - roll0 - want
		worst = max(worst, math.Abs(d))
		if math.Abs(d) > 3 {
			t.Errorf("at %.2f s roll %+.1f° from the first frame's, the picture turned %+.1f°", p.T, p.Roll-roll0, want)
		}
	}
	t.Logf("%d frames: roll within %.1f° of the rotation", len(v.HeadPose), worst)
}
