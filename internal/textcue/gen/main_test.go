package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLexiconUpToDate regenerates the lexicon and compares it with the
// committed file.
func TestLexiconUpToDate(t *testing.T) {
	wheels := "../../../../shared/data/emotion-wheel/affectgpt2025"
	if _, err := os.Stat(filepath.Join(wheels, "format.csv")); err != nil {
		t.Skipf("shared emotion-wheel data not available (%v)", err)
	}
	out := filepath.Join(t.TempDir(), "lexicon.tsv")
	if err := run(wheels, "../lexicon/zh.tsv", out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../lexicon/lexicon.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("lexicon/lexicon.tsv is stale: run go generate ./internal/textcue")
	}
}

func TestReadWheelFillsDown(t *testing.T) {
	w, err := readWheel("../../../../shared/data/emotion-wheel/affectgpt2025/wheel1.xlsx")
	if err != nil {
		t.Skipf("shared emotion-wheel data not available (%v)", err)
	}
	if len(w.paths) != 72 {
		t.Errorf("%d rows, want 72", len(w.paths))
	}
	if p := w.paths[1]; p != [3]string{"mad", "offended", "insulated"} {
		t.Errorf("row 2 = %q, want mad/offended/insulated", p)
	}
}
