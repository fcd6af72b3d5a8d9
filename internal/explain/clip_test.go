package explain

import (
	"bytes"
	"context"
	"image/jpeg"
	"os/exec"
	"testing"

	"emer/internal/cues"
	"emer/internal/models"
	"emer/internal/sharedtest"
	"emer/internal/voice"
)

func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (apt-get install ffmpeg)", bin)
		}
	}
}

func needFaceModels(t testing.TB) {
	t.Helper()
	dir, err := models.Dir()
	if err != nil {
		t.Skipf("no model directory: %v", err)
	}
	for _, s := range models.Check(dir) {
		if !s.Verified {
			t.Skipf("face models not installed (emer models install): %s", s.Name)
		}
	}
}

// TestLocalOnReferenceClip explains the shared clip: a photo of smiling
// faces, espeak speech and the subtitles "Hello there. I am so happy to
// see you today." and "This is wonderful news.".
func TestLocalOnReferenceClip(t *testing.T) {
	clip := sharedtest.Path(t, "reference", "media", "clip.mp4")
	needFFmpeg(t)
	needFaceModels(t)
	c, err := cues.Analyze(context.Background(), clip, cues.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := (&Local{}).Explain(context.Background(), Input{Clip: clip, Cues: c})
	if err != nil {
		t.Fatal(err)
	}
	top := map[string]bool{}
	for i, em := range e.Emotions {
		if i < 2 {
			top[em.Label] = true
		}
	}
	if !top["happy"] {
		t.Errorf("happy is not among the top emotions: %v", e.Emotions)
	}
	seen := map[string]bool{}
	for _, cl := range e.Clues {
		seen[cl.Aspect] = true
		if cl.End <= cl.Start || len(cl.Evidence) == 0 || cl.Evidence["rule"] == nil {
			t.Errorf("%s clue %q has no time range or evidence: %v-%v s, %v", cl.Aspect, cl.Text, cl.Start, cl.End, cl.Evidence)
		}
		if cl.Start < 0 || cl.End > c.Duration+0.5 {
			t.Errorf("%s clue %q at %v-%v s, outside the %.1f s clip", cl.Aspect, cl.Text, cl.Start, cl.End, c.Duration)
		}
	}
	for _, aspect := range []string{AspectVisual, AspectContent} {
		if !seen[aspect] {
			t.Errorf("no %s clue: %s", aspect, e)
		}
	}
	for _, m := range e.Modalities {
		if !seen[m] {
			t.Errorf("modality %s claimed without a clue", m)
		}
	}
	t.Logf("\n%s", e)
}

func TestFFmpegMedia(t *testing.T) {
	clip := sharedtest.Path(t, "reference", "media", "clip.mp4")
	needFFmpeg(t)
	ctx := context.Background()
	frames, err := FFmpeg{MaxSide: 320}.Frames(ctx, clip, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 8 {
		t.Fatalf("%d frames, want 8", len(frames))
	}
	for i, f := range frames {
		img, err := jpeg.Decode(bytes.NewReader(f.JPEG))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if b := img.Bounds(); max(b.Dx(), b.Dy()) > 320 {
			t.Errorf("frame %d is %v, over the 320 px bound", i, b)
		}
		if i > 0 && f.Time <= frames[i-1].Time {
			t.Errorf("frame times not increasing: %v then %v", frames[i-1].Time, f.Time)
		}
	}
	wav, err := FFmpeg{}.Audio(ctx, clip)
	if err != nil {
		t.Fatal(err)
	}
	a, err := voice.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 16000 || a.Duration() < 7 || a.Duration() > 8 {
		t.Errorf("audio at %d Hz, %.2f s; want 16 kHz, about 7.4 s", a.Rate, a.Duration())
	}
}
