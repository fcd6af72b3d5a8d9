package study

import (
	"context"
	"time"
)

// Store keeps studies. View and Update run fn in one transaction: Update
// commits when fn returns nil (and only then returns nil) and rolls back
// otherwise; View never writes. Both are safe for concurrent use; a Tx is
// used by one goroutine, only within fn.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is a transaction of a Store. Lookups of a missing row return an
// error wrapping ErrNotFound; lists come back in the documented order,
// empty (not an error) when there is nothing.
type Tx interface {
	// AddStudy stores st, setting its ID; AddClip and AddCandidate store
	// the parts of a study added before.
	AddStudy(st *Study) error
	AddClip(c Clip) error
	AddCandidate(c Candidate) error

	// Study returns a study; Studies all of them by ID.
	Study(id int64) (Study, error)
	Studies() ([]Study, error)
	// Clip returns the clip of study with the given ID; Clips all of a
	// study's, by Rank.
	Clip(study int64, id string) (Clip, error)
	Clips(study int64) ([]Clip, error)
	// Candidates returns a clip's candidates by ID.
	Candidates(study int64, clip string) ([]Candidate, error)

	// AddRater stores r, setting its ID. Rater returns the rater whose
	// token hashes to hash; Raters a study's by ID.
	AddRater(r *Rater) error
	Rater(hash [32]byte) (Rater, error)
	Raters(study int64) ([]Rater, error)

	// Hold returns a rater's hold, ok false when there is none. PutHold
	// replaces the rater's hold; DropHold removes it, if any. Holds
	// returns a study's holds, expired ones included, by rater.
	Hold(rater int64) (h Hold, ok bool, err error)
	PutHold(h Hold) error
	DropHold(rater int64) error
	Holds(study int64) ([]Hold, error)

	// Loads returns every clip of a study by Rank, with its completions,
	// the holds of raters other than rater expiring after now, and
	// whether rater has rated it (rater 0 counts every hold).
	Loads(study, rater int64, now time.Time) ([]Load, error)
	// Complete stores a completion; Done reports whether the rater has
	// one for the clip; Completions returns a study's by time, then rater.
	Complete(c Completion) error
	Done(rater int64, clip string) (bool, error)
	Completions(study int64) ([]Completion, error)
}
