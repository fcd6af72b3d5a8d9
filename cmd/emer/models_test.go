package main

import (
	"bytes"
	"context"
	"errors"
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

func TestModelsInstallFetchFails(t *testing.T) {
	pack := func(context.Context, string) (string, error) { return "", errors.New("registry unreachable") }
	err := runModelsInstall(context.Background(), modelsOptions{dir: t.TempDir(), out: &bytes.Buffer{}, pack: pack})
	if err == nil || !strings.Contains(err.Error(), "registry unreachable") {
		t.Errorf("got %v, want the fetch error", err)
	}
}
