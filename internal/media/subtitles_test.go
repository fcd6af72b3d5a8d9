package media

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"emer/internal/textenc"
)

const zhSRT = "1\r\n00:00:01,000 --> 00:00:02,500\r\n别再跟我说感觉。\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n<i>好好</i>谢谢你\r\n"

var zhCues = []Cue{{1, 2.5, "别再跟我说感觉。"}, {3, 4, "好好谢谢你"}}

func encodeSubtitle(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeSubtitle(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Subtitle files in UTF-8, UTF-16 with a byte-order mark, or the encoding
// asked for read as the same cues.
func TestReadSubtitleFileEncodings(t *testing.T) {
	for _, tc := range []struct {
		name, enc string
		data      []byte
	}{
		{"utf-8", "", []byte(zhSRT)},
		{"utf-8 bom", "", []byte("\ufeff" + zhSRT)},
		{"utf-16le bom", "", encodeSubtitle(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), zhSRT)},
		{"utf-16be bom", "", encodeSubtitle(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), zhSRT)},
		{"gb18030", "gb18030", encodeSubtitle(t, simplifiedchinese.GB18030, zhSRT)},
		{"gbk", "gbk", encodeSubtitle(t, simplifiedchinese.GBK, zhSRT)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := textenc.Lookup(tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ReadSubtitleFileEncoded(writeSubtitle(t, "a.srt", tc.data), enc)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(zhCues, s.Cues); d != "" {
				t.Errorf("cues (-want +got):\n%s", d)
			}
		})
	}
}

// ReadSubtitleFile reads through the default encoding, which --encoding
// sets.
func TestReadSubtitleFileDefaultEncoding(t *testing.T) {
	p := writeSubtitle(t, "a.srt", encodeSubtitle(t, simplifiedchinese.GB18030, zhSRT))
	t.Cleanup(func() { textenc.SetDefault(textenc.UTF8) })
	gb, _ := textenc.Lookup("gb18030")
	textenc.SetDefault(gb)
	s, err := ReadSubtitleFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(zhCues, s.Cues); d != "" {
		t.Errorf("cues (-want +got):\n%s", d)
	}
}

// Subtitle files that are not UTF-8 text, or that hold an endless line,
// fail with the file, the line and what to do; no message holds raw
// control bytes.
func TestReadSubtitleFileBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
		want string
	}{
		{"gbk as utf-8", func(t *testing.T) []byte { return encodeSubtitle(t, simplifiedchinese.GBK, zhSRT) },
			`a.srt: line 3, column 1: byte offset 34: invalid UTF-8 "\xb1\xf0\xd4\xd9\xb8\xfa\xce\xd2"...; if the file is GBK or GB18030, as Chinese data often is, give --encoding gb18030`},
		{"utf-16 without bom", func(t *testing.T) []byte {
			return encodeSubtitle(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), zhSRT)
		}, "a.srt: line 1, column 2: byte offset 1: NUL byte: this is not a text file (UTF-16 without a byte-order mark? give --encoding utf-16le or utf-16be)"},
		{"12 MB line", func(t *testing.T) []byte {
			return []byte("1\n00:00:01,000 --> 00:00:02,000\n" + strings.Repeat("a", 12<<20) + "\n\n")
		}, "a.srt: line 3 is longer than 1 MiB"},
		{"file over 64 MiB", func(t *testing.T) []byte {
			return []byte(strings.Repeat(strings.Repeat("a", 1023)+"\n", 65<<10)) // lines outside any cue
		}, "a.srt: larger than 64 MiB, the most a text file may hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSubtitleFileEncoded(writeSubtitle(t, "a.srt", tc.data(t)), textenc.UTF8)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error\n %.300s\ndoes not contain\n %s", msg, tc.want)
			}
			if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(msg) > 500 {
				t.Errorf("error %.300q holds control bytes or is long (%d bytes)", msg, len(msg))
			}
		})
	}
}

// An endless input of zeros stops at its first byte.
func TestReadSubtitleFileDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	_, err := ReadSubtitleFile("/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "subtitles /dev/zero: line 1, column 1: byte offset 0: NUL byte") {
		t.Errorf("error %v", err)
	}
}

// ParseCues, which reads ffmpeg's output for embedded tracks, checks its
// text the same way.
func TestParseCuesSubtitleText(t *testing.T) {
	_, err := ParseCues(strings.NewReader("1\n00:00:01,000 --> 00:00:02,000\nab\xff\n"))
	if err == nil || !strings.Contains(err.Error(), `line 3, column 3: byte offset 34: invalid UTF-8 "\xff\x0a"`) {
		t.Errorf("error %v", err)
	}
}
