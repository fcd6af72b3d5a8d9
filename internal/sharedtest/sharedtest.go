// Package sharedtest locates the material tests read in place: the released
// EMER/AffectGPT data and the reference outputs kept in the shared folder
// beside the repository (../shared from the module root). Where it is
// absent, a test is skipped with a message that says what is missing.
package sharedtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Root returns the shared folder: the folder "shared" beside the module
// root.
func Root() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared"), nil
}

// ModuleRoot returns the module's root folder, found by walking up from
// the working directory to go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path returns the shared file or folder at parts, or skips the test when
// it does not exist.
func Path(t testing.TB, parts ...string) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Skipf("shared folder not found: %v", err)
	}
	p := filepath.Join(append([]string{root}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared material not found at %s (it lives beside the repository): %v", p, err)
	}
	return p
}

// Data returns a path under the released data, shared/data.
func Data(t testing.TB, parts ...string) string {
	t.Helper()
	return Path(t, append([]string{"data"}, parts...)...)
}
