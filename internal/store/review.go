package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"emer/internal/dataset"
)

// reviewSchema holds the review state of descriptions (see
// dataset.ReviewStore): one row per clip, and every change with the
// review before and after it, as JSON. Flags are a JSON list.
const reviewSchema = `CREATE TABLE reviews (
		clip     TEXT PRIMARY KEY,
		status   TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'edited', 'rejected')),
		draft    TEXT NOT NULL,
		text     TEXT NOT NULL,
		flags    TEXT NOT NULL,
		reviewer TEXT NOT NULL,
		note     TEXT NOT NULL,
		at       TEXT NOT NULL
	);
	CREATE TABLE review_history (
		id          INTEGER PRIMARY KEY,
		clip        TEXT NOT NULL REFERENCES reviews (clip),
		author      TEXT NOT NULL,
		at          TEXT NOT NULL,
		before_json TEXT,
		after_json  TEXT NOT NULL
	);
	CREATE INDEX review_history_clip ON review_history (clip, id);`

// reviewVersion is the schema version that has the review tables.
const reviewVersion = 5

// Reviews is the dataset.ReviewStore of a Store. It is safe for
// concurrent use.
type Reviews struct{ s *Store }

var _ dataset.ReviewStore = (*Reviews)(nil)

// NewReviews returns the review state kept in s.
func NewReviews(s *Store) *Reviews { return &Reviews{s: s} }

// ErrNoReviews is returned by the reads of a read-only store whose
// schema predates the review tables.
var ErrNoReviews = errors.New("the database has no review tables")

func (r *Reviews) check() error {
	if r.s.version < reviewVersion {
		return fmt.Errorf("%s: %w (schema version %d; %d has)", r.s.path, ErrNoReviews, r.s.version, reviewVersion)
	}
	return nil
}

const reviewColumns = `clip, status, draft, text, flags, reviewer, note, at`

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dst ...any) error }

func scanReview(sc rowScanner) (dataset.Review, error) {
	var rv dataset.Review
	var status, flags, at string
	if err := sc.Scan(&rv.Clip, &status, &rv.Draft, &rv.Text, &flags, &rv.Reviewer, &rv.Note, &at); err != nil {
		return rv, err
	}
	rv.Status = dataset.ReviewStatus(status)
	if err := json.Unmarshal([]byte(flags), &rv.Flags); err != nil {
		return rv, fmt.Errorf("review of %s: flags: %w", rv.Clip, err)
	}
	t, err := parseTime(at)
	if err != nil {
		return rv, fmt.Errorf("review of %s: %w", rv.Clip, err)
	}
	rv.At = t
	return rv, nil
}

// Reviews implements dataset.ReviewStore.
func (r *Reviews) Reviews(ctx context.Context) ([]dataset.Review, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	rows, err := r.s.db.QueryContext(ctx, `SELECT `+reviewColumns+` FROM reviews ORDER BY clip`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dataset.Review{}
	for rows.Next() {
		rv, err := scanReview(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rv)
	}
	return out, rows.Err()
}

// History implements dataset.ReviewStore.
func (r *Reviews) History(ctx context.Context, clip string) ([]dataset.Change, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	rows, err := r.s.db.QueryContext(ctx, `SELECT author, at, before_json, after_json FROM review_history WHERE clip = ? ORDER BY id`, clip)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dataset.Change{}
	for rows.Next() {
		c := dataset.Change{Clip: clip}
		var at, after string
		var before sql.NullString
		if err := rows.Scan(&c.By, &at, &before, &after); err != nil {
			return nil, err
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("history of %s: %w", clip, err)
		}
		if before.Valid {
			c.Before = new(dataset.Review)
			if err := json.Unmarshal([]byte(before.String), c.Before); err != nil {
				return nil, fmt.Errorf("history of %s: %w", clip, err)
			}
		}
		if err := json.Unmarshal([]byte(after), &c.After); err != nil {
			return nil, fmt.Errorf("history of %s: %w", clip, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ApplyReviews implements dataset.ReviewStore: the changes are checked
// against the reviews as stored and written in one transaction, which is
// committed (and survives the process being killed) when it returns nil.
func (r *Reviews) ApplyReviews(ctx context.Context, changes []dataset.Change) error {
	if r.s.readOnly {
		return ErrReadOnly
	}
	if err := r.check(); err != nil {
		return err
	}
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := applyReviews(ctx, tx, changes); err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: %w", r.s.path, err)
	}
	return tx.Commit()
}

func applyReviews(ctx context.Context, tx *sql.Tx, changes []dataset.Change) error {
	for _, c := range dataset.Stamped(changes) {
		var cur *dataset.Review
		rv, err := scanReview(tx.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE clip = ?`, c.Clip))
		switch {
		case err == nil:
			cur = &rv
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if err := dataset.CheckChange(cur, c); err != nil {
			return err
		}
		a := c.After
		flags, err := json.Marshal(a.Flags)
		if err != nil {
			return err
		}
		if a.Flags == nil {
			flags = []byte("[]")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO reviews (`+reviewColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (clip) DO UPDATE SET status = excluded.status, draft = excluded.draft, text = excluded.text,
				flags = excluded.flags, reviewer = excluded.reviewer, note = excluded.note, at = excluded.at`,
			a.Clip, string(a.Status), a.Draft, a.Text, string(flags), a.Reviewer, a.Note, formatTime(a.At))
		if err != nil {
			return err
		}
		var before any // NULL when the change creates the review
		if c.Before != nil {
			b, err := json.Marshal(c.Before)
			if err != nil {
				return err
			}
			before = string(b)
		}
		after, err := json.Marshal(c.After)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO review_history (clip, author, at, before_json, after_json) VALUES (?, ?, ?, ?, ?)`,
			c.Clip, c.By, formatTime(c.At), before, string(after)); err != nil {
			return err
		}
	}
	return nil
}
