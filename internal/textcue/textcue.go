package textcue

import (
	"strings"
	"sync"
	"unicode"

	"github.com/jonreiter/govader"
)

// Segment is a piece of text to analyse, such as one subtitle cue.
type Segment struct {
	Text string
}

// EmotionWord is an emotion word found in the text.
type EmotionWord struct {
	Word     string `json:"word"`     // as written
	Lemma    string `json:"lemma"`    // the wheel label, or the English gloss of a Chinese word
	Category string `json:"category"` // a root of the emotion wheel
	Negated  bool   `json:"negated"`  // "not happy", "不开心"
	Segment  int    `json:"segment"`  // index of the segment (cue) it is in
}

// Valence methods.
const (
	ValenceVADER   = "vader"   // VADER compound score of the English text
	ValenceLexicon = "lexicon" // mean polarity of the emotion words (Chinese)
)

// Result is what Analyze finds in a text.
type Result struct {
	Language     string        `json:"language"` // "en" or "zh"
	EmotionWords []EmotionWord `json:"emotion_words"`
	// Valence is in [-1, 1]: negative to positive.
	Valence       float64 `json:"valence"`
	ValenceMethod string  `json:"valence_method"`
	Sentences     int     `json:"sentences"`
	Exclamations  int     `json:"exclamations"`
	Questions     int     `json:"questions"`
	// Categories counts the emotion words per category, negated ones
	// left out.
	Categories map[string]int `json:"categories"`
}

var vader = sync.OnceValue(govader.NewSentimentIntensityAnalyzer)

// englishNegators are words that negate an emotion word up to three words
// later in the same clause.
var englishNegators = map[string]bool{
	"not": true, "no": true, "never": true, "nor": true, "neither": true, "none": true,
	"nobody": true, "nothing": true, "without": true, "hardly": true, "barely": true,
	"scarcely": true, "cannot": true, "dont": true, "doesnt": true, "didnt": true,
	"isnt": true, "arent": true, "wasnt": true, "werent": true, "cant": true,
	"couldnt": true, "wont": true, "wouldnt": true, "shouldnt": true, "aint": true,
	"havent": true, "hasnt": true, "hadnt": true, "neednt": true,
}

// chineseNegators negate a Chinese emotion word up to three characters
// later ("不开心", "不太开心", "没有很开心"), unless they are part of one of
// chineseNonNegating.
const chineseNegators = "不没沒别別未无無非"

// chineseNonNegating are words holding a negator character that do not
// negate: intensifiers ("非常开心", "特别开心", "无比激动") and others.
var chineseNonNegating = []string{"非常", "无比", "無比", "无限", "無限", "特别", "特別", "不禁", "不胜", "不勝", "未免", "分别", "分別", "告别", "告別"}

// inChineseWord reports whether the negator at run[k] belongs to one of
// chineseNonNegating.
func inChineseWord(run []rune, k int) bool {
	for _, w := range chineseNonNegating {
		r := []rune(w)
		for off := 0; off < len(r); off++ {
			start := k - off
			if start >= 0 && start+len(r) <= len(run) && string(run[start:start+len(r)]) == w {
				return true
			}
		}
	}
	return false
}

// clauseBreakers end the reach of a negation.
var clauseBreakers = map[string]bool{"but": true, "however": true, "though": true, "although": true, "yet": true}

// Analyze finds the cues in segs with the lexicon l.
func (l *Lexicon) Analyze(segs ...Segment) Result {
	r := Result{Language: "en", EmotionWords: []EmotionWord{}, Categories: map[string]int{}}
	var all []string
	var han, letters int
	for _, s := range segs {
		all = append(all, s.Text)
		for _, c := range s.Text {
			switch {
			case unicode.Is(unicode.Han, c):
				han++
			case unicode.IsLetter(c):
				letters++
			}
		}
	}
	text := strings.Join(all, " ")
	if han > 0 && float64(han) >= 0.3*float64(han+letters) {
		r.Language = "zh"
	}
	for i, s := range segs {
		r.EmotionWords = append(r.EmotionWords, l.words(s.Text, i)...)
	}
	for _, w := range r.EmotionWords {
		if !w.Negated {
			r.Categories[w.Category]++
		}
	}
	r.Sentences, r.Exclamations, r.Questions = punctuation(text)
	if r.Language == "en" {
		r.ValenceMethod = ValenceVADER
		if strings.TrimSpace(text) != "" {
			r.Valence = vader().PolarityScores(text).Compound
		}
	} else {
		r.ValenceMethod = ValenceLexicon
		var sum float64
		for _, w := range r.EmotionWords {
			p := Polarity(w.Category)
			if w.Negated {
				p = -p
			}
			sum += p
		}
		if n := len(r.EmotionWords); n > 0 {
			r.Valence = sum / float64(n)
		}
	}
	return r
}

// Polarity is +1 for happy, 0 for surprised and -1 for the other
// categories.
func Polarity(category string) float64 {
	switch category {
	case "happy":
		return 1
	case "surprised":
		return 0
	}
	return -1
}

type token struct {
	text   string // as written
	key    string // lower case, apostrophes dropped for negators
	clause int
}

// words finds the emotion words of one segment.
func (l *Lexicon) words(text string, seg int) []EmotionWord {
	var out []EmotionWord
	var toks []token
	clause := 0
	var cur []rune
	var han []rune
	flushWord := func() {
		if len(cur) == 0 {
			return
		}
		w := strings.Trim(string(cur), "'-")
		cur = cur[:0]
		if w == "" {
			return
		}
		low := strings.ToLower(w)
		if clauseBreakers[low] {
			clause++
		}
		toks = append(toks, token{text: w, key: low, clause: clause})
	}
	flushHan := func() {
		if len(han) > 0 {
			out = append(out, l.chinese(han, seg)...)
			han = han[:0]
		}
	}
	for _, c := range strings.ReplaceAll(text, "’", "'") {
		switch {
		case unicode.Is(unicode.Han, c):
			flushWord()
			han = append(han, c)
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '\'' || c == '-':
			flushHan()
			cur = append(cur, c)
		case unicode.IsSpace(c):
			flushWord()
			flushHan()
		default: // punctuation ends a clause
			flushWord()
			flushHan()
			clause++
		}
	}
	flushWord()
	flushHan()

	for i := 0; i < len(toks); {
		matched := 0
		for n := min(l.maxWords, len(toks)-i); n >= 1; n-- {
			if toks[i+n-1].clause != toks[i].clause {
				continue
			}
			keys := make([]string, n)
			surf := make([]string, n)
			for k := 0; k < n; k++ {
				keys[k], surf[k] = toks[i+k].key, toks[i+k].text
			}
			e, ok := l.en[strings.Join(keys, " ")]
			if !ok {
				continue
			}
			out = append(out, EmotionWord{Word: strings.Join(surf, " "), Lemma: e.Lemma, Category: e.Category,
				Negated: negatedEnglish(toks, i), Segment: seg})
			matched = n
			break
		}
		if matched == 0 {
			matched = 1
		}
		i += matched
	}
	return out
}

func negatedEnglish(toks []token, i int) bool {
	for k := i - 1; k >= 0 && k >= i-3; k-- {
		if toks[k].clause != toks[i].clause {
			return false
		}
		key := strings.ReplaceAll(toks[k].key, "'", "")
		if englishNegators[key] || strings.HasSuffix(toks[k].key, "n't") {
			return true
		}
	}
	return false
}

// chinese finds emotion words in a run of Han characters by longest match.
func (l *Lexicon) chinese(run []rune, seg int) []EmotionWord {
	var out []EmotionWord
	for i := 0; i < len(run); {
		n := min(l.maxZhRune, len(run)-i)
		for ; n >= 1; n-- {
			if _, ok := l.zh[string(run[i:i+n])]; ok {
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		w := string(run[i : i+n])
		e := l.zh[w]
		neg := false
		for k := i - 1; k >= 0 && k >= i-3; k-- {
			if strings.ContainsRune(chineseNegators, run[k]) && !inChineseWord(run, k) {
				neg = true
			}
		}
		out = append(out, EmotionWord{Word: w, Lemma: e.Lemma, Category: e.Category, Negated: neg, Segment: seg})
		i += n
	}
	return out
}

// punctuation counts sentences, exclamations and questions; a run of marks
// ("?!", "！！") ends one sentence and counts once for each kind in it.
func punctuation(text string) (sentences, exclamations, questions int) {
	inRun, hasText, excl, ques := false, false, false, false
	end := func() {
		if hasText {
			sentences++
		}
		if excl {
			exclamations++
		}
		if ques {
			questions++
		}
		hasText, excl, ques = false, false, false
	}
	for _, c := range text {
		switch c {
		case '.', '。', '…', '!', '！', '?', '？':
			inRun = true
			excl = excl || c == '!' || c == '！'
			ques = ques || c == '?' || c == '？'
		default:
			if inRun {
				end()
				inRun = false
			}
			if unicode.IsLetter(c) || unicode.IsDigit(c) {
				hasText = true
			}
		}
	}
	end()
	return sentences, exclamations, questions
}
