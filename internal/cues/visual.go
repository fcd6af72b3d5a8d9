package cues

import (
	"context"
	"errors"
	"fmt"

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

func analyzeVisual(ctx context.Context, clip string, info *media.Info, opts Options) (Visual, []string) {
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
		if errors.Is(err, models.ErrNotInstalled) {
			return absent("face models are not installed: run `emer models install`")
		}
		return absent("face models could not be loaded: " + err.Error())
	}

	// Decoding and face analysis overlap: ffmpeg fills the next frame
	// while the current one is analysed.
	frames := make(chan media.Frame, 1)
	type result struct {
		ff  []face.FrameFaces
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for f := range frames {
			if r.err != nil {
				continue
			}
			faces, err := an.Faces(&face.RGB{W: f.Width, H: f.Height, Pix: f.Pix})
			if err != nil {
				r.err = fmt.Errorf("frame at %.2f s: %w", f.Time, err)
				continue
			}
			r.ff = append(r.ff, face.FrameFaces{T: f.Time, Faces: faces})
		}
		done <- r
	}()
	decErr := media.Frames(ctx, clip, media.FrameOptions{Rate: opts.FPS}, func(f media.Frame) error {
		select {
		case frames <- f:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(frames)
	res := <-done
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
	v.Summary = face.Summarize(tracks[main], 1/opts.FPS)
	return v, warn
}
