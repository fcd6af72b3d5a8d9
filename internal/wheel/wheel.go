package wheel

import (
	"fmt"
	"sort"
)

// NumWheels is the number of emotion wheels in the released files.
const NumWheels = 5

// Level selects the depth a wheel maps to.
type Level int

// Wheel levels.
const (
	Level1 Level = 1
	Level2 Level = 2
)

func (l Level) String() string { return fmt.Sprintf("level%d", int(l)) }

// Wheel is one emotion wheel's two maps.
type Wheel struct {
	Name   string            // "wheel1" .. "wheel5"
	Level1 map[string]string // any node -> its root
	Level2 map[string]string // root -> first child, level-2 word -> itself, level-3 word -> parent
}

// Map returns the map of the given level.
func (w *Wheel) Map(l Level) map[string]string {
	if l == Level2 {
		return w.Level2
	}
	return w.Level1
}

// Lexicon is the complete label mapping of one emotion-wheel release.
type Lexicon struct {
	Source string              // where it was loaded from
	Format map[string][]string // word form -> base words, in file order
	Raw    map[string][]string // word -> wheel words (sorted, unique)
	Wheels [NumWheels]Wheel

	// cands[form] is sorted(union of Raw[f] for f in Format[form]), the
	// candidate list of M3, with duplicates kept as the reference keeps them.
	cands map[string][]string
}

// finish precomputes what the mappings need; it is called by the loaders.
func (x *Lexicon) finish() {
	x.cands = make(map[string][]string, len(x.Format))
	for form, bases := range x.Format {
		var c []string
		for _, b := range bases {
			c = append(c, x.Raw[b]...)
		}
		sort.Strings(c)
		x.cands[form] = c
	}
}

// Has reports whether label is a known word form.
func (x *Lexicon) Has(label string) bool { _, ok := x.Format[label]; return ok }

// M1 maps a label to its base word: the first of Format[label] in sort order.
func (x *Lexicon) M1(label string) (string, bool) {
	bases, ok := x.Format[label]
	if !ok || len(bases) == 0 {
		return "", false
	}
	return minString(bases), true
}

// M2 maps a label through M1 and then to the first of its wheel synonyms in
// sort order.
func (x *Lexicon) M2(label string) (string, bool) {
	b, ok := x.M1(label)
	if !ok {
		return "", false
	}
	raw, ok := x.Raw[b]
	if !ok || len(raw) == 0 {
		return "", false
	}
	return raw[0], true // Raw values are kept sorted
}

// M3 maps a label onto wheel w (0-based) at the given level: the first
// candidate synonym, in sort order, that the wheel knows.
func (x *Lexicon) M3(label string, w int, l Level) (string, bool) {
	m := x.Wheels[w].Map(l)
	for _, c := range x.cands[label] {
		if v, ok := m[c]; ok {
			return v, true
		}
	}
	return "", false
}

// Mapping is one of the label mappings the metrics use.
type Mapping struct {
	Kind  int   // 1, 2 or 3 (M1, M2, M3)
	Wheel int   // 0-based wheel index, for M3
	Level Level // for M3
}

// Name returns the mapping's column name: "m1", "m2" or "wheel3/level1".
func (m Mapping) Name() string {
	if m.Kind == 3 {
		return fmt.Sprintf("wheel%d/%s", m.Wheel+1, m.Level)
	}
	return fmt.Sprintf("m%d", m.Kind)
}

// Apply maps one label; ok is false when the label is dropped.
func (x *Lexicon) Apply(m Mapping, label string) (string, bool) {
	switch m.Kind {
	case 1:
		return x.M1(label)
	case 2:
		return x.M2(label)
	case 3:
		return x.M3(label, m.Wheel, m.Level)
	}
	return "", false
}

// MapSet maps labels and returns the distinct results in sorted order.
func (x *Lexicon) MapSet(m Mapping, labels []string) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		if v, ok := x.Apply(m, l); ok {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return compact(out)
}

func compact(s []string) []string {
	if len(s) < 2 {
		return s
	}
	j := 1
	for i := 1; i < len(s); i++ {
		if s[i] != s[j-1] {
			s[j] = s[i]
			j++
		}
	}
	return s[:j]
}

func minString(s []string) string {
	m := s[0]
	for _, v := range s[1:] {
		if v < m {
			m = v
		}
	}
	return m
}

// Mappings lists the twelve OV-MER columns in table order: M1, M2, then
// wheel1..5 at level 1 and level 2.
func Mappings() []Mapping {
	out := []Mapping{{Kind: 1}, {Kind: 2}}
	for w := 0; w < NumWheels; w++ {
		for _, l := range []Level{Level1, Level2} {
			out = append(out, Mapping{Kind: 3, Wheel: w, Level: l})
		}
	}
	return out
}
