package textcue

//go:generate go run ./gen -wheels ../../../shared/data/emotion-wheel/affectgpt2025 -zh lexicon/zh.tsv -out lexicon/lexicon.tsv

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
)

//go:embed lexicon/lexicon.tsv
var lexiconTSV string

// Categories are the emotion categories of the lexicon, the level-1 roots
// of wheel1 of the AffectGPT emotion wheels, in the wheel's order.
var Categories = []string{"mad", "disgusted", "sad", "happy", "surprised", "scared"}

// Entry is what the lexicon knows of one word form.
type Entry struct {
	Category string // one of Categories
	Lemma    string // the wheel label (English) or the English gloss (Chinese)
}

// Lexicon maps word forms to emotion categories. English keys are lower
// case, multi-word forms joined by single spaces.
type Lexicon struct {
	en        map[string]Entry
	zh        map[string]Entry
	maxWords  int // longest English form, in words
	maxZhRune int // longest Chinese form, in runes
}

// ParseLexicon reads the TSV format of lexicon/lexicon.tsv: lang, form,
// category, lemma, via; lines starting with # are comments.
func ParseLexicon(r io.Reader) (*Lexicon, error) {
	l := &Lexicon{en: map[string]Entry{}, zh: map[string]Entry{}}
	known := map[string]bool{}
	for _, c := range Categories {
		known[c] = true
	}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("lexicon line %d: %d fields, want 5", n, len(f))
		}
		if !known[f[2]] {
			return nil, fmt.Errorf("lexicon line %d: unknown category %q", n, f[2])
		}
		e := Entry{Category: f[2], Lemma: f[3]}
		switch f[0] {
		case "en":
			l.en[f[1]] = e
			l.maxWords = max(l.maxWords, len(strings.Fields(f[1])))
		case "zh":
			l.zh[f[1]] = e
			l.maxZhRune = max(l.maxZhRune, len([]rune(f[1])))
		default:
			return nil, fmt.Errorf("lexicon line %d: unknown language %q", n, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return l, nil
}

// DefaultLexicon returns the embedded lexicon, parsed once.
var DefaultLexicon = sync.OnceValue(func() *Lexicon {
	l, err := ParseLexicon(strings.NewReader(lexiconTSV))
	if err != nil {
		panic("textcue: embedded lexicon: " + err.Error())
	}
	return l
})

// Lookup returns the entry of an English form (any case) or Chinese word.
func (l *Lexicon) Lookup(form string) (Entry, bool) {
	if e, ok := l.zh[form]; ok {
		return e, true
	}
	e, ok := l.en[strings.Join(strings.Fields(strings.ToLower(form)), " ")]
	return e, ok
}

// Len returns the number of English and Chinese forms.
func (l *Lexicon) Len() (en, zh int) { return len(l.en), len(l.zh) }
