package face

import (
	"fmt"
	"sync"
)

// ClipPolicy bounds the SSD passes the auto detector spends on one video
// clip (see Analyzer.Clip). It counts misses: frames in which the tiny
// detector finds no face, the only frames SSD may run on.
//
//   - While SSD has found no face in the clip, it runs on at most Probes
//     misses, spread out: after each failure it skips Rest misses, twice
//     as many after each further failure. A clip without a face costs at
//     most Probes SSD frames, whatever its length.
//   - Once SSD has found faces the tiny detector missed (a close-up), it
//     runs on every miss, until it fails on Streak misses in a row; it
//     then skips Rest misses, twice as many after each further failure,
//     until it finds faces again, which starts the count afresh. After
//     SSD's last success, n more misses cost at most
//     Streak + log2(n/Rest + 1) + 1 SSD frames.
//
// A frame SSD runs on takes one or two passes of the network: at full
// size, then zoomed out where the first finds nothing (DetectorAuto).
// Zero fields take DefaultClipPolicy's values.
type ClipPolicy struct {
	Probes int // SSD frames at most while SSD has found no face in the clip
	Streak int // SSD failures in a row, once it has found faces, before it rests
	Rest   int // misses skipped after the first failure that rests SSD
}

// DefaultClipPolicy is the policy of a Clip made with a zero ClipPolicy.
// A clip without faces gets SSD on its frames 0, 4, 11 and 24, spread
// over its first 12 seconds at media.DefaultRate (two frames a second).
var DefaultClipPolicy = ClipPolicy{Probes: 4, Streak: 3, Rest: 3}

func (p ClipPolicy) withDefaults() ClipPolicy {
	if p.Probes <= 0 {
		p.Probes = DefaultClipPolicy.Probes
	}
	if p.Streak <= 0 {
		p.Streak = DefaultClipPolicy.Streak
	}
	if p.Rest <= 0 {
		p.Rest = DefaultClipPolicy.Rest
	}
	return p
}

// maxRest bounds the doubling rest, which would overflow on a clip of
// billions of frames.
const maxRest = 1 << 30

// ClipStats count what a Clip has done so far.
type ClipStats struct {
	Frames int `json:"frames"` // frames analysed
	// TinyMisses are the frames the tiny detector ran on and found no face
	// in (0 with the ssd detector, which runs alone).
	TinyMisses int `json:"tiny_misses"`
	SSDFrames  int `json:"ssd_frames"`  // frames SSD ran on
	SSDPasses  int `json:"ssd_passes"`  // SSD network runs: one or two a frame
	SSDFound   int `json:"ssd_found"`   // frames SSD ran on and found faces in
	Skipped    int `json:"ssd_skipped"` // misses the policy kept SSD off
}

// Clip finds the faces of one video clip frame by frame with an
// Analyzer's networks. With the auto detector it runs the tiny detector
// on every frame, and SSD (at full size, then zoomed out) only on the
// frames the tiny detector finds nothing in, as far as its ClipPolicy
// allows; with tiny or ssd it runs that detector alone, as Analyzer.Faces
// does. Photos, which have no neighbouring frames to learn from, go
// through Analyzer.Faces, which tries SSD on every image the tiny
// detector finds nothing in.
//
// Measured in TestClipVideo on six clips that zoom in on a face of each
// sample photo until it overfills the frame (16 frames each), the tiny
// detector alone finds the face in 60 of the 96 frames and a Clip in 94,
// as many as SSD on every frame the tiny detector misses, with SSD on
// those 35 frames only; a 15 s test pattern without faces (30 frames)
// costs 4 SSD frames, 8 passes, where SSD on every miss would take 60
// passes; faces at normal size cost none.
//
// A Clip is safe for concurrent use. Its decisions follow the order in
// which the tiny detector's results and SSD's come in, so frames analysed
// at once may be decided in another order than one by one; the bounds of
// ClipPolicy hold either way, as a frame is counted against them when SSD
// starts on it.
type Clip struct {
	a      *Analyzer
	policy ClipPolicy

	// tiny and ssd run the detectors: a's networks, or a test's stand-ins.
	tiny func(img *RGB) ([]Detection, error)
	ssd  func(img *RGB, zoomedOut bool) ([]Detection, error)

	mu     sync.Mutex
	budget ssdBudget
	stats  ClipStats
}

// Clip returns a Clip for one video clip, with policy p (zero fields take
// DefaultClipPolicy's values).
func (a *Analyzer) Clip(p ClipPolicy) *Clip {
	p = p.withDefaults()
	c := &Clip{a: a, policy: p, budget: ssdBudget{p: p, rest: p.Rest}}
	if a.Detector != nil {
		c.tiny = func(img *RGB) ([]Detection, error) { return a.Detector.Detect(img, a.Options) }
	}
	if a.SSD != nil {
		minConf := a.Options.withDefaults().ScoreThreshold
		c.ssd = func(img *RGB, zoomedOut bool) ([]Detection, error) {
			if zoomedOut {
				return a.SSD.DetectZoomedOut(img, minConf)
			}
			return a.SSD.Detect(img, minConf)
		}
	}
	return c
}

// Policy returns the clip's policy, defaults filled in.
func (c *Clip) Policy() ClipPolicy { return c.policy }

// Stats returns the counts so far.
func (c *Clip) Stats() ClipStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Faces detects the faces in img, the clip's next frame, and reads them
// as Analyzer.Faces does.
func (c *Clip) Faces(img *RGB) ([]Face, error) {
	dets, err := c.detect(img)
	if err != nil {
		return nil, err
	}
	return c.a.faces(img, dets)
}

// detect finds the faces of img with the detector the analyzer's options
// name, SSD under the clip's policy for auto.
func (c *Clip) detect(img *RGB) ([]Detection, error) {
	c.count(func(s *ClipStats) { s.Frames++ })
	switch c.a.Options.Detector {
	case DetectorTiny:
		if c.tiny == nil {
			return nil, fmt.Errorf("%w: tiny", errNoDetector)
		}
		dets, err := c.tiny(img)
		if err == nil && len(dets) == 0 {
			c.count(func(s *ClipStats) { s.TinyMisses++ })
		}
		return dets, err
	case DetectorSSD:
		if c.ssd == nil {
			return nil, fmt.Errorf("%w: ssd", errNoDetector)
		}
		c.count(func(s *ClipStats) { s.SSDFrames++; s.SSDPasses++ })
		dets, err := c.ssd(img, false)
		if err == nil && len(dets) > 0 {
			c.count(func(s *ClipStats) { s.SSDFound++ })
		}
		return dets, err
	}
	if c.tiny == nil || c.ssd == nil {
		// Auto with one detector is that detector, as Analyzer.detect
		// runs it.
		return c.a.detect(img)
	}
	dets, err := c.tiny(img)
	if err != nil || len(dets) > 0 {
		return dets, err
	}
	c.mu.Lock()
	c.stats.TinyMisses++
	try := c.budget.miss()
	if try {
		c.stats.SSDFrames++
	} else {
		c.stats.Skipped++
	}
	c.mu.Unlock()
	if !try {
		return nil, nil
	}
	passes := 1
	dets, err = c.ssd(img, false)
	if err == nil && len(dets) == 0 {
		passes++
		dets, err = c.ssd(img, true)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.SSDPasses += passes
	if err != nil {
		return nil, err
	}
	if len(dets) > 0 {
		c.stats.SSDFound++
	}
	c.budget.result(len(dets) > 0)
	return dets, nil
}

func (c *Clip) count(f func(*ClipStats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// ssdBudget decides, miss by miss, whether SSD runs, as ClipPolicy
// describes.
type ssdBudget struct {
	p      ClipPolicy
	found  bool // SSD has found faces in the clip
	probes int  // SSD frames started while !found
	fails  int  // SSD failures in a row
	skip   int  // misses still to skip
	rest   int  // the next rest, in misses
}

// miss reports whether SSD runs on a frame the tiny detector found no
// face in, counting that frame.
func (b *ssdBudget) miss() bool {
	if !b.found && b.probes >= b.p.Probes {
		return false
	}
	if b.skip > 0 {
		b.skip--
		return false
	}
	if !b.found {
		b.probes++
	}
	return true
}

// result records whether SSD found faces in a frame miss let it run on.
func (b *ssdBudget) result(found bool) {
	if found {
		b.found, b.fails, b.skip, b.rest = true, 0, 0, b.p.Rest
		return
	}
	b.fails++
	if !b.found || b.fails >= b.p.Streak {
		b.skip = b.rest
		b.rest = min(2*b.rest, maxRest)
	}
}
