package cues

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sync/errgroup"
)

// batchClips is the number of clips BenchmarkBatch analyses.
const batchClips = 100

// BenchmarkBatch analyses 100 clips of 2 s at 320×240 (a photo of three
// faces, with espeak-ng speech, or a tone where espeak-ng is missing) two
// at a time: through one shared Extractor, and through Analyze for each
// clip, which loads the face networks every time and lets every clip use
// every core. It reports clips a second, and the CPU time spent on a clip
// (this process and its ffmpeg runs), which other load on the machine
// does not change.
func BenchmarkBatch(b *testing.B) {
	clips := batchSet(b)
	ctx := context.Background()
	run := func(b *testing.B, analyze func(clip string) error) {
		cpu := cpuSeconds()
		for b.Loop() {
			var g errgroup.Group
			g.SetLimit(2)
			for _, clip := range clips {
				g.Go(func() error { return analyze(clip) })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(clips)*b.N)/b.Elapsed().Seconds(), "clips/s")
		if cpu >= 0 {
			b.ReportMetric((cpuSeconds()-cpu)/float64(len(clips)*b.N)*1000, "cpu_ms/clip")
		}
	}
	b.Run("extractor", func(b *testing.B) {
		e, err := NewExtractor(Config{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, func(clip string) error {
			_, err := e.Analyze(ctx, clip, ClipOptions{Subtitle: "I am so happy to see you!"})
			return err
		})
	})
	b.Run("per-clip", func(b *testing.B) {
		run(b, func(clip string) error {
			_, err := Analyze(ctx, clip, Options{Subtitle: "I am so happy to see you!"})
			return err
		})
	})
}

// batchSet builds the clips of BenchmarkBatch with one ffmpeg run that
// cuts a 200 s clip into 2 s pieces.
func batchSet(b *testing.B) []string {
	b.Helper()
	needFFmpeg(b)
	dir := b.TempDir()
	audio := []string{"-f", "lavfi", "-i", "sine=f=180:r=16000"}
	if espeak, err := exec.LookPath("espeak-ng"); err == nil {
		wav := filepath.Join(dir, "speech.wav")
		text := "I did not expect to see you here today. Honestly, this is the best news I have heard all year!"
		if out, err := exec.Command(espeak, "-w", wav, text).CombinedOutput(); err != nil {
			b.Fatalf("espeak-ng: %v\n%s", err, out)
		}
		audio = []string{"-stream_loop", "-1", "-i", wav}
	}
	args := append([]string{"-nostdin", "-v", "error", "-loop", "1", "-framerate", "25", "-i", shared(b, "sample1.jpg")}, audio...)
	args = append(args, "-t", "200", "-vf", "scale=320:240,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
		"-force_key_frames", "expr:gte(t,n_forced*2)", "-c:a", "aac", "-ar", "16000",
		"-f", "segment", "-segment_time", "2", "-reset_timestamps", "1", filepath.Join(dir, "clip%03d.mp4"))
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		b.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	clips, err := filepath.Glob(filepath.Join(dir, "clip*.mp4"))
	if err != nil {
		b.Fatal(err)
	}
	if len(clips) != batchClips {
		b.Fatalf("ffmpeg cut %d clips, want %d", len(clips), batchClips)
	}
	return clips
}
