package cues

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/semaphore"

	"emer/internal/face"
	"emer/internal/media"
	"emer/internal/models"
)

// faceClips builds two short clips of a photo with faces, one with speech
// and one with a tone, for the tests that compare extractors.
func faceClips(t *testing.T) []string {
	t.Helper()
	jpg, wav := shared(t, "sample1.jpg"), shared(t, "test16k.wav")
	return []string{
		build(t, "speech.mp4", "-loop", "1", "-i", jpg, "-i", wav, "-t", "1.5", "-r", "10",
			"-vf", "scale=320:240", "-pix_fmt", "yuv420p", "-c:a", "aac"),
		build(t, "tone.mkv", "-loop", "1", "-i", shared(t, "sample6.jpg"), "-f", "lavfi", "-i", "sine=f=180:r=16000",
			"-t", "1", "-r", "10", "-vf", "scale=320:240,hflip", "-pix_fmt", "yuv420p", "-c:a", "aac"),
	}
}

// TestExtractorConcurrent analyses two clips from several goroutines at
// once through one extractor and checks that each result is what
// Analyze, on its own, gives for that clip. Run it with -race.
func TestExtractorConcurrent(t *testing.T) {
	clips := faceClips(t)
	ctx := context.Background()
	want := make([]*Cues, len(clips))
	for i, clip := range clips {
		c, err := Analyze(ctx, clip, Options{Subtitle: "I am so happy!"})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = c
	}
	if modelsInstalled(t) && (!want[0].Visual.Present || !want[1].Visual.Present) {
		t.Fatalf("no faces found in the test clips: %q, %q", want[0].Visual.Reason, want[1].Visual.Reason)
	}
	e, err := NewExtractor(Config{CPUs: 3})
	if err != nil {
		t.Fatal(err)
	}
	const goroutines = 3
	got := make([][]*Cues, goroutines)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for k := range clips {
				i := (g + k) % len(clips) // each goroutine starts with another clip
				c, err := e.Analyze(ctx, clips[i], ClipOptions{Subtitle: "I am so happy!"})
				if err != nil {
					errs[g] = err
					return
				}
				got[g] = append(got[g], nil)
				got[g][k] = c
			}
		})
	}
	wg.Wait()
	for g := range goroutines {
		if errs[g] != nil {
			t.Fatalf("goroutine %d: %v", g, errs[g])
		}
		for k, c := range got[g] {
			i := (g + k) % len(clips)
			if diff := cmp.Diff(want[i], c); diff != "" {
				t.Errorf("goroutine %d, %s: the shared extractor differs from Analyze (-Analyze +extractor):\n%s", g, filepath.Base(clips[i]), diff)
			}
		}
	}
}

// countingTokens is a CPU budget that counts the tokens held.
type countingTokens struct {
	sem        *semaphore.Weighted
	held, peak atomic.Int64
	acquired   atomic.Int64 // tokens ever taken
	// onAcquire, when set, is called as Acquire starts.
	onAcquire func()
}

func newCountingTokens(n int) *countingTokens {
	return &countingTokens{sem: semaphore.NewWeighted(int64(n))}
}

func (c *countingTokens) took(n int64) {
	c.acquired.Add(n)
	h := c.held.Add(n)
	for p := c.peak.Load(); h > p && !c.peak.CompareAndSwap(p, h); p = c.peak.Load() {
	}
}

func (c *countingTokens) Acquire(ctx context.Context, n int64) error {
	if c.onAcquire != nil {
		c.onAcquire()
	}
	if err := c.sem.Acquire(ctx, n); err != nil {
		return err
	}
	c.took(n)
	return nil
}

func (c *countingTokens) TryAcquire(n int64) bool {
	if !c.sem.TryAcquire(n) {
		return false
	}
	c.took(n)
	return true
}

func (c *countingTokens) Release(n int64) {
	c.held.Add(-n)
	c.sem.Release(n)
}

// gatedFaces stands in for the face networks: it finds one face in every
// frame, and holds the first calls until `gate` of them run at once, so
// that the test sees analyses overlap as far as the budget allows. Each
// call checks that the analyses running are within the budget and run on
// tokens held.
type gatedFaces struct {
	t       *testing.T
	budget  int64
	tokens  *countingTokens
	gate    int64
	open    chan struct{}
	opened  sync.Once
	running atomic.Int64
	calls   atomic.Int64
	peak    atomic.Int64
}

func (g *gatedFaces) clip() clipFaces       { return g }
func (g *gatedFaces) Stats() face.ClipStats { return face.ClipStats{} }

func (g *gatedFaces) Faces(img *face.RGB) ([]face.Face, error) {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	g.calls.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	if held := g.tokens.held.Load(); n > g.budget || n > held {
		g.t.Errorf("%d frames analysed at once on %d tokens held, with a budget of %d", n, held, g.budget)
	}
	if n >= g.gate {
		g.opened.Do(func() { close(g.open) })
	}
	<-g.open
	return []face.Face{{Box: face.Box{X: 10, Y: 10, W: 40, H: 40}, Score: 0.9, Expressions: face.Probs{1}}}, nil
}

// TestExtractorBudget runs clips through one extractor from more
// goroutines than its budget has cores, on stand-in face networks, and
// checks the budget: no more tokens held or frames analysed at once than
// it has, ffmpeg given as many threads as tokens taken for it, every token
// given back, and all clips complete (a deadlock would hang the test).
func TestExtractorBudget(t *testing.T) {
	clip := build(t, "src.mp4", "-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=2",
		"-f", "lavfi", "-i", "sine=f=200:r=16000:d=2", "-c:v", "libx264", "-preset", "ultrafast",
		"-pix_fmt", "yuv420p", "-c:a", "aac")
	// gate is how many frames are surely analysed at once: the whole
	// budget, except where a clip waiting for two decoding tokens may
	// stand first in line for the budget while the others' frames wait
	// behind it.
	tests := []struct {
		cpus, decodeThreads, clips, gate int
	}{
		{cpus: 1, clips: 3, gate: 1},
		{cpus: 2, clips: 4, gate: 2},
		{cpus: 3, decodeThreads: 2, clips: 4, gate: 2},
		{cpus: 4, decodeThreads: 1, clips: 3, gate: 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d cpus, %d threads, %d clips", tt.cpus, tt.decodeThreads, tt.clips), func(t *testing.T) {
			e, err := NewExtractor(Config{FPS: 4, CPUs: tt.cpus, DecodeThreads: tt.decodeThreads})
			if err != nil {
				t.Fatal(err)
			}
			tokens := newCountingTokens(tt.cpus)
			faces := &gatedFaces{t: t, budget: int64(tt.cpus), tokens: tokens, gate: int64(tt.gate), open: make(chan struct{})}
			e.tokens = tokens
			e.faces = func() (faceFinder, error) { return faces, nil }
			var decodes atomic.Int64
			e.decode = func(ctx context.Context, info *media.Info, opts media.FrameOptions, fn func(media.Frame) error) error {
				decodes.Add(1)
				held := tokens.held.Load()
				if opts.Threads < 1 || int64(opts.Threads) > held || (tt.decodeThreads > 0 && opts.Threads != tt.decodeThreads) {
					t.Errorf("ffmpeg given %d threads with %d tokens held (decoding threads set to %d)", opts.Threads, held, tt.decodeThreads)
				}
				return info.DecodeFrames(ctx, opts, fn)
			}
			results := make([]*Cues, tt.clips)
			errs := make([]error, tt.clips)
			var wg sync.WaitGroup
			for i := range tt.clips {
				wg.Go(func() { results[i], errs[i] = e.Analyze(context.Background(), clip, ClipOptions{Subtitle: "hello"}) })
			}
			wg.Wait()
			frames := 0
			for i, c := range results {
				if errs[i] != nil {
					t.Fatalf("clip %d: %v", i, errs[i])
				}
				if !c.Visual.Present || !c.Audio.Present || c.Visual.FramesAnalyzed < 7 {
					t.Fatalf("clip %d: visual %+v, audio present %v", i, c.Visual, c.Audio.Present)
				}
				frames += c.Visual.FramesAnalyzed
			}
			if n := faces.calls.Load(); n != int64(frames) {
				t.Errorf("%d frames analysed, the results count %d", n, frames)
			}
			if p := faces.peak.Load(); p < int64(tt.gate) || p > int64(tt.cpus) {
				t.Errorf("at most %d frames analysed at once, want %d to %d", p, tt.gate, tt.cpus)
			}
			if p := tokens.peak.Load(); p > int64(tt.cpus) {
				t.Errorf("%d tokens held at once, budget %d", p, tt.cpus)
			}
			if h := tokens.held.Load(); h != 0 {
				t.Errorf("%d tokens still held after every clip ended", h)
			}
			if d := decodes.Load(); d != int64(tt.clips) {
				t.Errorf("%d video decodes for %d clips", d, tt.clips)
			}
		})
	}
}

// TestExtractorCancel checks that a clip waiting for the budget stops when
// its context ends, and that the tokens are all given back.
func TestExtractorCancel(t *testing.T) {
	clip := build(t, "src.mp4", "-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=1",
		"-f", "lavfi", "-i", "sine=f=200:r=16000:d=1", "-c:v", "libx264", "-preset", "ultrafast",
		"-pix_fmt", "yuv420p", "-c:a", "aac")
	e, err := NewExtractor(Config{CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	tokens := newCountingTokens(2)
	e.tokens = tokens
	faces := &gatedFaces{t: t, budget: 2, tokens: tokens, gate: 1, open: make(chan struct{})}
	e.faces = func() (faceFinder, error) { return faces, nil }
	// Another user holds the whole budget: the clip waits for it.
	if err := tokens.Acquire(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	tokens.onAcquire = func() { once.Do(cancel) }
	_, err = e.Analyze(ctx, clip, ClipOptions{Subtitle: "hello"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Analyze: %v, want context.Canceled", err)
	}
	if n := faces.calls.Load(); n != 0 {
		t.Errorf("%d frames analysed without a token", n)
	}
	tokens.Release(2)
	if h := tokens.held.Load(); h != 0 {
		t.Errorf("%d tokens held after the cancelled clip", h)
	}
}

func TestDecodeThreads(t *testing.T) {
	tests := []struct {
		cpus, set, inflight, want int
	}{
		{cpus: 2, inflight: 1, want: 1},
		{cpus: 8, inflight: 1, want: 4},
		{cpus: 8, inflight: 2, want: 2},
		{cpus: 8, inflight: 8, want: 1},
		{cpus: 8, inflight: 20, want: 1},
		{cpus: 1, inflight: 1, want: 1},
		{cpus: 8, set: 3, inflight: 8, want: 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d cpus, %d set, %d clips", tt.cpus, tt.set, tt.inflight), func(t *testing.T) {
			e, err := NewExtractor(Config{CPUs: tt.cpus, DecodeThreads: tt.set})
			if err != nil {
				t.Fatal(err)
			}
			e.inflight.Store(int64(tt.inflight))
			if got := e.decodeThreads(); got != tt.want {
				t.Errorf("decodeThreads = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // in the error; empty for none
	}{
		{"defaults", Config{}, ""},
		{"all set", Config{FPS: 5, CPUs: 4, DecodeThreads: 4}, ""},
		{"negative budget", Config{CPUs: -1}, "CPU budget -1"},
		{"negative threads", Config{CPUs: 2, DecodeThreads: -2}, "decoding threads -2"},
		{"threads over budget", Config{CPUs: 2, DecodeThreads: 3}, "decoding threads 3 must be between 1 and the CPU budget 2"},
		{"frame rate", Config{FPS: 61}, "frame rate 61"},
		{"networks", Config{Detector: face.DetectorTiny, Landmarks: face.LandmarksNone}, ""},
		{"detector", Config{Detector: "yolo"}, `detector "yolo" is not one of tiny, ssd, auto`},
		{"landmarks", Config{Landmarks: "dlib"}, `landmark model "dlib" is not one of net, tiny, none`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewExtractor(tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("NewExtractor: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("NewExtractor: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestFaceModels checks that an extractor without face models says so once
// asked, with the reason its clips give.
func TestFaceModels(t *testing.T) {
	dir := t.TempDir()
	e, err := NewExtractor(Config{ModelsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = e.FaceModels()
	if !errors.Is(err, models.ErrNotInstalled) || !strings.Contains(err.Error(), "emer models install") {
		t.Errorf("FaceModels: %v, want not installed, with the repair", err)
	}
	clip := build(t, "v.mp4", "-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	c, err := e.Analyze(context.Background(), clip, ClipOptions{Subtitle: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Visual.Present || c.Visual.Reason != e.FaceModels().Error() {
		t.Errorf("visual part: present %v, reason %q; want absent for %q", c.Visual.Present, c.Visual.Reason, e.FaceModels())
	}
}

// TestListFaces checks that each face is given the track its frame and
// face indices belong to, even where boxes or times repeat: matching by
// time and box gave both faces of a frame with equal boxes the last
// track's ID.
func TestListFaces(t *testing.T) {
	box := face.Box{X: 10, Y: 10, W: 50, H: 50}
	other := face.Box{X: 200, Y: 10, W: 50, H: 50}
	tests := []struct {
		name   string
		frames []face.FrameFaces
		want   [][2]int // frame, track of each face listed
	}{
		{"two faces with the same box", []face.FrameFaces{
			{T: 0, Faces: []face.Face{{Box: box}, {Box: box}}},
			{T: 0.5, Faces: []face.Face{{Box: box}}},
		}, [][2]int{{0, 1}, {0, 2}, {1, 1}}},
		{"two frames at the same time", []face.FrameFaces{
			{T: 1, Faces: []face.Face{{Box: box}}},
			{T: 1, Faces: []face.Face{{Box: other}}},
		}, [][2]int{{0, 1}, {1, 2}}},
		{"an empty frame between", []face.FrameFaces{
			{T: 0, Faces: []face.Face{{Box: other}, {Box: box}}},
			{T: 0.5},
			{T: 1, Faces: []face.Face{{Box: box}, {Box: other}}},
		}, [][2]int{{0, 1}, {0, 2}, {2, 2}, {2, 1}}},
		{"no frames", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faces := listFaces(tt.frames, face.LinkTracks(tt.frames, face.TrackOptions{}))
			if faces == nil {
				t.Fatal("nil list would encode as null")
			}
			var got [][2]int
			for _, f := range faces {
				if f.T != tt.frames[f.Frame].T {
					t.Errorf("face at %.1f s says frame %d, at %.1f s", f.T, f.Frame, tt.frames[f.Frame].T)
				}
				got = append(got, [2]int{f.Frame, f.Track})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("frame and track of each face (-want +got):\n%s", diff)
			}
		})
	}
}
