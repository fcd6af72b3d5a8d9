package table

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/sharedtest"
)

func TestReadLayouts(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string // name -> reasons
		key      string
	}{
		{"plain", "names,reasons\na,x\nb,y\n", map[string]string{"a": "x", "b": "y"}, "names"},
		{"bom crlf", "\ufeffnames,reasons\r\na,x\r\nb,y\r\n", map[string]string{"a": "x", "b": "y"}, "names"},
		{"multiline quoted", "name,reasons\na,\"line one\r\nline \"\"two\"\"\"\n", map[string]string{"a": "line one\nline \"two\""}, "name"},
		{"pandas index", ",names,reasons\n0,a,x\n", map[string]string{"a": "x"}, "names"},
		{"no trailing newline", "names,reasons\na,x", map[string]string{"a": "x"}, "names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := Read(strings.NewReader(tc.in), "t.csv", "reasons")
			if err != nil {
				t.Fatal(err)
			}
			if tab.Key != tc.key {
				t.Errorf("key = %q, want %q", tab.Key, tc.key)
			}
			if d := cmp.Diff(tc.want, tab.Map("reasons")); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestReadBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.csv")
	if len(files) == 0 {
		t.Fatal("no testdata/*.bad.csv")
	}
	want := map[string]string{
		"missing-column.bad.csv": `missing-column.bad.csv:1: missing column "reasons"`,
		"no-key.bad.csv":         `need one of ["names" "name"]`,
		"duplicate.bad.csv":      `duplicate.bad.csv:4: duplicate name "a" (first on line 2)`,
		"field-count.bad.csv":    `field-count.bad.csv:3:1: wrong number of fields`,
		"bare-quote.bad.csv":     `bare-quote.bad.csv:2:`,
		"empty.bad.csv":          `empty file`,
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Read(strings.NewReader(string(data)), base, "reasons")
			if err == nil {
				t.Fatal("no error")
			}
			w, ok := want[base]
			if !ok {
				t.Fatalf("no expectation for %s (error %v)", base, err)
			}
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		})
	}
	_, err := Read(strings.NewReader("names,x\na,1\n"), "m.csv", "reasons")
	if !errors.Is(err, ErrColumn) {
		t.Errorf("missing column: %v is not ErrColumn", err)
	}
}

func TestSharedFiles(t *testing.T) {
	dir := sharedtest.Data(t, "emer-v1")
	tab, err := ReadFile(filepath.Join(dir, "gt-eng.csv"), "emotions", "subtitles", "reasons")
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 100 {
		t.Errorf("gt-eng.csv: %d rows, want 100", len(tab.Rows))
	}
	r, ok := tab.Lookup("sample_00000648")
	if !ok || r.Get("emotions") != "angry" {
		t.Errorf("sample_00000648 = %+v, %v", r.Get("emotions"), ok)
	}
}

// Every CSV of the released data reads without error.
func TestSharedCSVs(t *testing.T) {
	root := sharedtest.Data(t)
	var n int
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".csv" {
			return err
		}
		n++
		tab, err := ReadFile(p)
		if err != nil {
			t.Errorf("%v", err)
			return nil
		}
		if len(tab.Rows) == 0 {
			t.Errorf("%s: no rows", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("found %d CSV files, want the released ones (>= 10)", n)
	}
}
