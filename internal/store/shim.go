package store

import (
	"context"

	"emer/internal/batch"
)

// PutResult stores r as its judge record.
func (s *Store) PutResult(ctx context.Context, r Result) error {
	rec, err := r.Record()
	if err != nil {
		return err
	}
	return s.Put(ctx, rec)
}

// Results returns every judge result in key order.
func (s *Store) Results(ctx context.Context) ([]Result, error) {
	var out []Result
	err := s.Scan(ctx, JudgeRun, JudgeKind, func(rec batch.Record) error {
		r, err := ParseResult(rec)
		out = append(out, r)
		return err
	})
	return out, err
}

// DeleteResults is kept until eval leaves it.
func (s *Store) DeleteResults(ctx context.Context, status string) (int, error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM records WHERE run = ? AND kind = ? AND status = ?`, JudgeRun, JudgeKind, status)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
