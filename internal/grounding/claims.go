package grounding

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Split cuts an EMER description, English or Chinese, into claims:
// sentences, then clauses. Sentences end at 。！？!?；; and at a full stop
// that ends a word (not one inside a number or after Mr, Dr, e.g. and the
// like). Clauses are cut at commas and colons, and before the English
// conjunctions while, but, because and whereas, before "and" when a new
// subject follows ("and his voice ..."), and before the Chinese 但是,
// 并且, 而且, 同时 and 因为. Nothing inside quotation marks is cut. Each
// clause loses the openers and connectives that carry no claim ("In the
// video", "Therefore", "此外", "在视频中"); clauses left empty are dropped.
func Split(text string) []string {
	var out []string
	for _, sentence := range cut(text, sentenceEnd) {
		var claims []string
		for _, clause := range cut(sentence, clauseEnd) {
			c := trimClause(clause)
			switch {
			case c == "":
			case len(claims) > 0 && listItem(c):
				claims[len(claims)-1] += ", " + c
			default:
				claims = append(claims, c)
			}
		}
		out = append(out, claims...)
	}
	return out
}

// listItem reports whether a clause is one item of a list the clause
// before it began ("grateful, happy, and shy"): a single English word, or
// at most two Chinese characters.
func listItem(c string) bool {
	if strings.IndexFunc(c, isHan) >= 0 {
		return utf8.RuneCountInString(c) <= 2
	}
	return len(strings.Fields(c)) == 1
}

// A cutter reports whether s is cut at position i of rs (outside quotes),
// and how many runes of separator, dropped, start there: 0 cuts before
// rs[i] and keeps it.
type cutter func(rs []rune, i int) (sep int, ok bool)

// cut splits s where at says, never inside quotation marks.
func cut(s string, at cutter) []string {
	rs := []rune(s)
	var out []string
	start, depth, ascii := 0, 0, false
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '"':
			ascii = !ascii
			continue
		case strings.ContainsRune("“「『《", r):
			depth++
			continue
		case strings.ContainsRune("”」』》", r):
			depth = max(0, depth-1)
			continue
		}
		if depth > 0 || ascii {
			continue
		}
		if n, ok := at(rs, i); ok && (n > 0 || i > start) {
			out = append(out, string(rs[start:i]))
			start = i + n
			i = max(i, start-1)
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// abbreviations end with a full stop that does not end a sentence.
var abbreviations = map[string]bool{"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "vs": true, "etc": true, "e.g": true, "i.e": true, "prof": true, "jr": true, "sr": true}

func sentenceEnd(rs []rune, i int) (int, bool) {
	if i >= 2 && strings.ContainsRune(`”」』"`, rs[i-1]) && strings.ContainsRune("。！？!?.", rs[i-2]) {
		// After a quoted sentence when a new one starts: 她说：“好。”他笑了;
		// He said "Fine." He left.
		next := rs[i]
		if unicode.IsSpace(next) && i+1 < len(rs) {
			next = rs[i+1]
		}
		if isHan(next) || unicode.IsUpper(next) {
			return 0, true
		}
	}
	switch rs[i] {
	case '。', '！', '？', '!', '?', '；', ';', '…':
		return 1, true
	case '.':
		if i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) && !isHan(rs[i+1]) && !strings.ContainsRune(`"”'’)`, rs[i+1]) {
			return 0, false // inside a number, "e.g" or a file name
		}
		j := i
		for j > 0 && (unicode.IsLetter(rs[j-1]) || rs[j-1] == '.') {
			j--
		}
		if abbreviations[strings.ToLower(string(rs[j:i]))] {
			return 0, false
		}
		return 1, true
	}
	return 0, false
}

// clauseWords are the English words a clause is cut before (the word is
// kept); andSubject, the subjects after "and" that start a new clause.
var (
	clauseWords = regexp.MustCompile(`^(while|but|because|whereas|although|though)\b`)
	andSubject  = regexp.MustCompile(`^and (he|she|his|her|they|their|the|it|its|this|there)\b`)
	zhClause    = []string{"但是", "并且", "而且", "同时", "因为", "然而"}
)

func clauseEnd(rs []rune, i int) (int, bool) {
	switch rs[i] {
	case ',', '，':
		return 1, true
	case ':', '：':
		rest := strings.TrimLeftFunc(string(rs[i+1:]), unicode.IsSpace)
		if r, _ := utf8.DecodeRuneInString(rest); strings.ContainsRune(`"“「『`, r) {
			return 0, false // 她说：“……”: the quote belongs to the saying
		}
		return 1, true
	}
	if unicode.IsSpace(rs[i]) && i+1 < len(rs) {
		rest := strings.ToLower(string(rs[i+1 : min(len(rs), i+16)]))
		if clauseWords.MatchString(rest) || andSubject.MatchString(rest) {
			return 1, true
		}
	}
	if i > 0 && isHan(rs[i-1]) {
		next := string(rs[i:min(len(rs), i+2)])
		for _, w := range zhClause {
			if next == w {
				return 0, true
			}
		}
	}
	return 0, false
}

// openers are leading words and phrases that carry no claim; trimClause
// strips them, repeatedly, case-insensitively.
var openers = []string{
	// English frames and connectives
	"in the video", "in this video", "throughout the video", "from the video", "based on the video",
	"according to the video", "in the clip", "at the beginning", "at the end", "at first", "in the end",
	"in addition", "at the same time", "in conclusion", "in summary", "on the other hand",
	"with the help of these clues", "based on these clues", "from these clues", "from these cues",
	"and", "but", "while", "then", "also", "so", "because", "as", "which", "meanwhile", "moreover",
	"additionally", "furthermore", "however", "therefore", "thus", "hence", "finally", "lastly",
	"first", "firstly", "secondly", "overall", "although", "though", "whereas", "besides", "later",
	// Chinese
	"在整个视频中", "整个视频中", "在这个视频中", "在视频中", "视频中", "根据这个视频", "根据视频",
	"从视频中", "通过这些线索", "根据这些线索", "综上所述", "总的来说", "总体而言", "总体来说", "总之", "此外", "另外",
	"然后", "随后", "最后", "首先", "其次", "一开始", "开始时", "因此", "所以", "然而", "不过",
	"但是", "但", "并且", "而且", "同时", "因为", "由于",
}

// trimClause strips spaces, punctuation and openers around a clause; it
// returns "" when no word is left.
func trimClause(c string) string {
	for {
		c = strings.TrimFunc(c, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsPunct(r) && !strings.ContainsRune(`"“”「」'`, r)
		})
		c = strings.TrimSpace(c)
		trimmed := false
		lower := strings.ToLower(c)
		for _, o := range openers {
			if !strings.HasPrefix(lower, o) {
				continue
			}
			rest := c[len(o):]
			r, _ := utf8.DecodeRuneInString(rest)
			if isHan([]rune(o)[0]) && r == '的' {
				continue // 视频中的人: the opener is part of a noun phrase
			}
			if isHan([]rune(o)[0]) || rest == "" || !unicode.IsLetter(r) {
				c, trimmed = rest, true
				break
			}
		}
		if !trimmed {
			break
		}
	}
	if frameOnly.MatchString(c) {
		return "" // "Based on the visual cues", "根据视觉线索": where the claims come from
	}
	if strings.Count(c, `"`)%2 == 1 { // a quote cut in half by the clause's end
		c = strings.Trim(c, `"`)
	}
	for _, r := range c {
		if unicode.IsLetter(r) {
			return c
		}
	}
	return ""
}

// frameOnly matches a whole clause that only says where the claims come
// from.
var frameOnly = regexp.MustCompile(`^(?i:(based on|according to|from|judging (from|by)|given|considering|looking at|with) [^,]{0,48}|(we|one|you) can (see|tell|infer|conclude)( that)?|it can be (seen|inferred|concluded)( that)?|(根据|基于|通过|从|鉴于|结合|综合)[^，]{0,12}|(我们)?可以(看出|看到|推断出?|推测出?|得出结论))$`)

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }
