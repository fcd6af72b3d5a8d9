//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm/llmtest"
)

// evalChildEnv carries, to a child process of a test, the emer command
// line it runs instead of the test.
const evalChildEnv = "EMER_TEST_CHILD_ARGS"

// runChildEmer runs emer with args in a child process (this test binary,
// which runs the command line when it finds it in evalChildEnv) that file
// modes restrict: as user nobody when the tests run as root, whom modes do
// not stop, else as this user. It returns the exit status and output.
func runChildEmer(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	b, _ := json.Marshal(args)
	test, _, _ := strings.Cut(t.Name(), "/")
	cmd := exec.Command(bin, "-test.run=^"+test+"$")
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(), evalChildEnv+"="+string(b))
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), so.String(), se.String()
}

// childEmer runs, in a child process of runChildEmer, the command line it
// was given, and exits with emer's status.
func childEmer() {
	if v := os.Getenv(evalChildEnv); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			panic(err)
		}
		os.Exit(execute(context.Background(), args, os.Stdout, os.Stderr))
	}
}

// copyTestBinary copies this test binary where another user can run it
// (the build's own folder is private).
func copyTestBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	openUp(t, dir)
	bin := filepath.Join(dir, "emer.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// openUp lets other users into a test's folder: t.TempDir makes it and its
// parent private.
func openUp(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// readOnlyTree takes the write permission off dir and everything in it
// until the test ends.
func readOnlyTree(t *testing.T, dir string) {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		return os.Chmod(path, 0o444)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, d := range dirs {
			os.Chmod(d, 0o755)
		}
	})
}

// TestEvalPermissions runs emer eval as a user who cannot write where it
// is pointed: a dry run of a finished folder works and changes nothing;
// a run says which folder or file it cannot write, before SQLite does.
func TestEvalPermissions(t *testing.T) {
	childEmer()
	clearConfigEnv(t) // the child inherits the cleared variables
	bin := copyTestBinary(t)
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()

	// A finished folder, and an input folder others can read.
	dir := t.TempDir()
	openUp(t, dir)
	gt, preds := killData(t, dir, 3)
	finished := func(t *testing.T) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out")
		openUp(t, filepath.Dir(out))
		if stderr, err := evalInto(t, srv, gt, out, 1, preds...); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		return out
	}
	args := func(out string, more ...string) []string {
		return append([]string{"eval", "--gt", gt, "--pred", preds[0], "--pred", preds[1], "--protocol", "release",
			"--model", "fake-judge", "--base-url", srv.BaseURL(), "--out", out}, more...)
	}

	t.Run("dry run of a read-only folder", func(t *testing.T) {
		out := finished(t)
		readOnlyTree(t, out)
		before := snapshotDir(t, out)
		code, stdout, stderr := runChildEmer(t, bin, args(out, "--dry-run")...)
		if want := "dry run: 12 results, 12 already done, 0 to judge"; code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout, stderr, want)
		}
		if diff := cmp.Diff(before, snapshotDir(t, out)); diff != "" {
			t.Errorf("the dry run changed the folder (-before +after):\n%s", diff)
		}
	})
	for _, c := range []struct {
		name string
		out  func(t *testing.T) (out, want string)
	}{
		{"folder cannot be written", func(t *testing.T) (string, string) {
			out := t.TempDir()
			openUp(t, out)
			readOnlyTree(t, out)
			return out, out + " cannot be written: permission denied"
		}},
		{"finished folder cannot be written", func(t *testing.T) (string, string) {
			out := finished(t)
			readOnlyTree(t, out)
			return out, out + " cannot be written: permission denied"
		}},
		{"folder cannot be made", func(t *testing.T) (string, string) {
			parent := t.TempDir()
			openUp(t, parent)
			readOnlyTree(t, parent)
			out := filepath.Join(parent, "out")
			return out, out + " cannot be created: permission denied"
		}},
		{"database cannot be written", func(t *testing.T) (string, string) {
			out := finished(t)
			db := filepath.Join(out, "emer.db")
			if err := os.Chmod(db, 0o444); err != nil {
				t.Fatal(err)
			}
			if os.Geteuid() == 0 {
				// The folder is the child's to write; the database stays root's.
				if err := os.Chown(out, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			return out, db + " cannot be written: permission denied"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, want := c.out(t)
			code, _, stderr := runChildEmer(t, bin, args(out)...)
			if code != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "unable to open") || strings.Contains(stderr, "readonly database") {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q, not SQLite's words", code, stderr, want)
			}
		})
	}
}
