package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"emer/internal/dataset"
)

// reviewerSchema holds, beside the review state, what reviewing in the
// browser needs: the reviewers invited (their link only as a hash; one
// link a name, names compared without case) and the grounding check of
// each clip's description, its claims as JSON.
const reviewerSchema = `CREATE TABLE reviewers (
		id           INTEGER PRIMARY KEY,
		name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
		token_sha256 BLOB NOT NULL UNIQUE,
		invited_at   TEXT NOT NULL
	);
	CREATE TABLE review_checks (
		clip        TEXT PRIMARY KEY,
		description TEXT NOT NULL,
		claims      TEXT NOT NULL,
		source      TEXT NOT NULL,
		loaded_at   TEXT NOT NULL
	);`

// reviewerVersion is the schema version that has the reviewer tables.
const reviewerVersion = 6

func (r *Reviews) checkReviewers() error {
	if r.s.version < reviewerVersion {
		return fmt.Errorf("%s: the database has no reviewer tables (schema version %d; %d has)", r.s.path, r.s.version, reviewerVersion)
	}
	return nil
}

// Review returns the review of clip; the error wraps dataset.ErrNoReview
// when it has none.
func (r *Reviews) Review(ctx context.Context, clip string) (dataset.Review, error) {
	if err := r.check(); err != nil {
		return dataset.Review{}, err
	}
	rv, err := scanReview(r.s.db.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE clip = ?`, clip))
	if errors.Is(err, sql.ErrNoRows) {
		return rv, fmt.Errorf("clip %q: %w", clip, dataset.ErrNoReview)
	}
	return rv, err
}

// InviteReviewer gives the reviewer called name the link whose token
// hashes to hash, made at at: a new reviewer, or, when one of that name
// (in any case) is there, the same one with a new link, the old one no
// longer valid (replaced is then true).
func (r *Reviews) InviteReviewer(ctx context.Context, name string, hash [32]byte, at time.Time) (rv dataset.Reviewer, replaced bool, err error) {
	if r.s.readOnly {
		return rv, false, ErrReadOnly
	}
	if err := r.checkReviewers(); err != nil {
		return rv, false, err
	}
	at = dataset.StampTime(at)
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return rv, false, err
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `SELECT id, name FROM reviewers WHERE name = ?`, name).Scan(&rv.ID, &rv.Name)
	switch {
	case err == nil:
		replaced = true
		_, err = tx.ExecContext(ctx, `UPDATE reviewers SET token_sha256 = ?, invited_at = ? WHERE id = ?`, hash[:], formatTime(at), rv.ID)
	case errors.Is(err, sql.ErrNoRows):
		rv.Name = name
		err = tx.QueryRowContext(ctx, `INSERT INTO reviewers (name, token_sha256, invited_at) VALUES (?, ?, ?) RETURNING id`, name, hash[:], formatTime(at)).Scan(&rv.ID)
	}
	if err != nil {
		return dataset.Reviewer{}, false, fmt.Errorf("%s: reviewer %q: %w", r.s.path, name, err)
	}
	rv.Invited = at
	return rv, replaced, tx.Commit()
}

func scanReviewer(sc rowScanner) (dataset.Reviewer, error) {
	var rv dataset.Reviewer
	var at string
	if err := sc.Scan(&rv.ID, &rv.Name, &at); err != nil {
		return rv, err
	}
	t, err := parseTime(at)
	if err != nil {
		return rv, fmt.Errorf("reviewer %q: %w", rv.Name, err)
	}
	rv.Invited = t
	return rv, nil
}

// Reviewer returns the reviewer whose link's token hashes to hash; the
// error wraps dataset.ErrUnknownReviewer when there is none.
func (r *Reviews) Reviewer(ctx context.Context, hash [32]byte) (dataset.Reviewer, error) {
	if err := r.checkReviewers(); err != nil {
		return dataset.Reviewer{}, err
	}
	rv, err := scanReviewer(r.s.db.QueryRowContext(ctx, `SELECT id, name, invited_at FROM reviewers WHERE token_sha256 = ?`, hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return rv, dataset.ErrUnknownReviewer
	}
	return rv, err
}

// Reviewers returns every reviewer, in the order invited first.
func (r *Reviews) Reviewers(ctx context.Context) ([]dataset.Reviewer, error) {
	if err := r.checkReviewers(); err != nil {
		return nil, err
	}
	rows, err := r.s.db.QueryContext(ctx, `SELECT id, name, invited_at FROM reviewers ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dataset.Reviewer{}
	for rows.Next() {
		rv, err := scanReviewer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rv)
	}
	return out, rows.Err()
}

// PutChecks stores checks in one transaction, each replacing the check
// its clip had.
func (r *Reviews) PutChecks(ctx context.Context, checks []dataset.ClipCheck) error {
	if r.s.readOnly {
		return ErrReadOnly
	}
	if err := r.checkReviewers(); err != nil {
		return err
	}
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, c := range checks {
		claims := c.Claims
		if claims == nil {
			claims = []dataset.Claim{}
		}
		b, err := json.Marshal(claims)
		if err != nil {
			return fmt.Errorf("check of %s: %w", c.Clip, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO review_checks (clip, description, claims, source, loaded_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (clip) DO UPDATE SET description = excluded.description, claims = excluded.claims,
				source = excluded.source, loaded_at = excluded.loaded_at`,
			c.Clip, c.Description, string(b), c.Source, formatTime(dataset.StampTime(c.At))); err != nil {
			return fmt.Errorf("%s: check of %s: %w", r.s.path, c.Clip, err)
		}
	}
	return tx.Commit()
}

const checkColumns = `clip, description, claims, source, loaded_at`

func scanCheck(sc rowScanner) (dataset.ClipCheck, error) {
	var c dataset.ClipCheck
	var claims, at string
	if err := sc.Scan(&c.Clip, &c.Description, &claims, &c.Source, &at); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(claims), &c.Claims); err != nil {
		return c, fmt.Errorf("check of %s: %w", c.Clip, err)
	}
	t, err := parseTime(at)
	if err != nil {
		return c, fmt.Errorf("check of %s: %w", c.Clip, err)
	}
	c.At = t
	return c, nil
}

// Check returns the check of clip; ok is false when it has none.
func (r *Reviews) Check(ctx context.Context, clip string) (c dataset.ClipCheck, ok bool, err error) {
	if err := r.checkReviewers(); err != nil {
		return c, false, err
	}
	c, err = scanCheck(r.s.db.QueryRowContext(ctx, `SELECT `+checkColumns+` FROM review_checks WHERE clip = ?`, clip))
	if errors.Is(err, sql.ErrNoRows) {
		return dataset.ClipCheck{}, false, nil
	}
	return c, err == nil, err
}

// Checks returns the check of every clip that has one, sorted by clip.
func (r *Reviews) Checks(ctx context.Context) ([]dataset.ClipCheck, error) {
	if err := r.checkReviewers(); err != nil {
		return nil, err
	}
	rows, err := r.s.db.QueryContext(ctx, `SELECT `+checkColumns+` FROM review_checks ORDER BY clip`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dataset.ClipCheck{}
	for rows.Next() {
		c, err := scanCheck(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
