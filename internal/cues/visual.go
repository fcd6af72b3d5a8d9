package cues

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"emer/internal/face"
	"emer/internal/media"
	"emer/internal/models"
)

// Visual is the face part: faces and expressions in the frames analysed,
// the tracks that link them, and the main face's expressions over time.
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
}

// Face is one face in one frame.
type Face struct {
	T           float64            `json:"t"`
	Box         [4]float64         `json:"box"` // x, y, w, h in pixels
	Score       float64            `json:"score"`
	Expressions map[string]float64 `json:"expressions"`
	Track       int                `json:"track"` // ID of its track
}

// maxSide bounds the longer side of the frames analysed: the detector sees
// 416×416 and faces are cut at 112×112, so larger frames only cost time
// and memory (a 7680×4320 frame is 100 MB of RGB).
const maxSide = 1280

func analyzeVisual(ctx context.Context, info *media.Info, opts Options) (Visual, []string) {
	v := Visual{FPS: opts.FPS, Faces: []Face{}, Tracks: []face.Track{}, Summary: []face.Segment{}}
	absent := func(reason string) (Visual, []string) {
		v.Reason = reason
		return v, []string{"visual: " + reason}
	}
	if !info.HasVideo {
		return absent("the clip has no video stream")
	}
	v.Width, v.Height = info.Width, info.Height
	dir := opts.ModelsDir
	if dir == "" {
		d, err := models.Dir()
		if err != nil {
			return absent("no face model directory: " + err.Error())
		}
		dir = d
	}
	an, err := face.Load(dir, face.Options{})
	if err != nil {
		switch {
		case errors.Is(err, models.ErrNotInstalled):
			return absent("face models are not installed: run `emer models install`")
		case errors.Is(err, models.ErrCorrupt):
			return absent(err.Error())
		}
		return absent("face models could not be loaded: " + err.Error())
	}

	// Decoding and face analysis overlap: ffmpeg decodes while workers,
	// one per core, analyse the frames already delivered. ffmpeg gets half
	// the cores: the analysis costs more than the decoding, and more
	// decoding threads would only compete with it. Frames larger than
	// maxSide are scaled down by ffmpeg; boxes are scaled back.
	workers := max(1, runtime.GOMAXPROCS(0))
	frames := make(chan media.Frame, 1)
	type result struct {
		ff  face.FrameFaces
		idx int
		err error
	}
	results := make(chan result, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range frames {
				faces, err := an.Faces(&face.RGB{W: f.Width, H: f.Height, Pix: f.Pix})
				if err != nil {
					err = fmt.Errorf("frame at %.2f s: %w", f.Time, err)
				}
				if f.Width > 0 && v.Width > 0 && f.Width != v.Width {
					sx, sy := float64(v.Width)/float64(f.Width), float64(v.Height)/float64(f.Height)
					for i := range faces {
						b := &faces[i].Box
						b.X, b.Y, b.W, b.H = b.X*sx, b.Y*sy, b.W*sx, b.H*sy
					}
				}
				results <- result{face.FrameFaces{T: f.Time, Faces: faces}, f.Index, err}
			}
		}()
	}
	collected := make(chan []result, 1)
	go func() {
		var all []result
		for r := range results {
			all = append(all, r)
		}
		collected <- all
	}()
	decErr := info.DecodeFrames(ctx, media.FrameOptions{Rate: opts.FPS, MaxSide: maxSide, Threads: max(1, workers/2)}, func(f media.Frame) error {
		select {
		case frames <- f:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(frames)
	wg.Wait()
	close(results)
	all := <-collected
	sort.Slice(all, func(i, j int) bool { return all[i].idx < all[j].idx })
	var res struct {
		ff  []face.FrameFaces
		err error
	}
	for _, r := range all {
		if r.err != nil && res.err == nil {
			res.err = r.err
		}
		res.ff = append(res.ff, r.ff)
	}
	v.FramesAnalyzed = len(res.ff)
	var warn []string
	switch {
	case res.err != nil:
		return absent("face analysis failed: " + res.err.Error())
	case decErr != nil && v.FramesAnalyzed == 0:
		return absent("the video could not be decoded: " + decErr.Error())
	case decErr != nil:
		warn = append(warn, fmt.Sprintf("visual: decoding stopped after %d frames: %v", v.FramesAnalyzed, decErr))
	case v.FramesAnalyzed == 0:
		return absent("no video frame could be decoded")
	}

	tracks := face.LinkTracks(res.ff, face.TrackOptions{})
	main := face.MainTrack(tracks)
	trackOf := map[[2]int]int{} // (frame index, face index) -> track ID
	idx := map[float64]int{}
	for i, fr := range res.ff {
		idx[fr.T] = i
	}
	for _, t := range tracks {
		for _, p := range t.Points {
			fi := idx[p.T]
			for j, f := range res.ff[fi].Faces {
				if f.Box == p.Box {
					trackOf[[2]int{fi, j}] = t.ID
				}
			}
		}
	}
	for i, fr := range res.ff {
		for j, f := range fr.Faces {
			v.Faces = append(v.Faces, Face{
				T:           fr.T,
				Box:         [4]float64{f.Box.X, f.Box.Y, f.Box.W, f.Box.H},
				Score:       f.Score,
				Expressions: f.Expressions.Map(),
				Track:       trackOf[[2]int{i, j}],
			})
		}
	}
	if main < 0 {
		v.Reason = fmt.Sprintf("no face found in %d frames", v.FramesAnalyzed)
		return v, append(warn, "visual: "+v.Reason)
	}
	v.Present = true
	v.Tracks = tracks
	v.MainTrack = tracks[main].ID
	v.Summary = clampSegments(face.Summarize(tracks[main], 1/opts.FPS), info.Duration)
	return v, warn
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
