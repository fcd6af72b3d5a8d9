// Package prompttest compares rendered prompts with their golden files.
package prompttest

import (
	"os"
	"path/filepath"
	"testing"
)

// Golden compares got with the golden file testdata/NAME.tmpl/CASE of the
// package under test, rewriting it first when update is set.
func Golden(t testing.TB, name, c, got string, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name+".tmpl", c)
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("render differs from %s:\n got: %q\nwant: %q", path, got, want)
	}
}
