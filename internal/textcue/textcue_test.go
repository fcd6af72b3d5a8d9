package textcue

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/sharedtest"
)

type wordCase struct {
	Word, Category string
	Negated        bool
}

func found(r Result) []wordCase {
	var out []wordCase
	for _, w := range r.EmotionWords {
		out = append(out, wordCase{w.Word, w.Category, w.Negated})
	}
	return out
}

func TestEmotionWords(t *testing.T) {
	lex := DefaultLexicon()
	tests := []struct {
		name, text string
		want       []wordCase
	}{
		{"clip subtitle", "Hello there. I am so happy to see you today. This is wonderful news.",
			[]wordCase{{"happy", "happy", false}, {"wonderful", "happy", false}}},
		{"negation", "I am not happy about this.", []wordCase{{"happy", "happy", true}}},
		{"contraction", "I don't feel scared at all", []wordCase{{"scared", "scared", true}}},
		{"curly contraction", "She isn’t angry.", []wordCase{{"angry", "mad", true}}},
		{"negation stops at clause", "Not now, I am furious!", []wordCase{{"furious", "mad", false}}},
		{"negation stops at but", "I wasn't there but I am sad", []wordCase{{"sad", "sad", false}}},
		{"negation reach", "I was never really that sad", []wordCase{{"sad", "sad", true}}},
		{"capitals", "I'm TERRIFIED and Disgusted", []wordCase{{"TERRIFIED", "scared", false}, {"Disgusted", "disgusted", false}}},
		{"word forms", "Such sadness, what a disappointment", []wordCase{{"sadness", "sad", false}, {"disappointment", "sad", false}}},
		{"no emotion", "The train leaves at five.", nil},
		{"chinese", "我今天很开心！", []wordCase{{"开心", "happy", false}}},
		{"chinese negation", "我不太开心，也很生气", []wordCase{{"开心", "happy", true}, {"生气", "mad", false}}},
		{"chinese word with negator inside", "他有点不安", []wordCase{{"不安", "scared", false}}},
		{"mixed", "OK，我好害怕", []wordCase{{"害怕", "scared", false}}},
		{"chinese intensifiers", "非常开心，特别感动，无比激动", []wordCase{{"开心", "happy", false}, {"感动", "happy", false}, {"激动", "surprised", false}}},
		{"chinese long negation", "我没有很生气", []wordCase{{"生气", "mad", true}}},
		{"phrase", "I was at a loss for words", []wordCase{{"at a loss for words", "surprised", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := found(lex.Analyze(Segment{Text: tt.text}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("emotion words (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValenceAndPunctuation(t *testing.T) {
	lex := DefaultLexicon()
	tests := []struct {
		name                 string
		segs                 []Segment
		lang, method         string
		sign                 float64 // expected sign of valence, 0 for exactly 0
		sentences, excl, que int
	}{
		{"positive english", []Segment{{"Hello there. I am so happy to see you today."}, {"This is wonderful news."}}, "en", ValenceVADER, 1, 3, 0, 0},
		{"negative english", []Segment{{"This is terrible! Why would you do that?"}}, "en", ValenceVADER, -1, 2, 1, 1},
		{"negated positive", []Segment{{"I am not happy."}}, "en", ValenceVADER, -1, 1, 0, 0},
		{"marks run", []Segment{{"What?! No way!!!"}}, "en", ValenceVADER, -1, 2, 2, 1},
		{"chinese positive", []Segment{{"太好了，我真开心！你呢？"}}, "zh", ValenceLexicon, 1, 2, 1, 1},
		{"chinese negated", []Segment{{"我一点也不开心。"}}, "zh", ValenceLexicon, -1, 1, 0, 0},
		{"empty", []Segment{{"  "}}, "en", ValenceVADER, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lex.Analyze(tt.segs...)
			if r.Language != tt.lang || r.ValenceMethod != tt.method {
				t.Errorf("language %s method %s, want %s %s", r.Language, r.ValenceMethod, tt.lang, tt.method)
			}
			switch {
			case tt.sign > 0 && r.Valence <= 0, tt.sign < 0 && r.Valence >= 0, tt.sign == 0 && r.Valence != 0:
				t.Errorf("valence %.3f, want sign %v", r.Valence, tt.sign)
			}
			if r.Valence < -1 || r.Valence > 1 {
				t.Errorf("valence %.3f out of [-1, 1]", r.Valence)
			}
			if r.Sentences != tt.sentences || r.Exclamations != tt.excl || r.Questions != tt.que {
				t.Errorf("sentences/exclamations/questions %d/%d/%d, want %d/%d/%d",
					r.Sentences, r.Exclamations, r.Questions, tt.sentences, tt.excl, tt.que)
			}
		})
	}
}

func TestSegmentsAndCategories(t *testing.T) {
	r := DefaultLexicon().Analyze(Segment{"I'm pleased."}, Segment{"Not angry, just sad and lonely."})
	var segs []int
	for _, w := range r.EmotionWords {
		segs = append(segs, w.Segment)
	}
	if diff := cmp.Diff([]int{0, 1, 1, 1}, segs); diff != "" {
		t.Errorf("segments (-want +got):\n%s\n%+v", diff, r.EmotionWords)
	}
	if diff := cmp.Diff(map[string]int{"happy": 1, "sad": 2}, r.Categories); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
}

func TestLexicon(t *testing.T) {
	lex := DefaultLexicon()
	en, zh := lex.Len()
	if en < 2000 || zh < 80 {
		t.Errorf("lexicon has %d English and %d Chinese forms", en, zh)
	}
	for form, cat := range map[string]string{"happy": "happy", "Happiness": "happy", "furious": "mad",
		"afraid": "scared", "astonished": "surprised", "nauseated": "disgusted", "lonely": "sad", "伤心": "sad"} {
		e, ok := lex.Lookup(form)
		if !ok || e.Category != cat {
			t.Errorf("Lookup(%q) = %+v, %v; want category %s", form, e, ok, cat)
		}
	}
	for _, form := range []string{"the", "left", "see", "news", "today"} {
		if e, ok := lex.Lookup(form); ok {
			t.Errorf("Lookup(%q) = %+v, want no entry", form, e)
		}
	}
	// The header records where the lexicon comes from.
	for _, s := range []string{"format.csv sha256:", "synonym.xlsx sha256:", "wheel1.xlsx sha256:", "zh.tsv sha256:"} {
		if !strings.Contains(lexiconTSV, s) {
			t.Errorf("lexicon header lacks %q", s)
		}
	}
}

func TestParseLexiconErrors(t *testing.T) {
	for name, text := range map[string]string{
		"fields":   "en\thappy\thappy\n",
		"category": "en\thappy\tjoyous\thappy\twheel1\n",
		"language": "fr\theureux\thappy\thappy\tgloss\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseLexicon(strings.NewReader(text)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestSharedSubtitle(t *testing.T) {
	b, err := os.ReadFile(sharedtest.Path(t, "reference", "media", "subs.srt"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.Contains(l, "-->") && strings.Trim(l, "0123456789") != "" {
			lines = append(lines, l)
		}
	}
	r := DefaultLexicon().Analyze(Segment{Text: strings.Join(lines, " ")})
	ok := false
	for _, w := range r.EmotionWords {
		ok = ok || (w.Word == "happy" && !w.Negated)
	}
	if !ok {
		t.Errorf("no 'happy' among %+v", r.EmotionWords)
	}
}
