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
