package face

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"emer/internal/media"
)

// BenchmarkClip measures the detection strategies on three 30 s 1280×720
// clips analysed at media.DefaultRate (60 frames): faces at normal size
// (sample6.jpg, five faces), a zoom on a face of sample1.jpg to a
// close-up it overfills (see makeZoomClip), and a test pattern without
// faces. The strategies: a Clip with DefaultClipPolicy, the auto detector
// on every frame (as Analyzer.Faces runs it on photos), and the tiny
// detector alone; each with expressions, without landmarks. It reports
// the analysis time per frame (decoding left out), the SSD frames and
// passes per clip, and the whole run's speed against real time, decoding
// included, on one goroutine. Run with -benchtime 1x: the auto detector
// on every frame of the clip without faces takes 120 SSD passes.
func BenchmarkClip(b *testing.B) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skip("ffmpeg is not installed")
	}
	det, expr := nets(b)
	_, _, ssd := moreNets(b)
	photo := mediaPath(b, "sample6.jpg")
	dir := b.TempDir()
	clips := []struct{ name, path string }{
		{"faces", buildClip(b, dir, "faces.mp4", "-loop", "1", "-framerate", "25", "-i", photo, "-t", "30",
			"-vf", "scale=1280:-2,crop=1280:720,noise=alls=8:allf=t")},
		{"close-up", makeZoomClip(b, det, ssd, 1, dir, 60, 1280, 720).path},
		{"no-face", buildClip(b, dir, "noface.mp4", "-f", "lavfi", "-i", "smptebars=s=1280x720:r=25:d=30")},
	}
	for _, clip := range clips {
		for _, st := range []struct {
			name  string
			faces func() (func(*RGB) ([]Face, error), func() ClipStats)
		}{
			{"clip", func() (func(*RGB) ([]Face, error), func() ClipStats) {
				c := (&Analyzer{Detector: det, SSD: ssd, Expressions: expr}).Clip(ClipPolicy{})
				return c.Faces, c.Stats
			}},
			{"every-frame", func() (func(*RGB) ([]Face, error), func() ClipStats) {
				// Analyzer.Faces through a Clip that lets SSD run on every
				// miss, for its counts.
				c := (&Analyzer{Detector: det, SSD: ssd, Expressions: expr}).Clip(ClipPolicy{})
				c.budget.found = true
				c.budget.p.Streak = 1 << 30
				return c.Faces, c.Stats
			}},
			{"tiny", func() (func(*RGB) ([]Face, error), func() ClipStats) {
				c := (&Analyzer{Detector: det, Expressions: expr, Options: Options{Detector: DetectorTiny}}).Clip(ClipPolicy{})
				return c.Faces, c.Stats
			}},
		} {
			b.Run(clip.name+"/"+st.name, func(b *testing.B) {
				var analysis time.Duration
				var frames, ssdFrames, passes int
				for b.Loop() {
					faces, stats := st.faces()
					err := media.Frames(context.Background(), clip.path, media.FrameOptions{}, func(f media.Frame) error {
						start := time.Now()
						_, err := faces(&RGB{W: f.Width, H: f.Height, Pix: f.Pix})
						analysis += time.Since(start)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					frames += stats().Frames
					ssdFrames += stats().SSDFrames
					passes += stats().SSDPasses
				}
				b.ReportMetric(float64(analysis.Milliseconds())/float64(frames), "ms/frame")
				b.ReportMetric(float64(ssdFrames)/float64(b.N), "ssd_frames/clip")
				b.ReportMetric(float64(passes)/float64(b.N), "ssd_passes/clip")
				b.ReportMetric(30*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
			})
		}
	}
}
