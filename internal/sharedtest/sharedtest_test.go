package sharedtest

import (
	"path/filepath"
	"testing"
)

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(root) != "shared" {
		t.Errorf("Root() = %s", root)
	}
	p := Data(t, "ovmerd")
	if filepath.Base(p) != "ovmerd" {
		t.Errorf("Data = %s", p)
	}
}
