package textenc

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// ErrUnknown reports an encoding name Lookup does not know.
var ErrUnknown = errors.New("unknown encoding")

// Encoding is the encoding a text file is read in. The zero value is
// UTF-8, which also recognises UTF-16 by its byte-order mark.
type Encoding struct {
	name string            // canonical name; "" for UTF-8
	enc  encoding.Encoding // nil for UTF-8
}

// UTF8 is the default encoding.
var UTF8 = Encoding{}

// String returns the encoding's canonical name, such as "gb18030".
func (e Encoding) String() string {
	if e.enc == nil {
		return "utf-8"
	}
	return e.name
}

// Lookup returns the encoding called name: a WHATWG encoding label
// (utf-8, gb18030, gbk, gb2312, big5, shift_jis, euc-jp, euc-kr, utf-16le,
// utf-16be, windows-1252, iso-8859-2, ...) or another IANA name. Case and
// surrounding spaces do not matter; "" is UTF-8.
func Lookup(name string) (Encoding, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "", "utf-8", "utf8":
		return UTF8, nil
	}
	enc, err := htmlindex.Get(n)
	if err != nil || enc == nil {
		enc, err = ianaindex.IANA.Encoding(n)
	}
	if err != nil || enc == nil {
		return Encoding{}, fmt.Errorf("%w %s (known are utf-8, gb18030, gbk, big5, shift_jis, euc-jp, euc-kr, utf-16le, utf-16be, windows-1252 and the other WHATWG and IANA names)", ErrUnknown, Excerpt(name, 40))
	}
	canon := n
	if c, err := htmlindex.Name(enc); err == nil {
		canon = c
	} else if c, err := ianaindex.IANA.Name(enc); err == nil {
		canon = strings.ToLower(c)
	}
	switch canon {
	case "utf-8":
		return UTF8, nil
	case "replacement":
		// WHATWG maps ISO-2022-KR, HZ-GB-2312 and a few others to an
		// encoding that decodes every file to one U+FFFD.
		return Encoding{}, fmt.Errorf("%w %s: not supported (WHATWG replaces it by U+FFFD)", ErrUnknown, Excerpt(name, 40))
	}
	return Encoding{name: canon, enc: enc}, nil
}

var def atomic.Pointer[Encoding]

// SetDefault sets the encoding Default returns. The command line sets it
// once from --encoding before any file is read.
func SetDefault(e Encoding) { def.Store(&e) }

// Default returns the encoding of the files emer reads: UTF-8 unless
// SetDefault said otherwise.
func Default() Encoding {
	if p := def.Load(); p != nil {
		return *p
	}
	return UTF8
}

// Flag is a command-line flag value that names an encoding; it implements
// flag.Value and pflag.Value. The zero value is UTF-8.
type Flag struct{ Encoding Encoding }

// Set looks name up.
func (f *Flag) Set(name string) error {
	e, err := Lookup(name)
	if err != nil {
		return err
	}
	f.Encoding = e
	return nil
}

// String returns the encoding's name, or "" while the flag is unset.
func (f *Flag) String() string {
	if f == nil || f.Encoding.enc == nil {
		return ""
	}
	return f.Encoding.String()
}

// Type names the flag's kind of value in usage messages.
func (*Flag) Type() string { return "name" }
