package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Every way the process can end, through execute: 0 for success, 2 for
// a mistake in the command line (cobra's own errors included), 1 for a
// failure or partial failure, 128+n for a signal.
func TestExitCodes(t *testing.T) {
	labelsDir, outputsDir := mosiFiles(t, map[string]float64{"a": 1, "b": -1})
	labels := filepath.Join(labelsDir, "cmumosi-process_label.npz")
	run := filepath.Join(outputsDir, "results-cmumosi", "run")
	partialRun := t.TempDir()
	for _, f := range []string{filepath.Join(run, "checkpoint_000030_loss_0.602-openset-sentiment.npz"), filepath.Join("testdata", "score", "truncated.bad.npz")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if strings.HasPrefix(name, "truncated") {
			name = "checkpoint_000099_loss_0.1-openset-sentiment.npz"
		}
		if err := os.WriteFile(filepath.Join(partialRun, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mosi := []string{"score", "unibench", "--dataset", "mosi", "--labels", labels, "--pred", run}
	for _, tc := range []struct {
		name   string
		args   []string
		signal syscall.Signal // cancels the context before the command runs
		code   int
		stderr string // "" for none
	}{
		{name: "success", args: mosi, code: 0},
		{name: "help", args: nil, code: 0},
		{name: "unknown command", args: []string{"foo"}, code: 2, stderr: `emer: usage: unknown command "foo" for "emer"; see 'emer --help'`},
		{name: "unknown command with a suggestion", args: []string{"scorez"}, code: 2, stderr: `unknown command "scorez" for "emer" (did you mean "score"?)`},
		{name: "unknown subcommand with a suggestion", args: []string{"score", "foo"}, code: 2, stderr: `emer: usage: unknown command "foo" for "emer score" (did you mean "ov"?); see 'emer score --help'`},
		{name: "unknown subcommand", args: []string{"score", "bogus"}, code: 2, stderr: `emer: usage: unknown command "bogus" for "emer score"; see 'emer score --help'`},
		{name: "unknown subcommand of a family without a command of its own", args: []string{"models", "foo"}, code: 2, stderr: `unknown command "foo" for "emer models"`},
		{name: "unknown flag", args: []string{"score", "unibench", "--nope"}, code: 2, stderr: "emer: usage: unknown flag: --nope"},
		{name: "flag without its value", args: []string{"score", "unibench", "--dataset"}, code: 2, stderr: "emer: usage: flag needs an argument: --dataset"},
		{name: "missing required flag", args: []string{"score", "ov", "--gt", labels}, code: 2, stderr: `emer: usage: required flag(s) "pred" not set`},
		{name: "argument where none is taken", args: []string{"version", "x"}, code: 2, stderr: `emer: usage: unknown command "x" for "emer version"`},
		{name: "missing argument", args: []string{"faces"}, code: 2, stderr: "emer: usage: requires at least 1 arg(s), only received 0"},
		{name: "usage error of a command", args: []string{"score", "unibench", "--all"}, code: 2, stderr: "emer: usage: --all needs --labels-dir and --outputs-dir"},
		{name: "failure", args: []string{"score", "unibench", "--dataset", "mosi", "--labels", labels + ".missing", "--pred", run}, code: 1, stderr: "no such file or directory"},
		{name: "partial failure", args: []string{"score", "unibench", "--dataset", "mosi", "--labels", labels, "--pred", partialRun}, code: 1,
			stderr: "emer: 1 of 2 checkpoints could not be scored: some items failed"},
		{name: "SIGINT", args: mosi, signal: syscall.SIGINT, code: 130, stderr: "emer: interrupted by SIGINT\n"},
		{name: "SIGTERM", args: mosi, signal: syscall.SIGTERM, code: 143, stderr: "emer: interrupted by SIGTERM\n"},
		{name: "SIGINT after success", args: []string{"version"}, signal: syscall.SIGINT, code: 130, stderr: "emer: interrupted by SIGINT\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.signal != 0 {
				c, cancel := context.WithCancelCause(ctx)
				cancel(&interruption{tc.signal})
				ctx = c
			}
			var out, errOut strings.Builder
			code := execute(ctx, tc.args, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errOut.String())
			}
			switch {
			case tc.stderr == "" && errOut.Len() > 0:
				t.Errorf("stderr %q, want nothing", errOut.String())
			case !strings.Contains(errOut.String(), tc.stderr):
				t.Errorf("stderr %q, want %q", errOut.String(), tc.stderr)
			}
			if tc.signal != 0 && tc.stderr != errOut.String() {
				t.Errorf("stderr %q, want only %q (no context error)", errOut.String(), tc.stderr)
			}
		})
	}
}
