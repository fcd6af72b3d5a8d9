// Command gen builds the emotion-word lexicon that package textcue embeds.
//
// It reads the AffectGPT emotion-wheel files (format.csv: each label's word
// forms; synonym.xlsx: eight runs of label → synonyms; wheel1..5.xlsx:
// three-level emotion wheels) and a Chinese word list glossed in English,
// and writes one line per word form with its category: a level-1 root of
// wheel1 (mad, disgusted, sad, happy, surprised, scared).
//
// A label on wheel1 takes its root. Other labels are placed by the nearest
// wheel1 words in a graph of links (a label and its word forms, a word and
// its synonyms in any run, a word on wheels 2..5 and its parent, those
// wheels' roots and the wheel1 root of the same name): the roots of the
// wheel1 words reached at the least number of hops (at most 2) vote, ties
// going to the earlier wheel1 root. Labels with no wheel1 word within reach
// are left out. Each word form then takes the category most of its
// labels have. Chinese words take the category of their English gloss.
//
//	go run ./gen -wheels DIR -zh lexicon/zh.tsv -out lexicon/lexicon.tsv
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jonreiter/govader"
	"github.com/xuri/excelize/v2"
)

// stopForms are word forms too common in running text to signal an emotion
// by themselves.
var stopForms = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`open opens opened opening openly care cares cared caring content contents important importance lost
heavy empty exposed aware like likes liked well fine good thrown throw throws sensitive
energetic interest interested interests still cool mean means meant noticed notice connected attentive attention
respect left leave leaves cast create play played plays help helps fire fired firing
salt salted salts low lower lowers lows please true truer truest uns threw heat
heats busy bare cut cuts odd sharp rich richer riches richly power powers strong
stable active agree agreed agrees free freed freely frees engage demand defer forget forgot
miss missed misses lesser gone lack lacks expose escape spirit see seen close clear
current available present warm believe mind touch move moving`) {
		m[w] = true
	}
	return m
}()

func main() {
	log.SetFlags(0)
	wheels := flag.String("wheels", "", "folder with format.csv, synonym.xlsx and wheel1..5.xlsx")
	zh := flag.String("zh", "", "Chinese word list: word TAB English gloss")
	out := flag.String("out", "lexicon.tsv", "file to write")
	flag.Parse()
	if *wheels == "" {
		log.Fatal("gen: -wheels is required")
	}
	if err := run(*wheels, *zh, *out); err != nil {
		log.Fatalf("gen: %v", err)
	}
}

type wheel struct {
	name  string
	paths [][3]string // level1, level2, level3 per row, empty cells filled from above
}

func norm(s string) string {
	s = strings.ReplaceAll(s, "’", "'")
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func run(dir, zhPath, outPath string) error {
	var sources []string
	sum := func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		sources = append(sources, fmt.Sprintf("%s sha256:%s", filepath.Base(path), hex.EncodeToString(h[:])))
		return nil
	}

	forms, err := readFormat(filepath.Join(dir, "format.csv"))
	if err != nil {
		return err
	}
	if err := sum(filepath.Join(dir, "format.csv")); err != nil {
		return err
	}
	syn, err := readSynonyms(filepath.Join(dir, "synonym.xlsx"))
	if err != nil {
		return err
	}
	if err := sum(filepath.Join(dir, "synonym.xlsx")); err != nil {
		return err
	}
	var ws []wheel
	for i := 1; i <= 5; i++ {
		p := filepath.Join(dir, fmt.Sprintf("wheel%d.xlsx", i))
		w, err := readWheel(p)
		if err != nil {
			return err
		}
		ws = append(ws, w)
		if err := sum(p); err != nil {
			return err
		}
	}

	// Roots of wheel1, in order, and each wheel1 word's root.
	var roots []string
	rootOf := map[string]string{}
	for _, p := range ws[0].paths {
		r := p[0]
		if len(roots) == 0 || roots[len(roots)-1] != r {
			roots = append(roots, r)
		}
		for _, w := range p {
			if _, ok := rootOf[w]; !ok {
				rootOf[w] = r
			}
		}
	}
	rank := map[string]int{}
	for i, r := range roots {
		rank[r] = i
	}
	// Roots of other wheels named like a wheel1 root or its stem.
	alias := map[string]string{"angry": "mad", "anger": "mad", "fear": "scared", "fearful": "scared",
		"disgust": "disgusted", "joy": "happy", "joyful": "happy"}
	for _, r := range roots {
		alias[r] = r
	}

	// A graph over words: a label links to its forms and a form back to
	// its labels; a synonym-sheet word and its synonyms link both ways; a
	// word on wheels 2..5 links up to its parent, and those wheels' roots
	// to the wheel1 root of the same name.
	graph := map[string][]string{}
	link := func(a, b string) {
		if a != b {
			graph[a] = append(graph[a], b)
		}
	}
	for l, fs := range forms {
		for _, f := range fs {
			link(l, f)
			link(f, l)
		}
	}
	for w, ss := range syn {
		for _, x := range ss {
			link(w, x)
			link(x, w)
		}
	}
	for _, w := range ws[1:] {
		for _, p := range w.paths {
			link(p[2], p[1])
			link(p[1], p[0])
			if r, ok := alias[p[0]]; ok {
				link(p[0], r)
			}
		}
	}
	const maxHops = 2
	category := func(label string) (string, string) {
		if r, ok := rootOf[label]; ok {
			return r, "wheel1"
		}
		// Breadth first; the wheel1 words at the least distance vote.
		seen := map[string]bool{label: true}
		frontier := []string{label}
		for hop := 1; hop <= maxHops && len(frontier) > 0; hop++ {
			var next []string
			votes := map[string]int{}
			for _, u := range frontier {
				for _, v := range graph[u] {
					if seen[v] {
						continue
					}
					seen[v] = true
					next = append(next, v)
					if r, ok := rootOf[v]; ok {
						votes[r]++
					}
				}
			}
			best, bestN := "", 0
			for r, n := range votes {
				if n > bestN || (n == bestN && rank[r] < rank[best]) {
					best, bestN = r, n
				}
			}
			if best != "" {
				return best, fmt.Sprintf("%d-hop", hop)
			}
			sort.Strings(next)
			frontier = next
		}
		return "", ""
	}

	// In running text many word forms are ambiguous ("left", "cut",
	// "going"). A form is kept when it is a wheel1 label's form, when it
	// is a label reached in one hop, or when VADER's sentiment lexicon
	// lists it as sentiment-laden.
	vader := govader.NewSentimentIntensityAnalyzer().Lexicon
	keep := func(form, label, via string) bool {
		if _, ok := vader[form]; ok {
			return true
		}
		return via == "wheel1" || (via == "1-hop" && form == label)
	}

	type vote struct{ cat, lemma, via string }
	byForm := map[string][]vote{}
	labels := map[string]bool{}
	for l := range forms {
		labels[l] = true
	}
	for w := range rootOf {
		labels[w] = true
	}
	var unmapped int
	for l := range labels {
		c, via := category(l)
		if c == "" {
			unmapped++
			continue
		}
		fs := append([]string{l}, forms[l]...)
		seen := map[string]bool{}
		for _, f := range fs {
			if seen[f] || stopForms[f] || len([]rune(f)) < 3 || !keep(f, l, via) {
				continue
			}
			seen[f] = true
			byForm[f] = append(byForm[f], vote{c, l, via})
		}
	}
	type entry struct{ lang, form, cat, lemma, via string }
	var entries []entry
	enCat := map[string]string{}
	for f, vs := range byForm {
		count := map[string]int{}
		for _, v := range vs {
			count[v.cat]++
		}
		best := ""
		for c, n := range count {
			if best == "" || n > count[best] || (n == count[best] && rank[c] < rank[best]) {
				best = c
			}
		}
		// Lemma: the form itself when it is a label with that category,
		// else the alphabetically first label voting for it.
		var lemma, via string
		sort.Slice(vs, func(i, j int) bool { return vs[i].lemma < vs[j].lemma })
		for _, v := range vs {
			if v.cat == best && (lemma == "" || v.lemma == f) {
				lemma, via = v.lemma, v.via
			}
		}
		entries = append(entries, entry{"en", f, best, lemma, via})
		enCat[f] = best
	}

	var nZh int
	if zhPath != "" {
		zs, err := readZh(zhPath)
		if err != nil {
			return err
		}
		if err := sum(zhPath); err != nil {
			return err
		}
		for _, z := range zs {
			c, ok := enCat[z[1]]
			if !ok {
				return fmt.Errorf("%s: gloss %q of %s is not in the English lexicon", zhPath, z[1], z[0])
			}
			entries = append(entries, entry{"zh", z[0], c, z[1], "gloss"})
			nZh++
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].lang != entries[j].lang {
			return entries[i].lang < entries[j].lang
		}
		return entries[i].form < entries[j].form
	})

	var b strings.Builder
	b.WriteString("# emer emotion lexicon: word form -> emotion category. Generated by internal/textcue/gen (go generate); do not edit.\n")
	b.WriteString("# Sources: the AffectGPT emotion-wheel release (affectgpt2025: format.csv, synonym.xlsx, wheel1..5.xlsx) and lexicon/zh.tsv:\n")
	for _, s := range sources {
		b.WriteString("#   " + s + "\n")
	}
	fmt.Fprintf(&b, "# Categories: level-1 roots of wheel1.xlsx: %s.\n", strings.Join(roots, ", "))
	fmt.Fprintf(&b, "# %d English forms of %d labels (%d labels left out: no link to wheel1), %d Chinese words.\n",
		len(entries)-nZh, len(labels)-unmapped, unmapped, nZh)
	b.WriteString("# Columns: lang, form, category, lemma (the wheel label or English gloss), via (wheel1, N-hop: links to the nearest wheel1 word, gloss).\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", e.lang, e.form, e.cat, e.lemma, e.via)
	}
	return os.WriteFile(outPath, []byte(b.String()), 0o644)
}

// readFormat reads format.csv: name, then a comma list of word forms.
func readFormat(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	out := map[string][]string{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 && rec[0] == "name" {
			continue
		}
		name := norm(rec[0])
		for _, fm := range strings.Split(rec[1], ",") {
			if fm = norm(fm); fm != "" {
				out[name] = append(out[name], fm)
			}
		}
	}
	return out, nil
}

// readSynonyms reads synonym.xlsx: column pairs word_runK, synonym_runK.
func readSynonyms(path string) (map[string][]string, error) {
	rows, err := sheetRows(path)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty sheet", path)
	}
	out := map[string][]string{}
	head := rows[0]
	for c := 0; c+1 < len(head); c++ {
		if !strings.HasPrefix(head[c], "word_run") || !strings.HasPrefix(head[c+1], "synonym_run") {
			continue
		}
		for _, row := range rows[1:] {
			if c+1 >= len(row) {
				continue
			}
			w := norm(row[c])
			if w == "" {
				continue
			}
			for _, s := range strings.Split(row[c+1], ",") {
				if s = norm(s); s != "" && s != w {
					out[w] = append(out[w], s)
				}
			}
		}
	}
	return out, nil
}

// readWheel reads a wheel: level1, level2, level3 columns, an empty cell
// meaning the value above.
func readWheel(path string) (wheel, error) {
	rows, err := sheetRows(path)
	if err != nil {
		return wheel{}, err
	}
	w := wheel{name: filepath.Base(path)}
	var cur [3]string
	for i, row := range rows {
		if i == 0 {
			continue
		}
		for k := 0; k < 3; k++ {
			if k < len(row) && norm(row[k]) != "" {
				cur[k] = norm(row[k])
			}
		}
		if cur[0] == "" || cur[2] == "" {
			return wheel{}, fmt.Errorf("%s: row %d: missing level", path, i+1)
		}
		w.paths = append(w.paths, cur)
	}
	return w, nil
}

func sheetRows(path string) ([][]string, error) {
	x, err := excelize.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	sheets := x.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%s: no sheet", path)
	}
	return x.GetRows(sheets[0])
}

// readZh reads word TAB English gloss lines; # starts a comment.
func readZh(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 2 {
			return nil, fmt.Errorf("%s:%d: want word TAB gloss", path, n)
		}
		out = append(out, [2]string{strings.TrimSpace(p[0]), norm(p[1])})
	}
	return out, sc.Err()
}
