package face

import (
	"math"
	"sort"
)

// FrameFaces are the faces found in one video frame at time T seconds.
type FrameFaces struct {
	T     float64
	Faces []Face
}

// TrackPoint is a track's face in one frame: the face itself, the time of
// its frame, and where it came from, so that measures taken per frame and
// face (landmarks, action units) attach to the track by index rather than
// by matching times or boxes.
type TrackPoint struct {
	T float64
	// FrameIndex is the frame's index in the frames given to LinkTracks.
	FrameIndex int
	// FaceIndex is the face's index in that frame's Faces.
	FaceIndex int
	Face
}

// Track is one face followed across frames.
type Track struct {
	ID       int          `json:"id"`
	Points   []TrackPoint `json:"-"`        // in frame order
	Start    float64      `json:"start_s"`  // time of the first point
	End      float64      `json:"end_s"`    // time of the last point
	Frames   int          `json:"frames"`   // points in the track
	Presence float64      `json:"presence"` // Frames over the frames analysed
	MeanArea float64      `json:"mean_area"`
	Main     bool         `json:"main"` // chosen by MainTrack
}

// TrackOptions tune LinkTracks; zero values mean the defaults.
type TrackOptions struct {
	// MinIoU is the least overlap with a track's last box for a face to
	// continue it (default 0.3).
	MinIoU float64
	// MaxGap is how many frames in a row a track may miss and still be
	// continued (default 2).
	MaxGap int
}

// LinkTracks links the faces of consecutive frames into tracks: each face
// continues the open track whose last box it overlaps most (greedily, best
// overlap first), or starts a new one. Frames must be in time order.
// Tracks are returned in order of first appearance, IDs from 1.
func LinkTracks(frames []FrameFaces, opts TrackOptions) []Track {
	if opts.MinIoU <= 0 {
		opts.MinIoU = 0.3
	}
	if opts.MaxGap <= 0 {
		opts.MaxGap = 2
	}
	var tracks []*Track
	lastSeen := map[*Track]int{}
	for fi, fr := range frames {
		type pair struct {
			t   *Track
			f   int
			iou float64
		}
		var pairs []pair
		for _, t := range tracks {
			if fi-lastSeen[t] > opts.MaxGap+1 {
				continue
			}
			last := t.Points[len(t.Points)-1].Box
			for j, f := range fr.Faces {
				if iou := IoU(last, f.Box); iou >= opts.MinIoU {
					pairs = append(pairs, pair{t, j, iou})
				}
			}
		}
		sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].iou > pairs[b].iou })
		usedFace := make([]bool, len(fr.Faces))
		usedTrack := map[*Track]bool{}
		for _, p := range pairs {
			if usedFace[p.f] || usedTrack[p.t] {
				continue
			}
			usedFace[p.f], usedTrack[p.t] = true, true
			p.t.Points = append(p.t.Points, TrackPoint{T: fr.T, FrameIndex: fi, FaceIndex: p.f, Face: fr.Faces[p.f]})
			lastSeen[p.t] = fi
		}
		for j, f := range fr.Faces {
			if usedFace[j] {
				continue
			}
			t := &Track{ID: len(tracks) + 1, Points: []TrackPoint{{T: fr.T, FrameIndex: fi, FaceIndex: j, Face: f}}}
			tracks = append(tracks, t)
			lastSeen[t] = fi
		}
	}
	out := make([]Track, len(tracks))
	for i, t := range tracks {
		t.Frames = len(t.Points)
		t.Start, t.End = t.Points[0].T, t.Points[len(t.Points)-1].T
		if len(frames) > 0 {
			t.Presence = float64(t.Frames) / float64(len(frames))
		}
		for _, p := range t.Points {
			t.MeanArea += p.Box.Area()
		}
		t.MeanArea /= float64(t.Frames)
		out[i] = *t
	}
	return out
}

// MainTrack picks the main face, the one both largest and most present:
// the track with the greatest box area summed over the frames, which is
// its mean area times its presence. It marks that track Main and returns
// its index, or -1 when there are no tracks.
func MainTrack(tracks []Track) int {
	best, bestScore := -1, 0.0
	for i, t := range tracks {
		if s := t.MeanArea * float64(t.Frames); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best >= 0 {
		tracks[best].Main = true
	}
	return best
}

// Segment is a stretch of time over which one expression dominates a
// track.
type Segment struct {
	Expression string  `json:"expression"`
	Start      float64 `json:"start_s"`
	End        float64 `json:"end_s"`
	MeanProb   float64 `json:"mean_prob"` // mean probability of Expression over the stretch
	Frames     int     `json:"frames"`
}

// Summarize splits a track into segments of constant dominant expression,
// in time order. A segment runs from its first frame to the next segment's
// first frame; the last one ends step seconds (the frame interval) after
// its last frame. A one-frame change between two segments of the same
// expression is absorbed into them, so a single odd frame does not split
// a stretch.
func Summarize(t Track, step float64) []Segment {
	n := len(t.Points)
	if n == 0 {
		return nil
	}
	dom := make([]int, n)
	for i, p := range t.Points {
		dom[i], _ = p.Expressions.Dominant()
	}
	for i := 1; i+1 < n; i++ {
		if dom[i] != dom[i-1] && dom[i-1] == dom[i+1] {
			dom[i] = dom[i-1]
		}
	}
	var segs []Segment
	var sum float64
	for i := 0; i < n; i++ {
		if i == 0 || dom[i] != dom[i-1] {
			if len(segs) > 0 {
				last := &segs[len(segs)-1]
				last.End = t.Points[i].T
				last.MeanProb = sum / float64(last.Frames)
			}
			segs = append(segs, Segment{Expression: Expressions[dom[i]], Start: t.Points[i].T})
			sum = 0
		}
		last := &segs[len(segs)-1]
		last.Frames++
		sum += float64(t.Points[i].Expressions[dom[i]])
	}
	last := &segs[len(segs)-1]
	last.End = t.Points[n-1].T + math.Max(step, 0)
	last.MeanProb = sum / float64(last.Frames)
	return segs
}
