package dataset

import (
	"fmt"
	"slices"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Tokens splits text into the tokens post-editing cost is counted in:
// every Han, Hiragana or Katakana character is a token of its own (Chinese
// and Japanese are written without spaces), and other text is cut into
// words, maximal runs of letters, digits and combining marks, with an
// apostrophe between two letters kept inside the word ("don't").
// Whitespace, punctuation and symbols separate tokens and are not tokens;
// case is kept, so a change of case is an edit. Text is compared in
// Unicode NFC.
func Tokens(text string) []string {
	rs := []rune(norm.NFC.String(text))
	var out []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, string(rs[start:end]))
			start = -1
		}
	}
	for i, r := range rs {
		switch {
		case isIdeographic(r):
			flush(i)
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			if start < 0 {
				start = i
			}
		case (r == '\'' || r == '’') && start >= 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) && unicode.IsLetter(rs[i-1]):
			// inside a word
		default:
			flush(i)
		}
	}
	flush(len(rs))
	return out
}

func isIdeographic(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// Levenshtein returns the least number of token insertions, deletions and
// substitutions that turn a into b.
func Levenshtein(a, b []string) int {
	x, y := intern(a, b)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			sub := prev[j-1]
			if x[i-1] != y[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(y)]
}

// LCS returns the length of a longest common subsequence of a and b: the
// tokens of a that survive, in order, in b.
func LCS(a, b []string) int {
	x, y := intern(a, b)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			if x[i-1] == y[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(y)]
}

// intern maps tokens to small integers, equal tokens to equal integers.
func intern(a, b []string) ([]int, []int) {
	ids := map[string]int{}
	conv := func(s []string) []int {
		out := make([]int, len(s))
		for i, t := range s {
			id, ok := ids[t]
			if !ok {
				id = len(ids)
				ids[t] = id
			}
			out[i] = id
		}
		return out
	}
	return conv(a), conv(b)
}

// MaxCostTokens bounds the tokens of one text that PostEditCost compares:
// the comparison takes time proportional to the product of two lengths.
const MaxCostTokens = 20000

// CostCounts are the post-editing counts of a set of draft and final text
// pairs.
type CostCounts struct {
	Pairs       int `json:"pairs"`
	DraftTokens int `json:"draft_tokens"`
	FinalTokens int `json:"final_tokens"`
	// Kept is the number of draft tokens that survive in the final text:
	// the longest common subsequence of each pair, summed.
	Kept int `json:"kept_tokens"`
	// Edits is the token-level Levenshtein distance of each pair, summed.
	Edits int `json:"edits"`
	// KeptFraction is Kept / DraftTokens, nil without draft tokens.
	KeptFraction *float64 `json:"kept_fraction"`
	// EditRate is Edits / FinalTokens (the edits per token of the final
	// text, as HTER counts them), nil without final tokens.
	EditRate *float64 `json:"edit_rate"`
}

func (c *CostCounts) add(draft, final []string) {
	c.Pairs++
	c.DraftTokens += len(draft)
	c.FinalTokens += len(final)
	c.Kept += LCS(draft, final)
	c.Edits += Levenshtein(draft, final)
}

func (c *CostCounts) finish() {
	c.KeptFraction, c.EditRate = nil, nil
	if c.DraftTokens > 0 {
		f := float64(c.Kept) / float64(c.DraftTokens)
		c.KeptFraction = &f
	}
	if c.FinalTokens > 0 {
		f := float64(c.Edits) / float64(c.FinalTokens)
		c.EditRate = &f
	}
}

// AspectCost is the post-editing cost of one aspect.
type AspectCost struct {
	Aspect Aspect `json:"aspect"`
	CostCounts
}

// CostReport is how much of a set of drafts survived into the final
// texts, per aspect and overall. Fractions are of tokens summed over the
// pairs, not means of per-pair fractions.
type CostReport struct {
	// ByAnnotator is whether pairs were matched by annotator as well as
	// clip and aspect (both files name annotators).
	ByAnnotator bool         `json:"by_annotator"`
	Aspects     []AspectCost `json:"aspects"` // every aspect, in EMER's order
	Overall     CostCounts   `json:"overall"`
	// Records of one file with no counterpart in the other, as
	// "clip × aspect [× annotator]", sorted.
	DraftsWithoutFinal []string `json:"drafts_without_final"`
	FinalsWithoutDraft []string `json:"finals_without_draft"`
}

// PostEditCost compares drafts with the final texts made from them,
// matched by clip and aspect, and by annotator too when both files have
// annotators. Records without a counterpart are listed and not counted.
func PostEditCost(drafts, finals *AnnotationFile) (*CostReport, error) {
	rep := &CostReport{ByAnnotator: drafts.HasAnnotator && finals.HasAnnotator}
	keyOf := func(a Annotation) Key {
		k := a.Key()
		if !rep.ByAnnotator {
			k.Annotator = ""
		}
		return k
	}
	index := func(f *AnnotationFile) (map[Key]Annotation, []error) {
		m := map[Key]Annotation{}
		var problems []error
		for _, a := range f.Records {
			k := keyOf(a)
			if prev, dup := m[k]; dup {
				problems = append(problems, fmt.Errorf("%s: a second record for %s (first on line %d); with an annotator column in only one of the files, records are matched by clip and aspect alone", a.Pos, k, prev.Pos.Line))
				continue
			}
			if n := len(Tokens(a.Text)); n > MaxCostTokens {
				problems = append(problems, fmt.Errorf("%s: %d tokens, more than the %d compared", a.Pos, n, MaxCostTokens))
				continue
			}
			m[k] = a
		}
		return m, problems
	}
	dm, p1 := index(drafts)
	fm, p2 := index(finals)
	if problems := append(p1, p2...); len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	per := map[Aspect]*CostCounts{}
	for _, a := range Aspects {
		per[a] = &CostCounts{}
	}
	keys := make([]Key, 0, len(dm))
	for k := range dm {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		f, ok := fm[k]
		if !ok {
			rep.DraftsWithoutFinal = append(rep.DraftsWithoutFinal, k.String())
			continue
		}
		d, fin := Tokens(dm[k].Text), Tokens(f.Text)
		per[k.Aspect].add(d, fin)
		rep.Overall.add(d, fin)
	}
	var orphans []Key
	for k := range fm {
		if _, ok := dm[k]; !ok {
			orphans = append(orphans, k)
		}
	}
	slices.SortFunc(orphans, compareKeys)
	for _, k := range orphans {
		rep.FinalsWithoutDraft = append(rep.FinalsWithoutDraft, k.String())
	}
	for _, a := range Aspects {
		c := per[a]
		c.finish()
		rep.Aspects = append(rep.Aspects, AspectCost{Aspect: a, CostCounts: *c})
	}
	rep.Overall.finish()
	if rep.DraftsWithoutFinal == nil {
		rep.DraftsWithoutFinal = []string{}
	}
	if rep.FinalsWithoutDraft == nil {
		rep.FinalsWithoutDraft = []string{}
	}
	return rep, nil
}
