package prompt

import (
	"strings"
	"testing"
	"testing/fstest"
	"text/template"
)

func TestSet(t *testing.T) {
	fsys := fstest.MapFS{
		"p/a.tmpl":     {Data: []byte("A {{.X}}")},
		"p/b.tmpl":     {Data: []byte("B {{inc .N}}")},
		"p/skip.txt":   {Data: []byte("not a template")},
		"other/c.tmpl": {Data: []byte("C")},
	}
	s := MustLoad(fsys, "p", template.FuncMap{"inc": func(i int) int { return i + 1 }})
	if got := strings.Join(s.Names(), ","); got != "a,b" {
		t.Fatalf("names %q, want a,b", got)
	}
	if got, err := s.Render("a", map[string]string{"X": "x"}); err != nil || got != "A x" {
		t.Fatalf("a: %q, %v", got, err)
	}
	if got, err := s.Render("b", map[string]int{"N": 1}); err != nil || got != "B 2" {
		t.Fatalf("b: %q, %v", got, err)
	}
	if _, err := s.Render("a", map[string]string{}); err == nil {
		t.Error("a missing key rendered")
	}
	if _, err := s.Render("c", nil); err == nil || !strings.Contains(err.Error(), `no prompt "c"`) {
		t.Errorf("unknown prompt: %v", err)
	}
	if b, err := s.Source("b"); err != nil || string(b) != "B {{inc .N}}" {
		t.Errorf("source: %q, %v", b, err)
	}
}

// TestSetSHA256 checks the set's digest: the same for the same files, and
// another when a template's text or name changes.
func TestSetSHA256(t *testing.T) {
	load := func(files map[string]string) string {
		fsys := fstest.MapFS{}
		for name, text := range files {
			fsys["p/"+name] = &fstest.MapFile{Data: []byte(text)}
		}
		return MustLoad(fsys, "p", nil).SHA256()
	}
	base := load(map[string]string{"a.tmpl": "A {{.X}}", "b.tmpl": "B"})
	if again := load(map[string]string{"b.tmpl": "B", "a.tmpl": "A {{.X}}"}); again != base {
		t.Errorf("the same files: %s, then %s", base, again)
	}
	for _, files := range []map[string]string{
		{"a.tmpl": "A {{.X}} ", "b.tmpl": "B"},
		{"a.tmpl": "A {{.X}}", "c.tmpl": "B"},
		{"a.tmpl": "A {{.X}}B"},
	} {
		if got := load(files); got == base {
			t.Errorf("%v: the digest of the base set", files)
		}
	}
	if len(base) != 64 {
		t.Errorf("digest %q", base)
	}
}
