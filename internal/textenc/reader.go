package textenc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Sentinel errors, wrapped by *Error.
var (
	ErrNotText = errors.New("not text in the expected encoding")
	ErrTooLong = errors.New("input too long")
)

// Limits bound what a Reader accepts. Zero fields take the value of
// DefaultLimits.
type Limits struct {
	MaxLine int64 // bytes of one line of decoded text, its line end excluded
	MaxSize int64 // bytes of the whole input, before decoding
}

// DefaultLimits are far above any released file (the largest line of the
// released CSVs is 4 KB, the largest file under 1 MB) and far below what
// would exhaust memory.
var DefaultLimits = Limits{MaxLine: 8 << 20, MaxSize: 256 << 20}

func (l Limits) orDefault() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultLimits.MaxLine
	}
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultLimits.MaxSize
	}
	return l
}

// Error is a problem at a place in a file: bytes that are not text, or a
// line or file that is too long. Its message names the file and line and
// quotes at most a short, escaped excerpt.
type Error struct {
	File   string
	Line   int   // 1-based; 0 when the problem is the file as a whole
	Column int   // 1-based, in characters of the line; 0 when not known
	Offset int64 // byte offset in the file; -1 when not known (decoded input)
	Err    error // ErrNotText or ErrTooLong
	detail string
}

// Error returns "file:line:column: what", or, for a reader without a file
// name, "line N, column C: what", which a caller prefixes with its own
// context.
func (e *Error) Error() string {
	var b bytes.Buffer
	switch {
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	case e.Column > 0:
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	b.WriteString(e.detail)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Reader yields the UTF-8 text of a file and fails, with an *Error, at
// the first byte that is not text in the file's encoding, at a line longer
// than Limits.MaxLine and once more than Limits.MaxSize bytes are read.
// A byte-order mark is recognised and dropped: UTF-8 and UTF-16 ones take
// precedence over the encoding asked for, as in WHATWG decoding.
type Reader struct {
	src  io.Reader
	file string
	enc  string // "" when src is the file's own UTF-8 bytes
	base int64  // bytes before src (a byte-order mark), for offsets
	lim  Limits

	buf  []byte
	out  []byte // checked text not yet returned
	pend []byte // an incomplete character held back for the next block
	err  error
	// start is set until the first text is checked: a leading U+FEFF
	// is dropped then.
	start bool

	off     int64 // bytes of src checked
	line    int
	col     int   // characters of the current line so far
	lineLen int64 // bytes of the current line so far
}

// NewReader returns a Reader of r's text in e; file names r in errors
// and may be "" when the caller names it.
func NewReader(r io.Reader, file string, e Encoding, lim Limits) *Reader {
	lim = lim.orDefault()
	br := bufio.NewReader(&sizeLimit{r: r, left: lim.MaxSize})
	tr := &Reader{file: file, lim: lim, buf: make([]byte, 32<<10), start: true, line: 1}
	head, _ := br.Peek(3) // a short or failing input shows on the first Read
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		_, _ = br.Discard(3)
		tr.src, tr.base = br, 3
	case bytes.HasPrefix(head, bomUTF16LE):
		tr.src, tr.enc = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), "utf-16le"
	case bytes.HasPrefix(head, bomUTF16BE):
		tr.src, tr.enc = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), "utf-16be"
	case e.enc != nil:
		tr.src, tr.enc = transform.NewReader(br, e.enc.NewDecoder()), e.name
	default:
		tr.src = br
	}
	return tr
}

// Encoding returns the name of the encoding the text is decoded from:
// "utf-8", or the one found by byte-order mark or asked for.
func (r *Reader) Encoding() string {
	if r.enc == "" {
		return "utf-8"
	}
	return r.enc
}

// Err returns the *Error the reader has met, or nil. A reader's client
// that stops at a short last line (bufio.Scanner, encoding/csv) calls it
// to report the cause rather than the truncated line.
func (r *Reader) Err() *Error {
	var e *Error
	if errors.As(r.err, &e) {
		return e
	}
	return nil
}

// Read implements io.Reader. Errors are sticky.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// fill reads the next block of src, checks it and makes it out.
func (r *Reader) fill() {
	k := copy(r.buf, r.pend) // out is empty: its bytes may be reused
	n, err := r.src.Read(r.buf[k:])
	data := r.buf[:k+n]
	cut := len(data)
	if err == nil {
		// Hold back an incomplete character, and enough bytes that an
		// error can quote what follows the bad byte.
		cut = fullRunes(data[:max(0, len(data)-excerptLen)])
		if r.start && cut < len(bomUTF8) {
			cut = 0 // wait for enough bytes to tell a byte-order mark
		}
	}
	text, rest := data[:cut], data[cut:]
	if r.start && len(text) > 0 {
		r.start = false
		if r.enc != "" && bytes.HasPrefix(text, bomUTF8) {
			// A decoded byte-order mark (GB18030 has one of its own).
			text = text[len(bomUTF8):]
			data = data[len(bomUTF8):]
		}
	}
	if cerr := r.check(data, len(text)); cerr != nil {
		r.err = cerr
		return
	}
	r.out = text
	r.pend = append(r.pend[:0], rest...)
	switch {
	case errors.Is(err, errTooLarge):
		r.err = &Error{File: r.file, Offset: -1, Err: ErrTooLong,
			detail: fmt.Sprintf("larger than %s, the most a text file may hold", FormatSize(r.lim.MaxSize))}
	case err != nil:
		r.err = err
	}
}

// fullRunes returns the length of the longest prefix of b that does not
// end inside a UTF-8 sequence.
func fullRunes(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// excerptLen is how many bytes an error quotes.
const excerptLen = 8

// check validates b[:n] and advances the position; the bytes after n are
// only quoted in an error.
func (r *Reader) check(b []byte, n int) error {
	for i := 0; i < n; {
		c, size := b[i], 1
		switch {
		case c == '\n':
			r.line++
			r.col, r.lineLen = 0, 0
			i++
			continue
		case c == 0:
			hint := "give the file's encoding with --encoding"
			if r.enc == "" {
				hint = "UTF-16 without a byte-order mark? give --encoding utf-16le or utf-16be"
			}
			return r.errorAt(b, i, "NUL byte: this is not a text file ("+hint+")")
		case c >= utf8.RuneSelf:
			var ru rune
			ru, size = utf8.DecodeRune(b[i:])
			if ru == utf8.RuneError && (size == 1 || r.enc != "") {
				if r.enc == "" {
					return r.errorAt(b, i, fmt.Sprintf("invalid UTF-8 %s; if the file is GBK or GB18030, as Chinese data often is, give --encoding gb18030 (or the name of its encoding)", excerptBytes(b[i:], excerptLen)))
				}
				return r.errorAt(b, i, fmt.Sprintf("bytes that are not valid %s text; give the file's encoding with --encoding", r.enc))
			}
		}
		r.col++
		r.lineLen += int64(size)
		i += size
		if r.lineLen > r.lim.MaxLine {
			return &Error{File: r.file, Line: r.line, Offset: -1, Err: ErrTooLong,
				detail: fmt.Sprintf("line %d is longer than %s", r.line, FormatSize(r.lim.MaxLine))}
		}
	}
	r.off += int64(n)
	return nil
}

// errorAt reports a byte that is not text at b[i].
func (r *Reader) errorAt(b []byte, i int, what string) *Error {
	e := &Error{File: r.file, Line: r.line, Column: r.col + 1, Offset: -1, Err: ErrNotText, detail: what}
	if r.enc == "" {
		e.Offset = r.base + r.off + int64(i)
		e.detail = fmt.Sprintf("byte offset %d: %s", e.Offset, what)
	}
	return e
}

// sizeLimit fails with errTooLarge when r holds more than left bytes.
type sizeLimit struct {
	r    io.Reader
	left int64
}

var errTooLarge = errors.New("too large")

func (s *sizeLimit) Read(p []byte) (int, error) {
	if s.left <= 0 {
		var one [1]byte
		if n, err := s.r.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, errTooLarge
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}

// File is a Reader of an open file.
type File struct {
	*Reader
	f *os.File
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Open opens the file at path for reading as text in e.
func Open(path string, e Encoding, lim Limits) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &File{Reader: NewReader(f, path, e, lim), f: f}, nil
}

// ReadFile reads the whole text of the file at path in e.
func ReadFile(path string, e Encoding, lim Limits) (string, error) {
	f, err := Open(path, e, lim)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return "", err
	}
	return b.String(), nil
}

// FormatSize writes a byte count the way limits are stated: "8 MiB".
func FormatSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Excerpt quotes s for an error message, escaped and cut to at most max
// bytes at a character boundary, with "..." after a cut.
func Excerpt(s string, max int) string {
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// excerptBytes quotes up to max bytes of b with every byte outside
// printable ASCII escaped, so that the bytes of a wrong encoding show as
// they are.
func excerptBytes(b []byte, max int) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i, c := range b {
		if i == max {
			sb.WriteString(`"...`)
			return sb.String()
		}
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}
