package face

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/media"
)

// buildClip runs ffmpeg to make a test clip in dir, skipping when ffmpeg
// or the shared photos are absent.
func buildClip(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed (run `make setup`)")
	}
	out := filepath.Join(dir, name)
	args = append(append([]string{"-nostdin", "-v", "error", "-y"}, args...),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", out)
	if msg, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return out
}

// clipFaces decodes a clip at opts and analyses every frame.
func clipFaces(t *testing.T, a *Analyzer, path string, opts media.FrameOptions) []FrameFaces {
	t.Helper()
	var frames []FrameFaces
	err := media.Frames(context.Background(), path, opts, func(f media.Frame) error {
		faces, err := a.Faces(&RGB{W: f.Width, H: f.Height, Pix: f.Pix})
		frames = append(frames, FrameFaces{T: f.Time, Faces: faces})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func TestClips(t *testing.T) {
	photo := mediaPath(t, "sample6.jpg")
	det, expr := nets(t)
	a := &Analyzer{Detector: det, Expressions: expr}
	dir := t.TempDir()

	t.Run("faces", func(t *testing.T) {
		clip := buildClip(t, dir, "faces.mp4", "-loop", "1", "-framerate", "10", "-i", photo, "-t", "2", "-vf", "scale=960:-2")
		frames := clipFaces(t, a, clip, media.FrameOptions{})
		if len(frames) != 4 {
			t.Fatalf("%d frames at 2 fps from 2 s, want 4", len(frames))
		}
		tracks := LinkTracks(frames, TrackOptions{})
		main := MainTrack(tracks)
		if len(tracks) != 5 || main < 0 || tracks[main].Presence != 1 {
			t.Fatalf("%d tracks, main %d; want 5 tracks with a main face present throughout", len(tracks), main)
		}
		segs := Summarize(tracks[main], 0.5)
		if len(segs) == 0 || segs[0].Start != 0 || segs[len(segs)-1].End != 2 {
			t.Errorf("main face summary %+v, want segments covering 0-2 s", segs)
		}
	})
	t.Run("no face", func(t *testing.T) {
		clip := buildClip(t, dir, "noface.mp4", "-f", "lavfi", "-i", "smptebars=s=640x360:r=10:d=2")
		frames := clipFaces(t, a, clip, media.FrameOptions{})
		for _, f := range frames {
			if len(f.Faces) != 0 {
				t.Errorf("%d faces at %.1f s in a test pattern", len(f.Faces), f.T)
			}
		}
		if tracks := LinkTracks(frames, TrackOptions{}); len(tracks) != 0 || MainTrack(tracks) != -1 {
			t.Errorf("%d tracks in a clip without faces", len(tracks))
		}
	})
	t.Run("7680x4320", func(t *testing.T) {
		clip := buildClip(t, dir, "big.mp4", "-loop", "1", "-framerate", "1", "-i", photo, "-frames:v", "1",
			"-vf", "scale=-2:4320,pad=7680:4320")
		frames := clipFaces(t, a, clip, media.FrameOptions{Count: 1})
		// The photo fills 70 % of the width here, so the detector sees the
		// faces smaller than in the photo itself and finds the clearer ones.
		if len(frames) != 1 || len(frames[0].Faces) < 3 {
			t.Fatalf("got %d frames; want one with at least 3 of the photo's faces", len(frames))
		}
		for _, f := range frames[0].Faces {
			if f.Box.X < 0 || f.Box.Right() > 5400 || f.Box.Y < 0 || f.Box.Bottom() > 4320 {
				t.Errorf("box %+v is outside the photo's part of the frame", f.Box)
			}
		}
		// The same frame scaled down while decoding gives the same faces.
		small := clipFaces(t, a, clip, media.FrameOptions{Count: 1, MaxSide: 1920})
		if len(small) != 1 || len(small[0].Faces) != len(frames[0].Faces) {
			t.Errorf("scaled to 1920: got %d frames; want one with %d faces", len(small), len(frames[0].Faces))
		}
	})
	t.Run("0.2 s", func(t *testing.T) {
		clip := buildClip(t, dir, "short.mp4", "-loop", "1", "-framerate", "25", "-i", photo, "-t", "0.2", "-vf", "scale=640:-2")
		frames := clipFaces(t, a, clip, media.FrameOptions{})
		if len(frames) != 1 || len(frames[0].Faces) == 0 {
			t.Fatalf("got %d frames; want one, with faces", len(frames))
		}
		tracks := LinkTracks(frames, TrackOptions{})
		if m := MainTrack(tracks); m < 0 || len(Summarize(tracks[m], 0.5)) != 1 {
			t.Errorf("main track %d of %d; want one with a one-segment summary", m, len(tracks))
		}
	})
	t.Run("variable frame rate", func(t *testing.T) {
		clip := buildClip(t, dir, "vfr.mp4", "-loop", "1", "-framerate", "30", "-i", photo, "-frames:v", "30",
			"-vf", "scale=640:-2,setpts='if(lt(N,15),N/30/TB,(0.5+(N-15)/5)/TB)'", "-fps_mode", "vfr")
		frames := clipFaces(t, a, clip, media.FrameOptions{Rate: 4})
		if len(frames) < 10 {
			t.Fatalf("%d frames at 4 fps from a 3.3 s clip, want at least 10", len(frames))
		}
		tracks := LinkTracks(frames, TrackOptions{})
		if m := MainTrack(tracks); m < 0 || tracks[m].Presence < 0.9 {
			t.Errorf("main track %d; want one present in nearly every frame", m)
		}
	})
}

// BenchmarkClipFaces measures the visual path on a 30 s 1280×720 clip at
// media.DefaultRate: decoding through ffmpeg, detection and expressions of
// every face, tracks and summary; and, for scale, ffmpeg decoding the same
// clip alone.
func BenchmarkClipFaces(b *testing.B) {
	photo := mediaPath(b, "sample6.jpg")
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skip("ffmpeg is not installed")
	}
	det, expr := nets(b)
	a := &Analyzer{Detector: det, Expressions: expr}
	clip := filepath.Join(b.TempDir(), "hd.mp4")
	args := []string{"-nostdin", "-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i", photo, "-t", "30",
		"-vf", "scale=1280:-2,crop=1280:720,noise=alls=8:allf=t",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", clip}
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	b.Run("faces", func(b *testing.B) {
		for b.Loop() {
			var frames []FrameFaces
			err := media.Frames(context.Background(), clip, media.FrameOptions{}, func(f media.Frame) error {
				faces, err := a.Faces(&RGB{W: f.Width, H: f.Height, Pix: f.Pix})
				frames = append(frames, FrameFaces{T: f.Time, Faces: faces})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			tracks := LinkTracks(frames, TrackOptions{})
			if m := MainTrack(tracks); m >= 0 {
				Summarize(tracks[m], 1/media.DefaultRate)
			}
		}
		b.ReportMetric(30*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	})
	b.Run("ffmpeg-decode-only", func(b *testing.B) {
		for b.Loop() {
			if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", clip, "-f", "null", "-").CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
		b.ReportMetric(30*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	})
}
