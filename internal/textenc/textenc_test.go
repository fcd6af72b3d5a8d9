package textenc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

const zh = "names,subtitles\nsample_1,别再跟我说感觉。\n"

func encode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLookup(t *testing.T, name string) Encoding {
	t.Helper()
	e, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func readAll(t *testing.T, in []byte, e Encoding, lim Limits, wrap func(io.Reader) io.Reader) (string, error) {
	t.Helper()
	var r io.Reader = bytes.NewReader(in)
	if wrap != nil {
		r = wrap(r)
	}
	b, err := io.ReadAll(NewReader(r, "t.csv", e, lim))
	return string(b), err
}

var wrappers = map[string]func(io.Reader) io.Reader{
	"whole":    nil,
	"one byte": iotest.OneByteReader,
	"half":     iotest.HalfReader,
}

func TestDecode(t *testing.T) {
	le := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	be := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	for _, tc := range []struct {
		name, enc string
		in        []byte
		want      string
	}{
		{"utf-8", "", []byte(zh), zh},
		{"utf-8 bom", "", append([]byte("\ufeff"), zh...), zh},
		{"utf-8 named", "UTF-8", []byte(zh), zh},
		{"utf-16le bom", "", encode(t, le, zh), zh},
		{"utf-16be bom", "", encode(t, be, zh), zh},
		{"utf-16le bom wins over gb18030", "gb18030", encode(t, le, zh), zh},
		{"utf-8 bom wins over big5", "big5", append([]byte("\ufeff"), zh...), zh},
		{"utf-16le named", "utf-16le", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), zh), zh},
		{"utf-16be named", "utf-16be", encode(t, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), zh), zh},
		{"gb18030", "gb18030", encode(t, simplifiedchinese.GB18030, zh), zh},
		{"gb18030 bom", "gb18030", encode(t, simplifiedchinese.GB18030, "\ufeff"+zh), zh},
		{"gbk", "gbk", encode(t, simplifiedchinese.GBK, zh), zh},
		{"big5", "big5", encode(t, traditionalchinese.Big5, "names,subtitles\ns,別再跟我說感覺。\n"), "names,subtitles\ns,別再跟我說感覺。\n"},
		{"shift_jis", "shift_jis", encode(t, japanese.ShiftJIS, "names,subtitles\ns,嬉しい\n"), "names,subtitles\ns,嬉しい\n"},
		{"empty", "", nil, ""},
		{"many blocks", "", []byte(strings.Repeat(zh, 3000)), strings.Repeat(zh, 3000)},
		{"many blocks gb18030", "gb18030", encode(t, simplifiedchinese.GB18030, strings.Repeat(zh, 3000)), strings.Repeat(zh, 3000)},
		{"two bytes", "", []byte("ab"), "ab"},
	} {
		for wn, wrap := range wrappers {
			t.Run(tc.name+"/"+wn, func(t *testing.T) {
				got, err := readAll(t, tc.in, mustLookup(t, tc.enc), Limits{}, wrap)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("text (-want +got):\n%s", d)
				}
			})
		}
	}
}

// Bytes that are not text fail with the file, line, column and, for
// UTF-8, the byte offset, and an escaped excerpt; the message never holds
// raw control bytes.
func TestDecodeBad(t *testing.T) {
	gbk := encode(t, simplifiedchinese.GBK, zh)
	utf16 := encode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), zh)
	for _, tc := range []struct {
		name, enc string
		in        []byte
		lim       Limits
		want      string
		kind      error
		line, col int
		offset    int64
	}{
		{"gbk as utf-8", "", gbk, Limits{},
			`t.csv:2:10: byte offset 25: invalid UTF-8 "\xb1\xf0\xd4\xd9\xb8\xfa\xce\xd2"...; if the file is GBK or GB18030, as Chinese data often is, give --encoding gb18030`,
			ErrNotText, 2, 10, 25},
		{"gbk behind a bom", "", append([]byte("\ufeff"), gbk...), Limits{},
			`t.csv:2:10: byte offset 28: invalid UTF-8`, ErrNotText, 2, 10, 28},
		{"utf-16 without bom", "", utf16, Limits{},
			`t.csv:1:2: byte offset 1: NUL byte: this is not a text file (UTF-16 without a byte-order mark? give --encoding utf-16le or utf-16be)`,
			ErrNotText, 1, 2, 1},
		{"zeros", "", make([]byte, 1<<16), Limits{}, `t.csv:1:1: byte offset 0: NUL byte`, ErrNotText, 1, 1, 0},
		{"truncated character", "", []byte("a,b\nc,\xe5\x88"), Limits{}, `t.csv:2:3: byte offset 6: invalid UTF-8 "\xe5\x88"`, ErrNotText, 2, 3, 6},
		{"latin-1 as utf-8", "", []byte("name\ncaf\xe9\n"), Limits{}, `t.csv:2:4: byte offset 8: invalid UTF-8 "\xe9\x0a"`, ErrNotText, 2, 4, 8},
		{"not big5", "big5", []byte("a\nxy\xff\xff\n"), Limits{}, `t.csv:2:3: bytes that are not valid big5 text; give the file's encoding with --encoding`, ErrNotText, 2, 3, -1},
		{"bad utf-16", "", append([]byte{0xFF, 0xFE, 'a', 0, '\n', 0}, 0x00, 0xDC, 'b', 0), Limits{}, `t.csv:2:1: bytes that are not valid utf-16le text`, ErrNotText, 2, 1, -1},
		{"long line", "", []byte("name\n" + strings.Repeat("x", 11) + "\n"), Limits{MaxLine: 10}, `t.csv:2: line 2 is longer than 10 bytes`, ErrTooLong, 2, 0, -1},
		{"long last line", "", []byte("name\n" + strings.Repeat("x", 3<<20)), Limits{MaxLine: 1 << 20}, `t.csv:2: line 2 is longer than 1 MiB`, ErrTooLong, 2, 0, -1},
		{"large file", "", []byte(strings.Repeat("a\n", 100)), Limits{MaxSize: 100}, `t.csv: larger than 100 bytes, the most a text file may hold`, ErrTooLong, 0, 0, -1},
	} {
		for wn, wrap := range wrappers {
			t.Run(tc.name+"/"+wn, func(t *testing.T) {
				_, err := readAll(t, tc.in, mustLookup(t, tc.enc), tc.lim, wrap)
				var te *Error
				if !errors.As(err, &te) {
					t.Fatalf("error %v, want an *Error", err)
				}
				if !errors.Is(err, tc.kind) {
					t.Errorf("error %v is not %v", err, tc.kind)
				}
				if !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("error\n %s\nwant it to start with\n %s", err, tc.want)
				}
				if te.Line != tc.line || te.Column != tc.col || te.Offset != tc.offset {
					t.Errorf("at line %d column %d offset %d, want %d, %d, %d", te.Line, te.Column, te.Offset, tc.line, tc.col, tc.offset)
				}
				if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Errorf("error %q holds a control character", err)
				}
			})
		}
	}
}

// Without a file name, an error gives the line and column for the caller
// to prefix.
func TestErrorWithoutFile(t *testing.T) {
	for _, tc := range []struct {
		in   string
		lim  Limits
		want string
	}{
		{"1\nab\xff\n", Limits{}, `line 2, column 3: byte offset 4: invalid UTF-8 "\xff\x0a"`},
		{"1\n" + strings.Repeat("a", 20), Limits{MaxLine: 10}, "line 2 is longer than 10 bytes"},
		{strings.Repeat("a", 20), Limits{MaxSize: 10}, "larger than 10 bytes"},
	} {
		_, err := io.ReadAll(NewReader(strings.NewReader(tc.in), "", UTF8, tc.lim))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want it to start with %s", err, tc.want)
		}
	}
}

// A file of exactly the size limit is read; one byte more is refused.
func TestSizeLimitEdge(t *testing.T) {
	in := []byte(strings.Repeat("a\n", 50))
	if got, err := readAll(t, in, UTF8, Limits{MaxSize: 100}, nil); err != nil || got != string(in) {
		t.Errorf("100 bytes with a 100-byte limit: %q, %v", got, err)
	}
	if _, err := readAll(t, append(in, 'b'), UTF8, Limits{MaxSize: 100}, nil); !errors.Is(err, ErrTooLong) {
		t.Errorf("101 bytes with a 100-byte limit: %v, want ErrTooLong", err)
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "utf-8"}, {"UTF-8", "utf-8"}, {"utf8", "utf-8"},
		{"gb18030", "gb18030"}, {" GBK ", "gbk"}, {"gb2312", "gbk"},
		{"big5", "big5"}, {"shift_jis", "shift_jis"}, {"sjis", "shift_jis"},
		{"utf-16le", "utf-16le"}, {"utf-16be", "utf-16be"}, {"latin1", "windows-1252"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, err := Lookup(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if e.String() != tc.want {
				t.Errorf("Lookup(%q) = %s, want %s", tc.in, e, tc.want)
			}
		})
	}
	for _, bad := range []string{"klingon", "iso-2022-kr", "gb\x00k"} {
		_, err := Lookup(bad)
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("Lookup(%q) error = %v, want ErrUnknown", bad, err)
		}
		if err != nil && strings.ContainsRune(err.Error(), 0) {
			t.Errorf("Lookup(%q) error %q holds a NUL", bad, err)
		}
	}
}

func TestFlagAndDefault(t *testing.T) {
	t.Cleanup(func() { SetDefault(UTF8) })
	var f Flag
	if f.String() != "" {
		t.Errorf("unset flag = %q", f.String())
	}
	if err := f.Set("GB18030"); err != nil {
		t.Fatal(err)
	}
	if f.String() != "gb18030" {
		t.Errorf("flag = %q, want gb18030", f.String())
	}
	if err := f.Set("nope"); err == nil {
		t.Error("unknown name accepted")
	}
	if Default().String() != "utf-8" {
		t.Errorf("default = %s before SetDefault", Default())
	}
	SetDefault(f.Encoding)
	if Default().String() != "gb18030" {
		t.Errorf("default = %s, want gb18030", Default())
	}
}

func TestFormatSizeAndExcerpt(t *testing.T) {
	for n, want := range map[int64]string{8 << 20: "8 MiB", 1 << 30: "1 GiB", 64 << 10: "64 KiB", 1000: "1000 bytes"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Excerpt("感觉感觉", 7); got != `"感觉"...` {
		t.Errorf("Excerpt cut = %s", got)
	}
	if got := Excerpt("a\x00b", 10); got != `"a\x00b"` {
		t.Errorf("Excerpt escape = %s", got)
	}
}
