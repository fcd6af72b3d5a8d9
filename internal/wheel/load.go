package wheel

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"emer/internal/labels"
	"emer/internal/npy"
	"emer/internal/table"
	"emer/internal/textenc"
)

// Files of the released emotion-wheel layout (affectgpt2025 and later).
const (
	FormatFile  = "format.csv"
	SynonymFile = "synonym.xlsx"
	MappingFile = "wheel_mapping.npz"
	synonymRuns = 8
)

// WheelFile returns the file name of wheel i (0-based).
func WheelFile(i int) string { return fmt.Sprintf("wheel%d.xlsx", i+1) }

// IsDir reports whether dir holds the files Load reads.
func IsDir(dir string) bool {
	for _, f := range append([]string{FormatFile, SynonymFile}, wheelFiles()...) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

func wheelFiles() []string {
	out := make([]string, NumWheels)
	for i := range out {
		out[i] = WheelFile(i)
	}
	return out
}

// Load builds a Lexicon from a folder with format.csv, synonym.xlsx and
// wheel1..5.xlsx, following the reference construction: word forms in file
// order, the eight synonym runs merged by union, and wheels read with
// forward-filled empty cells.
func Load(dir string) (*Lexicon, error) {
	var missing []string
	for _, f := range append([]string{FormatFile, SynonymFile}, wheelFiles()...) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s is not an emotion-wheel folder: missing %s", dir, strings.Join(missing, ", "))
	}
	x := &Lexicon{Source: dir}
	var err error
	if x.Format, err = readFormat(filepath.Join(dir, FormatFile)); err != nil {
		return nil, err
	}
	if x.Raw, err = readSynonyms(filepath.Join(dir, SynonymFile)); err != nil {
		return nil, err
	}
	for i := range x.Wheels {
		w, err := readWheel(filepath.Join(dir, WheelFile(i)))
		if err != nil {
			return nil, err
		}
		w.Name = fmt.Sprintf("wheel%d", i+1)
		x.Wheels[i] = w
	}
	x.finish()
	return x, nil
}

// readFormat reads format.csv: for each row, every listed form maps to the
// row's name, and the name maps to itself.
func readFormat(path string) (map[string][]string, error) {
	// The released lexicon is UTF-8 ("don’t care"), whatever the encoding
	// of the data it scores.
	t, err := table.ReadFileEncoded(path, textenc.UTF8, "format")
	if err != nil {
		return nil, err
	}
	if t.Key != "name" {
		return nil, fmt.Errorf("%s:1: want a name column, found %s", path, t.Key)
	}
	m := make(map[string][]string, 8*len(t.Rows))
	for _, r := range t.Rows {
		name := r.Name()
		for _, form := range labels.Split(r.Get("format")) {
			m[form] = append(m[form], name)
		}
		m[name] = append(m[name], name)
	}
	return m, nil
}

// maxWorkbookSize bounds the uncompressed size of one spreadsheet; the
// released ones hold 0.3 MB.
const maxWorkbookSize = 32 << 20

// checkWorkbook makes sure path is an xlsx workbook of a sane size before
// excelize reads it, so that other files get a message that says what
// they are not, and a zip bomb is refused before it is inflated.
func checkWorkbook(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("%s is not an xlsx workbook: %v", path, err)
	}
	defer zr.Close()
	var total uint64
	var names []string
	book := false
	for _, f := range zr.File {
		total += min(f.UncompressedSize64, maxWorkbookSize+1)
		names = append(names, f.Name)
		book = book || strings.HasSuffix(strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/")), "workbook.xml")
	}
	if !book {
		files := "files"
		if len(names) == 1 {
			files = "file"
		}
		return fmt.Errorf("%s is not an xlsx workbook: the zip has no xl/workbook.xml (it holds %d %s: %s)", path, len(names), files, table.ListNames(names, 5))
	}
	if total > maxWorkbookSize {
		return fmt.Errorf("%s: the workbook holds more than %d MiB uncompressed, the most read", path, maxWorkbookSize>>20)
	}
	return nil
}

// sheetRows returns the first sheet's rows and a header index.
func sheetRows(path string) ([][]string, map[string]int, error) {
	if err := checkWorkbook(path); err != nil {
		return nil, nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: maxWorkbookSize, UnzipXMLSizeLimit: maxWorkbookSize})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, fmt.Errorf("%s: workbook has no sheet", path)
	}
	rows, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: sheet %s: %w", path, sheets[0], err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: sheet %s is empty", path, sheets[0])
	}
	head := make(map[string]int, len(rows[0]))
	for i, h := range rows[0] {
		head[strings.TrimSpace(h)] = i
	}
	return rows, head, nil
}

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

func requireColumns(path string, header []string, head map[string]int, cols ...string) error {
	var missing []string
	for _, c := range cols {
		if _, ok := head[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	found := "the first row is empty"
	if len(header) > 0 {
		found = "the columns are " + table.ListNames(header, 8)
	}
	s := ""
	if len(missing) > 1 {
		s = "s"
	}
	return fmt.Errorf("%s: row 1: %w%s %s (%s)", path, table.ErrColumn, s, table.ListNames(missing, 4), found)
}

// readSynonyms reads the eight runs of synonym.xlsx: a run's word maps to
// itself and each of its synonyms maps to the word; runs are merged by
// union. Values come back sorted and unique.
func readSynonyms(path string) (map[string][]string, error) {
	rows, head, err := sheetRows(path)
	if err != nil {
		return nil, err
	}
	var cols []string
	for k := 1; k <= synonymRuns; k++ {
		cols = append(cols, fmt.Sprintf("word_run%d", k), fmt.Sprintf("synonym_run%d", k))
	}
	if err := requireColumns(path, rows[0], head, cols...); err != nil {
		return nil, err
	}
	sets := make(map[string]map[string]struct{})
	add := func(k, v string) {
		s, ok := sets[k]
		if !ok {
			s = make(map[string]struct{}, 2)
			sets[k] = s
		}
		s[v] = struct{}{}
	}
	var errs []error
	for k := 1; k <= synonymRuns; k++ {
		wc, sc := head[fmt.Sprintf("word_run%d", k)], head[fmt.Sprintf("synonym_run%d", k)]
		for i, row := range rows[1:] {
			word := strings.ToLower(strings.TrimSpace(cell(row, wc)))
			if word == "" {
				if strings.TrimSpace(cell(row, sc)) != "" {
					errs = append(errs, fmt.Errorf("%s: row %d: empty word_run%d beside synonyms", path, i+2, k))
				}
				continue
			}
			add(word, word)
			for _, syn := range labels.Split(cell(row, sc)) {
				add(strings.ToLower(strings.TrimSpace(syn)), word)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make(map[string][]string, len(sets))
	for k, s := range sets {
		v := make([]string, 0, len(s))
		for w := range s {
			v = append(v, w)
		}
		sort.Strings(v)
		out[k] = v
	}
	return out, nil
}

// tree is a wheel as the reference holds it: roots in order of first
// appearance, each with its level-2 words in order, each with its level-3
// words (repeats kept).
type tree struct {
	roots []*root
	index map[string]*root
}

type root struct {
	name     string
	children []*branch
	index    map[string]*branch
}

type branch struct {
	name   string
	leaves []string
}

// readWheel reads wheelN.xlsx (level1, level2, level3 columns; an empty
// cell takes the value above) and builds its two maps.
func readWheel(path string) (Wheel, error) {
	rows, head, err := sheetRows(path)
	if err != nil {
		return Wheel{}, err
	}
	if err := requireColumns(path, rows[0], head, "level1", "level2", "level3"); err != nil {
		return Wheel{}, err
	}
	t := tree{index: map[string]*root{}}
	var l1, l2, l3 string
	for i, row := range rows[1:] {
		if v := cell(row, head["level1"]); v != "" {
			l1 = v
		}
		if v := cell(row, head["level2"]); v != "" {
			l2 = v
		}
		if v := cell(row, head["level3"]); v != "" {
			l3 = v
		}
		l1 = strings.TrimSpace(strings.ToLower(l1))
		l2 = strings.TrimSpace(strings.ToLower(l2))
		l3 = strings.TrimSpace(strings.ToLower(l3))
		if l1 == "" || l2 == "" || l3 == "" {
			return Wheel{}, fmt.Errorf("%s: row %d: no level1/level2/level3 value to fill from above", path, i+2)
		}
		r, ok := t.index[l1]
		if !ok {
			r = &root{name: l1, index: map[string]*branch{}}
			t.index[l1] = r
			t.roots = append(t.roots, r)
		}
		b, ok := r.index[l2]
		if !ok {
			b = &branch{name: l2}
			r.index[l2] = b
			r.children = append(r.children, b)
		}
		b.leaves = append(b.leaves, l3)
	}
	return t.wheel(), nil
}

// wheel builds the two maps in the reference's iteration order, so that a
// word appearing twice ends up where the reference puts it.
func (t tree) wheel() Wheel {
	w := Wheel{Level1: map[string]string{}, Level2: map[string]string{}}
	for _, r := range t.roots {
		w.Level1[r.name] = r.name
		for _, b := range r.children {
			w.Level1[b.name] = r.name
			for _, l := range b.leaves {
				w.Level1[l] = r.name
			}
		}
	}
	for _, r := range t.roots {
		names := make([]string, len(r.children))
		for i, b := range r.children {
			names[i] = b.name
		}
		sort.Strings(names)
		w.Level2[r.name] = names[0]
		for _, b := range r.children {
			w.Level2[b.name] = b.name
			for _, l := range b.leaves {
				w.Level2[l] = b.name
			}
		}
	}
	return w
}

// mappingArrays are the arrays of a wheel_mapping.npz.
var mappingArrays = []string{"format_mapping", "raw_mapping", "wheel_map_whole"}

// LoadMapping reads an official precomputed wheel_mapping.npz
// (format_mapping, raw_mapping, wheel_map_whole).
func LoadMapping(path string) (*Lexicon, error) {
	arc, err := npy.ReadArchive(path, mappingArrays...)
	if err != nil {
		return nil, err
	}
	var lacks []string
	for _, n := range mappingArrays {
		if _, ok := arc.Arrays[n]; !ok {
			lacks = append(lacks, n)
		}
	}
	if len(lacks) > 0 {
		return nil, fmt.Errorf("%s is not a %s: it lacks %s (%s)", path, MappingFile, strings.Join(lacks, ", "), arc.Holds())
	}
	dict := func(name string) (map[string]any, error) {
		a, err := arc.Get(name)
		if err != nil {
			return nil, err
		}
		v, err := a.Item()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %s is %s, want a dict", path, name, npy.TypeName(v))
		}
		return m, nil
	}
	lists := func(name string) (map[string][]string, error) {
		m, err := dict(name)
		if err != nil {
			return nil, err
		}
		out := make(map[string][]string, len(m))
		for k, v := range m {
			l, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: %s[%q] is %s, want a list", path, name, k, npy.TypeName(v))
			}
			s := make([]string, len(l))
			for i, e := range l {
				if s[i], ok = e.(string); !ok {
					return nil, fmt.Errorf("%s: %s[%q][%d] is %s, want str", path, name, k, i, npy.TypeName(e))
				}
			}
			out[k] = s
		}
		return out, nil
	}
	x := &Lexicon{Source: path}
	if x.Format, err = lists("format_mapping"); err != nil {
		return nil, err
	}
	if x.Raw, err = lists("raw_mapping"); err != nil {
		return nil, err
	}
	for _, v := range x.Raw {
		sort.Strings(v)
	}
	for k, v := range x.Raw {
		x.Raw[k] = compact(v)
	}
	whole, err := dict("wheel_map_whole")
	if err != nil {
		return nil, err
	}
	for i := range x.Wheels {
		name := fmt.Sprintf("wheel%d", i+1)
		wm, ok := whole[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: wheel_map_whole has no dict %q", path, name)
		}
		w := Wheel{Name: name}
		for _, l := range []Level{Level1, Level2} {
			lm, ok := wm[l.String()].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: wheel_map_whole[%q] has no dict %q", path, name, l)
			}
			m := make(map[string]string, len(lm))
			for k, v := range lm {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("%s: wheel_map_whole[%q][%q][%q] is %s", path, name, l, k, npy.TypeName(v))
				}
				m[k] = s
			}
			if l == Level1 {
				w.Level1 = m
			} else {
				w.Level2 = m
			}
		}
		x.Wheels[i] = w
	}
	x.finish()
	return x, nil
}

// Open loads a lexicon from a path: an emotion-wheel folder, or a
// wheel_mapping.npz file.
func Open(path string) (*Lexicon, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return LoadMapping(path)
	}
	return Load(path)
}
