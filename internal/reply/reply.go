package reply

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"emer/internal/llm"
)

// Kind says why a reply cannot be used.
type Kind string

// The kinds of unusable reply.
const (
	Refused   Kind = "refused"     // the model declined (marked by the server, or in its text)
	Truncated Kind = "truncated"   // cut off at the token limit: whatever it says may be incomplete
	Empty     Kind = "empty"       // nothing but white space
	Unparsed  Kind = "parse_error" // the text is there but is not what the caller asked for
)

// Sentinel errors a *Failure unwraps to, one per Kind; test with errors.Is.
var (
	ErrRefused   = errors.New("reply refused")
	ErrTruncated = errors.New("reply truncated")
	ErrEmpty     = errors.New("reply empty")
	ErrUnparsed  = errors.New("reply not parsed")
)

// Failure is a reply that cannot be used. Raw is the text as received
// (for a refusal the server marks, its refusal text); Reason says why for
// people.
type Failure struct {
	Kind   Kind
	Reason string
	Raw    string
}

// excerptLen bounds how much of the raw text an error message quotes.
const excerptLen = 200

func (f *Failure) Error() string {
	if f.Raw == "" {
		return f.Reason
	}
	return f.Reason + ": " + Excerpt(f.Raw, excerptLen)
}

// Unwrap maps the kind onto its sentinel.
func (f *Failure) Unwrap() error {
	switch f.Kind {
	case Refused:
		return ErrRefused
	case Truncated:
		return ErrTruncated
	case Empty:
		return ErrEmpty
	}
	return ErrUnparsed
}

// Reasons of the failures Check and CheckText return.
const (
	ReasonTruncated = "reply cut off at the token limit (finish_reason length)"
	ReasonEmpty     = "empty reply"
	ReasonRefused   = "the server marks the reply as a refusal"
	ReasonDeclines  = "the reply declines the task"
)

// Check reports why the server's own fields make r unusable: a refusal
// (the Refusal field) or a reply cut at the token limit, which may have
// lost the rest of its answer ("1" of "10"). It returns nil for any other
// reply, an empty one included: see CheckText and Answer for the text.
func Check(r llm.Reply) *Failure {
	if r.Refusal != "" {
		return &Failure{Kind: Refused, Reason: ReasonRefused, Raw: r.Refusal}
	}
	if r.FinishReason == "length" {
		return &Failure{Kind: Truncated, Reason: ReasonTruncated, Raw: r.Text}
	}
	return nil
}

// CheckText reports why a reply's text cannot stand as an answer in
// prose: it is empty, or it opens by declining (see Declines). Raw is the
// text trimmed of surrounding white space.
func CheckText(text string) *Failure {
	t := strings.TrimSpace(text)
	if t == "" {
		return &Failure{Kind: Empty, Reason: ReasonEmpty, Raw: text}
	}
	if Declines(t) {
		return &Failure{Kind: Refused, Reason: ReasonDeclines, Raw: t}
	}
	return nil
}

// Answer returns the trimmed text of r when it is usable as an answer in
// prose (Check, then CheckText), or the failure.
func Answer(r llm.Reply) (string, *Failure) {
	if f := Check(r); f != nil {
		return "", f
	}
	if f := CheckText(r.Text); f != nil {
		return "", f
	}
	return strings.TrimSpace(r.Text), nil
}

// ParseFailure returns the failure of a reply that arrived whole but does
// not hold what the caller asked for; reason says what is missing.
func ParseFailure(raw, reason string) *Failure {
	return &Failure{Kind: Unparsed, Reason: reason, Raw: raw}
}

var (
	// refusalRe finds the usual ways a model declines, anywhere in a
	// reply. It suits short answers (a score, a list), where any of these
	// words means there is no answer.
	refusalRe = regexp.MustCompile(`(?i)i'?m sorry|i am sorry|i cannot|i can'?t|i can not|i'?m unable|i am unable|as an ai|抱歉|对不起|无法(?:回答|完成|提供|评估|评分|判断)|不能(?:回答|提供|评分)`)
	// declineRe finds a reply that opens by declining. It is anchored at
	// the start because prose may well quote someone who is sorry.
	declineRe = regexp.MustCompile(`(?i)^\W*(?:i'?m sorry|i am sorry|sorry,? (?:but )?i|i cannot|i can'?t|i can not|i'?m unable|i am unable|i won'?t|as an ai|(?:抱歉|对不起|很抱歉)[,，]?\s*(?:我|但|无法|不能)|我(?:无法|不能)|无法(?:回答|完成|提供|总结|概括|评估|评分|判断))`)
)

// Refuses reports whether a reply says, anywhere, one of the usual ways of
// declining ("I'm sorry", "I cannot", "as an AI", "抱歉", "无法回答", ...).
// Use it for short answers; prose that may quote an apology wants
// Declines.
func Refuses(text string) bool { return refusalRe.MatchString(Normalize(text)) }

// Declines reports whether a reply opens by declining the task ("I'm
// sorry, I can't ...", "抱歉，我无法..."). A reply that only mentions
// sorrow or an apology later on ("He says \"I'm sorry\"", "愧疚、抱歉") does
// not decline.
func Declines(text string) bool { return declineRe.MatchString(Normalize(text)) }

// Normalize folds full-width forms (０-９, ：, ．, －, ／, ～, ...) to ASCII,
// the ideographic space to a space, and the minus sign and en dash to '-',
// so that checks and parsers read "Ｓｃｏｒｅ：８" as "Score:8".
func Normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == '\u3000':
			return ' '
		case r == '\u2212', r == '\u2013':
			return '-'
		}
		return r
	}, s)
}

// Excerpt returns s with white space runs folded, cut to at most n bytes
// on a rune boundary, with "…" when cut: a short quote of bad input for an
// error message.
func Excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
