// Package studytest has an in-memory study.Store and the tests every
// study.Store must pass.
package studytest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"emer/internal/study"
)

// Mem is a study.Store in memory. An Update works on a copy of the data
// that replaces it when fn succeeds.
type Mem struct {
	mu sync.Mutex
	d  memData

	// Fail, when set, is returned by Complete: a store that cannot write.
	Fail error
}

var _ study.Store = (*Mem)(nil)

type memData struct {
	studies   map[int64]study.Study
	clips     map[int64]map[string]study.Clip
	cands     map[string][]study.Candidate // by clip id
	raters    map[int64]study.Rater
	holds     map[int64]study.Hold // by rater
	done      []study.Completion
	nextStudy int64
	nextRater int64
}

// NewMem returns an empty Mem.
func NewMem() *Mem {
	return &Mem{d: memData{studies: map[int64]study.Study{}, clips: map[int64]map[string]study.Clip{}, cands: map[string][]study.Candidate{}, raters: map[int64]study.Rater{}, holds: map[int64]study.Hold{}}}
}

func (d memData) clone() memData {
	c := d
	c.studies = maps.Clone(d.studies)
	c.clips = map[int64]map[string]study.Clip{}
	for k, v := range d.clips {
		c.clips[k] = maps.Clone(v)
	}
	c.cands = maps.Clone(d.cands)
	c.raters = maps.Clone(d.raters)
	c.holds = maps.Clone(d.holds)
	c.done = slices.Clone(d.done)
	return c
}

// View runs fn on the data.
func (m *Mem) View(ctx context.Context, fn func(study.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.d.clone()
	return fn(&memTx{d: &d, fail: m.Fail})
}

// Update runs fn on a copy of the data and keeps the copy when fn succeeds.
func (m *Mem) Update(ctx context.Context, fn func(study.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.d.clone()
	if err := fn(&memTx{d: &d, fail: m.Fail}); err != nil {
		return err
	}
	m.d = d
	return nil
}

type memTx struct {
	d    *memData
	fail error
}

func notFound(what string, key any) error {
	return fmt.Errorf("%s %v: %w", what, key, study.ErrNotFound)
}

func (t *memTx) AddStudy(st *study.Study) error {
	t.d.nextStudy++
	st.ID = t.d.nextStudy
	t.d.studies[st.ID] = *st
	t.d.clips[st.ID] = map[string]study.Clip{}
	return nil
}

func (t *memTx) AddClip(c study.Clip) error {
	cs, ok := t.d.clips[c.Study]
	if !ok {
		return notFound("study", c.Study)
	}
	for _, o := range cs {
		if o.Name == c.Name {
			return fmt.Errorf("clip %q is there twice", c.Name)
		}
	}
	cs[c.ID] = c
	return nil
}

func (t *memTx) AddCandidate(c study.Candidate) error {
	if _, ok := t.d.clips[c.Study][c.Clip]; !ok {
		return notFound("clip", c.Clip)
	}
	t.d.cands[c.Clip] = append(slices.Clone(t.d.cands[c.Clip]), c)
	return nil
}

func (t *memTx) Study(id int64) (study.Study, error) {
	st, ok := t.d.studies[id]
	if !ok {
		return st, notFound("study", id)
	}
	return st, nil
}

func (t *memTx) Studies() ([]study.Study, error) {
	out := slices.Collect(maps.Values(t.d.studies))
	slices.SortFunc(out, func(a, b study.Study) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *memTx) Clip(st int64, id string) (study.Clip, error) {
	c, ok := t.d.clips[st][id]
	if !ok {
		return c, notFound("clip", id)
	}
	return c, nil
}

func (t *memTx) Clips(st int64) ([]study.Clip, error) {
	out := slices.Collect(maps.Values(t.d.clips[st]))
	slices.SortFunc(out, func(a, b study.Clip) int { return cmp.Compare(a.Rank, b.Rank) })
	return out, nil
}

func (t *memTx) Candidates(st int64, clip string) ([]study.Candidate, error) {
	var out []study.Candidate
	for _, c := range t.d.cands[clip] {
		if c.Study == st {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b study.Candidate) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *memTx) AddRater(r *study.Rater) error {
	if _, ok := t.d.studies[r.Study]; !ok {
		return notFound("study", r.Study)
	}
	for _, o := range t.d.raters {
		if o.TokenHash == r.TokenHash {
			return fmt.Errorf("rater token hash is there twice")
		}
	}
	t.d.nextRater++
	r.ID = t.d.nextRater
	t.d.raters[r.ID] = *r
	return nil
}

func (t *memTx) Rater(hash [32]byte) (study.Rater, error) {
	for _, r := range t.d.raters {
		if r.TokenHash == hash {
			return r, nil
		}
	}
	return study.Rater{}, notFound("rater", "of that token")
}

func (t *memTx) Raters(st int64) ([]study.Rater, error) {
	var out []study.Rater
	for _, r := range t.d.raters {
		if r.Study == st {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b study.Rater) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *memTx) Hold(rater int64) (study.Hold, bool, error) {
	h, ok := t.d.holds[rater]
	h.Shown = slices.Clone(h.Shown)
	return h, ok, nil
}

func (t *memTx) PutHold(h study.Hold) error {
	if _, ok := t.d.raters[h.Rater]; !ok {
		return notFound("rater", h.Rater)
	}
	h.Shown = slices.Clone(h.Shown)
	t.d.holds[h.Rater] = h
	return nil
}

func (t *memTx) DropHold(rater int64) error {
	delete(t.d.holds, rater)
	return nil
}

func (t *memTx) Holds(st int64) ([]study.Hold, error) {
	var out []study.Hold
	for _, h := range t.d.holds {
		if h.Study == st {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b study.Hold) int { return cmp.Compare(a.Rater, b.Rater) })
	return out, nil
}

func (t *memTx) Loads(st, rater int64, now time.Time) ([]study.Load, error) {
	clips, _ := t.Clips(st)
	out := make([]study.Load, len(clips))
	for i, c := range clips {
		out[i] = study.Load{Clip: c.ID, Rank: c.Rank}
		for _, d := range t.d.done {
			if d.Study == st && d.Clip == c.ID {
				out[i].Done++
				if d.Rater == rater {
					out[i].DoneByRater = true
				}
			}
		}
		for _, h := range t.d.holds {
			if h.Study == st && h.Clip == c.ID && h.Rater != rater && h.Expires.After(now) {
				out[i].Held++
			}
		}
	}
	return out, nil
}

func (t *memTx) Complete(c study.Completion) error {
	if t.fail != nil {
		return t.fail
	}
	if ok, _ := t.Done(c.Rater, c.Clip); ok {
		return fmt.Errorf("rater %d has already rated clip %s", c.Rater, c.Clip)
	}
	c.Shown, c.Scores = slices.Clone(c.Shown), slices.Clone(c.Scores)
	t.d.done = append(t.d.done, c)
	return nil
}

func (t *memTx) Done(rater int64, clip string) (bool, error) {
	for _, d := range t.d.done {
		if d.Rater == rater && d.Clip == clip {
			return true, nil
		}
	}
	return false, nil
}

func (t *memTx) Completions(st int64) ([]study.Completion, error) {
	var out []study.Completion
	for _, d := range t.d.done {
		if d.Study == st {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b study.Completion) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Rater, b.Rater))
	})
	return out, nil
}
