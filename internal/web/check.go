package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"emer/internal/dataset"
)

// maxCheck bounds a check file, uploaded or read at start.
const maxCheck = 64 << 20

// checkFile is the output of emer build check --json as the review reads
// it; other fields are ignored.
type checkFile struct {
	Clips *[]struct {
		Name        string  `json:"name"`
		Description *string `json:"description"`
		Claims      []struct {
			Text     string          `json:"text"`
			Aspect   string          `json:"aspect"`
			Verdict  string          `json:"verdict"`
			Evidence json.RawMessage `json:"evidence"`
		} `json:"claims"`
	} `json:"clips"`
	Totals *struct {
		Claims       int `json:"claims"`
		Supported    int `json:"supported"`
		Contradicted int `json:"contradicted"`
		Unverifiable int `json:"unverifiable"`
	} `json:"totals"`
}

// maxProblems is how many problems of a file an error lists.
const maxProblems = 10

// ReadCheck reads the output of emer build check --json from r (name is
// used in errors): {"clips": [{"name", "claims": [{"text", "aspect",
// "verdict", "evidence"}]}], "totals": {...}}. Every problem is reported:
// bad JSON with its line and column, a clip with no name or given twice,
// a claim with no text or a verdict other than supported, contradicted
// or unverifiable, totals that are not those of the claims.
func ReadCheck(r io.Reader, name string) ([]dataset.ClipCheck, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCheck+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxCheck {
		return nil, fmt.Errorf("%s: more than %d MiB: is it the output of emer build check --json?", name, maxCheck>>20)
	}
	var f checkFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, jsonPosition(b, err))
	}
	if f.Clips == nil {
		return nil, fmt.Errorf("%s: no \"clips\": is it the output of emer build check --json?", name)
	}
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	var out []dataset.ClipCheck
	first := map[string]int{}
	var n [3]int // supported, contradicted, unverifiable
	for i, c := range *f.Clips {
		clip := norm.NFC.String(strings.TrimSpace(c.Name))
		at := fmt.Sprintf("clip %d", i+1)
		if clip == "" {
			bad("%s: no name", at)
			continue
		}
		at += " (" + quote(clip, 40) + ")"
		if j, dup := first[clip]; dup {
			bad("%s: given twice (first as clip %d)", at, j)
			continue
		}
		first[clip] = i + 1
		cc := dataset.ClipCheck{Clip: clip, Claims: []dataset.Claim{}}
		if c.Description != nil {
			cc.Description = cleanText(*c.Description)
		}
		for j, cl := range c.Claims {
			claim := dataset.Claim{Text: strings.TrimSpace(cl.Text), Aspect: strings.TrimSpace(cl.Aspect), Verdict: cl.Verdict}
			k := slices.Index(dataset.Verdicts, cl.Verdict)
			if k < 0 {
				bad("%s, claim %d: verdict %s is none of supported, contradicted, unverifiable", at, j+1, quote(cl.Verdict, 20))
			} else {
				n[k]++
			}
			if claim.Text == "" {
				bad("%s, claim %d: no text", at, j+1)
			}
			if ev := bytes.TrimSpace(cl.Evidence); len(ev) > 0 && string(ev) != "null" {
				var buf bytes.Buffer
				if err := json.Compact(&buf, ev); err == nil {
					claim.Evidence = buf.Bytes()
				}
			}
			cc.Claims = append(cc.Claims, claim)
		}
		out = append(out, cc)
	}
	if t := f.Totals; t != nil && len(probs) == 0 {
		claims := n[0] + n[1] + n[2]
		if t.Claims != claims || t.Supported != n[0] || t.Contradicted != n[1] || t.Unverifiable != n[2] {
			bad("the totals (%d claims: %d supported, %d contradicted, %d unverifiable) are not those of its clips (%d: %d, %d, %d)",
				t.Claims, t.Supported, t.Contradicted, t.Unverifiable, claims, n[0], n[1], n[2])
		}
	}
	if len(probs) > 0 {
		if len(probs) > maxProblems {
			probs = append(probs[:maxProblems], fmt.Sprintf("and %d more problems", len(probs)-maxProblems))
		}
		return nil, fmt.Errorf("%s:\n  %s", name, strings.Join(probs, "\n  "))
	}
	return out, nil
}

// quote quotes s, cut to at most max bytes.
func quote(s string, max int) string {
	if len(s) <= max {
		return strconv.Quote(s)
	}
	r := []rune(s)
	for len(string(r)) > max {
		r = r[:len(r)-1]
	}
	return strconv.Quote(string(r)) + "…"
}

// jsonPosition adds the line and column of a syntax or type error.
func jsonPosition(b []byte, err error) error {
	var off int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		return err
	}
	// The offset is of the end of what was read: the last byte read is
	// the one at fault.
	off = min(max(off-1, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// maxEvidence is how many characters of a claim's evidence a page shows.
const maxEvidence = 400

// evidenceText writes a claim's evidence compactly for people: a string
// as it is; an object as "key: value; key: value" in its order, nested
// ones in parentheses; a list's items between commas; numbers to four
// significant digits. Nothing for no evidence or an empty object.
func evidenceText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var b strings.Builder
	if err := writeEvidence(&b, d, 0); err != nil {
		return string(raw)
	}
	s := strings.TrimSpace(b.String())
	if r := []rune(s); len(r) > maxEvidence {
		s = string(r[:maxEvidence]) + "…"
	}
	return s
}

func writeEvidence(b *strings.Builder, d *json.Decoder, depth int) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		open, closing, sep := "(", ")", "; "
		if v == '[' {
			open, closing, sep = "[", "]", ", "
		}
		if depth == 0 {
			open, closing = "", ""
		}
		b.WriteString(open)
		for i := 0; d.More(); i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			if v == '{' {
				k, err := d.Token()
				if err != nil {
					return err
				}
				fmt.Fprintf(b, "%v: ", k)
			}
			if err := writeEvidence(b, d, depth+1); err != nil {
				return err
			}
		}
		if _, err := d.Token(); err != nil {
			return err
		}
		b.WriteString(closing)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			b.WriteString(strconv.FormatInt(i, 10))
		} else if f, err := v.Float64(); err == nil {
			b.WriteString(strconv.FormatFloat(f, 'g', 4, 64))
		} else {
			b.WriteString(v.String())
		}
	case string:
		b.WriteString(v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case nil:
		b.WriteString("none")
	}
	return nil
}

// cleanText is a description as compared and kept, as the review CSV's
// import makes it: NFC, line ends as \n, surrounding space trimmed.
func cleanText(s string) string {
	return norm.NFC.String(strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")))
}
