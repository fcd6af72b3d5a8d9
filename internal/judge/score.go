package judge

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"emer/internal/reply"
)

// Status says how a judged item ended.
type Status string

// The statuses of a judged item.
const (
	StatusOK           Status = "ok"
	StatusParseError   Status = "parse_error"   // no single valid score in the reply
	StatusOutOfRange   Status = "out_of_range"  // a score outside the protocol's range
	StatusRequestError Status = "request_error" // the call failed (HTTP error, timeout, malformed reply)
	StatusRefused      Status = "refused"       // the model declined to answer
)

// Statuses lists every status in a fixed order.
var Statuses = []Status{StatusOK, StatusParseError, StatusOutOfRange, StatusRequestError, StatusRefused}

// Parsed is the reading of one judge reply.
type Parsed struct {
	Status Status
	Score  float64 // meaningful only when Status is ok
	Reason string  // why a reply was not ok, for people
}

// number is a decimal number found in a reply, with its byte span. A
// malformed number (".5", "7,5", "1e1", "1.2.3") is kept so that it can be
// rejected rather than read as a part of itself.
type number struct {
	val        float64
	start, end int
	malformed  bool
}

var (
	digitsRe = regexp.MustCompile(`\d+(?:\.\d+)?`)
	// labelRe finds the words that introduce a score.
	labelRe = regexp.MustCompile(`(?i)预测分数|分数|得分|评分|打分|\bscores?\b|\bratings?\b`)
	// alternativeRe finds a second number offered right after a score: a
	// range or a choice ("7-8", "7～8", "7到8", "7 or 8").
	alternativeRe = regexp.MustCompile(`(?i)^[\s*_]*(?:-|~|到|至|、|\bor\b|\bto\b|或)[\s*_]*-?\d`)
	// fractionRe finds "/N" or "out of N" after a number; N is group 1.
	fractionRe = regexp.MustCompile(`(?i)^[\s*_(（]*(?:/|\bout of\b)[\s*_]*(\d+(?:\.\d+)?)`)
	// exampleRe finds a line that starts a new few-shot example: a model
	// that continues the prompt's pattern instead of stopping.
	exampleRe = regexp.MustCompile(`(?im)^[\s*#>_-]*(?:true clues|predicted clues|true emotion|predicted emotion|input)\s*:|^[\s*#>_-]*《(?:真实描述|预测描述|真实情感|预测情感)》\s*:`)
)

// numbers returns the decimal numbers of s; a '-' right before a number
// makes it negative unless it follows a digit (as in "1-10").
func numbers(s string) []number {
	var out []number
	for _, m := range digitsRe.FindAllStringIndex(s, -1) {
		v, err := strconv.ParseFloat(s[m[0]:m[1]], 64)
		if err != nil {
			continue
		}
		start := m[0]
		if start > 0 && s[start-1] == '-' && (start < 2 || !isDigit(s[start-2])) {
			v, start = -v, start-1
		}
		n := number{val: v, start: start, end: m[1]}
		rest := s[m[1]:]
		n.malformed = (m[0] > 0 && s[m[0]-1] == '.') ||
			(len(rest) > 1 && (rest[0] == ',' || rest[0] == '.') && isDigit(rest[1])) ||
			(len(rest) > 1 && (rest[0] == 'e' || rest[0] == 'E') && (isDigit(rest[1]) || len(rest) > 2 && (rest[1] == '-' || rest[1] == '+') && isDigit(rest[2])))
		out = append(out, n)
	}
	return out
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// isLabelFill reports whether r may stand between a label and its number:
// "'预测分数'：7", "Score: **8**", "得分为 7", "score = 7".
func isLabelFill(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(`'"‘’“”「」『』*_》《【】[]()（）`, r) || isLabelSep(r)
}

// isLabelSep reports whether r marks the word before it as a label.
func isLabelSep(r rune) bool { return strings.ContainsRune(`:=为是`, r) }

// closers maps an opening bracket to its closing one.
var closers = map[rune]rune{'(': ')', '（': '）', '[': ']', '【': '】'}

// afterLabel looks after a label ending at byte i of s. It returns the byte
// offset of what follows the label's fill, and whether a separator (':',
// '=', 为, 是) marked the word as a label. A bracketed group between the
// label and its separator ("Score (0-10): 7", "评分（1-10）：7") is skipped
// whole.
func afterLabel(s string, i int) (int, bool) {
	sep := false
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if c, ok := closers[r]; ok && !sep {
			j := strings.IndexRune(s[i+size:], c)
			if j < 0 {
				return i, sep
			}
			i += size + j + utf8.RuneLen(c)
			continue
		}
		if !isLabelFill(r) {
			return i, sep
		}
		sep = sep || isLabelSep(r)
		i += size
	}
	return i, sep
}

// cutExamples returns s up to the first line that starts a new few-shot
// example ("True clues:", "Input:", "《真实描述》：", ...).
func cutExamples(s string) string {
	if loc := exampleRe.FindStringIndex(s); loc != nil {
		return s[:loc[0]]
	}
	return s
}

// leadingScore returns the number a reply starts with when its first line
// holds nothing else (" 7", "5.", "**8/10**", "7分"): the continuation of a
// prompt that ends in "Score:".
func leadingScore(s string, nums []number) (number, bool) {
	if len(nums) == 0 {
		return number{}, false
	}
	first := strings.TrimSpace(strings.SplitN(strings.TrimLeft(s, " \t\r\n"), "\n", 2)[0])
	first = strings.Trim(first, "*_`'\" ")
	n := nums[0]
	lead := strings.Index(s, first)
	if lead < 0 || n.start != lead {
		return number{}, false
	}
	rest := first[n.end-n.start:]
	if m := fractionRe.FindStringSubmatchIndex(rest); m != nil {
		rest = rest[m[1]:]
	}
	rest = strings.TrimLeft(rest, " ")
	rest = strings.TrimPrefix(rest, "分")
	if strings.Trim(rest, ".。!！*_` ") != "" {
		return number{}, false
	}
	return n, true
}

// ParseScore reads a score in [lo, hi] from a judge reply. The reply is
// first cut where it starts a new few-shot example. Then, in order, it
// takes: the number the reply starts with when its first line holds
// nothing else, and the numbers introduced by a label ("Score: 8",
// "'预测分数'：7", "得分为7"); else numbers written as a fraction of hi
// ("**8/10**", "8 out of 10"); else numbers followed by 分; and finally the
// only number of a reply with no label at all. The candidates of the first
// kind found must agree. It is a parse_error when they differ, when labels
// are found but none has a number ("Score: N/A"), when a score is followed by a second number
// (a range "7-8" or choice "7 or 8"), by a fraction of another scale
// ("3/5"), or is itself malformed (".5", "7,5", "1e1"), and when a reply
// with no label holds several numbers or none (refused when the reply reads
// as a refusal). A score outside [lo, hi] is out_of_range.
func ParseScore(text string, lo, hi float64) Parsed {
	s := cutExamples(reply.Normalize(text))
	if strings.TrimSpace(s) == "" {
		if strings.TrimSpace(text) != "" {
			return Parsed{Status: StatusParseError, Reason: "the reply starts a new example instead of scoring"}
		}
		return Parsed{Status: StatusParseError, Reason: "empty reply"}
	}
	nums := numbers(s)
	byStart := make(map[int]number, len(nums))
	for _, n := range nums {
		byStart[n.start] = n
	}

	// 1. The leading number and labelled numbers.
	var labelled []number
	if n, ok := leadingScore(s, nums); ok {
		labelled = append(labelled, n)
	}
	empty := 0 // labels with a separator but no number ("Score: N/A")
	for _, m := range labelRe.FindAllStringIndex(s, -1) {
		i, sep := afterLabel(s, m[1])
		if n, ok := byStart[i]; ok {
			labelled = append(labelled, n)
		} else if sep {
			empty++
		}
	}
	if empty > 0 && len(labelled) == 0 {
		if reply.Refuses(s) {
			return Parsed{Status: StatusRefused, Reason: "the reply declines to score"}
		}
		return Parsed{Status: StatusParseError, Reason: "a score label without a number"}
	}
	if p, ok := agree(s, labelled, lo, hi, "labelled scores"); ok {
		return p
	}

	// 2. Fractions of the top of the scale: "8/10", "8 out of 10".
	var fractions []number
	for _, n := range nums {
		if m := fractionRe.FindStringSubmatch(s[n.end:]); m != nil {
			if d, err := strconv.ParseFloat(m[1], 64); err == nil && d == hi {
				fractions = append(fractions, n)
			}
		}
	}
	if p, ok := agree(s, fractions, lo, hi, "fractional scores"); ok {
		return p
	}

	// 3. Points: "7分".
	var points []number
	for _, n := range nums {
		if strings.HasPrefix(strings.TrimLeft(s[n.end:], " "), "分") {
			points = append(points, n)
		}
	}
	if p, ok := agree(s, points, lo, hi, "scores in points"); ok {
		return p
	}

	// 4. The only number of the reply, unless the reply declines.
	if reply.Refuses(s) {
		return Parsed{Status: StatusRefused, Reason: "the reply declines to score"}
	}
	switch len(nums) {
	case 0:
		return Parsed{Status: StatusParseError, Reason: "no number in the reply"}
	case 1:
		p, _ := agree(s, nums, lo, hi, "")
		return p
	}
	return Parsed{Status: StatusParseError, Reason: strconv.Itoa(len(nums)) + " numbers and none marked as the score"}
}

// agree returns the common value of cands, a parse_error when they differ
// or one of them is not a clear score (see clear), or ok=false when there
// are none.
func agree(s string, cands []number, lo, hi float64, what string) (Parsed, bool) {
	if len(cands) == 0 {
		return Parsed{}, false
	}
	for _, c := range cands {
		if reason := clear(s, c, hi); reason != "" {
			return Parsed{Status: StatusParseError, Reason: reason}, true
		}
		if c.val != cands[0].val {
			return Parsed{Status: StatusParseError, Reason: what + " disagree"}, true
		}
	}
	return inRange(cands[0].val, lo, hi), true
}

// clear returns why the number n of s is not one clear score on a scale
// whose top is hi, or "".
func clear(s string, n number, hi float64) string {
	text := s[n.start:n.end]
	switch {
	case n.malformed:
		return "malformed number at " + strconv.Quote(text)
	case alternativeRe.MatchString(s[n.end:]):
		return "a range or a choice of scores after " + strconv.Quote(text)
	}
	if m := fractionRe.FindStringSubmatch(s[n.end:]); m != nil {
		if d, err := strconv.ParseFloat(m[1], 64); err != nil || d != hi {
			return "score " + text + " given out of " + m[1] + ", not " + strconv.FormatFloat(hi, 'f', -1, 64)
		}
	}
	return ""
}

func inRange(v, lo, hi float64) Parsed {
	if v < lo || v > hi {
		return Parsed{Status: StatusOutOfRange, Score: v, Reason: "score " + strconv.FormatFloat(v, 'f', -1, 64) + " outside " + strconv.FormatFloat(lo, 'f', -1, 64) + "-" + strconv.FormatFloat(hi, 'f', -1, 64)}
	}
	return Parsed{Status: StatusOK, Score: v}
}

// Modalities are the names the modality-completeness prompt offers.
var Modalities = []string{"audio", "visual", "content"}

var (
	// modalitySepRe splits a list of modalities.
	modalitySepRe = regexp.MustCompile(`(?i)\s*(?:[,，、;；/&+]|\band\b)\s*|\s+`)
	noneRe        = regexp.MustCompile(`(?i)^\W*(none|nothing|\[\s*\])\W*$`)
	outputRe      = regexp.MustCompile(`(?i)^\W*output\s*:\s*`)
	inputRe       = regexp.MustCompile(`(?i)\binput\s*:`)
)

// ParseModalities reads a modality-completeness reply: the score is the
// number of distinct modalities named (0-3). The answer is the reply's first
// line (after an optional "Output:", before any "Input:"), which must be a list of the offered
// names and nothing else: "visual, audio", "['audio', 'content']", "visual
// and audio". A reply naming none is 0 only when it says so ("none",
// "[]"). Anything else is a parse_error (or refused): prose, which may
// negate a name ("no audio cues"), an echo of the options, and a reply that
// starts with "Output:" and goes on to a new "Input:", which continues the
// prompt's examples rather than answering.
func ParseModalities(text string) Parsed {
	s := reply.Normalize(text)
	if strings.TrimSpace(s) == "" {
		return Parsed{Status: StatusParseError, Reason: "empty reply"}
	}
	body := strings.TrimLeft(s, " \t\r\n")
	echoed := outputRe.MatchString(body)
	if loc := inputRe.FindStringIndex(body); loc != nil {
		if echoed {
			return Parsed{Status: StatusParseError, Reason: "the reply continues the prompt's examples"}
		}
		body = body[:loc[0]]
	}
	line := strings.TrimSpace(strings.SplitN(body, "\n", 2)[0])
	line = outputRe.ReplaceAllString(line, "")
	if noneRe.MatchString(line) {
		return Parsed{Status: StatusOK, Score: 0}
	}
	list := strings.Trim(line, " .。*_`")
	list = strings.TrimSuffix(strings.TrimPrefix(list, "["), "]")
	seen := map[string]bool{}
	for _, tok := range modalitySepRe.Split(list, -1) {
		tok = strings.ToLower(strings.Trim(tok, `'"‘’“”*_`+"`"))
		if tok == "" {
			continue
		}
		if tok != "audio" && tok != "visual" && tok != "content" {
			seen = nil
			break
		}
		seen[tok] = true
	}
	if len(seen) > 0 {
		return Parsed{Status: StatusOK, Score: float64(len(seen))}
	}
	if reply.Refuses(s) {
		return Parsed{Status: StatusRefused, Reason: "the reply declines to answer"}
	}
	return Parsed{Status: StatusParseError, Reason: "the first line is not a list of modalities"}
}
