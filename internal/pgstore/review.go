package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"emer/internal/dataset"
)

// Reviews is the review state of the descriptions of one run of emer
// build summarize kept in a Store, as the SQLite store keeps a folder's
// (it implements dataset.ReviewStore and web.ReviewStore): the reviews
// and their history, the reviewers invited by link and the grounding
// checks loaded, all in a scope, the run's name, apart from those of any
// other run. It is safe for concurrent use, by any number of processes; a
// change is committed when its method returns. A read-only store of a
// database without the review tables reads as holding none.
type Reviews struct {
	s      *Store
	scope  string
	schema schemaCheck
}

var _ dataset.ReviewStore = (*Reviews)(nil)

// Reviews returns the review state of scope, the name of the run of emer
// build summarize it belongs to (summarize:ABSOLUTE-OUT, or its --run).
func (s *Store) Reviews(scope string) *Reviews { return &Reviews{s: s, scope: scope} }

// Scope returns the name of the run whose review state r is.
func (r *Reviews) Scope() string { return r.scope }

// ReviewScopes returns the scopes that hold descriptions in review, sorted.
func (s *Store) ReviewScopes(ctx context.Context) ([]string, error) {
	r := s.Reviews("")
	ok, err := r.schema.tables(ctx, s, reviewVersion)
	if err != nil || !ok {
		return nil, err
	}
	var out []string
	err = s.inTx(ctx, "read the review scopes", readTx, func(ctx context.Context, tx pgx.Tx) error {
		out = nil
		out, err = collect(ctx, tx, func(r pgx.Row) (string, error) {
			var s string
			err := r.Scan(&s)
			return s, err
		}, `SELECT DISTINCT scope COLLATE "C" FROM emer_reviews ORDER BY 1`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	return out, nil
}

// read runs fn in a read-only transaction, unless the store has no
// review tables, when it returns false.
func (r *Reviews) read(ctx context.Context, what string, fn func(ctx context.Context, tx pgx.Tx) error) (bool, error) {
	ok, err := r.schema.tables(ctx, r.s, reviewVersion)
	if err != nil || !ok {
		return false, err
	}
	if err := r.s.inTx(ctx, what, readTx, fn); err != nil {
		return true, fmt.Errorf("%s: review %s: %w", r.s.name, r.scope, err)
	}
	return true, nil
}

const reviewColumns = `clip, status, draft, text, flags, reviewer, note, at`

func scanReview(sc pgx.Row) (dataset.Review, error) {
	var rv dataset.Review
	var status, flags string
	if err := sc.Scan(&rv.Clip, &status, &rv.Draft, &rv.Text, &flags, &rv.Reviewer, &rv.Note, &rv.At); err != nil {
		return rv, err
	}
	rv.Status = dataset.ReviewStatus(status)
	rv.At = rv.At.UTC()
	if err := json.Unmarshal([]byte(flags), &rv.Flags); err != nil {
		return rv, fmt.Errorf("review of %s: flags: %w", rv.Clip, err)
	}
	return rv, nil
}

// Reviews implements dataset.ReviewStore: every clip's review, sorted
// by clip, bytewise.
func (r *Reviews) Reviews(ctx context.Context) ([]dataset.Review, error) {
	var out []dataset.Review
	_, err := r.read(ctx, "read reviews", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, scanReview, `SELECT `+reviewColumns+` FROM emer_reviews WHERE scope = $1 ORDER BY clip`, r.scope)
		return err
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []dataset.Review{}
	}
	return out, nil
}

// Review returns the review of clip; the error wraps dataset.ErrNoReview
// when it has none.
func (r *Reviews) Review(ctx context.Context, clip string) (dataset.Review, error) {
	var rv dataset.Review
	ok, err := r.read(ctx, "read a review", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		rv, err = scanReview(tx.QueryRow(ctx, `SELECT `+reviewColumns+` FROM emer_reviews WHERE scope = $1 AND clip = $2`, r.scope, clip))
		return err
	})
	if (!ok && err == nil) || errors.Is(err, pgx.ErrNoRows) {
		return dataset.Review{}, fmt.Errorf("clip %q: %w", clip, dataset.ErrNoReview)
	}
	return rv, err
}

// History implements dataset.ReviewStore.
func (r *Reviews) History(ctx context.Context, clip string) ([]dataset.Change, error) {
	out := []dataset.Change{}
	_, err := r.read(ctx, "read the history of a review", func(ctx context.Context, tx pgx.Tx) error {
		out = []dataset.Change{}
		rows, err := tx.Query(ctx, `SELECT author, at, before_json, after_json FROM emer_review_history
			WHERE scope = $1 AND clip = $2 ORDER BY id`, r.scope, clip)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := dataset.Change{Clip: clip}
			var before *string
			var after string
			if err := rows.Scan(&c.By, &c.At, &before, &after); err != nil {
				return err
			}
			c.At = c.At.UTC()
			if before != nil {
				c.Before = new(dataset.Review)
				if err := json.Unmarshal([]byte(*before), c.Before); err != nil {
					return fmt.Errorf("history of %s: %w", clip, err)
				}
			}
			if err := json.Unmarshal([]byte(after), &c.After); err != nil {
				return fmt.Errorf("history of %s: %w", clip, err)
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ApplyReviews implements dataset.ReviewStore: the changes are checked
// against the reviews as stored and written in one serializable
// transaction, committed when it returns nil. Of writers that read the
// same review and change it at once, one wins; the others meet a
// conflict (dataset.ErrReviewConflict).
func (r *Reviews) ApplyReviews(ctx context.Context, changes []dataset.Change) error {
	if r.s.readOnly {
		return ErrReadOnly
	}
	if len(changes) == 0 {
		return ctx.Err()
	}
	changes = dataset.Stamped(changes)
	err := r.s.inTx(ctx, "store reviews", serialTx, func(ctx context.Context, tx pgx.Tx) error {
		for _, c := range changes {
			var cur *dataset.Review
			rv, err := scanReview(tx.QueryRow(ctx, `SELECT `+reviewColumns+` FROM emer_reviews WHERE scope = $1 AND clip = $2`, r.scope, c.Clip))
			switch {
			case err == nil:
				cur = &rv
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
			if err := dataset.CheckChange(cur, c); err != nil {
				return err
			}
			a := c.After
			flags := []byte("[]")
			if a.Flags != nil {
				if flags, err = json.Marshal(a.Flags); err != nil {
					return err
				}
			}
			var before *string // NULL when the change creates the review
			if c.Before != nil {
				b, err := json.Marshal(c.Before)
				if err != nil {
					return err
				}
				js := string(b)
				before = &js
			}
			after, err := json.Marshal(c.After)
			if err != nil {
				return err
			}
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO emer_reviews (scope, `+reviewColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (scope, clip) DO UPDATE SET status = excluded.status, draft = excluded.draft, text = excluded.text,
					flags = excluded.flags, reviewer = excluded.reviewer, note = excluded.note, at = excluded.at`,
				r.scope, a.Clip, string(a.Status), a.Draft, a.Text, string(flags), a.Reviewer, a.Note, a.At)
			b.Queue(`INSERT INTO emer_review_history (scope, clip, author, at, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6)`,
				r.scope, c.Clip, c.By, c.At, before, string(after))
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: review %s: %w", r.s.name, r.scope, err)
	}
	return nil
}

// InviteReviewer gives the reviewer called name the link whose token
// hashes to hash, made at at: a new reviewer, or, when one of that name
// (ASCII letters in any case) is there, the same one with a new link, the
// old one no longer valid (replaced is then true).
func (r *Reviews) InviteReviewer(ctx context.Context, name string, hash [32]byte, at time.Time) (rv dataset.Reviewer, replaced bool, err error) {
	if r.s.readOnly {
		return rv, false, ErrReadOnly
	}
	at = dataset.StampTime(at)
	err = r.s.inTx(ctx, "invite a reviewer", serialTx, func(ctx context.Context, tx pgx.Tx) error {
		rv, replaced = dataset.Reviewer{}, false
		err := tx.QueryRow(ctx, `SELECT id, name FROM emer_reviewers WHERE scope = $1 AND lower(name COLLATE "C") = lower($2 COLLATE "C")`,
			r.scope, name).Scan(&rv.ID, &rv.Name)
		switch {
		case err == nil:
			replaced = true
			_, err = tx.Exec(ctx, `UPDATE emer_reviewers SET token_sha256 = $1, invited_at = $2 WHERE id = $3`, hash[:], at, rv.ID)
		case errors.Is(err, pgx.ErrNoRows):
			rv.Name = name
			err = tx.QueryRow(ctx, `INSERT INTO emer_reviewers (scope, name, token_sha256, invited_at) VALUES ($1, $2, $3, $4) RETURNING id`,
				r.scope, name, hash[:], at).Scan(&rv.ID)
		}
		return err
	})
	if err != nil {
		return dataset.Reviewer{}, false, fmt.Errorf("%s: review %s: reviewer %q: %w", r.s.name, r.scope, name, err)
	}
	rv.Invited = at
	return rv, replaced, nil
}

func scanReviewer(sc pgx.Row) (dataset.Reviewer, error) {
	var rv dataset.Reviewer
	err := sc.Scan(&rv.ID, &rv.Name, &rv.Invited)
	rv.Invited = rv.Invited.UTC()
	return rv, err
}

// Reviewer returns the reviewer whose link's token hashes to hash; the
// error wraps dataset.ErrUnknownReviewer when there is none.
func (r *Reviews) Reviewer(ctx context.Context, hash [32]byte) (dataset.Reviewer, error) {
	var rv dataset.Reviewer
	ok, err := r.read(ctx, "read a reviewer", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		rv, err = scanReviewer(tx.QueryRow(ctx, `SELECT id, name, invited_at FROM emer_reviewers WHERE scope = $1 AND token_sha256 = $2`, r.scope, hash[:]))
		return err
	})
	if (!ok && err == nil) || errors.Is(err, pgx.ErrNoRows) {
		return dataset.Reviewer{}, dataset.ErrUnknownReviewer
	}
	return rv, err
}

// Reviewers returns every reviewer, in the order invited first.
func (r *Reviews) Reviewers(ctx context.Context) ([]dataset.Reviewer, error) {
	var out []dataset.Reviewer
	_, err := r.read(ctx, "read the reviewers", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, scanReviewer, `SELECT id, name, invited_at FROM emer_reviewers WHERE scope = $1 ORDER BY id`, r.scope)
		return err
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []dataset.Reviewer{}
	}
	return out, nil
}

// PutChecks stores checks in one transaction, each replacing the check
// its clip had.
func (r *Reviews) PutChecks(ctx context.Context, checks []dataset.ClipCheck) error {
	if r.s.readOnly {
		return ErrReadOnly
	}
	claims := make([]string, len(checks))
	for i, c := range checks {
		cs := c.Claims
		if cs == nil {
			cs = []dataset.Claim{}
		}
		js, err := json.Marshal(cs)
		if err != nil {
			return fmt.Errorf("check of %s: %w", c.Clip, err)
		}
		claims[i] = string(js)
	}
	if len(checks) == 0 {
		return ctx.Err()
	}
	err := r.s.inTx(ctx, "store checks", writeTx, func(ctx context.Context, tx pgx.Tx) error {
		// A batch of its own each time: one sent on a connection since
		// lost holds that connection's prepared statements.
		b := &pgx.Batch{}
		for i, c := range checks {
			b.Queue(`INSERT INTO emer_review_checks (scope, clip, description, claims, source, loaded_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (scope, clip) DO UPDATE SET description = excluded.description, claims = excluded.claims,
				source = excluded.source, loaded_at = excluded.loaded_at`,
				r.scope, c.Clip, c.Description, claims[i], c.Source, dataset.StampTime(c.At))
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("%s: review %s: checks: %w", r.s.name, r.scope, err)
	}
	return nil
}

const checkColumns = `clip, description, claims, source, loaded_at`

func scanCheck(sc pgx.Row) (dataset.ClipCheck, error) {
	var c dataset.ClipCheck
	var claims string
	if err := sc.Scan(&c.Clip, &c.Description, &claims, &c.Source, &c.At); err != nil {
		return c, err
	}
	c.At = c.At.UTC()
	if err := json.Unmarshal([]byte(claims), &c.Claims); err != nil {
		return c, fmt.Errorf("check of %s: %w", c.Clip, err)
	}
	return c, nil
}

// Check returns the check of clip; ok is false when it has none.
func (r *Reviews) Check(ctx context.Context, clip string) (c dataset.ClipCheck, ok bool, err error) {
	_, err = r.read(ctx, "read a check", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		c, err = scanCheck(tx.QueryRow(ctx, `SELECT `+checkColumns+` FROM emer_review_checks WHERE scope = $1 AND clip = $2`, r.scope, clip))
		ok = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			c, err = dataset.ClipCheck{}, nil
		}
		return err
	})
	return c, ok && err == nil, err
}

// Checks returns the check of every clip that has one, sorted by clip,
// bytewise.
func (r *Reviews) Checks(ctx context.Context) ([]dataset.ClipCheck, error) {
	var out []dataset.ClipCheck
	_, err := r.read(ctx, "read the checks", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, scanCheck, `SELECT `+checkColumns+` FROM emer_review_checks WHERE scope = $1 ORDER BY clip`, r.scope)
		return err
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []dataset.ClipCheck{}
	}
	return out, nil
}
