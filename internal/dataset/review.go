package dataset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// ReviewStatus is where a clip's description stands in review.
type ReviewStatus string

// The review statuses. A description starts Pending; a reviewer accepts
// the draft as it is, replaces it with a text of their own (Edited), or
// rejects the clip.
const (
	Pending  ReviewStatus = "pending"
	Accepted ReviewStatus = "accepted"
	Edited   ReviewStatus = "edited"
	Rejected ReviewStatus = "rejected"
)

// ReviewStatuses lists the statuses in the order above.
var ReviewStatuses = []ReviewStatus{Pending, Accepted, Edited, Rejected}

// ParseReviewStatus returns the status named s (any case, surrounding
// spaces ignored).
func ParseReviewStatus(s string) (ReviewStatus, bool) {
	st := ReviewStatus(strings.ToLower(strings.TrimSpace(s)))
	return st, slices.Contains(ReviewStatuses, st)
}

// Review is the review state of one clip's description.
type Review struct {
	Clip   string       `json:"clip"`
	Status ReviewStatus `json:"status"`
	// Draft is the description as made (by emer build summarize); empty
	// when none could be made, the model's replies being unusable.
	Draft string `json:"draft"`
	// Text is the reviewer's own description; set only when Edited.
	Text string `json:"text,omitempty"`
	// Flags say why the draft was marked for review when it was made
	// ("emotion: no emotion word in the reply"); none for a draft whose
	// every step gave a usable reply.
	Flags []string `json:"flags,omitempty"`
	// Reviewer is who set the status; empty while the draft awaits its
	// first review.
	Reviewer string    `json:"reviewer,omitempty"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"` // when the state last changed
}

// Description returns the text the review stands for: the reviewer's
// when Edited, the draft otherwise.
func (r Review) Description() string {
	if r.Status == Edited {
		return r.Text
	}
	return r.Draft
}

// Equal reports whether r and o are the same state.
func (r Review) Equal(o Review) bool {
	return r.Clip == o.Clip && r.Status == o.Status && r.Draft == o.Draft && r.Text == o.Text &&
		slices.Equal(r.Flags, o.Flags) && r.Reviewer == o.Reviewer && r.Note == o.Note && r.At.Equal(o.At)
}

// Check reports what makes r an impossible state: an unknown status, an
// edited review without text or a text on another status, an accepted
// review of no draft.
func (r Review) Check() error {
	switch {
	case r.Clip == "":
		return errors.New("review of no clip")
	case !slices.Contains(ReviewStatuses, r.Status):
		return fmt.Errorf("clip %s: unknown review status %q", r.Clip, r.Status)
	case r.Status == Edited && strings.TrimSpace(r.Text) == "":
		return fmt.Errorf("clip %s: edited without a text", r.Clip)
	case r.Status != Edited && r.Text != "":
		return fmt.Errorf("clip %s: a text on a review that is %s, not edited", r.Clip, r.Status)
	case r.Status == Accepted && strings.TrimSpace(r.Draft) == "":
		return fmt.Errorf("clip %s: accepted with no draft", r.Clip)
	}
	return nil
}

// Change is one change of a review: who made it and when, the review
// before (nil when the change creates it) and after.
type Change struct {
	Clip   string    `json:"clip"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Before *Review   `json:"before"`
	After  Review    `json:"after"`
}

// ErrReviewConflict is wrapped by the error of ApplyReviews when a
// change's Before is not the review as stored: someone changed it since
// it was read.
var ErrReviewConflict = errors.New("the review changed since it was read")

// ReviewStore keeps the review state of a dataset's descriptions, one per
// clip, and the history of every change. The project's store implements
// it in SQL; Reviews (in memory) for tests. Implementations are safe for
// concurrent use.
type ReviewStore interface {
	// Reviews returns every clip's review, sorted by clip.
	Reviews(ctx context.Context) ([]Review, error)
	// History returns the changes of clip, oldest first; none is not an
	// error.
	History(ctx context.Context, clip string) ([]Change, error)
	// ApplyReviews makes changes, in order, in one transaction: either
	// all are stored, each after-state becoming its clip's review and the
	// change joining its history, or none is. A change whose Before is
	// not the clip's review as stored at that point (nil: no review yet)
	// fails them all with an error wrapping ErrReviewConflict; an after-
	// state that fails Check fails them all too. Times are kept as
	// StampTime makes them.
	ApplyReviews(ctx context.Context, changes []Change) error
}

// StampTime returns t as the stores keep times: in UTC, to the
// microsecond.
func StampTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// DraftChange returns the change that puts a freshly made draft of clip
// into review, made by by at at; ok is false when cur (nil: none yet)
// already holds that draft with those flags, which leaves it as it is,
// reviewed or not. A new draft starts pending; a draft that differs from
// the one reviewed sends the clip back to pending, its edited text and
// note dropped (the history keeps them).
func DraftChange(cur *Review, clip, draft string, flags []string, by string, at time.Time) (c Change, ok bool) {
	if len(flags) == 0 {
		flags = nil
	}
	if cur != nil && cur.Draft == draft && slices.Equal(cur.Flags, flags) {
		return Change{}, false
	}
	at = StampTime(at)
	after := Review{Clip: clip, Status: Pending, Draft: draft, Flags: slices.Clone(flags), At: at}
	return Change{Clip: clip, By: by, At: at, Before: cloneReview(cur), After: after}, true
}

func cloneReview(r *Review) *Review {
	if r == nil {
		return nil
	}
	c := *r
	c.Flags = slices.Clone(r.Flags)
	return &c
}

// ReviewMemory is a ReviewStore in memory.
type ReviewMemory struct {
	mu      sync.Mutex
	reviews map[string]Review
	history map[string][]Change
}

var _ ReviewStore = (*ReviewMemory)(nil)

// NewReviewMemory returns an empty ReviewMemory.
func NewReviewMemory() *ReviewMemory {
	return &ReviewMemory{reviews: map[string]Review{}, history: map[string][]Change{}}
}

// Reviews implements ReviewStore.
func (m *ReviewMemory) Reviews(ctx context.Context) ([]Review, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Review, 0, len(m.reviews))
	for _, r := range m.reviews {
		out = append(out, *cloneReview(&r))
	}
	slices.SortFunc(out, func(a, b Review) int { return strings.Compare(a.Clip, b.Clip) })
	return out, nil
}

// History implements ReviewStore.
func (m *ReviewMemory) History(ctx context.Context, clip string) ([]Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.history[clip]), nil
}

// ApplyReviews implements ReviewStore.
func (m *ReviewMemory) ApplyReviews(ctx context.Context, changes []Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Applied to a copy of what they touch, kept only when all pass.
	next := map[string]*Review{}
	current := func(clip string) *Review {
		if r, ok := next[clip]; ok {
			return r
		}
		if r, ok := m.reviews[clip]; ok {
			return &r
		}
		return nil
	}
	changes = stamped(changes)
	for _, c := range changes {
		if err := CheckChange(current(c.Clip), c); err != nil {
			return err
		}
		after := *cloneReview(&c.After)
		next[c.Clip] = &after
	}
	for _, c := range changes {
		c.Before, c.After = cloneReview(c.Before), *cloneReview(&c.After)
		m.history[c.Clip] = append(m.history[c.Clip], c)
	}
	for clip, r := range next {
		m.reviews[clip] = *r
	}
	return nil
}

// stamped returns copies of changes with their times as StampTime makes
// them.
func stamped(changes []Change) []Change {
	out := make([]Change, len(changes))
	for i, c := range changes {
		c.At, c.After.At = StampTime(c.At), StampTime(c.After.At)
		out[i] = c
	}
	return out
}

// Stamped returns copies of changes with their times as StampTime makes
// them, as stores keep them.
func Stamped(changes []Change) []Change { return stamped(changes) }

// CheckChange reports why c cannot be applied to cur, the clip's review as
// stored (nil: none): a Before that is not cur (wrapping
// ErrReviewConflict), an after-state of another clip or one that fails
// Check. Stores call it within their transaction.
func CheckChange(cur *Review, c Change) error {
	switch {
	case c.After.Clip != c.Clip:
		return fmt.Errorf("change of clip %s holds a review of clip %s", c.Clip, c.After.Clip)
	case c.By == "":
		return fmt.Errorf("clip %s: a change by nobody", c.Clip)
	case (cur == nil) != (c.Before == nil), cur != nil && !cur.Equal(*c.Before):
		return fmt.Errorf("clip %s: %w", c.Clip, ErrReviewConflict)
	}
	return c.After.Check()
}
