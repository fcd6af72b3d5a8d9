package openset

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"emer/internal/labels"
	"emer/internal/npy"
	"emer/internal/table"
)

// Column is the CSV column that holds a sample's label list.
const Column = "openset"

// Set is the label lists of a collection of samples, as read from a file.
type Set struct {
	Path  string
	Names []string          // in file order
	Text  map[string]string // name -> label list as written
}

// Read loads a label-set file: a CSV with a name/names column and an
// `openset` column, or an .npz with `filenames` and `fileitems` arrays.
func Read(path string) (*Set, error) {
	if strings.EqualFold(filepath.Ext(path), ".npz") {
		return readNpz(path)
	}
	t, err := table.ReadFile(path, Column)
	if err != nil {
		return nil, err
	}
	s := &Set{Path: path, Names: t.Names(), Text: t.Map(Column)}
	return s, nil
}

func readNpz(path string) (*Set, error) {
	arc, err := npy.ReadArchive(path, "filenames", "fileitems")
	if err != nil {
		return nil, err
	}
	return FromArchive(arc)
}

// FromArchive reads a prediction archive holding `filenames` and
// `fileitems` of equal length.
func FromArchive(arc *npy.Archive) (*Set, error) {
	na, err := arc.Get("filenames")
	if err != nil {
		return nil, err
	}
	ia, err := arc.Get("fileitems")
	if err != nil {
		return nil, err
	}
	names, err := na.Strings()
	if err != nil {
		return nil, fmt.Errorf("%s: filenames: %w", arc.Path, err)
	}
	items, err := ia.Strings()
	if err != nil {
		return nil, fmt.Errorf("%s: fileitems: %w", arc.Path, err)
	}
	if len(names) != len(items) {
		return nil, fmt.Errorf("%s: %d filenames but %d fileitems", arc.Path, len(names), len(items))
	}
	s := &Set{Path: arc.Path, Names: make([]string, 0, len(names)), Text: make(map[string]string, len(names))}
	for i, n := range names {
		if _, dup := s.Text[n]; dup {
			return nil, fmt.Errorf("%s: filenames[%d]: duplicate name %q", arc.Path, i, n)
		}
		s.Names = append(s.Names, n)
		s.Text[n] = items[i]
	}
	return s, nil
}

// Warnings counts the problems met while scoring, by kind, with a few
// examples of each. The zero value is ready to use.
type Warnings struct {
	kinds  []string
	count  map[string]int
	ex     map[string][]string
	values map[string]map[string]int // kind -> value at fault -> count
}

const maxExamples = 3

// Add records one problem of the given kind.
func (w *Warnings) Add(kind, example string) { w.add(kind, example, 1) }

// add records n problems of a kind that one example describes.
func (w *Warnings) add(kind, example string, n int) {
	if w.count == nil {
		w.count, w.ex = map[string]int{}, map[string][]string{}
	}
	if _, ok := w.count[kind]; !ok {
		w.kinds = append(w.kinds, kind)
	}
	w.count[kind] += n
	if len(w.ex[kind]) < maxExamples {
		w.ex[kind] = append(w.ex[kind], example)
	}
}

// AddValue records one problem of a kind together with the value at fault
// (the word predicted, the sample missing), which Values counts.
func (w *Warnings) AddValue(kind, example, value string) {
	w.add(kind, example, 1)
	if w.values == nil {
		w.values = map[string]map[string]int{}
	}
	if w.values[kind] == nil {
		w.values[kind] = map[string]int{}
	}
	w.values[kind][value]++
}

// Kinds returns the kinds recorded, in the order first met.
func (w *Warnings) Kinds() []string { return slices.Clone(w.kinds) }

// Examples returns the first few examples recorded of a kind.
func (w *Warnings) Examples(kind string) []string { return slices.Clone(w.ex[kind]) }

// Values returns how often each value was recorded with AddValue for a
// kind; nil when the kind was recorded without values.
func (w *Warnings) Values(kind string) map[string]int { return maps.Clone(w.values[kind]) }

// Count returns the number of problems of a kind ("" for all).
func (w *Warnings) Count(kind string) int {
	if kind == "" {
		n := 0
		for _, c := range w.count {
			n += c
		}
		return n
	}
	return w.count[kind]
}

// Messages renders one line per kind: "<count> <kind> (e.g. ...)".
func (w *Warnings) Messages() []string {
	var out []string
	for _, k := range w.kinds {
		out = append(out, fmt.Sprintf("%d %s (e.g. %s)", w.count[k], k, strings.Join(w.ex[k], "; ")))
	}
	return out
}

// Warning kinds.
const (
	WarnMissingPred = "samples without a prediction, scored as empty predictions"
	WarnExtraPred   = "predicted samples not in the ground truth, ignored"
	WarnMalformed   = "malformed label lists, read leniently as the reference does"
)

// Pair is one sample's parsed ground truth and prediction.
type Pair struct {
	Name     string
	GT, Pred []string
}

// Align pairs ground truth with predictions in ground-truth order. A
// sample without a prediction gets an empty one; predictions for unknown
// samples are ignored; both are counted in w, as are malformed lists,
// each sample's named once with the side (ground truth, prediction) whose
// list is malformed.
func Align(gt, pred *Set, w *Warnings) []Pair {
	pairs := make([]Pair, 0, len(gt.Names))
	for _, n := range gt.Names {
		var gerr, perr error
		p := Pair{Name: n}
		p.GT, gerr = labels.Parse(gt.Text[n])
		if text, ok := pred.Text[n]; ok {
			p.Pred, perr = labels.Parse(text)
		} else {
			w.Add(WarnMissingPred, n)
		}
		var parts []string
		for _, side := range []struct {
			name string
			err  error
		}{{"ground truth", gerr}, {"prediction", perr}} {
			if side.err != nil {
				parts = append(parts, side.name+" "+strings.TrimPrefix(side.err.Error(), labels.ErrMalformed.Error()+": "))
			}
		}
		if len(parts) > 0 {
			w.add(WarnMalformed, n+": "+strings.Join(parts, ", and "), len(parts))
		}
		pairs = append(pairs, p)
	}
	var extra []string
	for _, n := range pred.Names {
		if _, ok := gt.Text[n]; !ok {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	for _, n := range extra {
		w.Add(WarnExtraPred, n)
	}
	return pairs
}
