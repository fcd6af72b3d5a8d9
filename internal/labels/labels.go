// Package labels parses the label lists of open-vocabulary emotion data:
// strings such as "['worried', 'helpless']" or "[happy, sad]" as the
// AffectGPT, OV-MER and MER2024 files write them.
package labels

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrMalformed reports a label list whose shape is wrong. Parse still
// returns the labels the reference parser would read from it, so that a
// caller can count the problem as a warning and keep the published
// behaviour.
var ErrMalformed = errors.New("malformed label list")

// Parse splits a label list the way the released evaluation does: strip
// one leading '[' and one trailing ']', split on any of ' " and ',', trim,
// and drop empty items. Labels are then lower-cased and trimmed.
//
// The error, when not nil, wraps ErrMalformed and says what is wrong:
// brackets that do not pair, a nested list, an unterminated quote or a
// control character. The labels returned alongside are the lenient parse.
func Parse(s string) ([]string, error) {
	raw := Split(s)
	out := make([]string, 0, len(raw))
	for _, l := range raw {
		l = strings.TrimSpace(strings.ToLower(l))
		if l != "" {
			out = append(out, l)
		}
	}
	return out, Check(s)
}

// Split is the reference parser without normalization: the items of the
// list trimmed of spaces, case kept.
func Split(s string) []string {
	if strings.HasPrefix(s, "[") {
		s = s[1:]
	}
	if strings.HasSuffix(s, "]") {
		s = s[:len(s)-1]
	}
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\'' || s[i] == '"' || s[i] == ',' {
			if item := strings.TrimSpace(s[start:i]); item != "" {
				out = append(out, item)
			}
			start = i + 1
		}
	}
	return out
}

// Check reports what is malformed in a label list, or nil.
func Check(s string) error {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s: not UTF-8 text (another encoding?)", ErrMalformed, quote(s))
	}
	open, closed := strings.HasPrefix(t, "["), strings.HasSuffix(t, "]")
	// The reference strips brackets only at the very ends, so a bracket
	// behind spaces stays in the first or last label.
	if open && !strings.HasPrefix(s, "[") || closed && !strings.HasSuffix(s, "]") {
		return fmt.Errorf("%w: %s: space outside the brackets", ErrMalformed, quote(s))
	}
	switch {
	case open && !closed:
		return fmt.Errorf("%w: %s: '[' without a closing ']'", ErrMalformed, quote(s))
	case closed && !open:
		return fmt.Errorf("%w: %s: ']' without an opening '['", ErrMalformed, quote(s))
	}
	inner := t
	if open {
		inner = t[1 : len(t)-1]
	}
	if strings.ContainsAny(inner, "[]") {
		return fmt.Errorf("%w: %s: nested list", ErrMalformed, quote(s))
	}
	single, double := 0, 0
	for i := 0; i < len(inner); i++ {
		switch c := inner[i]; {
		case c < 0x20 && c != '\t':
			return fmt.Errorf("%w: %s: control character %U", ErrMalformed, quote(s), rune(c))
		case c == '"':
			double++
		case c == '\'' && !(i > 0 && i+1 < len(inner) && isLetter(inner[i-1]) && isLetter(inner[i+1])):
			// An apostrophe inside a word ("can't") is not a quote.
			single++
		}
	}
	if single%2 == 1 || double%2 == 1 {
		return fmt.Errorf("%w: %s: unterminated quote", ErrMalformed, quote(s))
	}
	return nil
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// quote quotes a label list for a message, cut short at a character
// boundary.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// ParseGroups parses a list of label lists, as the MER2024 GPT synonym
// files hold them: "[['joyful', 'happy'], ['sad']]". Each group is parsed
// with Parse; empty groups are kept so that indexes match the file.
func ParseGroups(s string) ([][]string, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
		return nil, fmt.Errorf("%w: %s: want a list of lists", ErrMalformed, quote(s))
	}
	t = strings.TrimSpace(t[1 : len(t)-1])
	var groups [][]string
	for t != "" {
		if t[0] != '[' {
			return nil, fmt.Errorf("%w: %s: want '[' at %q", ErrMalformed, quote(s), firstRunes(t, 10))
		}
		end := strings.IndexByte(t, ']')
		if end < 0 {
			return nil, fmt.Errorf("%w: %s: group without a closing ']'", ErrMalformed, quote(s))
		}
		g, err := Parse(t[:end+1])
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
		t = strings.TrimSpace(t[end+1:])
		if strings.HasPrefix(t, ",") {
			t = strings.TrimSpace(t[1:])
		} else if t != "" {
			return nil, fmt.Errorf("%w: %s: want ',' between groups at %q", ErrMalformed, quote(s), firstRunes(t, 10))
		}
	}
	return groups, nil
}

func firstRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
