package wheel

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"emer/internal/sharedtest"
	"emer/internal/textenc"
)

func sharedWheels(t testing.TB, version string) string {
	t.Helper()
	return sharedtest.Data(t, "emotion-wheel", version)
}

// The mer2026 release ships the mapping precomputed; rebuilding it from
// the spreadsheets must give the same maps.
func TestRebuiltMappingEqualsOfficial(t *testing.T) {
	dir := sharedWheels(t, "mer2026")
	built, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	official, err := LoadMapping(filepath.Join(dir, MappingFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(official.Format) != 7356 || len(official.Raw) != 1255 {
		t.Errorf("official mapping has %d forms and %d synonyms, want 7356 and 1255", len(official.Format), len(official.Raw))
	}
	if d := cmp.Diff(official.Format, built.Format); d != "" {
		t.Errorf("format mapping (-official +built):\n%s", d)
	}
	if d := cmp.Diff(official.Raw, built.Raw); d != "" {
		t.Errorf("raw mapping (-official +built):\n%s", d)
	}
	for i := range built.Wheels {
		for _, l := range []Level{Level1, Level2} {
			if d := cmp.Diff(official.Wheels[i].Map(l), built.Wheels[i].Map(l)); d != "" {
				t.Errorf("%s %s (-official +built):\n%s", built.Wheels[i].Name, l, d)
			}
		}
	}
}

func TestMappings(t *testing.T) {
	x, err := Load(sharedWheels(t, "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	// Every base word of the format map has synonyms, so M2 and M3 never
	// meet a word the reference would fail on.
	for form, bases := range x.Format {
		for _, b := range bases {
			if _, ok := x.Raw[b]; !ok {
				t.Errorf("format %q -> %q, which has no synonym entry", form, b)
			}
		}
	}
	for _, tc := range []struct {
		label string
		m     Mapping
		want  string
	}{
		{"abandonment", Mapping{Kind: 1}, "abandoned"},
		{"happy", Mapping{Kind: 3, Wheel: 0, Level: Level1}, "happy"},
		{"furious", Mapping{Kind: 3, Wheel: 0, Level: Level1}, "mad"},
		{"furious", Mapping{Kind: 3, Wheel: 0, Level: Level2}, "anger"},
	} {
		got, ok := x.Apply(tc.m, tc.label)
		if !ok || got != tc.want {
			t.Errorf("%s(%q) = %q, %v; want %q", tc.m.Name(), tc.label, got, ok, tc.want)
		}
	}
	if _, ok := x.M1("not-an-emotion-word"); ok {
		t.Error("an unknown label was mapped")
	}
	if got := x.MapSet(Mapping{Kind: 3, Wheel: 0, Level: Level1}, []string{"furious", "angry", "xyz"}); !cmp.Equal(got, []string{"mad"}) {
		t.Errorf("MapSet = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("empty folder loaded")
	}
}

func BenchmarkLoad(b *testing.B) {
	dir := sharedWheels(b, "affectgpt2025")
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// copyWheels copies the released wheel folder into a temporary one whose
// files a test may replace.
func copyWheels(t *testing.T) string {
	t.Helper()
	src := sharedWheels(t, "affectgpt2025")
	dir := t.TempDir()
	for _, f := range append([]string{FormatFile, SynonymFile}, wheelFiles()...) {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeZip(t *testing.T, path string, members map[string]int64) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(w, zeros{}, members[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Spreadsheets that are not workbooks, lack columns or inflate past the
// limit are refused with a message that names the file and says what is
// wrong.
func TestLoadBadSpreadsheets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, path string)
		want  string
	}{
		{"zip without workbook", func(t *testing.T, p string) {
			writeZip(t, p, map[string]int64{"a.txt": 5, "b.txt": 5})
		}, "synonym.xlsx is not an xlsx workbook: the zip has no xl/workbook.xml (it holds 2 files: a.txt, b.txt)"},
		{"not a zip", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("word_run1,synonym_run1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "synonym.xlsx is not an xlsx workbook: zip: not a valid zip file"},
		{"bomb", func(t *testing.T, p string) {
			writeZip(t, p, map[string]int64{"[Content_Types].xml": 10, "xl/workbook.xml": 10, "xl/worksheets/sheet1.xml": maxWorkbookSize})
		}, "synonym.xlsx: the workbook holds more than 32 MiB uncompressed, the most read"},
		{"missing columns", func(t *testing.T, p string) {
			f := excelize.NewFile()
			defer f.Close()
			for i, h := range []string{"word_run1", "synonym_run1", "names"} {
				cell, _ := excelize.CoordinatesToCellName(i+1, 1)
				f.SetCellValue("Sheet1", cell, h)
			}
			if err := f.SaveAs(p); err != nil {
				t.Fatal(err)
			}
		}, "synonym.xlsx: row 1: missing columns word_run2, synonym_run2, word_run3, synonym_run3 and 10 more (the columns are word_run1, synonym_run1, names)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyWheels(t)
			p := filepath.Join(dir, SynonymFile)
			tc.write(t, p)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n %v\ndoes not contain\n %s", err, tc.want)
			}
			if strings.Contains(err.Error(), `\"`) {
				t.Errorf("error %v holds escaped quotes", err)
			}
		})
	}
}

// A zip that is not a wheel mapping names the arrays wanted and a few of
// those found.
func TestLoadMappingWrongZip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "synonyms.zip")
	members := map[string]int64{}
	for i := range 40 {
		members[fmt.Sprintf("openset-synonym/sample_%08d.npy", i)] = 100
	}
	writeZip(t, p, members)
	_, err := Open(p)
	want := p + " is not a wheel_mapping.npz: it lacks format_mapping, raw_mapping, wheel_map_whole (it holds 40 arrays: openset-synonym/sample_00000000, openset-synonym/sample_00000001, openset-synonym/sample_00000002, openset-synonym/sample_00000003, openset-synonym/sample_00000004 and 35 more)"
	if err == nil || err.Error() != want {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}
}

// The lexicon is read as UTF-8 whatever encoding the data files are in:
// its word forms hold a typographic apostrophe ("don’t care").
func TestLoadIgnoresDataEncoding(t *testing.T) {
	dir := sharedWheels(t, "affectgpt2025")
	want, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := want.Format["don’t care"]; !ok {
		t.Fatal(`no word form "don’t care" in the released lexicon`)
	}
	t.Cleanup(func() { textenc.SetDefault(textenc.UTF8) })
	gb, _ := textenc.Lookup("gb18030")
	textenc.SetDefault(gb)
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want.Format, got.Format); d != "" {
		t.Errorf("format map with gb18030 data (-utf-8 +gb18030):\n%s", d)
	}
}
