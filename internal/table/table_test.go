package table

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"emer/internal/sharedtest"
	"emer/internal/textenc"
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
	want := map[string]struct {
		required []string
		msg      string
	}{
		"missing-column.bad.csv": {[]string{"reasons"}, `missing-column.bad.csv:1: missing column reasons (the columns are names, emotions)`},
		"two-missing.bad.csv":    {[]string{"reasons", "subtitles", "emotions"}, `two-missing.bad.csv:1: missing columns reasons, subtitles (the columns are names, emotions)`},
		"no-key.bad.csv":         {[]string{"reasons"}, `no-key.bad.csv:1: missing column: need one of names, name (the columns are clip, reasons)`},
		"duplicate.bad.csv":      {[]string{"reasons"}, `duplicate.bad.csv:4: duplicate name "a" (first on line 2)`},
		"field-count.bad.csv":    {[]string{"reasons"}, `field-count.bad.csv:3:1: wrong number of fields`},
		"bare-quote.bad.csv":     {[]string{"reasons"}, `bare-quote.bad.csv:2:`},
		"empty.bad.csv":          {[]string{"reasons"}, `empty file`},
		"gbk.bad.csv": {[]string{"reasons"},
			`gbk.bad.csv:2:4: byte offset 17: invalid UTF-8 "\xc9\xfa\xc6\xf8\x0a"; if the file is GBK or GB18030, as Chinese data often is, give --encoding gb18030`},
		"utf16-no-bom.bad.csv": {[]string{"reasons"},
			`utf16-no-bom.bad.csv:1:2: byte offset 1: NUL byte: this is not a text file (UTF-16 without a byte-order mark? give --encoding utf-16le or utf-16be)`},
		// With a byte-order mark, UTF-16 is decoded: the error is about
		// the columns, named plainly.
		"utf16-bom-missing-column.bad.csv": {[]string{"reasons"}, `utf16-bom-missing-column.bad.csv:1: missing column reasons (the columns are names, emotions)`},
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[base]
			if !ok {
				t.Fatalf("no expectation for %s", base)
			}
			_, err = ReadEncoded(strings.NewReader(string(data)), base, textenc.UTF8, w.required...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), w.msg) {
				t.Errorf("error\n %s\ndoes not contain\n %s", err, w.msg)
			}
			checkMessage(t, err)
		})
	}
	_, err := Read(strings.NewReader("names,x\na,1\n"), "m.csv", "reasons")
	if !errors.Is(err, ErrColumn) {
		t.Errorf("missing column: %v is not ErrColumn", err)
	}
}

// checkMessage fails when an error message holds a control character
// other than the line breaks that join several errors, or is long.
func checkMessage(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }) {
		t.Errorf("error %q holds a control character", msg)
	}
	if len(msg) > 2000 {
		t.Errorf("error of %d bytes: %.200q...", len(msg), msg)
	}
}

// Large or endless inputs stop at a limit, with a short message, before
// they are read whole.
func TestReadLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   func() io.Reader
		want string
	}{
		{"zeros", func() io.Reader { return zeros{} }, "z.csv:1:1: byte offset 0: NUL byte"},
		{"header without end", func() io.Reader {
			return io.MultiReader(strings.NewReader("names,"), strings.NewReader(strings.Repeat("a", 10<<20)))
		}, "z.csv:1: header longer than 64 KiB"},
		{"wide header", func() io.Reader {
			var b strings.Builder
			for i := range 5000 {
				fmt.Fprintf(&b, "column%d,", i)
			}
			return strings.NewReader(b.String() + "x\n")
		}, "z.csv:1: missing column: need one of names, name (the columns are column0, column1, column2, column3, column4, column5, column6, column7 and 4993 more)"},
		{"long line", func() io.Reader {
			return strings.NewReader("names,reasons\na," + strings.Repeat("x", 9<<20) + "\n")
		}, "z.csv:2: line 2 is longer than 8 MiB"},
		{"open quote", func() io.Reader {
			return io.MultiReader(strings.NewReader("names,reasons\na,x\nb,\""), strings.NewReader(strings.Repeat("line\n", 4<<20)))
		}, "z.csv:3: record longer than 16 MiB (a quoted field left open?)"},
		{"duplicate long name", func() io.Reader {
			n := strings.Repeat("n", 500)
			return strings.NewReader("names,reasons\n" + n + ",x\n" + n + ",y\n")
		}, `z.csv:3: duplicate name "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"... (first on line 2)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadEncoded(tc.in(), "z.csv", textenc.UTF8, "reasons")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n %.300s\ndoes not contain\n %s", err, tc.want)
			}
			checkMessage(t, err)
		})
	}
}

// Bad text reports itself, not the record the CSV reader saw cut short
// before it; whole records' own errors before it are kept.
func TestReadBadTextInRecord(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("生气")
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 5000) // past the CSV reader's buffer
	for _, tc := range []struct{ name, in, want string }{
		{"mid record", "names,emotions,reasons\ns1,x,y\ns2," + gbk + ",z\n",
			"b.csv:3:4: byte offset 33: invalid UTF-8"},
		{"field count before", "names,emotions,reasons\ns1,x\ns2," + pad + ",y\ns3," + gbk + ",z\n",
			"b.csv:2:1: wrong number of fields\nb.csv:4:4: byte offset 5037: invalid UTF-8"},
		{"quote before", "names,emotions,reasons\ns1,\"" + gbk + "\",z\n",
			"b.csv:2:5: byte offset 27: invalid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadEncoded(strings.NewReader(tc.in), "b.csv", textenc.UTF8, "reasons")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n %v\nwant it to start with\n %s", err, tc.want)
			}
			if err != nil && strings.Count(err.Error(), "\n") != strings.Count(tc.want, "\n") {
				t.Errorf("error\n %v\nhas other problems than\n %s", err, tc.want)
			}
		})
	}
}

// A record just under the limit is read.
func TestReadLongRecord(t *testing.T) {
	long := strings.Repeat("x\n", (MaxRecord-100)/2)
	in := "names,reasons\na,\"" + long + "\"\nb,y\n"
	tab, err := ReadEncoded(strings.NewReader(in), "l.csv", textenc.UTF8, "reasons")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := tab.Lookup("a"); len(r.Get("reasons")) != len(long) {
		t.Errorf("long field read as %d bytes, want %d", len(r.Get("reasons")), len(long))
	}
	if r, ok := tab.Lookup("b"); !ok || r.Get("reasons") != "y" {
		t.Errorf("row after the long one: %+v, %v", r.Get("reasons"), ok)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Files in other encodings read through the encoding they are in.
func TestReadEncodings(t *testing.T) {
	const text = "names,reasons\ns1,他怒吼，言辞激动。\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, enc, in string }{
		{"utf-8", "", text},
		{"gb18030", "gb18030", gb},
		{"gbk", "gbk", gb},
		{"utf-16 bom", "", u16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := textenc.Lookup(tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := ReadEncoded(strings.NewReader(tc.in), "e.csv", enc, "reasons")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(map[string]string{"s1": "他怒吼，言辞激动。"}, tab.Map("reasons")); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
	// The default encoding is the one ReadFile and Read use.
	t.Cleanup(func() { textenc.SetDefault(textenc.UTF8) })
	enc, _ := textenc.Lookup("gb18030")
	textenc.SetDefault(enc)
	p := filepath.Join(t.TempDir(), "gb.csv")
	if err := os.WriteFile(p, []byte(gb), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadFile(p, "reasons")
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.Map("reasons")["s1"]; got != "他怒吼，言辞激动。" {
		t.Errorf("ReadFile with default gb18030: %q", got)
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
