package dataset

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"words", "He frowns, staring at the floor.", []string{"He", "frowns", "staring", "at", "the", "floor"}},
		{"apostrophes", `He says "I'm fine" — don't 'worry'.`, []string{"He", "says", "I'm", "fine", "don't", "worry"}},
		{"typographic apostrophe", "don’t", []string{"don’t"}},
		{"chinese", "他皱着眉头。", []string{"他", "皱", "着", "眉", "头"}},
		{"mixed", "他说OK，很好", []string{"他", "说", "OK", "很", "好"}},
		{"kana", "ありがとう", []string{"あ", "り", "が", "と", "う"}},
		{"nfc", "cafe\u0301 noir", []string{"caf\u00e9", "noir"}},
		{"numbers", "3.5 s", []string{"3", "5", "s"}},
		{"empty", " ... ", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Tokens(tc.text)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLevenshteinLCS(t *testing.T) {
	chars := func(s string) []string { return strings.Split(s, "") }
	for _, tc := range []struct {
		name      string
		a, b      []string
		edits, cs int
	}{
		{"substitution", []string{"the", "cat", "sat"}, []string{"the", "dog", "sat"}, 1, 2},
		{"from empty", nil, []string{"x", "y"}, 2, 0},
		{"to empty", []string{"x", "y"}, nil, 2, 0},
		{"shift", chars("abcd"), chars("bcde"), 2, 3},
		{"kitten", chars("kitten"), chars("sitting"), 3, 4},
		{"same", chars("abc"), chars("abc"), 0, 3},
		{"reversed", chars("abc"), chars("cba"), 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Levenshtein(tc.a, tc.b); got != tc.edits {
				t.Errorf("Levenshtein = %d, want %d", got, tc.edits)
			}
			if got := LCS(tc.a, tc.b); got != tc.cs {
				t.Errorf("LCS = %d, want %d", got, tc.cs)
			}
		})
	}
}

func readCSV(t *testing.T, name, text string) *AnnotationFile {
	t.Helper()
	af, err := ReadAnnotationsCSV(strings.NewReader(text), name, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return af
}

func ptr(f float64) *float64 { return &f }

func TestPostEditCost(t *testing.T) {
	drafts := readCSV(t, "drafts.csv", `clip,aspect,text,lang
c1,visual,He frowns and looks down.,en
c1,audio,His voice is low.,en
c2,visual,他皱着眉头。,zh
c3,content,He says hello.,en
`)
	finals := readCSV(t, "final.csv", `clip,annotator,aspect,text,lang
c1,ann1,visual,He frowns deeply and looks at the floor.,en
c1,ann1,audio,His voice is low.,en
c2,ann2,visual,他紧皱眉头。,zh
c4,ann1,context,An office.,en
`)
	rep, err := PostEditCost(drafts, finals)
	if err != nil {
		t.Fatal(err)
	}
	// c1 visual: [He frowns and looks down] -> [He frowns deeply and looks
	// at the floor]: 4 kept of 5; insert deeply, down -> at, insert the
	// and floor: 4 edits over 8 final tokens. c2 visual: 他皱着眉头 ->
	// 他紧皱眉头: 4 kept of 5, 2 edits over 5. c1 audio: unchanged.
	want := &CostReport{
		ByAnnotator: false,
		Aspects: []AspectCost{
			{Visual, CostCounts{Pairs: 2, DraftTokens: 10, FinalTokens: 13, Kept: 8, Edits: 6, KeptFraction: ptr(0.8), EditRate: ptr(6.0 / 13)}},
			{Audio, CostCounts{Pairs: 1, DraftTokens: 4, FinalTokens: 4, Kept: 4, Edits: 0, KeptFraction: ptr(1), EditRate: ptr(0)}},
			{Content, CostCounts{}},
			{Context, CostCounts{}},
		},
		Overall:            CostCounts{Pairs: 3, DraftTokens: 14, FinalTokens: 17, Kept: 12, Edits: 6, KeptFraction: ptr(12.0 / 14), EditRate: ptr(6.0 / 17)},
		DraftsWithoutFinal: []string{"c3 × content"},
		FinalsWithoutDraft: []string{"c4 × context"},
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPostEditCostByAnnotator(t *testing.T) {
	text := `clip,annotator,aspect,text,lang
c1,a,visual,He smiles.,en
c1,b,visual,He grins.,en
`
	rep, err := PostEditCost(readCSV(t, "d.csv", text), readCSV(t, "f.csv", strings.ReplaceAll(text, "grins", "grins widely")))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ByAnnotator {
		t.Error("not matched by annotator")
	}
	v := rep.Aspects[0]
	if v.Pairs != 2 || v.DraftTokens != 4 || v.Kept != 4 || v.Edits != 1 {
		t.Errorf("visual %+v", v.CostCounts)
	}
}

// TestPostEditCostAmbiguous: with annotators in one file only, two
// records of a clip and aspect cannot be told apart.
func TestPostEditCostAmbiguous(t *testing.T) {
	drafts := readCSV(t, "d.csv", "clip,aspect,text,lang\nc1,visual,He smiles.,en\n")
	finals := readCSV(t, "f.csv", "clip,annotator,aspect,text,lang\nc1,a,visual,He smiles.,en\nc1,b,visual,He grins.,en\n")
	_, err := PostEditCost(drafts, finals)
	want := "f.csv:3: a second record for c1 × visual (first on line 2); with an annotator column in only one of the files, records are matched by clip and aspect alone"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
