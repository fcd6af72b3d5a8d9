package cues

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"emer/internal/actions"
	"emer/internal/face"
	"emer/internal/media"
)

// Visual is the face part: faces, their landmarks and expressions in the
// frames analysed, the tracks that link them, the main face's expressions
// over time, and the facial actions and head movements measured from the
// landmarks.
type Visual struct {
	Present        bool         `json:"present"`
	Reason         string       `json:"reason,omitempty"`
	FPS            float64      `json:"fps"`
	FramesAnalyzed int          `json:"frames_analyzed"`
	Width          int          `json:"width,omitempty"`
	Height         int          `json:"height,omitempty"`
	Faces          []Face       `json:"faces"`
	Tracks         []face.Track `json:"tracks"`
	// MainTrack is the ID of the main face's track (largest and most
	// present), 0 when there is none.
	MainTrack int `json:"main_track"`
	// Summary is the main face's dominant expression over time.
	Summary []face.Segment `json:"summary"`
	// Actions are the facial actions and head movements of every track
	// (package actions), in order of start, each naming its track; none
	// without landmarks.
	Actions []actions.Event `json:"actions"`
	// HeadPose is the main face's head pose in each frame it was measured
	// in, in degrees.
	HeadPose []actions.Pose `json:"head_pose"`
	// Peak is the main face's moment of strongest change from its neutral
	// face, when it has one.
	Peak *actions.Peak `json:"peak,omitempty"`
	// Detection says which networks found the faces and what the
	// detector did on the clip.
	Detection Detection `json:"detection"`
}

// Detection is the face networks a clip was analysed with and the
// detector's counts (face.ClipStats): with the auto detector, SSD runs
// only on frames the tiny detector finds nothing in, within a budget.
type Detection struct {
	Detector  face.DetectorModel `json:"detector"`
	Landmarks face.LandmarkModel `json:"landmarks"`
	face.ClipStats
}

// Face is one face in one frame.
type Face struct {
	T float64 `json:"t"`
	// Frame is the index of its frame among the frames analysed, from 0.
	Frame       int                `json:"frame"`
	Box         [4]float64         `json:"box"` // x, y, w, h in pixels
	Score       float64            `json:"score"`
	Expressions map[string]float64 `json:"expressions"`
	Track       int                `json:"track"` // ID of its track
	// Landmarks are the face's 68 points [x, y] in pixels to the
	// hundredth, in the iBUG 300-W layout; none without a landmark net.
	Landmarks [][2]float64 `json:"landmarks,omitempty"`
}

// maxSide bounds the longer side of the frames analysed: the detector sees
// 416×416 and faces are cut at 112×112, so larger frames only cost time
// and memory (a 7680×4320 frame is 100 MB of RGB).
const maxSide = 1280

// analyzeVisual decodes the frames of the clip and finds their faces, on
// the tokens of the CPU budget as Extractor describes.
func (e *Extractor) analyzeVisual(ctx context.Context, info *media.Info) (Visual, []string) {
	fps := e.cfg.FPS
	v := Visual{FPS: fps, Faces: []Face{}, Tracks: []face.Track{}, Summary: []face.Segment{},
		Actions: []actions.Event{}, HeadPose: []actions.Pose{},
		Detection: Detection{Detector: e.cfg.Detector, Landmarks: e.cfg.Landmarks}}
	absent := func(reason string) (Visual, []string) {
		v.Reason = reason
		return v, []string{"visual: " + reason}
	}
	if !info.HasVideo {
		return absent("the clip has no video stream")
	}
	v.Width, v.Height = info.Width, info.Height
	finder, err := e.faces()
	if err != nil {
		return absent(err.Error())
	}
	faces := finder.clip()

	// Decoding and face analysis overlap: ffmpeg decodes while the frames
	// already delivered are analysed, each on a token of the clip's
	// decoding (lent) or, when all of those are busy, on a token free in
	// the budget at the time. Frames larger than maxSide are scaled down
	// by ffmpeg; boxes and landmarks are scaled back.
	threads := e.decodeThreads()
	if err := e.tokens.Acquire(ctx, int64(threads)); err != nil {
		return absent(err.Error()) // ctx ended: Analyze fails
	}
	defer e.tokens.Release(int64(threads))
	lent := make(chan struct{}, threads)
	slot := func() (release func(), err error) {
		fromLent := func() { <-lent }
		fromBudget := func() { e.tokens.Release(1) }
		select {
		case lent <- struct{}{}:
			return fromLent, nil
		default:
		}
		if e.tokens.TryAcquire(1) {
			return fromBudget, nil
		}
		// Whichever frees first: one of the clip's own tokens, or one of
		// the budget's.
		wait, stop := context.WithCancel(ctx)
		defer stop()
		got := make(chan error, 1)
		go func() { got <- e.tokens.Acquire(wait, 1) }()
		select {
		case lent <- struct{}{}:
			stop()
			if err := <-got; err == nil {
				e.tokens.Release(1)
			}
			return fromLent, nil
		case err := <-got:
			if err != nil {
				return nil, err
			}
			return fromBudget, nil
		}
	}
	type result struct {
		ff  face.FrameFaces
		idx int
		err error
	}
	var (
		mu  sync.Mutex
		all []result
		wg  sync.WaitGroup
	)
	decErr := e.decode(ctx, info, media.FrameOptions{Rate: fps, MaxSide: maxSide, Threads: threads}, func(f media.Frame) error {
		release, err := slot()
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer release()
			found, err := faces.Faces(&face.RGB{W: f.Width, H: f.Height, Pix: f.Pix})
			if err != nil {
				err = fmt.Errorf("frame at %.2f s: %w", f.Time, err)
			}
			if f.Width > 0 && v.Width > 0 && f.Width != v.Width {
				scaleFaces(found, float64(v.Width)/float64(f.Width), float64(v.Height)/float64(f.Height))
			}
			mu.Lock()
			all = append(all, result{face.FrameFaces{T: f.Time, Faces: found}, f.Index, err})
			mu.Unlock()
		})
		return nil
	})
	wg.Wait()
	sort.Slice(all, func(i, j int) bool { return all[i].idx < all[j].idx })
	var frames []face.FrameFaces
	var faceErr error
	for _, r := range all {
		if r.err != nil && faceErr == nil {
			faceErr = r.err
		}
		frames = append(frames, r.ff)
	}
	v.FramesAnalyzed = len(frames)
	v.Detection.ClipStats = faces.Stats()
	var warn []string
	switch {
	case faceErr != nil:
		return absent("face analysis failed: " + faceErr.Error())
	case decErr != nil && v.FramesAnalyzed == 0:
		return absent("the video could not be decoded: " + decErr.Error())
	case decErr != nil:
		warn = append(warn, fmt.Sprintf("visual: decoding stopped after %d frames: %v", v.FramesAnalyzed, decErr))
	case v.FramesAnalyzed == 0:
		return absent("no video frame could be decoded")
	}

	tracks := face.LinkTracks(frames, face.TrackOptions{})
	main := face.MainTrack(tracks)
	v.Faces = listFaces(frames, tracks)
	if main < 0 {
		v.Reason = fmt.Sprintf("no face found in %d frames", v.FramesAnalyzed)
		return v, append(warn, "visual: "+v.Reason)
	}
	v.Present = true
	v.Tracks = tracks
	v.MainTrack = tracks[main].ID
	v.Summary = clampSegments(face.Summarize(tracks[main], 1/fps), info.Duration)
	warn = append(warn, measureActions(&v, tracks, main)...)
	return v, warn
}

// scaleFaces scales the boxes and landmarks of faces found in a frame
// shrunk for analysis back to the clip's pixels: x by sx, y by sy.
func scaleFaces(faces []face.Face, sx, sy float64) {
	for i := range faces {
		b := &faces[i].Box
		b.X, b.Y, b.W, b.H = b.X*sx, b.Y*sy, b.W*sx, b.H*sy
		if lm := faces[i].Landmarks; lm != nil {
			for k := range lm {
				lm[k].X *= sx
				lm[k].Y *= sy
			}
		}
	}
}

// measureActions measures the facial actions of every track with
// landmarks (package actions) into v: the events of all of them, and the
// head pose and peak of the main track, tracks[main]. A track the
// measures refuse is left out with a warning.
func measureActions(v *Visual, tracks []face.Track, main int) []string {
	var warn []string
	opts := actions.DefaultOptions()
	for i, t := range tracks {
		tr := actionTrack(t)
		if len(tr.Frames) == 0 {
			continue
		}
		res, err := actions.Analyze(tr, opts)
		if err != nil {
			warn = append(warn, fmt.Sprintf("visual: facial actions of track %d: %v", t.ID, err))
			continue
		}
		v.Actions = append(v.Actions, res.Events...)
		if i == main {
			v.HeadPose = append(v.HeadPose, res.Pose...)
			v.Peak = res.Peak
		}
	}
	slices.SortStableFunc(v.Actions, func(a, b actions.Event) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Track, b.Track))
	})
	return warn
}

// actionTrack is the track as package actions reads it: the points with
// landmarks, their boxes and expression probabilities.
func actionTrack(t face.Track) actions.Track {
	tr := actions.Track{ID: t.ID}
	for _, p := range t.Points {
		if p.Landmarks == nil {
			continue
		}
		f := actions.Frame{
			T:    p.T,
			Box:  &actions.Box{X: p.Box.X, Y: p.Box.Y, W: p.Box.W, H: p.Box.H},
			Expr: p.Expressions.Map(),
		}
		for k, q := range p.Landmarks {
			f.Points[k] = [2]float64{q.X, q.Y}
		}
		tr.Frames = append(tr.Frames, f)
	}
	return tr
}

// listFaces lists the faces of frames in order, each with the ID of its
// track, found by the frame and face indices the track points keep.
func listFaces(frames []face.FrameFaces, tracks []face.Track) []Face {
	trackOf := make([][]int, len(frames)) // frame index, face index -> track ID
	for i, fr := range frames {
		trackOf[i] = make([]int, len(fr.Faces))
	}
	for _, t := range tracks {
		for _, p := range t.Points {
			trackOf[p.FrameIndex][p.FaceIndex] = t.ID
		}
	}
	out := []Face{}
	for i, fr := range frames {
		for j, f := range fr.Faces {
			out = append(out, Face{
				T:           fr.T,
				Frame:       i,
				Box:         [4]float64{f.Box.X, f.Box.Y, f.Box.W, f.Box.H},
				Score:       f.Score,
				Expressions: f.Expressions.Map(),
				Track:       trackOf[i][j],
				Landmarks:   roundedLandmarks(f.Landmarks),
			})
		}
	}
	return out
}

// roundedLandmarks returns the points of lm to the hundredth of a pixel,
// nil for no landmarks.
func roundedLandmarks(lm *face.Landmarks) [][2]float64 {
	if lm == nil {
		return nil
	}
	out := make([][2]float64, len(lm))
	for i, p := range lm {
		out[i] = [2]float64{math.Round(p.X*100) / 100, math.Round(p.Y*100) / 100}
	}
	return out
}

// clampSegments ends segments at the clip's end, duration seconds, when it
// is known: the last segment lasts a frame interval past its last frame,
// which at a low frame rate reaches beyond the clip.
func clampSegments(segs []face.Segment, duration float64) []face.Segment {
	if duration <= 0 {
		return segs
	}
	for i := range segs {
		s := &segs[i]
		s.End = max(s.Start, min(s.End, duration))
	}
	return segs
}
