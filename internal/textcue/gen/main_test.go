package main

import (
	"os"
	"path/filepath"
	"testing"

	"emer/internal/sharedtest"
	"emer/internal/wheel"
)

// TestLexiconUpToDate regenerates the lexicon and compares it with the
// committed file.
func TestLexiconUpToDate(t *testing.T) {
	wheels := sharedtest.Data(t, "emotion-wheel", "affectgpt2025")
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

func TestBuildCategories(t *testing.T) {
	lex, err := wheel.Load(sharedtest.Data(t, "emotion-wheel", "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	entries, st, err := build(lex)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]entry{}
	for _, e := range entries {
		got[e.form] = e
	}
	for form, want := range map[string][2]string{
		"happy":     {"happy", "wheel1"},
		"happiness": {"happy", "m3"},
		"furious":   {"mad", "wheel1"},
		"anxiety":   {"scared", "m3"},
		"wonderful": {"happy", "2-hop"},
	} {
		if e := got[form]; e.cat != want[0] || e.via != want[1] {
			t.Errorf("%s: %+v, want category %s via %s", form, e, want[0], want[1])
		}
	}
	for _, form := range []string{"left", "going", "see"} {
		if e, ok := got[form]; ok {
			t.Errorf("%s kept: %+v", form, e)
		}
	}
	if st.via["m3"] < 1000 || st.graph == 0 {
		t.Errorf("stats %+v", st)
	}
}
