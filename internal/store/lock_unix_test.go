//go:build unix

package store_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"emer/internal/store"
)

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l, err := store.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A second lock, even of this process, is refused at once and names
	// the holder.
	_, err = store.LockDir(dir)
	var le *store.LockedError
	if !errors.As(err, &le) || le.Dir != dir || le.PID != os.Getpid() {
		t.Fatalf("second lock: err = %v, want a LockedError of %s by pid %d", err, dir, os.Getpid())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = store.LockDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l.Close()
}

// childEnv names, in a child process of a test, the folder it checks.
const childEnv = "EMER_STORE_TEST_DIR"

// runRestricted runs the calling test again in a child process that file
// modes restrict: as user nobody when the tests run as root, whom modes do
// not stop, else as this user. The child finds dir in childEnv.
func runRestricted(t *testing.T, dir string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	bin := filepath.Join(binDir, "store.test") // the build's own folder is private
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	openUp(t, binDir)
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Dir = binDir
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child: %v\n%s", err, out)
	}
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

// readOnly takes the write permission off dir and its files until the
// test ends.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
}

// TestUnwritableFolder checks, as a user who cannot write the folder, that
// opening a store there for writing or locking it says so, naming the
// folder, and that the store reads read-only.
func TestUnwritableFolder(t *testing.T) {
	ctx := context.Background()
	if dir := os.Getenv(childEnv); dir != "" {
		path := filepath.Join(dir, "emer.db")
		want := dir + " cannot be written: permission denied"
		if err := store.CheckWritable(path); err == nil || err.Error() != want {
			t.Errorf("CheckWritable: %v, want %q", err, want)
		}
		if _, err := store.Open(ctx, path); err == nil || err.Error() != want {
			t.Errorf("Open: %v, want %q", err, want)
		}
		if _, err := store.LockDir(dir); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("LockDir: %v, want %q", err, want)
		}
		s, err := store.OpenReadOnly(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, ok, err := s.Meta(ctx, "k"); err != nil || !ok || v != "v" {
			t.Errorf("meta %q %v %v", v, ok, err)
		}
		return
	}
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "emer.db"))
	if err := s.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	openUp(t, dir)
	readOnly(t, dir)
	runRestricted(t, dir)
}

// TestUnwritableDatabase checks, as a user who can write the folder but
// not the database in it, that opening it for writing names the file.
func TestUnwritableDatabase(t *testing.T) {
	if dir := os.Getenv(childEnv); dir != "" {
		path := filepath.Join(dir, "emer.db")
		want := path + " cannot be written: permission denied"
		if _, err := store.Open(context.Background(), path); err == nil || err.Error() != want {
			t.Errorf("Open: %v, want %q", err, want)
		}
		return
	}
	dir := t.TempDir()
	open(t, filepath.Join(dir, "emer.db")).Close()
	openUp(t, dir)
	if err := os.Chmod(filepath.Join(dir, "emer.db"), 0o444); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// The folder is the child's to write; the database stays root's.
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	runRestricted(t, dir)
}
