package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/sharedtest"
)

// clips holds media files built once by ffmpeg for the whole package.
var clips = map[string]string{}

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeFFmpegEnv); mode != "" {
		os.Exit(fakeFFmpeg(mode)) // started by a test as ffmpeg
	}
	code := func() int {
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			return m.Run() // tests that need clips skip
		}
		dir, err := os.MkdirTemp("", "media-test")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		if err := buildClips(dir); err != nil {
			os.Stderr.WriteString("building test clips: " + err.Error() + "\n")
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func buildClips(dir string) error {
	p := func(name string) string { return filepath.Join(dir, name) }
	srt := "1\n00:00:00,200 --> 00:00:01,000\nI am <i>so</i> happy\n\n2\n00:00:01,100 --> 00:00:01,900\nreally\n"
	if err := os.WriteFile(p("good.srt"), []byte(srt), 0o644); err != nil {
		return err
	}
	ff := func(args ...string) error {
		cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return errors.New(strings.Join(args, " ") + ": " + string(out))
		}
		return nil
	}
	x264 := []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}
	steps := []struct {
		name string
		args []string
	}{
		{"good.mp4", append([]string{"-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=2",
			"-f", "lavfi", "-i", "sine=f=440:r=16000:d=2", "-i", p("good.srt"),
			"-map", "0", "-map", "1", "-map", "2", "-c:a", "aac", "-c:s", "mov_text"}, x264...)},
		{"videoonly.mp4", append([]string{"-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=1"}, x264...)},
		{"audioonly.wav", []string{"-f", "lavfi", "-i", "sine=f=220:r=44100:d=1", "-ac", "2"}},
		{"silent.mp4", append([]string{"-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=1",
			"-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", "-c:a", "aac"}, x264...)},
		{"short.mp4", append([]string{"-f", "lavfi", "-i", "testsrc=s=160x120:r=25:d=0.2",
			"-f", "lavfi", "-i", "sine=f=440:r=16000:d=0.2", "-c:a", "aac"}, x264...)},
		{"vfr.mp4", append([]string{"-f", "lavfi", "-i", "testsrc=s=160x120:r=30",
			"-vf", "setpts='if(lt(N,15),N/30/TB,(0.5+(N-15)/5)/TB)'", "-frames:v", "30", "-fps_mode", "vfr"}, x264...)},
		{"big.mp4", append([]string{"-f", "lavfi", "-i", "color=c=gray:s=7680x4320:r=1:d=1", "-frames:v", "1"}, x264...)},
		{"plain.mp4", append([]string{"-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=1"}, x264...)},
	}
	for _, s := range steps {
		if err := ff(append(s.args, p(s.name))...); err != nil {
			return err
		}
		clips[s.name] = p(s.name)
	}
	// An MPEG-TS stream whose timestamps start at 11.4 s.
	if err := ff(append(append([]string{"-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=2"}, x264...), "-output_ts_offset", "10", p("offset.ts"))...); err != nil {
		return err
	}
	clips["offset.ts"] = p("offset.ts")
	if err := ff("-i", p("plain.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", p("rotated.mp4")); err != nil {
		return err
	}
	clips["rotated.mp4"] = p("rotated.mp4")
	// A song with cover art: the picture is a video stream marked as such.
	if err := ff("-f", "lavfi", "-i", "sine=f=330:r=44100:d=1", "-f", "lavfi", "-i", "color=c=red:s=64x64:d=1",
		"-map", "0", "-map", "1", "-frames:v", "1", "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic", p("cover.mp3")); err != nil {
		return err
	}
	clips["cover.mp3"] = p("cover.mp3")
	// An MP4 whose index is at the front, cut in half: it opens, and
	// decoding stops where the data ends.
	if err := ff("-i", p("good.mp4"), "-map", "0:v", "-map", "0:a", "-c", "copy", "-movflags", "+faststart", p("faststart.mp4")); err != nil {
		return err
	}
	fs, err := os.ReadFile(p("faststart.mp4"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(p("cut.mp4"), fs[:len(fs)*6/10], 0o644); err != nil {
		return err
	}
	clips["cut.mp4"] = p("cut.mp4")
	// A truncated MP4: the moov atom written at the end is cut off.
	good, err := os.ReadFile(p("good.mp4"))
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"truncated.mp4": good[:len(good)/2],
		"empty.mp4":     {},
		"notmedia.mp4":  []byte("this is a text file, not a video\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(p(name), data, 0o644); err != nil {
			return err
		}
		clips[name] = p(name)
	}
	return nil
}

func clip(t *testing.T, name string) string {
	t.Helper()
	p, ok := clips[name]
	if !ok {
		t.Skip("ffmpeg is not installed (run `make setup`); test clips were not built")
	}
	return p
}

func collect(t *testing.T, path string, opts FrameOptions) ([]Frame, error) {
	t.Helper()
	var frames []Frame
	err := Frames(context.Background(), path, opts, func(f Frame) error {
		frames = append(frames, f)
		return nil
	})
	return frames, err
}

func TestProbe(t *testing.T) {
	info, err := Probe(context.Background(), clip(t, "good.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if !info.HasVideo || !info.HasAudio || !info.HasSubtitle {
		t.Errorf("streams: video %v audio %v subtitle %v, want all", info.HasVideo, info.HasAudio, info.HasSubtitle)
	}
	if info.Width != 160 || info.Height != 120 {
		t.Errorf("size %dx%d, want 160x120", info.Width, info.Height)
	}
	if math.Abs(info.Duration-2) > 0.1 {
		t.Errorf("duration %.3f, want 2", info.Duration)
	}
	if v, _ := info.Video(); math.Abs(v.FrameRate-10) > 0.01 {
		t.Errorf("frame rate %.3f, want 10", v.FrameRate)
	}
	if a, _ := info.Audio(); a.SampleRate != 16000 || a.Channels != 1 {
		t.Errorf("audio %d Hz %d ch, want 16000 Hz mono", a.SampleRate, a.Channels)
	}
}

func TestProbeRotation(t *testing.T) {
	path := clip(t, "rotated.mp4")
	info, err := Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Rotation%180 == 0 || info.Width != 120 || info.Height != 160 {
		t.Errorf("rotation %d size %dx%d, want ±90 and 120x160", info.Rotation, info.Width, info.Height)
	}
	frames, err := collect(t, path, FrameOptions{Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 1 || frames[0].Width != 120 || frames[0].Height != 160 {
		t.Errorf("got %d frames, first %dx%d; want 1 of 120x160", len(frames), frames[0].Width, frames[0].Height)
	}
}

func TestFramesAtRate(t *testing.T) {
	frames, err := collect(t, clip(t, "good.mp4"), FrameOptions{Rate: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 4 {
		t.Fatalf("got %d frames at 2 fps from 2 s, want 4", len(frames))
	}
	for i, f := range frames {
		if f.Index != i || math.Abs(f.Time-float64(i)*0.5) > 1e-9 {
			t.Errorf("frame %d: index %d time %.3f", i, f.Index, f.Time)
		}
		if f.Width != 160 || f.Height != 120 || len(f.Pix) != 160*120*3 {
			t.Errorf("frame %d: %dx%d with %d bytes", i, f.Width, f.Height, len(f.Pix))
		}
	}
	// testsrc is colourful: the frame must not be blank.
	var sum int
	for _, b := range frames[0].Pix {
		sum += int(b)
	}
	if sum == 0 {
		t.Error("first frame is black")
	}
}

func TestFramesThreads(t *testing.T) {
	want, err := collect(t, clip(t, "good.mp4"), FrameOptions{Rate: 5})
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, clip(t, "good.mp4"), FrameOptions{Rate: 5, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d frames with one thread, %d with ffmpeg's choice", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Pix, want[i].Pix) {
			t.Errorf("frame %d differs when decoded with one thread", i)
		}
	}
}

func TestFramesUniform(t *testing.T) {
	frames, err := collect(t, clip(t, "good.mp4"), FrameOptions{Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.0 / 3, 1, 5.0 / 3}
	if len(frames) != len(want) {
		t.Fatalf("got %d frames, want %d", len(frames), len(want))
	}
	for i, f := range frames {
		if math.Abs(f.Time-want[i]) > 0.01 {
			t.Errorf("frame %d at %.3f s, want %.3f", i, f.Time, want[i])
		}
	}
}

// TestFramesOffsetStart samples a stream whose timestamps do not start at
// zero: times are from the start of the clip, and the frames are distinct
// pictures, not copies of the first.
func TestFramesOffsetStart(t *testing.T) {
	for _, opts := range []FrameOptions{{Rate: 2}, {Count: 4}} {
		frames, err := collect(t, clip(t, "offset.ts"), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(frames) != 4 {
			t.Fatalf("%+v: got %d frames, want 4", opts, len(frames))
		}
		if frames[0].Time > 0.3 || frames[3].Time > 2 {
			t.Errorf("%+v: times %.2f .. %.2f, want within the clip's 2 s", opts, frames[0].Time, frames[3].Time)
		}
		for i := 1; i < len(frames); i++ {
			if string(frames[i].Pix) == string(frames[i-1].Pix) {
				t.Errorf("%+v: frame %d repeats frame %d", opts, i, i-1)
			}
		}
	}
}

func TestFramesStopEarly(t *testing.T) {
	stop := errors.New("enough")
	n := 0
	err := Frames(context.Background(), clip(t, "good.mp4"), FrameOptions{Rate: 10}, func(Frame) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("got %v after %d frames, want the callback's error after 2", err, n)
	}
}

func TestHugeFrame(t *testing.T) {
	path := clip(t, "big.mp4")
	frames, err := collect(t, path, FrameOptions{Count: 1, MaxSide: 1280})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 1 || frames[0].Width != 1280 || frames[0].Height != 720 {
		t.Fatalf("got %d frames (first %dx%d), want one 1280x720", len(frames), frames[0].Width, frames[0].Height)
	}
	frames, err = collect(t, path, FrameOptions{Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 1 || frames[0].Width != 7680 || frames[0].Height != 4320 || len(frames[0].Pix) != 7680*4320*3 {
		t.Fatalf("full size: got %d frames, want one 7680x4320", len(frames))
	}
}

func TestShortClip(t *testing.T) {
	path := clip(t, "short.mp4")
	frames, err := collect(t, path, FrameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 1 {
		t.Errorf("0.2 s at 2 fps: got %d frames, want 1", len(frames))
	}
	frames, err = collect(t, path, FrameOptions{Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 1 || len(frames) > 4 {
		t.Errorf("0.2 s, 4 uniform frames: got %d", len(frames))
	}
	pcm, err := Audio(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if d := pcm.Duration(); d < 0.15 || d > 0.3 {
		t.Errorf("audio lasts %.3f s, want about 0.2", d)
	}
}

func TestVariableFrameRate(t *testing.T) {
	path := clip(t, "vfr.mp4")
	info, err := Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := collect(t, path, FrameOptions{Rate: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := int(math.Round(info.Duration * 4))
	if len(frames) < want-1 || len(frames) > want+1 {
		t.Errorf("%.2f s at 4 fps: got %d frames, want about %d", info.Duration, len(frames), want)
	}
	for i := 1; i < len(frames); i++ {
		if frames[i].Time <= frames[i-1].Time {
			t.Errorf("frame %d time %.3f not after %.3f", i, frames[i].Time, frames[i-1].Time)
		}
	}
}

func TestAudio(t *testing.T) {
	pcm, err := Audio(context.Background(), clip(t, "good.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if pcm.SampleRate != 16000 || math.Abs(pcm.Duration()-2) > 0.1 {
		t.Errorf("got %d Hz, %.3f s; want 16000 Hz, 2 s", pcm.SampleRate, pcm.Duration())
	}
	var energy float64
	for _, v := range pcm.Samples {
		energy += float64(v) * float64(v)
	}
	rms := math.Sqrt(energy / float64(len(pcm.Samples)))
	// ffmpeg's sine source has amplitude 1/8: RMS 0.088.
	if rms < 0.05 || rms > 0.15 {
		t.Errorf("RMS %.3f, want about 0.088", rms)
	}
	i16 := pcm.Int16()
	if len(i16) != len(pcm.Samples) {
		t.Fatalf("Int16 gave %d samples, want %d", len(i16), len(pcm.Samples))
	}
	// A stereo 44.1 kHz file is mixed down and resampled.
	pcm, err = Audio(context.Background(), clip(t, "audioonly.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pcm.Duration()-1) > 0.02 {
		t.Errorf("audio-only file: %.3f s, want 1", pcm.Duration())
	}
	pcm, err = Audio(context.Background(), clip(t, "silent.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range pcm.Samples {
		if v != 0 {
			t.Fatalf("silent audio has sample %g", v)
		}
	}
}

func TestMissingStreams(t *testing.T) {
	ctx := context.Background()
	_, err := Audio(ctx, clip(t, "videoonly.mp4"))
	if !errors.Is(err, ErrNoStream) || !strings.Contains(err.Error(), "no audio") {
		t.Errorf("audio of a silent video: %v, want ErrNoStream", err)
	}
	_, err = collect(t, clip(t, "audioonly.wav"), FrameOptions{})
	if !errors.Is(err, ErrNoStream) || !strings.Contains(err.Error(), "no video") {
		t.Errorf("frames of a sound file: %v, want ErrNoStream", err)
	}
	_, err = EmbeddedSubtitles(ctx, clip(t, "videoonly.mp4"))
	if !errors.Is(err, ErrNoStream) {
		t.Errorf("subtitles of a clip without a track: %v, want ErrNoStream", err)
	}
	info, err := Probe(ctx, clip(t, "audioonly.wav"))
	if err != nil || info.HasVideo || !info.HasAudio {
		t.Errorf("audio-only probe: %+v, %v", info, err)
	}
}

func TestBadMedia(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"notmedia.mp4", "empty.mp4", "truncated.mp4"} {
		t.Run(name, func(t *testing.T) {
			path := clip(t, name)
			_, err := Probe(ctx, path)
			if !errors.Is(err, ErrNotMedia) || !strings.Contains(err.Error(), path) {
				t.Errorf("Probe: %v, want ErrNotMedia naming the file", err)
			}
			if _, err := collect(t, path, FrameOptions{}); !errors.Is(err, ErrNotMedia) {
				t.Errorf("Frames: %v, want ErrNotMedia", err)
			}
			if _, err := Audio(ctx, path); !errors.Is(err, ErrNotMedia) {
				t.Errorf("Audio: %v, want ErrNotMedia", err)
			}
		})
	}
	_, err := Probe(ctx, filepath.Join(t.TempDir(), "missing.mp4"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want not-exist", err)
	}
}

func TestCutShort(t *testing.T) {
	path := clip(t, "cut.mp4")
	frames, err := collect(t, path, FrameOptions{Rate: 10})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) {
		t.Errorf("frames: %v, want ErrDamaged naming the file", err)
	}
	if len(frames) == 0 || len(frames) >= 20 {
		t.Errorf("got %d frames of 20, want the ones before the cut", len(frames))
	}
	pcm, err := Audio(context.Background(), path)
	if err != nil && !errors.Is(err, ErrDamaged) {
		t.Errorf("audio: %v, want nil or ErrDamaged", err)
	}
	if pcm == nil || pcm.Duration() >= 2 {
		t.Errorf("audio of a cut file: %+v", pcm)
	}
}

func TestCoverArt(t *testing.T) {
	path := clip(t, "cover.mp3")
	info, err := Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.HasVideo || !info.HasAudio {
		t.Errorf("cover art counted as video: %+v", info)
	}
	if _, err := collect(t, path, FrameOptions{}); !errors.Is(err, ErrNoStream) {
		t.Errorf("frames of a song with cover art: %v, want ErrNoStream", err)
	}
	if _, err := Audio(context.Background(), path); err != nil {
		t.Error(err)
	}
}

func TestNoFFmpeg(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.mp4")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err := Probe(context.Background(), path)
	if !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
		t.Errorf("got %v, want ErrNoFFmpeg saying how to install it", err)
	}
}

func TestEmbeddedSubtitles(t *testing.T) {
	subs, err := EmbeddedSubtitles(context.Background(), clip(t, "good.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if subs.Source != SourceEmbedded || len(subs.Cues) != 2 {
		t.Fatalf("got %+v, want 2 embedded cues", subs)
	}
	if got := subs.Text(); got != "I am so happy really" {
		t.Errorf("text %q", got)
	}
	if c := subs.Cues[0]; math.Abs(c.Start-0.2) > 1e-6 || math.Abs(c.End-1.0) > 1e-6 {
		t.Errorf("first cue %.3f-%.3f, want 0.2-1.0", c.Start, c.End)
	}
}

func TestFindSubtitles(t *testing.T) {
	ctx := context.Background()
	// The sidecar good.srt sits beside good.mp4 and is preferred.
	subs, err := FindSubtitles(ctx, clip(t, "good.mp4"))
	if err != nil || subs.Source != SourceFile {
		t.Errorf("good.mp4: %+v, %v; want the sidecar file", subs, err)
	}
	_, err = FindSubtitles(ctx, clip(t, "videoonly.mp4"))
	if !errors.Is(err, ErrNoStream) {
		t.Errorf("videoonly.mp4: %v, want ErrNoStream", err)
	}
	shared := sharedtest.Path(t, "reference", "media", "clip.mp4")
	subs, err = FindSubtitles(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	if subs.Source != SourceEmbedded || !strings.Contains(subs.Text(), "happy") {
		t.Errorf("clip.mp4: %+v", subs)
	}
}

func TestParseCues(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Cue
		err      string
	}{
		{"srt", "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\nworld\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n<b>Bye</b>\r\n",
			[]Cue{{1, 2.5, "Hello\nworld"}, {3, 4, "Bye"}}, ""},
		{"vtt", "WEBVTT\n\nNOTE a comment\nstill comment\n\nid-1\n00:01.000 --> 00:02.000 align:start\n{\\an8}Hi\n\n01:00:00.000 --> 01:00:01.5\nLate\n",
			[]Cue{{1, 2, "Hi"}, {3600, 3601.5, "Late"}}, ""},
		{"empty", "", nil, ""},
		{"bad time", "1\n00:00:01,000 --> soon\nx\n", nil, "line 2"},
		{"backwards", "1\n00:00:02,000 --> 00:00:01,000\nx\n", nil, "ends before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCues(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("cue %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestTextSubtitles(t *testing.T) {
	s := TextSubtitles("  I am happy!  ")
	if s.Source != SourceText || s.Text() != "I am happy!" {
		t.Errorf("got %+v", s)
	}
}

// BenchmarkFrames measures decoding a 10 s 1280x720 clip to RGB at 2 fps
// (the default rate) and at its full 25 fps; MB/s counts RGB bytes out.
func BenchmarkFrames(b *testing.B) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skip("ffmpeg is not installed")
	}
	path := filepath.Join(b.TempDir(), "hd.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=10",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	info, err := Probe(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	for _, rate := range []float64{2, 25} {
		b.Run(fmt.Sprintf("%gfps", rate), func(b *testing.B) {
			frames := 0
			for b.Loop() {
				err := info.DecodeFrames(context.Background(), FrameOptions{Rate: rate}, func(f Frame) error {
					frames++
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
			b.ReportMetric(10*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
		})
	}
	// ffmpeg decoding the clip alone, writing nothing: the floor.
	b.Run("ffmpeg-decode-only", func(b *testing.B) {
		for b.Loop() {
			if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
		b.ReportMetric(10*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	})
}

func TestProbedInfoDecodes(t *testing.T) {
	ctx := context.Background()
	info, err := Probe(ctx, clip(t, "good.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := info.DecodeFrames(ctx, FrameOptions{Count: 2}, func(Frame) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("DecodeFrames: %d frames, %v; want 2", n, err)
	}
	if pcm, err := info.DecodeAudio(ctx); err != nil || math.Abs(pcm.Duration()-2) > 0.1 {
		t.Errorf("DecodeAudio: %v", err)
	}
	if subs, err := info.DecodeSubtitles(ctx); err != nil || len(subs.Cues) != 2 {
		t.Errorf("DecodeSubtitles: %+v, %v", subs, err)
	}
	if subs, err := info.FindSubtitles(ctx); err != nil || subs.Source != SourceFile {
		t.Errorf("FindSubtitles: %+v, %v; want the sidecar", subs, err)
	}
}
