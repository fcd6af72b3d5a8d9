package labels

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		bad      string // substring of the error, "" for none
	}{
		{"python repr", "['worried', 'helpless']", []string{"worried", "helpless"}, ""},
		{"unquoted", "[concerned, stressed, anxious]", []string{"concerned", "stressed", "anxious"}, ""},
		{"double quotes", `["Happy", "Sad "]`, []string{"happy", "sad"}, ""},
		{"no brackets", "happy, sad", []string{"happy", "sad"}, ""},
		{"empty list", "[]", []string{}, ""},
		{"empty string", "", []string{}, ""},
		{"multi-word", "['good mood', 'self-deprecating']", []string{"good mood", "self-deprecating"}, ""},
		{"apostrophe", "['can't stand it']", []string{"can", "t stand it"}, ""},
		{"unclosed", "['happy', 'sad'", []string{"happy", "sad"}, "without a closing"},
		{"unopened", "happy]", []string{"happy"}, "without an opening"},
		{"nested", "[['happy'], ['sad']]", []string{"[", "happy", "]", "[", "sad", "]"}, "nested list"},
		{"unterminated quote", "['happy, 'sad']", []string{"happy", "sad"}, "unterminated quote"},
		{"newline", "['happy',\n'sad']", []string{"happy", "sad"}, "control character"},
		{"space before bracket", " ['happy']", []string{"[", "happy"}, "space outside the brackets"},
		// GBK bytes read as if they were UTF-8: kept as the reference
		// keeps them, and flagged.
		{"gbk bytes", "['\xb8\xdf\xd0\xcb', 'sad']", []string{"\ufffd\ufffd\ufffd\ufffd", "sad"}, `"['\xb8\xdf\xd0\xcb', 'sad']": not UTF-8 text`},
		{"long list cut at a character", "['" + strings.Repeat("高兴", 20) + "'", []string{strings.Repeat("高兴", 20)}, `"['` + strings.Repeat("高兴", 9) + `高"...: '[' without`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("labels (-want +got):\n%s", d)
			}
			switch {
			case tc.bad == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.bad != "" && (err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.bad)):
				t.Errorf("error %v, want ErrMalformed containing %q", err, tc.bad)
			}
		})
	}
}

func TestParseGroups(t *testing.T) {
	got, err := ParseGroups("[['joyful', 'happy'], ['Sad'], []]")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"joyful", "happy"}, {"sad"}, {}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, bad := range []string{"['a']", "[['a'] ['b']]", "[['a', ['b']]", "[x]"} {
		if _, err := ParseGroups(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseGroups(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{"['worried', 'helpless']", "[a, b]", "", "[", "]", "[[]]", "['", "\"\"", "[',']"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		for _, l := range got {
			if l == "" || l != strings.TrimSpace(l) {
				t.Fatalf("label %q is empty or untrimmed", l)
			}
			if strings.ContainsAny(l, `'",`) {
				t.Fatalf("label %q holds a separator", l)
			}
		}
		// A well-formed list survives a round trip through its canonical form.
		if err == nil && utf8.ValidString(s) {
			canon := "['" + strings.Join(got, "', '") + "']"
			again, err2 := Parse(canon)
			if err2 != nil && len(got) > 0 {
				t.Fatalf("canonical form %q of %q is malformed: %v", canon, s, err2)
			}
			if len(got) > 0 && !cmp.Equal(got, again) {
				t.Fatalf("round trip of %q: %q then %q", s, got, again)
			}
		}
		_, _ = ParseGroups(s)
	})
}
