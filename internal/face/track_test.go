package face

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func probs(dominant int, p float32) Probs {
	var pr Probs
	rest := (1 - p) / 6
	for i := range pr {
		pr[i] = rest
	}
	pr[dominant] = p
	return pr
}

func TestLinkTracks(t *testing.T) {
	// A large face drifting right in every frame, a small one that leaves
	// after two frames, and one that appears late.
	var frames []FrameFaces
	for i := 0; i < 6; i++ {
		fr := FrameFaces{T: float64(i) * 0.5}
		fr.Faces = append(fr.Faces, Face{Box: Box{X: 100 + 5*float64(i), Y: 100, W: 200, H: 200}, Score: 0.9})
		if i < 2 {
			fr.Faces = append(fr.Faces, Face{Box: Box{X: 600, Y: 100, W: 80, H: 80}, Score: 0.7})
		}
		if i >= 4 {
			fr.Faces = append([]Face{{Box: Box{X: 900, Y: 300, W: 100, H: 100}, Score: 0.8}}, fr.Faces...)
		}
		frames = append(frames, fr)
	}
	tracks := LinkTracks(frames, TrackOptions{})
	if len(tracks) != 3 {
		t.Fatalf("got %d tracks, want 3: %+v", len(tracks), tracks)
	}
	want := []struct {
		frames     int
		start, end float64
	}{{6, 0, 2.5}, {2, 0, 0.5}, {2, 2, 2.5}}
	for i, w := range want {
		tr := tracks[i]
		if tr.ID != i+1 || tr.Frames != w.frames || tr.Start != w.start || tr.End != w.end {
			t.Errorf("track %d: id %d, %d frames %.1f-%.1f; want %d frames %.1f-%.1f", i, tr.ID, tr.Frames, tr.Start, tr.End, w.frames, w.start, w.end)
		}
	}
	if main := MainTrack(tracks); main != 0 || !tracks[0].Main || tracks[1].Main {
		t.Errorf("main track %d, want 0", main)
	}
	if math.Abs(tracks[0].Presence-1) > 1e-9 || math.Abs(tracks[1].Presence-1.0/3) > 1e-9 {
		t.Errorf("presence %.3f and %.3f, want 1 and 1/3", tracks[0].Presence, tracks[1].Presence)
	}
	if MainTrack(nil) != -1 {
		t.Error("a main track among none")
	}
}

// TestLinkTracksIndices checks that each track point names the frame and
// the face within that frame it came from, with the frame's time, however
// the faces of a frame are ordered and however many frames a track skips.
func TestLinkTracksIndices(t *testing.T) {
	big := func(i int) Face { return Face{Box: Box{X: 100 + 5*float64(i), Y: 100, W: 200, H: 200}} }
	small := Face{Box: Box{X: 600, Y: 100, W: 80, H: 80}}
	late := Face{Box: Box{X: 900, Y: 300, W: 100, H: 100}}
	same := Face{Box: Box{X: 10, Y: 10, W: 50, H: 50}}
	type ref struct {
		T            float64
		Frame, Index int
	}
	tests := []struct {
		name   string
		frames []FrameFaces
		want   [][]ref // per track, its points
	}{
		{
			name: "faces reordered within frames",
			frames: []FrameFaces{
				{T: 0, Faces: []Face{big(0), small}},
				{T: 0.5, Faces: []Face{small, big(1)}},
				{T: 1, Faces: []Face{late, big(2)}},
			},
			want: [][]ref{
				{{0, 0, 0}, {0.5, 1, 1}, {1, 2, 1}},
				{{0, 0, 1}, {0.5, 1, 0}},
				{{1, 2, 0}},
			},
		},
		{
			name: "a gap of empty frames",
			frames: []FrameFaces{
				{T: 0, Faces: []Face{big(0)}}, {T: 0.5}, {T: 1}, {T: 1.5, Faces: []Face{late, big(1)}},
			},
			want: [][]ref{{{0, 0, 0}, {1.5, 3, 1}}, {{1.5, 3, 0}}},
		},
		{
			name: "two faces with the same box in one frame",
			frames: []FrameFaces{
				{T: 0, Faces: []Face{same, same}},
				{T: 0.5, Faces: []Face{same}},
			},
			want: [][]ref{{{0, 0, 0}, {0.5, 1, 0}}, {{0, 0, 1}}},
		},
		{
			name:   "frames at the same time",
			frames: []FrameFaces{{T: 2, Faces: []Face{same}}, {T: 2, Faces: []Face{same}}},
			want:   [][]ref{{{2, 0, 0}, {2, 1, 0}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]ref
			for _, tr := range LinkTracks(tt.frames, TrackOptions{}) {
				var pts []ref
				for _, p := range tr.Points {
					if f := tt.frames[p.FrameIndex].Faces[p.FaceIndex]; f != p.Face {
						t.Errorf("track %d: point at frame %d, face %d holds %+v, the frame has %+v there", tr.ID, p.FrameIndex, p.FaceIndex, p.Face, f)
					}
					pts = append(pts, ref{p.T, p.FrameIndex, p.FaceIndex})
				}
				got = append(got, pts)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("track points (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLinkTracksGap(t *testing.T) {
	box := Box{X: 10, Y: 10, W: 50, H: 50}
	frames := []FrameFaces{{T: 0, Faces: []Face{{Box: box}}}, {T: 1}, {T: 2}, {T: 3, Faces: []Face{{Box: box}}}, {T: 4}, {T: 5}, {T: 6}, {T: 7, Faces: []Face{{Box: box}}}}
	tracks := LinkTracks(frames, TrackOptions{MaxGap: 2})
	if len(tracks) != 2 || tracks[0].Frames != 2 || tracks[1].Start != 7 {
		t.Errorf("got %+v; want a 2-frame track bridging a 2-frame gap, then a new one at 7 s", tracks)
	}
}

func TestSummarize(t *testing.T) {
	seq := []struct {
		dom int
		p   float32
	}{{1, 0.9}, {1, 0.7}, {0, 0.6}, {1, 0.8}, {2, 0.5}, {2, 0.7}, {2, 0.9}}
	var tr Track
	for i, s := range seq {
		tr.Points = append(tr.Points, TrackPoint{T: float64(i) * 0.5, Face: Face{Expressions: probs(s.dom, s.p)}})
	}
	got := Summarize(tr, 0.5)
	want := []Segment{
		{Expression: "happy", Start: 0, End: 2, Frames: 4, MeanProb: (0.9 + 0.7 + float64(probs(0, 0.6)[1]) + 0.8) / 4},
		{Expression: "sad", Start: 2, End: 3.5, Frames: 3, MeanProb: 0.7},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Expression != w.Expression || g.Start != w.Start || g.End != w.End || g.Frames != w.Frames || math.Abs(g.MeanProb-w.MeanProb) > 1e-6 {
			t.Errorf("segment %d: %+v, want %+v", i, g, w)
		}
	}
	if Summarize(Track{}, 0.5) != nil {
		t.Error("segments for an empty track")
	}
}

func TestFaceJSON(t *testing.T) {
	f := Face{Box: Box{X: 1.5, Y: 2, W: 30, H: 40.25}, Score: 0.75, Expressions: probs(1, 0.5)}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"box":[1.5,2,30,40.25],"score":0.75,"expressions":{"neutral":0.083333336,"happy":0.5,"sad":0.083333336,"angry":0.083333336,"fearful":0.083333336,"disgusted":0.083333336,"surprised":0.083333336}}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	var back Face
	if err := json.Unmarshal(data, &back); err != nil || back != f {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"expressions":{"bored":1}}`), &back); err == nil {
		t.Error("an unknown expression was accepted")
	}
}
