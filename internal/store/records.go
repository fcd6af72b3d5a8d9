package store

import (
	"context"
	"database/sql"
	"fmt"

	"emer/internal/batch"
)

// recordsVersion is the schema version that has the records table.
const recordsVersion = 3

// recordsSchema makes the table of the batch engine's records: one row
// per item of a run, keyed by run, kind and key, holding the kind's own
// payload. Keys compare bytewise (SQLite's BINARY collation), as
// batch.Ledger wants. It is an ordinary rowid table: payloads (a judge's
// raw reply, an explanation) are too large for WITHOUT ROWID to pay.
const recordsSchema = `CREATE TABLE records (
		run        TEXT NOT NULL,
		kind       TEXT NOT NULL,
		key        TEXT NOT NULL,
		input      TEXT NOT NULL,
		class      TEXT NOT NULL CHECK (class IN ('final', 'retry')),
		status     TEXT NOT NULL,
		payload    BLOB NOT NULL,
		updated_at TEXT NOT NULL,
		PRIMARY KEY (run, kind, key)
	);`

const (
	putRecordSQL = `INSERT OR REPLACE INTO records
		(run, kind, key, input, class, status, payload, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`
	// A page of records starts at the first key or after the last key of
	// the page before; both are a range of the primary key, so that a
	// page costs its own rows, not the rows before it.
	scanFirstSQL = `SELECT key, input, class, status, payload FROM records
		WHERE run = ? AND kind = ? AND key >= '' ORDER BY key LIMIT ?`
	scanNextSQL = `SELECT key, input, class, status, payload FROM records
		WHERE run = ? AND kind = ? AND key > ? ORDER BY key LIMIT ?`
)

// scanPage is how many records Scan reads at a time.
const scanPage = 512

var _ batch.Ledger = (*Store)(nil)

// Put stores r, replacing the record of the same run, kind and key; it
// returns once r is committed. Its class must be batch.Final or
// batch.Retry.
func (s *Store) Put(ctx context.Context, r batch.Record) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if r.Class != batch.Final && r.Class != batch.Retry {
		return fmt.Errorf("%s: store %s record %q: class %q is neither %q nor %q", s.path, r.Kind, r.Key, r.Class, batch.Final, batch.Retry)
	}
	payload := r.Payload
	if payload == nil {
		payload = []byte{} // an empty payload, not NULL
	}
	if _, err := s.putRecord.ExecContext(ctx, r.Run, r.Kind, r.Key, r.Input, string(r.Class), r.Status, payload); err != nil {
		return fmt.Errorf("%s: store %s record %q: %w", s.path, r.Kind, r.Key, err)
	}
	return nil
}

// Scan calls fn with every record of run and kind in key order, reading
// them a page at a time, so that neither the records nor a read
// transaction grow with the run. fn is called between pages' reads, never
// while the database is being read: it may call the store's other methods.
//
// A read-only store of a schema from before the records table reads the
// judge results of that schema as the migration would make them records
// (see JudgeRun); it holds no other records.
func (s *Store) Scan(ctx context.Context, run, kind string, fn func(batch.Record) error) error {
	if s.version < recordsVersion {
		if s.version == 0 || run != JudgeRun || kind != JudgeKind {
			return nil
		}
		return s.scanResults(ctx, fn)
	}
	var after string
	for first := true; ; first = false {
		var rs []batch.Record
		var err error
		if first {
			rs, err = s.readPage(ctx, run, kind, s.scanFirst, run, kind, scanPage)
		} else {
			rs, err = s.readPage(ctx, run, kind, s.scanNext, run, kind, after, scanPage)
		}
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rs) < scanPage {
			return nil
		}
		after = rs[len(rs)-1].Key
	}
}

// readPage runs the page query q with args and returns its records,
// closed before it returns.
func (s *Store) readPage(ctx context.Context, run, kind string, q *sql.Stmt, args ...any) ([]batch.Record, error) {
	rows, err := q.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s records: %w", s.path, kind, err)
	}
	defer rows.Close()
	out := make([]batch.Record, 0, scanPage)
	for rows.Next() {
		r := batch.Record{Run: run, Kind: kind}
		var class string
		if err := rows.Scan(&r.Key, &r.Input, &class, &r.Status, &r.Payload); err != nil {
			return nil, fmt.Errorf("%s: read %s records: %w", s.path, kind, err)
		}
		r.Class = batch.Class(class)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: read %s records: %w", s.path, kind, err)
	}
	return out, nil
}
