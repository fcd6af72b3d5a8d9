package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The test binary stands in for ffmpeg when it is started under the name
// ffmpeg with fakeFFmpegEnv set to one of these modes; it writes its pid
// to the file "pid" in the folder $fakeFFmpegDirEnv, and the file
// "finished" there when it has written all of its output.
const (
	fakeFFmpegEnv    = "EMER_TEST_FAKE_FFMPEG"
	fakeFFmpegDirEnv = "EMER_TEST_FAKE_FFMPEG_DIR"

	// fakeFrames writes 64 frames of 512×512 (48 MB), a clip's worth.
	fakeFrames = "frames"
	// fakeGarbage writes one frame, then bytes that are no frame header,
	// then 48 MB more: the rest of a clip.
	fakeGarbage = "garbage"
	// fakeCut writes one frame and half of the next, reports a decoding
	// error and exits with status 1, as ffmpeg does on damaged data.
	fakeCut = "cut"
)

// fakeFFmpeg plays ffmpeg in mode and returns the exit status.
func fakeFFmpeg(mode string) int {
	dir := os.Getenv(fakeFFmpegDirEnv)
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	const side = 512
	frame := append([]byte(fmt.Sprintf("P6\n%d %d\n255\n", side, side)), make([]byte, side*side*3)...)
	write := func(b []byte) bool {
		_, err := os.Stdout.Write(b)
		return err == nil
	}
	ok := true
	switch mode {
	case fakeFrames:
		for i := 0; i < 64 && ok; i++ {
			ok = write(frame)
		}
	case fakeGarbage:
		ok = write(frame) && write([]byte("XX garbage"))
		for i := 0; i < 64 && ok; i++ {
			ok = write(frame[:side*side*3])
		}
	case fakeCut:
		write(frame)
		write(frame[:len(frame)/2])
		fmt.Fprintln(os.Stderr, "[h264 @ 0x1] Error while decoding stream #0:0: Invalid data found when processing input")
		return 1
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", mode)
		return 2
	}
	if !ok {
		return 1
	}
	if err := os.WriteFile(filepath.Join(dir, "finished"), nil, 0o644); err != nil {
		return 2
	}
	return 0
}

// useFakeFFmpeg puts the test binary on PATH as ffmpeg, playing mode, and
// returns the folder where it leaves its pid and "finished" files.
func useFakeFFmpeg(t *testing.T, mode string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "ffmpeg")); err != nil {
		t.Skipf("cannot link the test binary as ffmpeg: %v", err)
	}
	dir := t.TempDir()
	t.Setenv("PATH", bin)
	t.Setenv(fakeFFmpegEnv, mode)
	t.Setenv(fakeFFmpegDirEnv, dir)
	return dir
}

// TestFramesStopFFmpeg checks that however the reading of frames ends
// early, ffmpeg is stopped there instead of decoding the rest of the clip,
// and is gone (killed and waited for) when DecodeFrames returns.
func TestFramesStopFFmpeg(t *testing.T) {
	stop := errors.New("stop")
	tests := []struct {
		name  string
		mode  string
		opts  FrameOptions
		fn    func(cancel context.CancelFunc) func(Frame) error
		want  func(error) bool
		wantN int // frames delivered to fn
		// finished is whether the fake ffmpeg may write all its output.
		finished bool
	}{
		{
			name: "malformed frame", mode: fakeGarbage,
			want:  func(err error) bool { return err != nil && strings.Contains(err.Error(), "unexpected frame header") },
			wantN: 1,
		},
		{
			name: "callback error", mode: fakeFrames,
			fn: func(context.CancelFunc) func(Frame) error {
				return func(Frame) error { return stop }
			},
			want:  func(err error) bool { return errors.Is(err, stop) },
			wantN: 1,
		},
		{
			name: "cancelled", mode: fakeFrames,
			fn: func(cancel context.CancelFunc) func(Frame) error {
				return func(Frame) error { cancel(); return nil }
			},
			want:  func(err error) bool { return errors.Is(err, context.Canceled) },
			wantN: 1,
		},
		{
			name: "enough frames", mode: fakeFrames, opts: FrameOptions{Count: 2},
			want:  func(err error) bool { return err == nil },
			wantN: 2,
		},
		{
			name: "all frames", mode: fakeFrames,
			want:     func(err error) bool { return err == nil },
			wantN:    64,
			finished: true,
		},
		{
			// ffmpeg ends its output by itself: its own error is reported.
			name: "cut short by ffmpeg", mode: fakeCut,
			want:  func(err error) bool { return err != nil && strings.Contains(err.Error(), "Invalid data found") },
			wantN: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := useFakeFFmpeg(t, tt.mode)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			info := &Info{Path: "fake.mp4", Duration: 10, HasVideo: true,
				Streams: []Stream{{Index: 0, Type: "video", FrameRate: 6.4}}}
			n := 0
			var inner func(Frame) error
			if tt.fn != nil {
				inner = tt.fn(cancel)
			}
			err := info.DecodeFrames(ctx, tt.opts, func(f Frame) error {
				n++
				if inner != nil {
					return inner(f)
				}
				return nil
			})
			if !tt.want(err) || n != tt.wantN {
				t.Errorf("got %v after %d frames, want %d frames", err, n, tt.wantN)
			}
			b, rerr := os.ReadFile(filepath.Join(dir, "pid"))
			if rerr != nil {
				t.Fatalf("the fake ffmpeg left no pid: %v", rerr)
			}
			pid, _ := strconv.Atoi(string(bytes.TrimSpace(b)))
			if p, err := os.FindProcess(pid); err == nil {
				if err := p.Signal(syscall.Signal(0)); !errors.Is(err, os.ErrProcessDone) {
					t.Errorf("ffmpeg (pid %d) is still there after DecodeFrames returned: signal 0 gave %v", pid, err)
				}
			}
			_, serr := os.Stat(filepath.Join(dir, "finished"))
			if finished := serr == nil; finished != tt.finished {
				t.Errorf("ffmpeg wrote all its output: %v, want %v", finished, tt.finished)
			}
		})
	}
}
