package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"emer/internal/batch"
	"emer/internal/llm"
)

var (
	_ batch.Ledger   = (*Store)(nil)
	_ llm.CacheStore = (*Store)(nil)
	_ batch.Queue    = (*Store)(nil)
)

const putSQL = `INSERT INTO emer_records (run, kind, key, input, class, status, payload, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, now())
	ON CONFLICT (run, kind, key) DO UPDATE SET input = excluded.input, class = excluded.class,
		status = excluded.status, payload = excluded.payload, updated_at = excluded.updated_at`

// scanPage is how many records Scan reads at a time.
const scanPage = 512

// Put stores r, replacing the record of the same run, kind and key; it
// returns once r is committed. Its class must be batch.Final or
// batch.Retry.
func (s *Store) Put(ctx context.Context, r batch.Record) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if r.Class != batch.Final && r.Class != batch.Retry {
		return fmt.Errorf("%s: store %s record %q: class %q is neither %q nor %q", s.name, r.Kind, r.Key, r.Class, batch.Final, batch.Retry)
	}
	payload := r.Payload
	if payload == nil {
		payload = []byte{}
	}
	err := s.retry(ctx, "store a record", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, putSQL, r.Run, r.Kind, []byte(r.Key), []byte(r.Input), string(r.Class), r.Status, payload)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: store %s record %q: %w", s.name, r.Kind, r.Key, err)
	}
	return nil
}

// Lookup returns the record of run, kind and key, if there is one.
func (s *Store) Lookup(ctx context.Context, run, kind, key string) (batch.Record, bool, error) {
	if s.empty {
		return batch.Record{}, false, nil
	}
	r := batch.Record{Run: run, Kind: kind, Key: key}
	var class string
	var input []byte
	err := s.retry(ctx, "read a record", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT input, class, status, payload FROM emer_records WHERE run = $1 AND kind = $2 AND key = $3`,
			run, kind, []byte(key)).Scan(&input, &class, &r.Status, &r.Payload)
	})
	r.Input = string(input)
	if errors.Is(err, pgx.ErrNoRows) {
		return batch.Record{}, false, nil
	}
	if err != nil {
		return batch.Record{}, false, fmt.Errorf("%s: read %s record %q: %w", s.name, kind, key, err)
	}
	r.Class = batch.Class(class)
	return r, true, nil
}

// Scan calls fn with every record of run and kind in key order, reading
// them a page at a time; fn is called between pages' reads and may call
// the store's other methods.
func (s *Store) Scan(ctx context.Context, run, kind string, fn func(batch.Record) error) error {
	if s.empty {
		return nil
	}
	var after []byte
	for first := true; ; first = false {
		var page []batch.Record
		err := s.retry(ctx, "read records", func(ctx context.Context) error {
			var rows pgx.Rows
			var err error
			if first {
				rows, err = s.pool.Query(ctx, `SELECT key, input, class, status, payload FROM emer_records
					WHERE run = $1 AND kind = $2 ORDER BY key LIMIT $3`, run, kind, scanPage)
			} else {
				rows, err = s.pool.Query(ctx, `SELECT key, input, class, status, payload FROM emer_records
					WHERE run = $1 AND kind = $2 AND key > $3 ORDER BY key LIMIT $4`, run, kind, after, scanPage)
			}
			if err != nil {
				return err
			}
			page = page[:0]
			for rows.Next() {
				r := batch.Record{Run: run, Kind: kind}
				var key, input []byte
				var class string
				if err := rows.Scan(&key, &input, &class, &r.Status, &r.Payload); err != nil {
					rows.Close()
					return err
				}
				r.Key, r.Input, r.Class = string(key), string(input), batch.Class(class)
				page = append(page, r)
			}
			return rows.Err()
		})
		if err != nil {
			return fmt.Errorf("%s: read %s records: %w", s.name, kind, err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = []byte(page[len(page)-1].Key)
	}
}

// GetReply returns the cached reply for key.
func (s *Store) GetReply(ctx context.Context, key string) (llm.Reply, bool, error) {
	if s.empty {
		return llm.Reply{}, false, nil
	}
	var text string
	err := s.retry(ctx, "read the cache", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT reply FROM emer_cache WHERE key = $1`, key).Scan(&text)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return llm.Reply{}, false, nil
	}
	if err != nil {
		return llm.Reply{}, false, err
	}
	var r llm.Reply
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return llm.Reply{}, false, fmt.Errorf("%s: cache entry %s: %w", s.name, key, err)
	}
	return r, true, nil
}

// PutReply stores r under key, replacing any earlier entry.
func (s *Store) PutReply(ctx context.Context, key string, r llm.Reply) error {
	if s.readOnly {
		return ErrReadOnly
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.retry(ctx, "store in the cache", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO emer_cache (key, reply) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET reply = excluded.reply, created_at = now()`, key, string(b))
		return err
	})
}

// CacheSize returns the number of cached replies.
func (s *Store) CacheSize(ctx context.Context) (int, error) {
	if s.empty {
		return 0, nil
	}
	var n int
	err := s.retry(ctx, "count the cache", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT count(*) FROM emer_cache`).Scan(&n)
	})
	return n, err
}

// Meta returns the value stored under key for run, or "" and false.
func (s *Store) Meta(ctx context.Context, run, key string) (string, bool, error) {
	if s.empty {
		return "", false, nil
	}
	var v string
	err := s.retry(ctx, "read meta", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT value FROM emer_meta WHERE run = $1 AND key = $2`, run, key).Scan(&v)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", s.name, err)
	}
	return v, true, nil
}

// SetMeta stores value under key for run.
func (s *Store) SetMeta(ctx context.Context, run, key, value string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.retry(ctx, "store meta", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO emer_meta (run, key, value) VALUES ($1, $2, $3)
			ON CONFLICT (run, key) DO UPDATE SET value = excluded.value`, run, key, value)
		return err
	})
}
