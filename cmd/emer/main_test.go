//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalHarness runs a signalWatch with channels the test drives.
type signalHarness struct {
	signals  chan os.Signal
	done     chan struct{}
	graceOn  chan struct{}    // closed when the grace period starts
	graceEnd chan time.Time   // the end of the grace period
	exited   chan int         // the exit status, if the watch exits
	finished chan struct{}    // closed when the watch returns
	ctx      context.Context  // cancelled by the first signal
	stderr   *strings.Builder // read after finished
}

func startWatch() *signalHarness {
	h := &signalHarness{
		signals: make(chan os.Signal), done: make(chan struct{}), graceOn: make(chan struct{}),
		graceEnd: make(chan time.Time), exited: make(chan int, 1), finished: make(chan struct{}), stderr: &strings.Builder{},
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	h.ctx = ctx
	w := signalWatch{
		signals: h.signals, done: h.done, cancel: cancel, stderr: h.stderr,
		grace: func() <-chan time.Time { close(h.graceOn); return h.graceEnd },
		exit:  func(code int) { h.exited <- code },
	}
	go func() { defer close(h.finished); w.run() }()
	return h
}

func TestSignalWatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drive func(h *signalHarness)
		cause syscall.Signal // 0: the context is not cancelled
		exit  int            // -1: the watch does not exit
		msg   string
	}{
		{"no signal", func(h *signalHarness) { close(h.done) }, 0, -1, ""},
		{"the command stops in time", func(h *signalHarness) {
			h.signals <- syscall.SIGINT
			<-h.graceOn
			close(h.done)
		}, syscall.SIGINT, -1, "emer: SIGINT: stopping; send it again to exit at once\n"},
		{"the command does not stop", func(h *signalHarness) {
			h.signals <- syscall.SIGINT
			<-h.graceOn
			h.graceEnd <- time.Time{}
		}, syscall.SIGINT, 130, "emer: SIGINT: stopping; send it again to exit at once\nemer: interrupted by SIGINT; the command did not stop in time, exiting\n"},
		{"SIGTERM, the command does not stop", func(h *signalHarness) {
			h.signals <- syscall.SIGTERM
			<-h.graceOn
			h.graceEnd <- time.Time{}
		}, syscall.SIGTERM, 143, "emer: SIGTERM: stopping; send it again to exit at once\nemer: interrupted by SIGTERM; the command did not stop in time, exiting\n"},
		{"a second signal", func(h *signalHarness) {
			h.signals <- syscall.SIGINT
			<-h.graceOn
			h.signals <- syscall.SIGINT
		}, syscall.SIGINT, 130, "emer: SIGINT: stopping; send it again to exit at once\nemer: SIGINT again, exiting now\n"},
		{"SIGTERM after SIGINT", func(h *signalHarness) {
			h.signals <- syscall.SIGINT
			<-h.graceOn
			h.signals <- syscall.SIGTERM
		}, syscall.SIGINT, 143, "emer: SIGINT: stopping; send it again to exit at once\nemer: SIGTERM again, exiting now\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startWatch()
			tc.drive(h)
			<-h.finished
			exit := -1
			select {
			case exit = <-h.exited:
			default:
			}
			if exit != tc.exit || h.stderr.String() != tc.msg {
				t.Errorf("exit %d, stderr %q; want %d, %q", exit, h.stderr.String(), tc.exit, tc.msg)
			}
			var cause *interruption
			switch {
			case tc.cause == 0 && h.ctx.Err() != nil:
				t.Errorf("context cancelled: %v", context.Cause(h.ctx))
			case tc.cause != 0 && (!errors.As(context.Cause(h.ctx), &cause) || cause.sig != tc.cause):
				t.Errorf("context cause %v, want an interruption by %v", context.Cause(h.ctx), tc.cause)
			}
		})
	}
}

// TestMainProcess is the emer process of TestSignalEndsBlockedCommand: it
// runs the command line after "--".
func TestMainProcess(t *testing.T) {
	if os.Getenv("EMER_TEST_MAIN_PROCESS") != "1" {
		t.Skip("the emer process of TestSignalEndsBlockedCommand")
	}
	i := slices.Index(os.Args, "--")
	os.Exit(runMain(os.Args[i+1:], os.Stdout, os.Stderr))
}

// A command blocked reading its input (a FIFO nobody writes to) ends
// soon after SIGINT or SIGTERM, with the shell's status for the signal.
func TestSignalEndsBlockedCommand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals []syscall.Signal
		code    int
		msg     string
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}, 130, "emer: SIGINT: stopping; send it again to exit at once\nemer: interrupted by SIGINT; the command did not stop in time, exiting\n"},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 143, "emer: SIGTERM: stopping; send it again to exit at once\nemer: interrupted by SIGTERM; the command did not stop in time, exiting\n"},
		{"SIGINT then SIGTERM", []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}, 143, "emer: SIGINT: stopping; send it again to exit at once\nemer: SIGTERM again, exiting now\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "gt.csv")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no FIFO: %v", err)
			}
			// A deadline generous enough for a loaded machine: passing it
			// means the process ignored the signal.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMainProcess$", "--",
				"score", "ov", "--gt", fifo, "--pred", fifo, "--wheels", "unused")
			cmd.Env = append(os.Environ(), "EMER_TEST_MAIN_PROCESS=1")
			// stderr is read line by line, so that a second signal is sent
			// only once emer has said it took the first: signals sent at
			// once may reach it in either order.
			pr, pw := io.Pipe()
			cmd.Stderr = pw
			var stderr strings.Builder
			lines := make(chan string, 8)
			go func() {
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { err := cmd.Wait(); pw.Close(); exited <- err }()

			// Opening the FIFO for writing returns once emer has opened it
			// to read, after it set up its signal handling; it then waits
			// for lines that never come.
			type openResult struct {
				f   *os.File
				err error
			}
			opened := make(chan openResult, 1)
			go func() {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				opened <- openResult{f, err}
			}()
			select {
			case o := <-opened:
				if o.err != nil {
					t.Fatal(o.err)
				}
				defer o.f.Close()
			case err := <-exited:
				// Open the other end so that the writer's open returns.
				if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
					if o := <-opened; o.f != nil {
						o.f.Close()
					}
					r.Close()
				}
				t.Fatalf("emer ended before reading its input: %v\n%s", err, stderr.String())
			}
			for i, s := range tc.signals {
				if err := cmd.Process.Signal(s); err != nil {
					t.Fatal(err)
				}
				if i == len(tc.signals)-1 {
					break
				}
				line, ok := <-lines // emer says it is stopping
				if !ok {
					t.Fatalf("emer said nothing after %v", s)
				}
				stderr.WriteString(line + "\n")
			}
			err := <-exited
			for line := range lines {
				stderr.WriteString(line + "\n")
			}
			if ctx.Err() != nil {
				t.Fatalf("emer still ran a minute after %v; killed", tc.signals)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Errorf("emer ended with %v, want exit status %d\n%s", err, tc.code, stderr.String())
			}
			if stderr.String() != tc.msg {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.msg)
			}
		})
	}
}
