package face

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/media"
)

// scriptedClip is a Clip whose detectors are stand-ins: frame i of n
// (the image of width i+1) has a face for the tiny detector when tiny(i),
// for SSD at full size when full(i), for SSD zoomed out when zoomed(i). It
// records the frames SSD runs on.
type scriptedClip struct {
	*Clip
	mu          sync.Mutex
	ssdFrames   []int
	zoomedOuts  []int
	tinyFrames  int
	frameImages []*RGB
}

func newScriptedClip(a *Analyzer, p ClipPolicy, n int, tiny, full, zoomed func(int) bool) *scriptedClip {
	s := &scriptedClip{Clip: a.Clip(p)}
	for i := range n {
		s.frameImages = append(s.frameImages, &RGB{W: i + 1, H: 1})
	}
	face := []Detection{{Box: Box{X: 0, Y: 0, W: 1, H: 1}, Score: 0.9}}
	s.tiny = func(img *RGB) ([]Detection, error) {
		s.mu.Lock()
		s.tinyFrames++
		s.mu.Unlock()
		if tiny(img.W - 1) {
			return face, nil
		}
		return nil, nil
	}
	s.ssd = func(img *RGB, zoomedOut bool) ([]Detection, error) {
		i := img.W - 1
		s.mu.Lock()
		defer s.mu.Unlock()
		if zoomedOut {
			s.zoomedOuts = append(s.zoomedOuts, i)
			if zoomed(i) {
				return face, nil
			}
			return nil, nil
		}
		s.ssdFrames = append(s.ssdFrames, i)
		if full(i) {
			return face, nil
		}
		return nil, nil
	}
	return s
}

func (s *scriptedClip) run(t *testing.T) (found []int) {
	t.Helper()
	for i, img := range s.frameImages {
		dets, err := s.detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) > 0 {
			found = append(found, i)
		}
	}
	return found
}

func never(int) bool  { return false }
func always(int) bool { return true }
func from(k int) func(int) bool {
	return func(i int) bool { return i >= k }
}
func before(k int) func(int) bool {
	return func(i int) bool { return i < k }
}

// frames returns lo, lo+1, ..., hi-1.
func frames(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// evens returns the even numbers below n.
func evens(n int) []int {
	var out []int
	for i := 0; i < n; i += 2 {
		out = append(out, i)
	}
	return out
}

// TestClipPolicy runs the auto detector's clip policy on scripted clips
// and checks which frames SSD runs on, at full size and zoomed out.
func TestClipPolicy(t *testing.T) {
	auto := &Analyzer{Options: Options{Detector: DetectorAuto}}
	for _, tt := range []struct {
		name               string
		policy             ClipPolicy
		n                  int
		tiny, full, zoomed func(int) bool
		ssd, zoomedOut     []int // frames SSD runs on at full size, zoomed out
		found              []int // frames with faces
	}{
		{
			name: "face at normal size", n: 60, tiny: always, full: always, zoomed: always,
			found: frames(0, 60),
		},
		{
			name: "no face", n: 60, tiny: never, full: never, zoomed: never,
			ssd: []int{0, 4, 11, 24}, zoomedOut: []int{0, 4, 11, 24},
		},
		{
			name: "no face, policy 2 probes, rest 1", policy: ClipPolicy{Probes: 2, Rest: 1}, n: 60,
			tiny: never, full: never, zoomed: never,
			ssd: []int{0, 2}, zoomedOut: []int{0, 2},
		},
		{
			name: "close-up", n: 20, tiny: never, full: always, zoomed: never,
			ssd: frames(0, 20), found: frames(0, 20),
		},
		{
			name: "close-up filling the frame", n: 20, tiny: never, full: never, zoomed: always,
			ssd: frames(0, 20), zoomedOut: frames(0, 20), found: frames(0, 20),
		},
		{
			name: "zoom in", n: 20, tiny: before(8), full: from(8), zoomed: from(14),
			ssd: frames(8, 20), found: frames(0, 20),
		},
		{
			// SSD fails on 10, 11, 12, rests 3 misses, fails on 16, rests
			// 6, fails on 23, rests 12, fails on 36, rests 24.
			name: "close-up, then no face", n: 60, tiny: never, full: before(10), zoomed: never,
			ssd: append(frames(0, 13), 16, 23, 36), zoomedOut: []int{10, 11, 12, 16, 23, 36},
			found: frames(0, 10),
		},
		{
			// The probes at 0, 4 and 11 fail; the one at 24 finds the
			// close-up that began at 20, and SSD runs on every frame from
			// there.
			name: "no face, then close-up", n: 40, tiny: never, full: from(20), zoomed: never,
			ssd: append([]int{0, 4, 11}, frames(24, 40)...), zoomedOut: []int{0, 4, 11},
			found: frames(24, 40),
		},
		{
			name: "close-up with two frames SSD misses", n: 20, tiny: never,
			full: func(i int) bool { return i != 5 && i != 6 }, zoomed: never,
			ssd: frames(0, 20), zoomedOut: []int{5, 6}, found: slices.Concat(frames(0, 5), frames(7, 20)),
		},
		{
			// Failing on 4, 5, 6 rests SSD for 7, 8, 9; it finds the face
			// again at 10 and the count starts afresh: 14, 15, 16 fail and
			// rest it for 3 misses, not 6.
			name: "close-up, gone twice", n: 24, tiny: never,
			full: func(i int) bool { return i < 4 || (i >= 8 && i < 14) }, zoomed: never,
			ssd:       append(frames(0, 7), 10, 11, 12, 13, 14, 15, 16, 20),
			zoomedOut: []int{4, 5, 6, 14, 15, 16, 20},
			found:     append(frames(0, 4), 10, 11, 12, 13),
		},
		{
			// Frames the tiny detector finds faces in are not misses: the
			// probes go to misses 0, 4, 11, 24, which are frames 1, 9, 23,
			// 49.
			name: "tiny finds every other frame", n: 80, tiny: func(i int) bool { return i%2 == 0 }, full: never, zoomed: never,
			ssd: []int{1, 9, 23, 49}, zoomedOut: []int{1, 9, 23, 49},
			found: evens(80),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newScriptedClip(auto, tt.policy, tt.n, tt.tiny, tt.full, tt.zoomed)
			found := s.run(t)
			if diff := cmp.Diff(tt.ssd, s.ssdFrames); diff != "" {
				t.Errorf("frames SSD runs on (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.zoomedOut, s.zoomedOuts); diff != "" {
				t.Errorf("frames SSD runs on zoomed out (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.found, found); diff != "" {
				t.Errorf("frames with faces (-want +got):\n%s", diff)
			}
			misses := 0
			for i := range tt.n {
				if !tt.tiny(i) {
					misses++
				}
			}
			want := ClipStats{
				Frames:     tt.n,
				TinyMisses: misses,
				SSDFrames:  len(tt.ssd),
				SSDPasses:  len(tt.ssd) + len(tt.zoomedOut),
				SSDFound:   len(tt.found) - (tt.n - misses),
				Skipped:    misses - len(tt.ssd),
			}
			if diff := cmp.Diff(want, s.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if s.tinyFrames != tt.n {
				t.Errorf("the tiny detector ran on %d frames of %d", s.tinyFrames, tt.n)
			}
		})
	}
}

// TestClipPolicyConcurrent analyses a clip without faces from eight
// goroutines: however the frames interleave, SSD runs on at most Probes
// of them, and every miss is counted once.
func TestClipPolicyConcurrent(t *testing.T) {
	auto := &Analyzer{Options: Options{Detector: DetectorAuto}}
	const n = 400
	s := newScriptedClip(auto, ClipPolicy{}, n, never, never, never)
	var wg sync.WaitGroup
	next := make(chan *RGB)
	for range 8 {
		wg.Go(func() {
			for img := range next {
				if _, err := s.detect(img); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, img := range s.frameImages {
		next <- img
	}
	close(next)
	wg.Wait()
	st := s.Stats()
	if st.SSDFrames > DefaultClipPolicy.Probes || st.SSDFrames == 0 {
		t.Errorf("SSD ran on %d frames, want 1 to %d", st.SSDFrames, DefaultClipPolicy.Probes)
	}
	if st.Frames != n || st.TinyMisses != n || st.SSDFrames+st.Skipped != n || st.SSDPasses != 2*st.SSDFrames {
		t.Errorf("stats %+v for %d frames without faces", st, n)
	}
}

// TestClipDetectors checks the tiny and ssd detectors, which a Clip runs
// alone on every frame, missing detectors, and detector errors.
func TestClipDetectors(t *testing.T) {
	broken := errors.New("broken network")
	t.Run("tiny", func(t *testing.T) {
		s := newScriptedClip(&Analyzer{Options: Options{Detector: DetectorTiny}}, ClipPolicy{}, 10, before(4), always, always)
		if diff := cmp.Diff(frames(0, 4), s.run(t)); diff != "" {
			t.Errorf("frames with faces (-want +got):\n%s", diff)
		}
		if len(s.ssdFrames) != 0 || s.Stats() != (ClipStats{Frames: 10, TinyMisses: 6}) {
			t.Errorf("SSD ran on %v; stats %+v", s.ssdFrames, s.Stats())
		}
	})
	t.Run("ssd", func(t *testing.T) {
		s := newScriptedClip(&Analyzer{Options: Options{Detector: DetectorSSD}}, ClipPolicy{}, 10, always, from(3), always)
		if diff := cmp.Diff(frames(3, 10), s.run(t)); diff != "" {
			t.Errorf("frames with faces (-want +got):\n%s", diff)
		}
		if s.tinyFrames != 0 || len(s.zoomedOuts) != 0 || s.Stats() != (ClipStats{Frames: 10, SSDFrames: 10, SSDPasses: 10, SSDFound: 7}) {
			t.Errorf("tiny ran on %d frames, SSD zoomed out on %v; stats %+v", s.tinyFrames, s.zoomedOuts, s.Stats())
		}
	})
	img := &RGB{W: 8, H: 8, Pix: make([]byte, 8*8*3)}
	for _, tt := range []struct {
		name string
		a    *Analyzer
	}{
		{"tiny without the tiny detector", &Analyzer{Options: Options{Detector: DetectorTiny}}},
		{"ssd without SSD", &Analyzer{Options: Options{Detector: DetectorSSD}}},
		{"auto without detectors", &Analyzer{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.a.Clip(ClipPolicy{}).Faces(img); !errors.Is(err, errNoDetector) {
				t.Errorf("got %v, want errNoDetector", err)
			}
		})
	}
	t.Run("SSD fails", func(t *testing.T) {
		s := newScriptedClip(&Analyzer{}, ClipPolicy{}, 1, never, never, never)
		s.ssd = func(*RGB, bool) ([]Detection, error) { return nil, broken }
		if _, err := s.detect(s.frameImages[0]); !errors.Is(err, broken) {
			t.Errorf("got %v, want the network's error", err)
		}
		if st := s.Stats(); st != (ClipStats{Frames: 1, TinyMisses: 1, SSDFrames: 1, SSDPasses: 1}) {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("tiny fails", func(t *testing.T) {
		s := newScriptedClip(&Analyzer{}, ClipPolicy{}, 1, never, always, always)
		s.tiny = func(*RGB) ([]Detection, error) { return nil, broken }
		if _, err := s.detect(s.frameImages[0]); !errors.Is(err, broken) || len(s.ssdFrames) != 0 {
			t.Errorf("got %v with SSD on %v, want the network's error and no SSD", err, s.ssdFrames)
		}
	})
}

// zoomClip is a clip made from a sample photo that zooms in on one face
// until the face overfills the frame, with the face's place in each
// frame.
type zoomClip struct {
	path string
	// face returns the face's boxes (the tiny detector's and SSD's on the
	// photo) in the frame at t seconds, clipped to the frame.
	face func(t float64) [2]Box
}

// Zoom clips are 16:9 at 2 frames a second: the face's SSD box (brow to
// chin) is 28 % of the frame's height in the first frame and 1.6 times it
// in the last, where the eyes and mouth fill the frame.
const (
	zoomFirst       = 0.28
	zoomLast        = 1.6
	zoomFrameRateHz = 2
)

// makeZoomClip makes the zoom clip of sample photo k in dir, n frames of
// zoomW×zoomH, on the face both detectors find there (boxes overlapping
// by IoU 0.3 or more) that sits closest to the middle of its 16:9 region
// of the photo.
func makeZoomClip(t testing.TB, det *Detector, ssd *SSD, k int, dir string, n, zoomW, zoomH int) zoomClip {
	t.Helper()
	photo := mediaPath(t, fmt.Sprintf("sample%d.jpg", k))
	img, err := DecodeFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	tiny, err := det.Detect(img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ssdDets, err := ssd.Detect(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	type region struct {
		tiny, ssd    Box
		x, y, w, h   int
		offCentre    float64
		faceX, faceY float64 // the face's centre in the region
	}
	var best *region
	for _, d := range tiny {
		j := slices.IndexFunc(ssdDets, func(e Detection) bool { return IoU(d.Box, e.Box) >= 0.3 })
		if j < 0 {
			continue
		}
		s := ssdDets[j].Box
		h := int(s.H / zoomFirst)
		w := h * zoomW / zoomH
		if w > img.W {
			w, h = img.W, img.W*zoomH/zoomW
		}
		w, h = w&^1, h&^1
		cx, cy := s.X+s.W/2, s.Y+s.H/2
		x := int(math.Max(0, math.Min(cx-float64(w)/2, float64(img.W-w))))
		y := int(math.Max(0, math.Min(cy-float64(h)/2, float64(img.H-h))))
		r := region{tiny: d.Box, ssd: s, x: x, y: y, w: w, h: h, faceX: cx - float64(x), faceY: cy - float64(y)}
		r.offCentre = math.Hypot(r.faceX-float64(w)/2, r.faceY-float64(h)/2)
		if best == nil || r.offCentre < best.offCentre {
			best = &r
		}
	}
	if best == nil {
		t.Fatalf("sample%d.jpg: no face both detectors find", k)
	}
	r := *best
	zEnd := zoomLast * float64(r.h) / r.ssd.H
	// zoompan shows the region's part iw/zoom × ih/zoom at x, y; the
	// expressions keep the face in the middle as far as the region allows.
	vf := fmt.Sprintf("crop=%d:%d:%d:%d,zoompan=z='1+%g*on/%d':d=%d"+
		":x='max(0,min(%g-iw/zoom/2,iw-iw/zoom))':y='max(0,min(%g-ih/zoom/2,ih-ih/zoom))':s=%dx%d:fps=%d",
		r.w, r.h, r.x, r.y, zEnd-1, n-1, n, r.faceX, r.faceY, zoomW, zoomH, zoomFrameRateHz)
	path := buildClip(t, dir, fmt.Sprintf("zoom%d-%d-%d.mp4", k, n, zoomW), "-i", photo, "-vf", vf)
	return zoomClip{path: path, face: func(ts float64) [2]Box {
		z := 1 + (zEnd-1)*math.Round(ts*zoomFrameRateHz)/float64(n-1)
		vw, vh := float64(r.w)/z, float64(r.h)/z
		x := math.Max(0, math.Min(r.faceX-vw/2, float64(r.w)-vw))
		y := math.Max(0, math.Min(r.faceY-vh/2, float64(r.h)-vh))
		k := float64(zoomW) / vw
		inFrame := func(b Box) Box {
			x0 := math.Max(0, (b.X-float64(r.x)-x)*k)
			y0 := math.Max(0, (b.Y-float64(r.y)-y)*k)
			x1 := math.Min(float64(zoomW), (b.Right()-float64(r.x)-x)*k)
			y1 := math.Min(float64(zoomH), (b.Bottom()-float64(r.y)-y)*k)
			return Box{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
		}
		return [2]Box{inFrame(r.tiny), inFrame(r.ssd)}
	}}
}

// decodeClip decodes every frame of a clip at 2 frames a second.
func decodeClip(t testing.TB, path string) ([]*RGB, []float64) {
	t.Helper()
	var imgs []*RGB
	var times []float64
	err := media.Frames(context.Background(), path, media.FrameOptions{Rate: 2}, func(f media.Frame) error {
		imgs = append(imgs, &RGB{W: f.Width, H: f.Height, Pix: f.Pix})
		times = append(times, f.Time)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return imgs, times
}

// memoDetectors runs the networks of a Clip once per image and pass and
// replays their results, so that the same frames can go through several
// strategies at the cost of one.
type memoDetectors struct {
	tiny, ssd func(img *RGB, zoomedOut bool) ([]Detection, error)
	memo      map[memoKey][]Detection
}

type memoKey struct {
	img  *RGB
	pass int // 0 tiny, 1 SSD, 2 SSD zoomed out
}

func (m *memoDetectors) run(img *RGB, pass int) ([]Detection, error) {
	if d, ok := m.memo[memoKey{img, pass}]; ok {
		return d, nil
	}
	var d []Detection
	var err error
	if pass == 0 {
		d, err = m.tiny(img, false)
	} else {
		d, err = m.ssd(img, pass == 2)
	}
	if err == nil {
		m.memo[memoKey{img, pass}] = d
	}
	return d, err
}

// TestClipVideo runs the auto detector's clip policy on three kinds of
// clip made with ffmpeg and counts the SSD frames: a clip with faces at
// normal size needs none, a clip without a face gets the policy's probes,
// and clips that zoom in until a face overfills the frame get SSD on every
// frame the tiny detector misses, finding the face in as many frames as
// SSD on every such frame does.
func TestClipVideo(t *testing.T) {
	det, expr := nets(t)
	_, _, ssd := moreNets(t)
	a := &Analyzer{Detector: det, SSD: ssd, Expressions: expr, Options: Options{Detector: DetectorAuto}}
	photo := mediaPath(t, "sample6.jpg")
	dir := t.TempDir()

	t.Run("faces at normal size", func(t *testing.T) {
		clip := buildClip(t, dir, "faces.mp4", "-loop", "1", "-framerate", "25", "-i", photo, "-t", "5",
			"-vf", "scale=640:-2,crop=640:360")
		c := a.Clip(ClipPolicy{})
		imgs, _ := decodeClip(t, clip)
		for i, img := range imgs {
			faces, err := c.Faces(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) == 0 {
				t.Errorf("frame %d: no face", i)
			}
		}
		if st := c.Stats(); st != (ClipStats{Frames: len(imgs)}) || len(imgs) != 10 {
			t.Errorf("%d frames: stats %+v, want no miss and no SSD", len(imgs), st)
		}
	})
	t.Run("no face", func(t *testing.T) {
		clip := buildClip(t, dir, "noface.mp4", "-f", "lavfi", "-i", "smptebars=s=1280x720:r=25:d=15")
		c := a.Clip(ClipPolicy{})
		imgs, _ := decodeClip(t, clip)
		for i, img := range imgs {
			faces, err := c.Faces(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) != 0 {
				t.Errorf("frame %d: %d faces in a test pattern", i, len(faces))
			}
		}
		want := ClipStats{Frames: 30, TinyMisses: 30, SSDFrames: 4, SSDPasses: 8, Skipped: 26}
		if diff := cmp.Diff(want, c.Stats()); diff != "" {
			t.Errorf("stats (-want +got):\n%s", diff)
		}
	})
	t.Run("zoom to close-up", func(t *testing.T) {
		var total, tinyHits, autoHits, clipHits, misses int
		const n = 16
		for k := 1; k <= 6; k++ {
			zc := makeZoomClip(t, det, ssd, k, dir, n, 640, 360)
			imgs, times := decodeClip(t, zc.path)
			if len(imgs) != n {
				t.Fatalf("sample%d: %d frames, want %d", k, len(imgs), n)
			}
			c := a.Clip(ClipPolicy{})
			tinyNet := c.tiny
			m := &memoDetectors{
				tiny: func(img *RGB, _ bool) ([]Detection, error) { return tinyNet(img) },
				ssd:  c.ssd, memo: map[memoKey][]Detection{},
			}
			c.tiny = func(img *RGB) ([]Detection, error) { return m.run(img, 0) }
			c.ssd = func(img *RGB, zoomedOut bool) ([]Detection, error) {
				if zoomedOut {
					return m.run(img, 2)
				}
				return m.run(img, 1)
			}
			hit := func(dets []Detection, want [2]Box) bool {
				return slices.ContainsFunc(dets, func(d Detection) bool {
					return max(IoU(d.Box, want[0]), IoU(d.Box, want[1])) >= 0.3
				})
			}
			var line []byte
			var clipK, autoK int
			for i, img := range imgs {
				want := zc.face(times[i])
				got, err := c.detect(img)
				if err != nil {
					t.Fatal(err)
				}
				// The auto detector on every frame, as on photos.
				var auto []Detection
				for pass := range 3 {
					if auto, err = m.run(img, pass); err != nil {
						t.Fatal(err)
					}
					if len(auto) > 0 {
						break
					}
				}
				tinyDets, _ := m.run(img, 0)
				mark := byte('.')
				switch {
				case hit(tinyDets, want):
					tinyHits++
					mark = 'T'
				case hit(got, want):
					mark = 'S'
				case hit(auto, want):
					mark = 'a'
				}
				line = append(line, mark)
				if hit(got, want) {
					clipK++
				}
				if hit(auto, want) {
					autoK++
				}
			}
			st := c.Stats()
			t.Logf("sample%d: %s (T tiny, S SSD, a auto on every frame only); %d misses, SSD on %d frames, %d passes",
				k, line, st.TinyMisses, st.SSDFrames, st.SSDPasses)
			if st.SSDFrames != st.TinyMisses {
				t.Errorf("sample%d: SSD ran on %d of the %d frames the tiny detector missed, want all", k, st.SSDFrames, st.TinyMisses)
			}
			if clipK < autoK {
				t.Errorf("sample%d: the clip policy finds the face in %d frames, SSD on every miss in %d", k, clipK, autoK)
			}
			total += len(imgs)
			clipHits += clipK
			autoHits += autoK
			misses += st.TinyMisses
		}
		t.Logf("the face is found in %d of %d frames by the tiny detector, %d with the clip policy, %d with SSD on every miss (%d misses)",
			tinyHits, total, clipHits, autoHits, misses)
		if clipHits < total*9/10 || tinyHits >= clipHits {
			t.Errorf("the clip policy finds the face in %d of %d frames, the tiny detector in %d: want 90 %% and more than the tiny detector", clipHits, total, tinyHits)
		}
	})
}
