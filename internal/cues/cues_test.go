package cues

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/face"
	"emer/internal/media"
	"emer/internal/models"
	"emer/internal/sharedtest"
)

// shared returns a shared sample clip, photo or recording, or skips the
// test when it is absent.
func shared(t testing.TB, name string) string {
	t.Helper()
	return sharedtest.Path(t, "reference", "media", name)
}

func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (apt-get install ffmpeg)", bin)
		}
	}
}

// modelsInstalled reports whether the face models are there; tests of the
// visual part check what they can without them.
func modelsInstalled(t testing.TB) bool {
	t.Helper()
	dir, err := models.Dir()
	if err != nil {
		return false
	}
	for _, s := range models.Check(dir) {
		if !s.Verified {
			return false
		}
	}
	return true
}

// build runs ffmpeg to make a test clip named name in a temporary folder.
func build(t testing.TB, name string, args ...string) string {
	t.Helper()
	needFFmpeg(t)
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-nostdin", "-v", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

func hasWarning(c *Cues, part string) bool {
	for _, w := range c.Warnings {
		if strings.HasPrefix(w, part+": ") {
			return true
		}
	}
	return false
}

func TestReferenceClip(t *testing.T) {
	needFFmpeg(t)
	c, err := Analyze(context.Background(), shared(t, "clip.mp4"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Duration < 7 || c.Duration > 8 {
		t.Errorf("duration %.2f s, want about 7.4", c.Duration)
	}
	if !c.Audio.Present || c.Audio.F0 == nil {
		t.Fatalf("no speech measured: %+v", c.Audio)
	}
	if d := c.Audio.F0.Mean/100.6 - 1; d > 0.1 || d < -0.1 {
		t.Errorf("F0 mean %.1f Hz, want about 100.6", c.Audio.F0.Mean)
	}
	if !c.Text.Present || c.Text.Source != media.SourceEmbedded {
		t.Fatalf("text part: %+v", c.Text)
	}
	happy := false
	for _, w := range c.Text.EmotionWords {
		happy = happy || (w.Word == "happy" && w.Category == "happy" && !w.Negated)
	}
	if !happy {
		t.Errorf("no 'happy' among %+v", c.Text.EmotionWords)
	}
	wantFrames := 14 // 7.4 s at 2 frames a second
	if c.Visual.FramesAnalyzed < wantFrames || c.Visual.FramesAnalyzed > wantFrames+2 {
		t.Errorf("%d frames analysed, want about %d", c.Visual.FramesAnalyzed, wantFrames)
	}
	if !modelsInstalled(t) {
		if c.Visual.Present || !hasWarning(c, "visual") {
			t.Errorf("without models the visual part should be absent with a warning: %+v", c.Visual)
		}
		t.Skip("face models not installed (emer models install): visual part not checked")
	}
	v := c.Visual
	if !v.Present || len(v.Faces) < 5*v.FramesAnalyzed/2 || v.MainTrack == 0 || len(v.Summary) == 0 {
		t.Errorf("visual part: present %v, %d faces in %d frames, main track %d, summary %+v",
			v.Present, len(v.Faces), v.FramesAnalyzed, v.MainTrack, v.Summary)
	}
	for _, f := range v.Faces {
		if f.Track == 0 || len(f.Expressions) != 7 || f.Box[2] <= 0 {
			t.Fatalf("bad face %+v", f)
		}
	}
	checkSummaryWithin(t, v.Summary, c.Duration)
	if len(c.Warnings) != 0 {
		t.Errorf("warnings on the reference clip: %q", c.Warnings)
	}
}

// checkSummaryWithin checks that the summary's segments follow each other
// from the first frame to the clip's end, duration, and not past it.
func checkSummaryWithin(t *testing.T, segs []face.Segment, duration float64) {
	t.Helper()
	if len(segs) == 0 {
		t.Fatal("no summary")
	}
	for i, s := range segs {
		if s.Start < 0 || s.End < s.Start || s.End > duration {
			t.Errorf("segment %d runs %.2f–%.2f s, outside the %.2f s clip", i, s.Start, s.End, duration)
		}
		if i > 0 && s.Start != segs[i-1].End {
			t.Errorf("segment %d starts at %.2f s, the one before ends at %.2f s", i, s.Start, segs[i-1].End)
		}
	}
	if last := segs[len(segs)-1]; last.End != duration {
		t.Errorf("the summary ends at %.2f s, want the clip's end %.2f s", last.End, duration)
	}
}

// TestLowFrameRate analyses the reference clip at one frame every 10 s:
// the only frame's segment ends with the 7.4 s clip, not 10 s later.
func TestLowFrameRate(t *testing.T) {
	needFFmpeg(t)
	clip := shared(t, "clip.mp4")
	if !modelsInstalled(t) {
		t.Skip("face models not installed (emer models install)")
	}
	c, err := Analyze(context.Background(), clip, Options{FPS: 0.1, Subtitle: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Visual.FramesAnalyzed != 1 || !c.Visual.Present {
		t.Fatalf("%d frames analysed, visual present %v; want one frame with faces", c.Visual.FramesAnalyzed, c.Visual.Present)
	}
	checkSummaryWithin(t, c.Visual.Summary, c.Duration)
}

func TestClampSegments(t *testing.T) {
	segs := func(ends ...float64) []face.Segment {
		var out []face.Segment
		start := 0.0
		for _, e := range ends {
			out = append(out, face.Segment{Expression: "happy", Start: start, End: e})
			start = e
		}
		return out
	}
	tests := []struct {
		name     string
		in       []face.Segment
		duration float64
		want     []face.Segment
	}{
		{"last past the end", segs(3, 7.5), 7.4, segs(3, 7.4)},
		{"within", segs(3, 7), 7.4, segs(3, 7)},
		{"unknown duration", segs(3, 7.5), 0, segs(3, 7.5)},
		{"one frame at a low rate", segs(10), 7.4, segs(7.4)},
		{"starts at the end", []face.Segment{{Start: 7.4, End: 7.9}}, 7.4, []face.Segment{{Start: 7.4, End: 7.4}}},
		{"none", nil, 7.4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, clampSegments(tt.in, tt.duration)); diff != "" {
				t.Errorf("clampSegments (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, fps := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, -0.5, 60.5, 1e9, math.MaxFloat64} {
		t.Run(fmt.Sprint(fps), func(t *testing.T) {
			if err := (Options{FPS: fps}).Validate(); err == nil || !strings.Contains(err.Error(), "frame rate") {
				t.Errorf("Validate: %v, want a frame rate error", err)
			}
			// Analyze refuses it before reading the clip.
			if _, err := Analyze(context.Background(), "missing.mp4", Options{FPS: fps}); err == nil || !strings.Contains(err.Error(), "frame rate") {
				t.Errorf("Analyze: %v, want a frame rate error", err)
			}
		})
	}
	for _, fps := range []float64{0, 0.1, 2, 60} {
		if err := (Options{FPS: fps}).Validate(); err != nil {
			t.Errorf("FPS %g: %v", fps, err)
		}
	}
}

// TestCorruptModels checks that a damaged face model file is reported as
// corrupt, with its path and the repair, rather than as not installed.
func TestCorruptModels(t *testing.T) {
	clip := build(t, "v.mp4", "-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	dir := t.TempDir()
	for _, f := range models.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), make([]byte, f.Size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Analyze(context.Background(), clip, Options{ModelsDir: dir, Subtitle: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Visual.Reason
	if c.Visual.Present || strings.Contains(r, "not installed") {
		t.Fatalf("visual: present %v, reason %q; want absent because a file is corrupt", c.Visual.Present, r)
	}
	for _, want := range []string{filepath.Join(dir, models.TinyFaceDetectorManifest), "corrupt", "SHA-256 mismatch", "emer models install"} {
		if !strings.Contains(r, want) {
			t.Errorf("reason %q lacks %q", r, want)
		}
	}
}

func TestPartsAbsent(t *testing.T) {
	needFFmpeg(t)
	jpg, wav := shared(t, "sample6.jpg"), shared(t, "test16k.wav")
	visualOK := modelsInstalled(t)
	tests := []struct {
		name  string
		clip  func(t *testing.T) string
		opts  Options
		check func(t *testing.T, c *Cues)
	}{
		{"audio only", func(t *testing.T) string {
			return build(t, "a.m4a", "-i", wav, "-c:a", "aac")
		}, Options{}, func(t *testing.T, c *Cues) {
			if c.Visual.Present || !strings.Contains(c.Visual.Reason, "no video") || !hasWarning(c, "visual") {
				t.Errorf("visual: %+v, warnings %q", c.Visual, c.Warnings)
			}
			if !c.Audio.Present || c.Audio.F0 == nil {
				t.Errorf("audio: %+v", c.Audio)
			}
		}},
		{"video only", func(t *testing.T) string {
			return build(t, "v.mp4", "-loop", "1", "-i", jpg, "-t", "1", "-r", "5", "-vf", "scale=640:-2", "-pix_fmt", "yuv420p")
		}, Options{Subtitle: "I am not afraid."}, func(t *testing.T, c *Cues) {
			if c.Audio.Present || !strings.Contains(c.Audio.Reason, "no audio") || !hasWarning(c, "audio") {
				t.Errorf("audio: %+v, warnings %q", c.Audio, c.Warnings)
			}
			if c.Visual.FramesAnalyzed < 2 || (visualOK && !c.Visual.Present) {
				t.Errorf("visual: %+v", c.Visual)
			}
			if !c.Text.Present || c.Text.Source != media.SourceText || len(c.Text.EmotionWords) != 1 || !c.Text.EmotionWords[0].Negated {
				t.Errorf("text: %+v", c.Text)
			}
		}},
		{"silent audio", func(t *testing.T) string {
			return build(t, "s.mp4", "-loop", "1", "-i", jpg, "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
				"-t", "1.5", "-r", "5", "-vf", "scale=640:-2", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")
		}, Options{}, func(t *testing.T, c *Cues) {
			if !c.Audio.Present || c.Audio.F0 != nil || c.Audio.VoicedRatio != 0 || !hasWarning(c, "audio") {
				t.Errorf("audio: %+v, warnings %q", c.Audio, c.Warnings)
			}
		}},
		{"0.2 s clip", func(t *testing.T) string {
			return build(t, "short.mp4", "-loop", "1", "-i", jpg, "-i", wav, "-ss", "0", "-t", "0.2", "-r", "25",
				"-vf", "scale=640:-2", "-pix_fmt", "yuv420p", "-c:a", "aac")
		}, Options{}, func(t *testing.T, c *Cues) {
			if c.Duration > 0.5 || c.Visual.FramesAnalyzed < 1 || !c.Audio.Present {
				t.Errorf("duration %.2f, %d frames, audio %+v", c.Duration, c.Visual.FramesAnalyzed, c.Audio)
			}
		}},
		{"no face", func(t *testing.T) string {
			return build(t, "nf.mp4", "-f", "lavfi", "-i", "color=c=0x406080:size=320x240:rate=10", "-t", "1", "-pix_fmt", "yuv420p")
		}, Options{}, func(t *testing.T, c *Cues) {
			if c.Visual.Present || len(c.Visual.Faces) != 0 || !hasWarning(c, "visual") {
				t.Errorf("visual: %+v", c.Visual)
			}
			if visualOK && !strings.Contains(c.Visual.Reason, "no face found") {
				t.Errorf("reason %q", c.Visual.Reason)
			}
			if c.Text.Present || !hasWarning(c, "text") {
				t.Errorf("text: %+v", c.Text)
			}
		}},
		{"variable frame rate", func(t *testing.T) string {
			return build(t, "vfr.mkv", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2",
				"-vf", "setpts='if(lt(N,25),N*0.04,1+(N-25)*0.1)/TB'", "-fps_mode", "vfr", "-pix_fmt", "yuv420p")
		}, Options{FPS: 4}, func(t *testing.T, c *Cues) {
			want := int(c.Duration * 4)
			if n := c.Visual.FramesAnalyzed; n < want-1 || n > want+2 {
				t.Errorf("%d frames analysed over %.2f s at 4 fps", n, c.Duration)
			}
		}},
		{"7680x4320 frame", func(t *testing.T) string {
			return build(t, "8k.mkv", "-loop", "1", "-i", jpg, "-t", "0.5", "-r", "2", "-vf", "scale=7680:4320", "-c:v", "mjpeg", "-q:v", "5")
		}, Options{}, func(t *testing.T, c *Cues) {
			if c.Visual.Width != 7680 || c.Visual.FramesAnalyzed < 1 {
				t.Errorf("visual: %dx%d, %d frames", c.Visual.Width, c.Visual.Height, c.Visual.FramesAnalyzed)
			}
			if !visualOK {
				return
			}
			if !c.Visual.Present || len(c.Visual.Faces) < 3 {
				t.Fatalf("8K frame: %d faces", len(c.Visual.Faces))
			}
			// Boxes are in the clip's pixels, not the scaled frame's.
			var right float64
			for _, f := range c.Visual.Faces {
				right = max(right, f.Box[0]+f.Box[2])
			}
			if right < 2000 || right > 7680 {
				t.Errorf("rightmost box edge at %.0f px in a 7680 px frame", right)
			}
			// Landmarks too: each face's lie in its box.
			for _, f := range c.Visual.Faces {
				checkLandmarksInBox(t, f)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Analyze(context.Background(), tt.clip(t), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.Visual.Faces == nil || c.Warnings == nil {
				t.Errorf("nil lists would encode as null: %+v", c)
			}
			tt.check(t, c)
		})
	}
}

func TestUnreadableClips(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp4")
	empty := filepath.Join(dir, "empty.mp4")
	if err := os.WriteFile(text, []byte("this is not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, clip := range map[string]string{"not a media file": text, "zero bytes": empty} {
		t.Run(name, func(t *testing.T) {
			_, err := Analyze(context.Background(), clip, Options{})
			if !errors.Is(err, media.ErrNotMedia) {
				t.Errorf("err = %v, want ErrNotMedia", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := Analyze(context.Background(), filepath.Join(dir, "nope.mp4"), Options{})
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want not-exist", err)
		}
	})
	t.Run("truncated mp4", func(t *testing.T) {
		b, err := os.ReadFile(shared(t, "clip.mp4"))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "cut.mp4")
		if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Analyze(context.Background(), p, Options{})
		if err == nil && c.Visual.Present && c.Audio.Present && len(c.Warnings) == 0 {
			t.Errorf("half an mp4 analysed without error or warning: %+v", c)
		}
		if err != nil && !errors.Is(err, media.ErrNotMedia) {
			t.Errorf("err = %v, want ErrNotMedia", err)
		}
	})
	t.Run("damaged audio", func(t *testing.T) {
		// Garbage over a stretch of an MPEG-TS sound file: ffmpeg reports
		// the damage and decodes the rest, which is kept.
		p := build(t, "a.ts", "-i", shared(t, "test16k.wav"), "-c:a", "mp2")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(b) / 3; i < len(b)/3+4000; i++ {
			b[i] = byte(i*131 + 7)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Analyze(context.Background(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !c.Audio.Present || c.Audio.Duration < 5 || c.Audio.F0 == nil {
			t.Fatalf("audio: %+v", c.Audio)
		}
		damaged := false
		for _, w := range c.Warnings {
			damaged = damaged || strings.HasPrefix(w, "audio: ") && strings.Contains(w, "damaged")
		}
		if !damaged {
			t.Errorf("no warning about the damage: %q", c.Warnings)
		}
	})
	t.Run("missing subtitle file", func(t *testing.T) {
		_, err := Analyze(context.Background(), shared(t, "clip.mp4"), Options{SubtitleFile: filepath.Join(dir, "none.srt")})
		if err == nil || !strings.Contains(err.Error(), "subtitle file") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestChineseSubtitle(t *testing.T) {
	needFFmpeg(t)
	c, err := Analyze(context.Background(), shared(t, "jfk.wav"), Options{Subtitle: "我真的很开心！你不害怕吗？"})
	if err != nil {
		t.Fatal(err)
	}
	tx := c.Text
	if !tx.Present || tx.Language != "zh" || tx.Exclamations != 1 || tx.Questions != 1 || len(tx.EmotionWords) != 2 {
		t.Fatalf("text: %+v", tx)
	}
	if w := tx.EmotionWords[1]; w.Word != "害怕" || w.Category != "scared" || !w.Negated {
		t.Errorf("second word %+v", w)
	}
}

// BenchmarkAnalyze30s measures Analyze on 30 s 1280×720 clips with looped
// test16k.wav: sample6.jpg (five faces) by default (2 frames a second,
// FaceLandmark68Net), at 1 and 2 frames a second, and with the tiny
// landmark net or none; and one-face-*, a part of sample5.jpg that holds
// one face (43 % of the frame's height), by default and with the tiny
// landmark net or none. It reports × real time and the ratio to ffmpeg
// decoding the whole clip and nothing else (the best of three plain
// decodes, `ffmpeg -i clip -f null -`, timed before the clip's runs), and
// the CPU time a clip takes, ffmpeg's included, which other load on the
// machine changes less than the wall time; BenchmarkDecodeOnly measures
// that decode alone.
func BenchmarkAnalyze30s(b *testing.B) {
	type clip struct {
		path   string
		decode time.Duration
	}
	// Each clip is built the first time a benchmark of it runs, in the
	// parent benchmark's folder, which outlives the sub-benchmarks.
	parent := b
	prepare := func(build func(testing.TB) string) func() clip {
		var once sync.Once
		var c clip
		return func() clip {
			once.Do(func() {
				b := parent
				c.path = build(b)
				c.decode = time.Duration(math.MaxInt64)
				for range 3 {
					start := time.Now()
					decodeOnly(b, c.path)
					c.decode = min(c.decode, time.Since(start))
				}
			})
			return c
		}
	}
	fiveFaces, oneFace := prepare(benchClip), prepare(oneFaceClip)
	for _, bc := range []struct {
		name string
		clip func() clip
		opts Options
	}{
		{"default", fiveFaces, Options{}},
		{"fps1", fiveFaces, Options{FPS: 1}},
		{"fps2", fiveFaces, Options{FPS: 2}},
		{"landmarks-tiny", fiveFaces, Options{Landmarks: face.LandmarksTiny}},
		{"landmarks-none", fiveFaces, Options{Landmarks: face.LandmarksNone}},
		{"one-face-default", oneFace, Options{}},
		{"one-face-landmarks-tiny", oneFace, Options{Landmarks: face.LandmarksTiny}},
		{"one-face-landmarks-none", oneFace, Options{Landmarks: face.LandmarksNone}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.clip()
			b.ResetTimer()
			cpu := cpuSeconds()
			for b.Loop() {
				if _, err := Analyze(context.Background(), c.path, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(30*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/c.decode.Seconds(), "x_decode_only")
			if cpu >= 0 {
				b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu_s/op")
			}
		})
	}
}

func BenchmarkDecodeOnly(b *testing.B) {
	clip := benchClip(b)
	b.ResetTimer()
	for b.Loop() {
		decodeOnly(b, clip)
	}
	b.ReportMetric(30*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

// decodeOnly has ffmpeg decode every stream of clip, at ffmpeg's default
// threading, and throw the result away.
func decodeOnly(b *testing.B, clip string) {
	if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", clip, "-f", "null", "-").CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
}

func benchClip(b testing.TB) string {
	return build(b, "bench.mp4", "-loop", "1", "-framerate", "30", "-i", shared(b, "sample6.jpg"),
		"-stream_loop", "-1", "-i", shared(b, "test16k.wav"), "-t", "30",
		"-vf", "scale=1280:720,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac")
}

// oneFaceClip is benchClip with one face: the 1280×720 part of sample5.jpg
// at its bottom left, which holds one face and no other.
func oneFaceClip(b testing.TB) string {
	return build(b, "one-face.mp4", "-loop", "1", "-framerate", "30", "-i", shared(b, "sample5.jpg"),
		"-stream_loop", "-1", "-i", shared(b, "test16k.wav"), "-t", "30",
		"-vf", "crop=1280:720:0:678,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac")
}
