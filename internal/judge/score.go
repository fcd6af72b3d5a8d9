package judge

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
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

// number is a decimal number found in a reply, with its byte span.
type number struct {
	val        float64
	start, end int
}

var (
	digitsRe = regexp.MustCompile(`\d+(?:\.\d+)?`)
	// labelRe finds the words that introduce a score.
	labelRe = regexp.MustCompile(`(?i)预测分数|分数|得分|评分|打分|score|rating`)
	// refusalRe finds the usual ways a model declines.
	refusalRe = regexp.MustCompile(`(?i)i'?m sorry|i am sorry|i cannot|i can'?t|i can not|i'?m unable|i am unable|as an ai|抱歉|对不起|无法(?:回答|完成|提供|评估|评分|判断)|不能(?:回答|提供|评分)`)
)

// normalize folds full-width forms (０-９, ：, ．, －, ／, ...) to ASCII.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0xFF01 && r <= 0xFF5E {
			return r - 0xFEE0
		}
		if r == '\u3000' {
			return ' '
		}
		return r
	}, s)
}

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
		out = append(out, number{val: v, start: start, end: m[1]})
	}
	return out
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// labelFill is what may stand between a label and its number:
// "'预测分数'：7", "Score: **8**", "得分为 7", "score = 7".
func isLabelFill(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(`'"‘’“”「」『』:=*_为是》《【】[]()（）`, r)
}

// ParseScore reads a score in [lo, hi] from a judge reply. In order, it
// takes: the numbers introduced by a label ("Score: 8", "'预测分数'：7",
// "得分为7"), else numbers written as a fraction of hi ("**8/10**", "8 out
// of 10"), else numbers followed by 分; and finally the only number of the
// reply. The candidates of the first kind found must agree; several
// different ones, none at all, or a reply with more than one bare number is
// a parse_error (refused when the reply reads as a refusal). A score outside
// [lo, hi] is out_of_range.
func ParseScore(reply string, lo, hi float64) Parsed {
	s := normalize(reply)
	if strings.TrimSpace(s) == "" {
		return Parsed{Status: StatusParseError, Reason: "empty reply"}
	}
	nums := numbers(s)
	byStart := make(map[int]number, len(nums))
	for _, n := range nums {
		byStart[n.start] = n
	}

	// 1. Labelled numbers.
	var labelled []number
	for _, m := range labelRe.FindAllStringIndex(s, -1) {
		i := len(s)
		for j, r := range s[m[1]:] {
			if !isLabelFill(r) {
				i = m[1] + j
				break
			}
		}
		if n, ok := byStart[i]; ok {
			labelled = append(labelled, n)
		}
	}
	if p, ok := agree(labelled, lo, hi, "labelled scores"); ok {
		return p
	}

	// 2. Fractions of the top of the scale: "8/10", "8 out of 10".
	var fractions []number
	denom := strconv.FormatFloat(hi, 'f', -1, 64)
	fracRe := regexp.MustCompile(`^\s*(?:/|out of)\s*` + regexp.QuoteMeta(denom) + `(?:\D|$)`)
	for _, n := range nums {
		if fracRe.MatchString(s[n.end:]) {
			fractions = append(fractions, n)
		}
	}
	if p, ok := agree(fractions, lo, hi, "fractional scores"); ok {
		return p
	}

	// 3. Points: "7分".
	var points []number
	for _, n := range nums {
		if strings.HasPrefix(strings.TrimLeft(s[n.end:], " "), "分") {
			points = append(points, n)
		}
	}
	if p, ok := agree(points, lo, hi, "scores in points"); ok {
		return p
	}

	// 4. The only number of the reply, unless the reply declines.
	if refusalRe.MatchString(s) {
		return Parsed{Status: StatusRefused, Reason: "the reply declines to score"}
	}
	switch len(nums) {
	case 0:
		return Parsed{Status: StatusParseError, Reason: "no number in the reply"}
	case 1:
		return inRange(nums[0].val, lo, hi)
	}
	return Parsed{Status: StatusParseError, Reason: strconv.Itoa(len(nums)) + " numbers and none marked as the score"}
}

// agree returns the common value of cands, a parse_error when they differ,
// or ok=false when there are none.
func agree(cands []number, lo, hi float64, what string) (Parsed, bool) {
	if len(cands) == 0 {
		return Parsed{}, false
	}
	for _, c := range cands[1:] {
		if c.val != cands[0].val {
			return Parsed{Status: StatusParseError, Reason: what + " disagree"}, true
		}
	}
	return inRange(cands[0].val, lo, hi), true
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
	modalityRe = regexp.MustCompile(`(?i)\b(audio|visual|content)\b`)
	noneRe     = regexp.MustCompile(`(?i)^\W*(none|nothing|\[\s*\])\W*$`)
)

// ParseModalities reads a modality-completeness reply: the score is the
// number of distinct modalities named (0-3). A reply naming none is 0 only
// when it says so ("none", "[]"); otherwise it is a parse_error (or
// refused).
func ParseModalities(reply string) Parsed {
	s := normalize(reply)
	if strings.TrimSpace(s) == "" {
		return Parsed{Status: StatusParseError, Reason: "empty reply"}
	}
	seen := map[string]bool{}
	for _, m := range modalityRe.FindAllString(s, -1) {
		seen[strings.ToLower(m)] = true
	}
	if len(seen) > 0 {
		return Parsed{Status: StatusOK, Score: float64(len(seen))}
	}
	if noneRe.MatchString(strings.TrimSpace(s)) {
		return Parsed{Status: StatusOK, Score: 0}
	}
	if refusalRe.MatchString(s) {
		return Parsed{Status: StatusRefused, Reason: "the reply declines to answer"}
	}
	return Parsed{Status: StatusParseError, Reason: "no modality named"}
}
