package dataset

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Aspect is one of the four kinds of clue EMER annotators describe.
type Aspect string

// The aspects, in the order EMER lists them.
const (
	Visual  Aspect = "visual"  // facial expressions and body movements
	Audio   Aspect = "audio"   // tone and intonation of the voice
	Content Aspect = "content" // what is said
	Context Aspect = "context" // the scene, environment and other context
)

// Aspects lists the aspects in EMER's order.
var Aspects = []Aspect{Visual, Audio, Content, Context}

// ParseAspect returns the aspect named s (any case, surrounding spaces
// ignored).
func ParseAspect(s string) (Aspect, bool) {
	a := Aspect(strings.ToLower(strings.TrimSpace(s)))
	return a, slices.Contains(Aspects, a)
}

// rank orders aspects as Aspects lists them.
func (a Aspect) rank() int { return slices.Index(Aspects, a) }

// Pos is where a record was read: a file and a 1-based line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Annotation is one annotator's clues for one aspect of one clip.
type Annotation struct {
	Clip      string
	Annotator string // "" in files without an annotator column
	Aspect    Aspect
	Text      string // the clues, trimmed of surrounding space
	Lang      string // a BCP 47 tag in canonical form: "en", "zh", "zh-Hant"
	Pos       Pos    // where it was read
}

// Key identifies an annotation within a set: a clip, an aspect and an
// annotator ("" when the set has none).
type Key struct {
	Clip      string
	Aspect    Aspect
	Annotator string
}

// Key returns a's key.
func (a Annotation) Key() Key { return Key{Clip: a.Clip, Aspect: a.Aspect, Annotator: a.Annotator} }

func (k Key) String() string {
	s := k.Clip + " × " + string(k.Aspect)
	if k.Annotator != "" {
		s += " × " + k.Annotator
	}
	return s
}

// compareKeys orders keys by clip, then aspect in EMER's order, then
// annotator.
func compareKeys(a, b Key) int {
	return cmp.Or(
		strings.Compare(a.Clip, b.Clip),
		cmp.Compare(a.Aspect.rank(), b.Aspect.rank()),
		strings.Compare(a.Annotator, b.Annotator),
	)
}

// SortAnnotations sorts records by clip, aspect (in EMER's order) and
// annotator.
func SortAnnotations(recs []Annotation) {
	slices.SortStableFunc(recs, func(a, b Annotation) int { return compareKeys(a.Key(), b.Key()) })
}

// Store keeps annotation records; the project's store implements it for
// the steps that build a dataset over several sessions. Implementations
// are safe for concurrent use.
type Store interface {
	// PutAnnotations adds records, replacing any with the same key.
	PutAnnotations(ctx context.Context, recs []Annotation) error
	// Annotations returns the records of clip, sorted as SortAnnotations
	// sorts them; none is not an error.
	Annotations(ctx context.Context, clip string) ([]Annotation, error)
}

// Memory is a Store in memory.
type Memory struct {
	mu   sync.Mutex
	recs map[Key]Annotation
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{recs: make(map[Key]Annotation)} }

// PutAnnotations implements Store.
func (m *Memory) PutAnnotations(ctx context.Context, recs []Annotation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		m.recs[r.Key()] = r
	}
	return nil
}

// Annotations implements Store.
func (m *Memory) Annotations(ctx context.Context, clip string) ([]Annotation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Annotation
	for k, r := range m.recs {
		if k.Clip == clip {
			out = append(out, r)
		}
	}
	SortAnnotations(out)
	return out, nil
}
