package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/models"
)

func TestModelsListEmpty(t *testing.T) {
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"models", "list", "--dir", t.TempDir()}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1 when files are missing", code)
	}
	if got := strings.Count(out.String(), "missing"); got != len(models.Files) {
		t.Errorf("%d files listed as missing, want %d:\n%s", got, len(models.Files), out.String())
	}
	if !strings.Contains(errOut.String(), "emer models install") {
		t.Errorf("stderr %q does not say to run emer models install", errOut.String())
	}
}

func TestModelsListInstalled(t *testing.T) {
	dir, err := models.Dir()
	if err != nil {
		t.Skip(err)
	}
	var out bytes.Buffer
	err = runModelsList(context.Background(), modelsOptions{dir: dir, out: &out})
	if err != nil {
		t.Skipf("model files are not installed (run `emer models install`): %v", err)
	}
	if got := strings.Count(out.String(), "ok (sha256 verified)"); got != len(models.Files) {
		t.Errorf("%d files verified, want %d:\n%s", got, len(models.Files), out.String())
	}
	// Installing again does nothing and fetches nothing.
	fetches := 0
	pack := func(context.Context, string) (string, error) { fetches++; return "", errors.New("no fetch expected") }
	out.Reset()
	if err := runModelsInstall(context.Background(), modelsOptions{dir: dir, out: &out, pack: pack}); err != nil || fetches != 0 {
		t.Fatalf("reinstall: %v after %d fetches", err, fetches)
	}
	if !strings.Contains(out.String(), "already installed") {
		t.Errorf("reinstall said %q", out.String())
	}
}

// TestModelsListCorrupt lists a directory whose files have the pinned
// sizes but other contents: each is corrupt, not missing.
func TestModelsListCorrupt(t *testing.T) {
	dir := t.TempDir()
	for _, f := range models.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), make([]byte, f.Size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"models", "list", "--dir", dir}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1 when files are corrupt", code)
	}
	if got := strings.Count(out.String(), "corrupt: SHA-256 mismatch"); got != len(models.Files) || strings.Contains(out.String(), "missing") {
		t.Errorf("%d files listed as corrupt, want %d:\n%s", got, len(models.Files), out.String())
	}
	if !strings.Contains(errOut.String(), "missing or corrupt") || !strings.Contains(errOut.String(), "emer models install") {
		t.Errorf("stderr %q does not say to repair with emer models install", errOut.String())
	}
}

// TestModelsSubcommands checks that a word naming no subcommand is a
// usage error, while "emer models" alone prints the help.
func TestModelsSubcommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"alone", []string{"models"}, 0, "Available Commands", ""},
		{"unknown", []string{"models", "foo"}, 2, "", `unknown command "foo" for "emer models"`},
		{"unknown after a flag", []string{"models", "--dir", "x", "instal"}, 2, "", `unknown command "instal"`},
		{"extra argument", []string{"models", "list", "extra"}, 2, "", "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := execute(context.Background(), tt.args, &out, &errOut)
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q on stdout and %q on stderr", code, out.String(), errOut.String(), tt.code, tt.out, tt.err)
			}
		})
	}
}

func TestModelsInstallFetchFails(t *testing.T) {
	pack := func(context.Context, string) (string, error) { return "", errors.New("registry unreachable") }
	err := runModelsInstall(context.Background(), modelsOptions{dir: t.TempDir(), out: &bytes.Buffer{}, pack: pack})
	if err == nil || !strings.Contains(err.Error(), "registry unreachable") {
		t.Errorf("got %v, want the fetch error", err)
	}
}
