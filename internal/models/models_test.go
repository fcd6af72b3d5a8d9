package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// installed returns the verified contents of the real model files, or
// skips when they are not installed.
func installed(t *testing.T) map[string][]byte {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Skip(err)
	}
	out := map[string][]byte{}
	for _, f := range Files {
		data, err := ReadFile(dir, f.Name)
		if err != nil {
			t.Skipf("model files are not installed in %s (run `emer models install`): %v", dir, err)
		}
		out[f.Name] = data
	}
	return out
}

// fakePack returns a Packer that writes a tarball holding files under
// package/model/, and counts its calls.
func fakePack(t *testing.T, files map[string][]byte, calls *int) Packer {
	return func(ctx context.Context, dir string) (string, error) {
		*calls++
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for name, data := range files {
			if err := tw.WriteHeader(&tar.Header{Name: "package/model/" + name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				return "", err
			}
			if _, err := tw.Write(data); err != nil {
				return "", err
			}
		}
		if err := tw.Close(); err != nil {
			return "", err
		}
		if err := gz.Close(); err != nil {
			return "", err
		}
		p := filepath.Join(dir, "pkg.tgz")
		return p, os.WriteFile(p, buf.Bytes(), 0o644)
	}
}

func TestDir(t *testing.T) {
	t.Setenv(EnvDir, "/some/where")
	if d, err := Dir(); err != nil || d != "/some/where" {
		t.Errorf("with %s set: %q, %v", EnvDir, d, err)
	}
	t.Setenv(EnvDir, "")
	t.Setenv("XDG_CACHE_HOME", "/cache")
	if d, err := Dir(); err != nil || d != filepath.Join("/cache", "emer", "models") {
		t.Errorf("from XDG_CACHE_HOME: %q, %v", d, err)
	}
}

func TestInstallIdempotent(t *testing.T) {
	real := installed(t)
	dir := filepath.Join(t.TempDir(), "models")
	calls := 0
	pack := fakePack(t, real, &calls)
	wrote, err := Install(context.Background(), dir, pack)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrote) != len(Files) || calls != 1 {
		t.Fatalf("first install wrote %v with %d fetches, want all %d files and one fetch", wrote, calls, len(Files))
	}
	for _, st := range Check(dir) {
		if !st.Verified {
			t.Errorf("%s: %v", st.Name, st.Err)
		}
	}
	wrote, err = Install(context.Background(), dir, pack)
	if err != nil || len(wrote) != 0 || calls != 1 {
		t.Fatalf("second install wrote %v (%v) with %d fetches, want nothing and no fetch", wrote, err, calls)
	}
	// An altered file is noticed and replaced; the others are left alone.
	if err := os.WriteFile(filepath.Join(dir, FaceExpressionWeights), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(dir, FaceExpressionWeights); !errors.Is(err, ErrCorrupt) {
		t.Errorf("reading an altered file: %v, want ErrCorrupt", err)
	}
	wrote, err = Install(context.Background(), dir, pack)
	if err != nil || len(wrote) != 1 || wrote[0] != FaceExpressionWeights {
		t.Fatalf("repair wrote %v (%v), want only %s", wrote, err, FaceExpressionWeights)
	}
}

func TestInstallRejectsWrongContent(t *testing.T) {
	files := map[string][]byte{}
	for _, f := range Files {
		files[f.Name] = bytes.Repeat([]byte{1}, int(f.Size))
	}
	dir := t.TempDir()
	calls := 0
	_, err := Install(context.Background(), dir, fakePack(t, files, &calls))
	if err == nil || !strings.Contains(err.Error(), "does not match its pin") {
		t.Fatalf("got %v, want a pin mismatch", err)
	}
	for _, st := range Check(dir) {
		if st.Verified {
			t.Errorf("%s verifies after a rejected install", st.Name)
		}
	}
	delete(files, TinyFaceDetectorWeights)
	_, err = Install(context.Background(), dir, fakePack(t, files, &calls))
	if err == nil || !strings.Contains(err.Error(), "has no package/model/"+TinyFaceDetectorWeights) {
		t.Fatalf("got %v, want a missing-file error", err)
	}
}

func TestMissingFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadFile(dir, TinyFaceDetectorManifest)
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "emer models install") {
		t.Errorf("got %v, want ErrNotInstalled telling to run emer models install", err)
	}
	for _, st := range Check(dir) {
		if st.Present || st.Verified || st.Err == nil {
			t.Errorf("%s: %+v in an empty directory", st.Name, st)
		}
	}
	if _, err := ReadFile(dir, "other.bin"); err == nil {
		t.Error("reading an unknown file succeeded")
	}
}

// corruptDir writes every model file with the pinned size but other
// contents into a new directory and returns it.
func corruptDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), bytes.Repeat([]byte{1}, int(f.Size)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCorruptFiles checks that a model file that is there but is not the
// pinned one is reported as corrupt, with its path, how it differs and
// how to repair it, and not as not installed.
func TestCorruptFiles(t *testing.T) {
	dir := corruptDir(t)
	short := filepath.Join(dir, FaceExpressionWeights)
	if err := os.WriteFile(short, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, want string
	}{
		{"altered", TinyFaceDetectorWeights, "SHA-256 mismatch: "},
		{"truncated", FaceExpressionWeights, "size 4 bytes, want 329468"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			_, err := ReadFile(dir, tt.file)
			if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotInstalled) {
				t.Fatalf("got %v, want ErrCorrupt and not ErrNotInstalled", err)
			}
			for _, want := range []string{p, "corrupt", tt.want, "run `emer models install` to repair it"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			for _, st := range Check(dir) {
				if st.Name != tt.file {
					continue
				}
				if !st.Present || st.Verified || !errors.Is(st.Err, ErrCorrupt) || !strings.Contains(st.Mismatch, tt.want) {
					t.Errorf("Check: %+v, want a present, corrupt file whose mismatch says %q", st, tt.want)
				}
			}
		})
	}
}

func TestPackFailure(t *testing.T) {
	failing := func(context.Context, string) (string, error) { return "", errors.New("offline") }
	_, err := Install(context.Background(), t.TempDir(), failing)
	if err == nil || !strings.Contains(err.Error(), "offline") || !strings.Contains(err.Error(), Package) {
		t.Errorf("got %v, want the fetch error naming the package", err)
	}
}

func TestNPMPack(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\n" +
		"[ \"$1 $2 $3\" = \"pack --silent " + Package + "\" ] || { echo \"unexpected arguments: $*\" >&2; exit 3; }\n" +
		"echo tarball > vladmandic-face-api-1.7.15.tgz\n" +
		"echo 'npm notice' >&2\n" +
		"echo vladmandic-face-api-1.7.15.tgz\n"
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	dir := t.TempDir()
	got, err := NPMPack(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "vladmandic-face-api-1.7.15.tgz"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// A tarball that is not gzip is reported, not extracted.
	_, err = Install(context.Background(), t.TempDir(), NPMPack)
	if err == nil || !strings.Contains(err.Error(), "vladmandic-face-api-1.7.15.tgz") {
		t.Errorf("installing from a bad tarball: %v", err)
	}

	t.Setenv("PATH", t.TempDir())
	if _, err := NPMPack(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "apt-get install npm") {
		t.Errorf("without npm: %v, want advice to install it", err)
	}
}

// TestInstallAddsLandmarkAndSSDFiles checks that a directory installed
// before the landmark nets and the SSD detector were pinned gets their six
// files on the next install, and keeps the four it had.
func TestInstallAddsLandmarkAndSSDFiles(t *testing.T) {
	real := installed(t)
	earlier := []string{TinyFaceDetectorManifest, TinyFaceDetectorWeights, FaceExpressionManifest, FaceExpressionWeights}
	added := []string{FaceLandmarkManifest, FaceLandmarkWeights, FaceLandmarkTinyManifest, FaceLandmarkTinyWeights, SSDMobilenetManifest, SSDMobilenetWeights}
	dir := t.TempDir()
	for _, name := range earlier {
		if err := os.WriteFile(filepath.Join(dir, name), real[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	wrote, err := Install(context.Background(), dir, fakePack(t, real, &calls))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(added, wrote); diff != "" || calls != 1 {
		t.Errorf("install wrote (-want +got):\n%s\nwith %d fetches, want 1", diff, calls)
	}
	for _, name := range added {
		if _, err := ReadFile(dir, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
