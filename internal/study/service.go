package study

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Service is the studies' logic over a Store. It is safe for concurrent
// use. Raters and studies, which never change once made, are kept in
// memory after their first lookup.
type Service struct {
	store Store
	hold  time.Duration
	now   func() time.Time

	mu      sync.RWMutex
	raters  map[[32]byte]Rater // by token hash
	studies map[int64]Study
}

// NewService returns a Service over store that holds a clip for a rater
// for hold (DefaultHold when 0) and reads the time from now (time.Now
// when nil).
func NewService(store Store, hold time.Duration, now func() time.Time) *Service {
	if hold <= 0 {
		hold = DefaultHold
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, hold: hold, now: now, raters: map[[32]byte]Rater{}, studies: map[int64]Study{}}
}

// study returns the study id through the cache.
func (s *Service) study(tx Tx, id int64) (Study, error) {
	s.mu.RLock()
	st, ok := s.studies[id]
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	st, err := tx.Study(id)
	if err != nil {
		return st, err
	}
	s.mu.Lock()
	s.studies[id] = st
	s.mu.Unlock()
	return st, nil
}

// HoldFor returns how long a clip stays with the rater it was handed to.
func (s *Service) HoldFor() time.Duration { return s.hold }

// Draft is a study to be made.
type Draft struct {
	Name    string
	Target  int
	Seed    int64
	Sources Sources
	Clips   []DraftClip
}

// DraftClip is a clip of a Draft with its candidates: the ground truth
// first, then each system's prediction.
type DraftClip struct {
	Name       string
	Media      string
	Subtitles  Subtitles
	Candidates []DraftCandidate
}

// DraftCandidate is a reasoning of a DraftClip.
type DraftCandidate struct {
	Source string // GroundTruth or a system's name
	Text   string
}

// Check reports every problem of d.
func (d Draft) Check() error {
	var errs []error
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, errors.New("the study has no name"))
	}
	if d.Target < 1 || d.Target > 1000 {
		errs = append(errs, fmt.Errorf("raters per clip %d: want 1 to 1000", d.Target))
	}
	if len(d.Clips) == 0 {
		errs = append(errs, errors.New("the study has no clips"))
	}
	names := map[string]bool{}
	for _, c := range d.Clips {
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("clip %q is there twice", c.Name))
		}
		names[c.Name] = true
		if len(c.Candidates) < 2 || len(c.Candidates) > MaxCandidates {
			errs = append(errs, fmt.Errorf("clip %q has %d reasonings: want 2 to %d (the ground truth and the systems')", c.Name, len(c.Candidates), MaxCandidates))
		}
		sources := map[string]bool{}
		for _, k := range c.Candidates {
			switch {
			case sources[k.Source]:
				errs = append(errs, fmt.Errorf("clip %q: two reasonings of %q", c.Name, k.Source))
			case k.Source != GroundTruth && !ValidSystemName(k.Source):
				errs = append(errs, fmt.Errorf("clip %q: %q is not a system name (letters, digits, _ . + -, up to 64)", c.Name, k.Source))
			}
			sources[k.Source] = true
		}
		if !sources[GroundTruth] {
			errs = append(errs, fmt.Errorf("clip %q has no ground truth", c.Name))
		}
		if len(errs) > 20 {
			errs = append(errs, errors.New("and more"))
			break
		}
	}
	return errors.Join(errs...)
}

// Create makes the study d describes, with a new secret, and returns it.
func (s *Service) Create(ctx context.Context, d Draft) (Study, error) {
	if err := d.Check(); err != nil {
		return Study{}, err
	}
	st := Study{Name: strings.TrimSpace(d.Name), Target: d.Target, Seed: d.Seed, Secret: newSecret(), Sources: d.Sources, Created: s.now().UTC()}
	ranks := Ranks(d.Seed, len(d.Clips))
	err := s.store.Update(ctx, func(tx Tx) error {
		if err := tx.AddStudy(&st); err != nil {
			return err
		}
		ids := map[string]bool{}
		for i, dc := range d.Clips {
			id := newClipID()
			for ids[id] {
				id = newClipID()
			}
			ids[id] = true
			c := Clip{Study: st.ID, ID: id, Name: dc.Name, Media: dc.Media, Rank: ranks[i], Subtitles: dc.Subtitles}
			if err := tx.AddClip(c); err != nil {
				return err
			}
			for j, k := range dc.Candidates {
				if err := tx.AddCandidate(Candidate{Study: st.ID, Clip: id, ID: j, Source: k.Source, Text: k.Text}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return Study{}, fmt.Errorf("create study: %w", err)
	}
	return st, nil
}

// Invite is a new rater and the token of their link, which is not kept.
type Invite struct {
	Rater Rater
	Token string
}

// Invite adds a rater to a study for each label (an empty one becomes
// "rater N").
func (s *Service) Invite(ctx context.Context, studyID int64, labels []string) ([]Invite, error) {
	var out []Invite
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Study(studyID); err != nil {
			return err
		}
		have, err := tx.Raters(studyID)
		if err != nil {
			return err
		}
		out = out[:0]
		for i, l := range labels {
			l = strings.TrimSpace(l)
			if l == "" {
				l = fmt.Sprintf("rater %d", len(have)+i+1)
			}
			tok, hash := NewToken()
			r := Rater{Study: studyID, Label: l, TokenHash: hash, Created: s.now().UTC()}
			if err := tx.AddRater(&r); err != nil {
				return err
			}
			out = append(out, Invite{Rater: r, Token: tok})
		}
		return nil
	})
	return out, err
}

// Rater returns the rater of token, or an error wrapping ErrNotFound.
func (s *Service) Rater(ctx context.Context, token string) (Rater, error) {
	if !WellFormedToken(token) {
		return Rater{}, ErrNotFound
	}
	hash := HashToken(token)
	s.mu.RLock()
	r, ok := s.raters[hash]
	s.mu.RUnlock()
	if ok {
		return r, nil
	}
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		r, err = tx.Rater(hash)
		return err
	})
	if err != nil {
		return r, err
	}
	s.mu.Lock()
	s.raters[hash] = r
	s.mu.Unlock()
	return r, nil
}

// Task is what a rater is shown: a clip and its reasonings in the order
// of the rater's hold. It says nothing of where a reasoning came from.
type Task struct {
	Clip      string // Clip.ID
	Subtitles Subtitles
	Texts     []string // by position
	Expires   time.Time
}

// NoWork says why a rater has nothing to rate.
type NoWork struct {
	// Busy is set when clips still want ratings but other raters hold
	// them; a hold that runs out frees its clip.
	Busy bool
}

// Status is where a rater stands: their next task, or none.
type Status struct {
	Task  *Task  // nil when there is nothing to rate
	None  NoWork // why, when Task is nil
	Rated int    // clips this rater has rated
	Open  int    // clips this rater may still rate (the task's included)
}

// Next returns the rater's task: the clip they hold, its hold renewed, or
// else the clip with the fewest ratings and holds (then the lowest rank)
// among those they have not rated and that are short of the target,
// which they then hold.
func (s *Service) Next(ctx context.Context, r Rater) (Status, error) {
	var out Status
	err := s.store.Update(ctx, func(tx Tx) error {
		out = Status{}
		st, err := s.study(tx, r.Study)
		if err != nil {
			return err
		}
		now := s.now()
		loads, err := tx.Loads(st.ID, r.ID, now)
		if err != nil {
			return err
		}
		byClip := make(map[string]Load, len(loads))
		for _, l := range loads {
			byClip[l.Clip] = l
			if l.DoneByRater {
				out.Rated++
			} else if l.Done < st.Target {
				out.Open++
			}
		}
		h, ok, err := tx.Hold(r.ID)
		if err != nil {
			return err
		}
		if ok {
			l, known := byClip[h.Clip]
			if known && !l.DoneByRater && (now.Before(h.Expires) || l.Done+l.Held < st.Target) {
				h.Expires = now.Add(s.hold)
				if err := tx.PutHold(h); err != nil {
					return err
				}
				out.Task, err = task(tx, st, h)
				return err
			}
			if err := tx.DropHold(r.ID); err != nil {
				return err
			}
		}
		var best *Load
		for i := range loads {
			l := &loads[i]
			if l.DoneByRater || l.Done >= st.Target {
				continue
			}
			if l.Done+l.Held >= st.Target {
				out.None.Busy = true
				continue
			}
			if best == nil || cmp.Or(cmp.Compare(l.Done+l.Held, best.Done+best.Held), cmp.Compare(l.Rank, best.Rank)) < 0 {
				best = l
			}
		}
		if best == nil {
			return nil
		}
		cands, err := tx.Candidates(st.ID, best.Clip)
		if err != nil {
			return err
		}
		ids := make([]int, len(cands))
		for i, c := range cands {
			ids[i] = c.ID
		}
		h = Hold{Study: st.ID, Rater: r.ID, Clip: best.Clip, Expires: now.Add(s.hold), Shown: Order(st.Secret, r.ID, best.Clip, ids)}
		if err := tx.PutHold(h); err != nil {
			return err
		}
		out.None.Busy = false
		out.Task, err = task(tx, st, h)
		return err
	})
	return out, err
}

// task builds the Task of hold h.
func task(tx Tx, st Study, h Hold) (*Task, error) {
	c, err := tx.Clip(st.ID, h.Clip)
	if err != nil {
		return nil, err
	}
	cands, err := tx.Candidates(st.ID, h.Clip)
	if err != nil {
		return nil, err
	}
	text := make(map[int]string, len(cands))
	for _, k := range cands {
		text[k.ID] = k.Text
	}
	t := &Task{Clip: c.ID, Subtitles: c.Subtitles, Expires: h.Expires}
	for _, id := range h.Shown {
		s, ok := text[id]
		if !ok {
			return nil, fmt.Errorf("clip %s: the hold shows candidate %d, which the clip lacks", c.ID, id)
		}
		t.Texts = append(t.Texts, s)
	}
	return t, nil
}

// Submit records the rater's scores, by position, for the clip they hold.
// The clip must be theirs: held, or held until lately and not handed to
// anyone since. Scores of a clip already rated are refused with
// ErrAlreadyDone and the first ones kept. When Submit returns nil the
// scores are committed.
func (s *Service) Submit(ctx context.Context, r Rater, clip string, scores []Score) error {
	return s.store.Update(ctx, func(tx Tx) error {
		h, ok, err := tx.Hold(r.ID)
		if err != nil {
			return err
		}
		if !ok || h.Clip != clip {
			done, err := tx.Done(r.ID, clip)
			if err != nil {
				return err
			}
			if done {
				return ErrAlreadyDone
			}
			return ErrNotAssigned
		}
		var missing []int
		for i := range h.Shown {
			if i >= len(scores) || !scores[i].Valid() {
				missing = append(missing, i)
			}
		}
		if len(missing) > 0 || len(scores) != len(h.Shown) {
			return &IncompleteError{Missing: missing}
		}
		now := s.now()
		if !now.Before(h.Expires) {
			st, err := s.study(tx, r.Study)
			if err != nil {
				return err
			}
			loads, err := tx.Loads(st.ID, r.ID, now)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(loads, func(l Load) bool { return l.Clip == clip })
			if i < 0 || loads[i].Done+loads[i].Held >= st.Target {
				// Nothing of this transaction is kept: the hold stays for
				// Next to drop.
				return ErrTaken
			}
		}
		c := Completion{Study: r.Study, Rater: r.ID, Clip: clip, Shown: h.Shown, Scores: scores, At: now.UTC()}
		if err := tx.Complete(c); err != nil {
			return err
		}
		return tx.DropHold(r.ID)
	})
}

// MediaClip returns the clip a rater may play: the one they hold or one
// they have rated. Any other is ErrNotFound, whether or not it exists.
func (s *Service) MediaClip(ctx context.Context, r Rater, clip string) (Clip, error) {
	var c Clip
	err := s.store.View(ctx, func(tx Tx) error {
		h, ok, err := tx.Hold(r.ID)
		if err != nil {
			return err
		}
		if !ok || h.Clip != clip {
			done, err := tx.Done(r.ID, clip)
			if err != nil {
				return err
			}
			if !done {
				return ErrNotFound
			}
		}
		c, err = tx.Clip(r.Study, clip)
		return err
	})
	return c, err
}
