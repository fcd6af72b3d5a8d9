package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"emer/internal/study"
)

// The schema versions (emer's migrations) that have the tables of the
// studies, of the review state and of the annotation records.
const (
	studyVersion      = 2
	reviewVersion     = 3
	annotationVersion = 4
)

// studyLock is the second key of the advisory lock every writing
// transaction of the studies holds (the first is migrateLock): they run
// one at a time, as they do on SQLite, so that two raters are never
// handed the last free place on a clip.
const studyLock = 1

// txKind is how a transaction of inTx runs.
type txKind int

const (
	// readTx reads one snapshot and writes nothing.
	readTx txKind = iota
	// writeTx reads committed data: for writes that need no more, such
	// as upserts.
	writeTx
	// serialTx is serializable: it runs again when PostgreSQL finds it
	// conflicting with another.
	serialTx
	// lockedTx holds the studies' lock from its first statement, and
	// reads committed data, so that each statement sees what the
	// transaction before it wrote.
	lockedTx
)

// inTx runs fn in a transaction of kind that is committed when fn returns
// nil; inTx returns nil once it is. A serialization failure or a deadlock
// runs fn again after a short random pause; a lost connection is tried
// again as every operation of the store is (see retry). When the
// connection is lost while the commit was on its way, whether it was
// committed is looked up before fn runs again, so that nothing is ever
// committed twice. fn must be safe to run more than once: it must set
// what it returns afresh on each run.
func (s *Store) inTx(ctx context.Context, what string, kind txKind, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if kind != readTx && s.readOnly {
		return ErrReadOnly
	}
	var unsure string // the transaction id of a commit whose outcome is not known
	return s.retry(ctx, what, func(ctx context.Context) error {
		if unsure != "" {
			done, err := s.committed(ctx, unsure)
			if err != nil {
				return err
			}
			unsure = ""
			if done {
				return nil
			}
		}
		for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
			xid, err := s.tryTx(ctx, kind, fn)
			if xid != "" {
				unsure = xid
				return err
			}
			if !conflict(err) {
				return err
			}
			t := time.NewTimer(pause/2 + rand.N(pause))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	})
}

// conflict reports whether err is a serialization failure or a deadlock,
// which running the transaction again resolves.
func conflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// tryTx runs fn once in a transaction of kind. It returns the
// transaction's id when the connection was lost during the commit, which
// may then have happened or not.
func (s *Store) tryTx(ctx context.Context, kind txKind, fn func(ctx context.Context, tx pgx.Tx) error) (unsure string, err error) {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	switch kind {
	case writeTx, lockedTx:
		opts = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	case serialTx:
		opts = pgx.TxOptions{IsoLevel: pgx.Serializable}
	}
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // nothing once committed
	var xid string
	switch kind {
	case writeTx, serialTx:
		err = tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xid)
	case lockedTx:
		err = tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text FROM (SELECT pg_advisory_xact_lock($1, $2)) l`,
			int32(migrateLock), int32(studyLock)).Scan(&xid)
	}
	if err != nil {
		return "", err
	}
	if err := fn(ctx, tx); err != nil {
		return "", err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(ctx, tx); err != nil {
			return "", err
		}
	}
	err = tx.Commit(ctx)
	var pe *pgconn.PgError
	if err != nil && xid != "" && !errors.As(err, &pe) && transient(err) {
		return xid, err
	}
	return "", err
}

// committed reports whether the transaction xid was committed, waiting
// while the server still has it in progress (it notices a lost
// connection soon).
func (s *Store) committed(ctx context.Context, xid string) (bool, error) {
	for {
		var st *string
		if err := s.pool.QueryRow(ctx, `SELECT pg_xact_status($1::xid8)`, xid).Scan(&st); err != nil {
			return false, err
		}
		switch {
		case st == nil:
			return false, fmt.Errorf("transaction %s: too old to know whether it was committed", xid)
		case *st != "in progress":
			return *st == "committed", nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// schemaCheck remembers whether a read-only store has the tables of a
// schema version; a store that migrated has them all.
type schemaCheck struct {
	mu    sync.Mutex
	known bool
	has   bool
}

// tables reports whether s has the tables of schema version v.
func (c *schemaCheck) tables(ctx context.Context, s *Store, v int) (bool, error) {
	if !s.readOnly {
		return true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		have, err := s.Version(ctx)
		if err != nil {
			return false, fmt.Errorf("%s: %w", s.name, err)
		}
		c.known, c.has = true, have >= v
	}
	return c.has, nil
}

// Studies is the study.Store of a Store: the rating studies of emer
// serve, which any number of emer serve processes may share. It is safe
// for concurrent use. A read-only store of a database without the study
// tables reads as holding no study.
type Studies struct {
	s      *Store
	schema schemaCheck

	// The clips and candidates read, which never change once stored, so
	// that a rater's next clip costs fewer round trips while the
	// studies' lock is held.
	mu    sync.RWMutex
	clips map[clipKey]study.Clip
	cands map[clipKey][]study.Candidate
}

// clipKey is a clip of a study.
type clipKey struct {
	study int64
	clip  string
}

var _ study.Store = (*Studies)(nil)

// Studies returns the rating studies kept in s.
func (s *Store) Studies() *Studies {
	return &Studies{s: s, clips: map[clipKey]study.Clip{}, cands: map[clipKey][]study.Candidate{}}
}

// NewStudies returns the rating studies kept in s, as (*Store).Studies.
func NewStudies(s *Store) *Studies { return s.Studies() }

// Close releases nothing: the Store keeps the connections. It is there
// to be closed as the SQLite store's Studies are.
func (st *Studies) Close() error { return nil }

// View runs fn in a read-only transaction that sees one snapshot.
func (st *Studies) View(ctx context.Context, fn func(study.Tx) error) error {
	ok, err := st.schema.tables(ctx, st.s, studyVersion)
	if err != nil {
		return err
	}
	if !ok {
		return fn(noStudies{})
	}
	return st.s.inTx(ctx, "read studies", readTx, func(ctx context.Context, tx pgx.Tx) error {
		return fn(&studyTx{ctx: ctx, tx: tx, st: st})
	})
}

// Update runs fn in a transaction that is committed when fn returns nil:
// when Update returns nil, what fn wrote is committed to the database.
// The writing transactions of every process on the database run one at
// a time, as on SQLite; fn may run more than once (after a lost
// connection), and must set what it returns afresh each time.
func (st *Studies) Update(ctx context.Context, fn func(study.Tx) error) error {
	return st.s.inTx(ctx, "store studies", lockedTx, func(ctx context.Context, tx pgx.Tx) error {
		return fn(&studyTx{ctx: ctx, tx: tx, st: st})
	})
}

// studyTx is a study.Tx over a PostgreSQL transaction.
type studyTx struct {
	ctx context.Context
	tx  pgx.Tx
	st  *Studies

	// added is set once the transaction adds a study, a clip or a
	// candidate: what it reads of clips may then be rolled back, and is
	// not kept in the cache.
	added bool
	// hold is the hold of rater read with Loads, while no hold has been
	// written since: Next asks for it next.
	hold *prefetched
}

// prefetched is a rater's hold as read.
type prefetched struct {
	rater int64
	h     study.Hold
	ok    bool
}

// notFound turns pgx.ErrNoRows into study.ErrNotFound.
func notFound(err error, what string, key any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %v: %w", what, key, study.ErrNotFound)
	}
	return err
}

// stamp returns t as the stores keep times: in UTC, to the microsecond.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (t *studyTx) AddStudy(s *study.Study) error {
	t.added = true
	src, err := json.Marshal(s.Sources)
	if err != nil {
		return err
	}
	// IDs follow on from the highest, as SQLite's do: the lock keeps
	// writers apart.
	return t.tx.QueryRow(t.ctx, `INSERT INTO emer_studies (id, name, target, seed, secret, sources, created_at)
		SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6 FROM emer_studies RETURNING id`,
		s.Name, s.Target, s.Seed, s.Secret, string(src), stamp(s.Created)).Scan(&s.ID)
}

func (t *studyTx) AddClip(c study.Clip) error {
	t.added = true
	subs, err := json.Marshal(c.Subtitles)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO emer_study_clips (study, id, name, media, rank, subtitles) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Study, c.ID, c.Name, c.Media, c.Rank, string(subs))
	return err
}

func (t *studyTx) AddCandidate(c study.Candidate) error {
	t.added = true
	_, err := t.tx.Exec(t.ctx, `INSERT INTO emer_study_candidates (study, clip, id, source, text) VALUES ($1, $2, $3, $4, $5)`,
		c.Study, c.Clip, c.ID, c.Source, c.Text)
	return err
}

const studyColumns = `id, name, target, seed, secret, sources, created_at`

func scanStudy(r pgx.Row) (study.Study, error) {
	var s study.Study
	var src string
	if err := r.Scan(&s.ID, &s.Name, &s.Target, &s.Seed, &s.Secret, &src, &s.Created); err != nil {
		return s, err
	}
	s.Created = s.Created.UTC()
	if err := json.Unmarshal([]byte(src), &s.Sources); err != nil {
		return s, fmt.Errorf("study %d: sources: %w", s.ID, err)
	}
	return s, nil
}

func (t *studyTx) Study(id int64) (study.Study, error) {
	s, err := scanStudy(t.tx.QueryRow(t.ctx, `SELECT `+studyColumns+` FROM emer_studies WHERE id = $1`, id))
	return s, notFound(err, "study", id)
}

func (t *studyTx) Studies() ([]study.Study, error) {
	return collect(t.ctx, t.tx, scanStudy, `SELECT `+studyColumns+` FROM emer_studies ORDER BY id`)
}

// collect runs the query q in tx and scans every row with scan.
func collect[T any](ctx context.Context, tx pgx.Tx, scan func(pgx.Row) (T, error), q string, args ...any) ([]T, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const clipColumns = `study, id, name, media, rank, subtitles`

func scanClip(r pgx.Row) (study.Clip, error) {
	var c study.Clip
	var subs string
	if err := r.Scan(&c.Study, &c.ID, &c.Name, &c.Media, &c.Rank, &subs); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(subs), &c.Subtitles); err != nil {
		return c, fmt.Errorf("clip %s: subtitles: %w", c.ID, err)
	}
	return c, nil
}

func (t *studyTx) Clip(st int64, id string) (study.Clip, error) {
	k := clipKey{st, id}
	t.st.mu.RLock()
	c, ok := t.st.clips[k]
	t.st.mu.RUnlock()
	if ok {
		return cloneClip(c), nil
	}
	c, err := scanClip(t.tx.QueryRow(t.ctx, `SELECT `+clipColumns+` FROM emer_study_clips WHERE study = $1 AND id = $2`, st, id))
	if err != nil {
		return c, notFound(err, "clip", id)
	}
	if !t.added {
		t.st.mu.Lock()
		t.st.clips[k] = cloneClip(c)
		t.st.mu.Unlock()
	}
	return c, nil
}

func cloneClip(c study.Clip) study.Clip {
	c.Subtitles.Cues = slices.Clone(c.Subtitles.Cues)
	return c
}

func (t *studyTx) Clips(st int64) ([]study.Clip, error) {
	return collect(t.ctx, t.tx, scanClip, `SELECT `+clipColumns+` FROM emer_study_clips WHERE study = $1 ORDER BY rank`, st)
}

func (t *studyTx) Candidates(st int64, clip string) ([]study.Candidate, error) {
	k := clipKey{st, clip}
	t.st.mu.RLock()
	cs, ok := t.st.cands[k]
	t.st.mu.RUnlock()
	if ok {
		return slices.Clone(cs), nil
	}
	cs, err := collect(t.ctx, t.tx, func(r pgx.Row) (study.Candidate, error) {
		var c study.Candidate
		err := r.Scan(&c.Study, &c.Clip, &c.ID, &c.Source, &c.Text)
		return c, err
	}, `SELECT study, clip, id, source, text FROM emer_study_candidates WHERE study = $1 AND clip = $2 ORDER BY id`, st, clip)
	// A clip's candidates are stored with it: none means no such clip
	// yet, which is not kept.
	if err == nil && len(cs) > 0 && !t.added {
		t.st.mu.Lock()
		t.st.cands[k] = slices.Clone(cs)
		t.st.mu.Unlock()
	}
	return cs, err
}

func (t *studyTx) AddRater(r *study.Rater) error {
	return t.tx.QueryRow(t.ctx, `INSERT INTO emer_study_raters (id, study, label, token_sha256, created_at)
		SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4 FROM emer_study_raters RETURNING id`,
		r.Study, r.Label, r.TokenHash[:], stamp(r.Created)).Scan(&r.ID)
}

const raterColumns = `id, study, label, token_sha256, created_at`

func scanRater(r pgx.Row) (study.Rater, error) {
	var out study.Rater
	var hash []byte
	if err := r.Scan(&out.ID, &out.Study, &out.Label, &hash, &out.Created); err != nil {
		return out, err
	}
	if len(hash) != len(out.TokenHash) {
		return out, fmt.Errorf("rater %d: token hash of %d bytes", out.ID, len(hash))
	}
	copy(out.TokenHash[:], hash)
	out.Created = out.Created.UTC()
	return out, nil
}

func (t *studyTx) Rater(hash [32]byte) (study.Rater, error) {
	r, err := scanRater(t.tx.QueryRow(t.ctx, `SELECT `+raterColumns+` FROM emer_study_raters WHERE token_sha256 = $1`, hash[:]))
	return r, notFound(err, "rater", "of that token")
}

func (t *studyTx) Raters(st int64) ([]study.Rater, error) {
	return collect(t.ctx, t.tx, scanRater, `SELECT `+raterColumns+` FROM emer_study_raters WHERE study = $1 ORDER BY id`, st)
}

func scanShown(s string, dst *[]int) error { return json.Unmarshal([]byte(s), dst) }

const holdSQL = `SELECT study, clip, expires_ms, shown FROM emer_study_holds WHERE rater = $1`

func (t *studyTx) Hold(rater int64) (study.Hold, bool, error) {
	if p := t.hold; p != nil && p.rater == rater {
		h := p.h
		h.Shown = slices.Clone(h.Shown)
		return h, p.ok, nil
	}
	return scanHold(t.tx.QueryRow(t.ctx, holdSQL, rater), rater)
}

func scanHold(r pgx.Row, rater int64) (study.Hold, bool, error) {
	h := study.Hold{Rater: rater}
	var ms int64
	var shown string
	err := r.Scan(&h.Study, &h.Clip, &ms, &shown)
	if errors.Is(err, pgx.ErrNoRows) {
		return study.Hold{}, false, nil
	}
	if err != nil {
		return h, false, err
	}
	h.Expires = time.UnixMilli(ms).UTC()
	if err := scanShown(shown, &h.Shown); err != nil {
		return h, false, fmt.Errorf("hold of rater %d: %w", rater, err)
	}
	return h, true, nil
}

func (t *studyTx) PutHold(h study.Hold) error {
	t.hold = nil
	shown, err := json.Marshal(h.Shown)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO emer_study_holds (rater, study, clip, expires_ms, shown) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (rater) DO UPDATE SET study = excluded.study, clip = excluded.clip,
			expires_ms = excluded.expires_ms, shown = excluded.shown`,
		h.Rater, h.Study, h.Clip, h.Expires.UnixMilli(), string(shown))
	return err
}

func (t *studyTx) DropHold(rater int64) error {
	t.hold = nil
	_, err := t.tx.Exec(t.ctx, `DELETE FROM emer_study_holds WHERE rater = $1`, rater)
	return err
}

func (t *studyTx) Holds(st int64) ([]study.Hold, error) {
	return collect(t.ctx, t.tx, func(r pgx.Row) (study.Hold, error) {
		var h study.Hold
		var ms int64
		var shown string
		if err := r.Scan(&h.Rater, &h.Study, &h.Clip, &ms, &shown); err != nil {
			return h, err
		}
		h.Expires = time.UnixMilli(ms).UTC()
		return h, scanShown(shown, &h.Shown)
	}, `SELECT rater, study, clip, expires_ms, shown FROM emer_study_holds WHERE study = $1 ORDER BY rater`, st)
}

// Loads reads the rater's hold too, in the same round trip, for the
// Hold that follows it in a rater's next clip.
func (t *studyTx) Loads(st, rater int64, now time.Time) ([]study.Load, error) {
	b := &pgx.Batch{}
	var out []study.Load
	b.Queue(`SELECT c.id, c.rank,
		(SELECT count(*) FROM emer_study_done d WHERE d.study = c.study AND d.clip = c.id),
		(SELECT count(*) FROM emer_study_holds h WHERE h.study = c.study AND h.clip = c.id AND h.expires_ms > $2 AND h.rater <> $3),
		EXISTS (SELECT 1 FROM emer_study_done d WHERE d.study = c.study AND d.clip = c.id AND d.rater = $3)
		FROM emer_study_clips c WHERE c.study = $1 ORDER BY c.rank`, st, now.UnixMilli(), rater).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var l study.Load
			if err := rows.Scan(&l.Clip, &l.Rank, &l.Done, &l.Held, &l.DoneByRater); err != nil {
				return err
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	var hold *prefetched
	if rater != 0 {
		b.Queue(holdSQL, rater).QueryRow(func(r pgx.Row) error {
			h, ok, err := scanHold(r, rater)
			if err == nil {
				hold = &prefetched{rater: rater, h: h, ok: ok}
			}
			return err
		})
	}
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return nil, err
	}
	t.hold = hold
	return out, nil
}

func (t *studyTx) Complete(c study.Completion) error {
	if len(c.Scores) != len(c.Shown) {
		return fmt.Errorf("completion of clip %s: %d scores for %d reasonings", c.Clip, len(c.Scores), len(c.Shown))
	}
	shown, err := json.Marshal(c.Shown)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO emer_study_done (study, clip, rater, shown, at) VALUES ($1, $2, $3, $4, $5)`,
		c.Study, c.Clip, c.Rater, string(shown), stamp(c.At))
	for i, cand := range c.Shown {
		b.Queue(`INSERT INTO emer_study_ratings (study, clip, rater, candidate, position, score) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.Study, c.Clip, c.Rater, cand, i, int(c.Scores[i]))
	}
	return t.tx.SendBatch(t.ctx, b).Close()
}

func (t *studyTx) Done(rater int64, clip string) (bool, error) {
	var ok bool
	err := t.tx.QueryRow(t.ctx, `SELECT EXISTS (SELECT 1 FROM emer_study_done WHERE rater = $1 AND clip = $2)`, rater, clip).Scan(&ok)
	return ok, err
}

func (t *studyTx) Completions(st int64) ([]study.Completion, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT d.clip, d.rater, d.shown, d.at, r.position, r.score
		FROM emer_study_done d JOIN emer_study_ratings r USING (study, clip, rater)
		WHERE d.study = $1 ORDER BY d.at, d.rater, d.clip, r.position`, st)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []study.Completion
	for rows.Next() {
		var clip, shown string
		var at time.Time
		var rater int64
		var pos, score int
		if err := rows.Scan(&clip, &rater, &shown, &at, &pos, &score); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].Clip != clip || out[n-1].Rater != rater {
			c := study.Completion{Study: st, Rater: rater, Clip: clip, At: at.UTC()}
			if err := scanShown(shown, &c.Shown); err != nil {
				return nil, fmt.Errorf("ratings of rater %d on clip %s: %w", rater, clip, err)
			}
			out = append(out, c)
		}
		c := &out[len(out)-1]
		if pos != len(c.Scores) {
			return nil, fmt.Errorf("ratings of rater %d on clip %s: position %d where %d was expected", rater, clip, pos, len(c.Scores))
		}
		c.Scores = append(c.Scores, study.Score(score))
	}
	return out, rows.Err()
}

// noStudies is the study.Tx of a read-only store without the study
// tables: it holds nothing and takes nothing.
type noStudies struct{}

func (noStudies) AddStudy(*study.Study) error        { return ErrReadOnly }
func (noStudies) AddClip(study.Clip) error           { return ErrReadOnly }
func (noStudies) AddCandidate(study.Candidate) error { return ErrReadOnly }
func (noStudies) Study(id int64) (study.Study, error) {
	return study.Study{}, notFound(pgx.ErrNoRows, "study", id)
}
func (noStudies) Studies() ([]study.Study, error) { return nil, nil }
func (noStudies) Clip(_ int64, id string) (study.Clip, error) {
	return study.Clip{}, notFound(pgx.ErrNoRows, "clip", id)
}
func (noStudies) Clips(int64) ([]study.Clip, error)                   { return nil, nil }
func (noStudies) Candidates(int64, string) ([]study.Candidate, error) { return nil, nil }
func (noStudies) AddRater(*study.Rater) error                         { return ErrReadOnly }
func (noStudies) Raters(int64) ([]study.Rater, error)                 { return nil, nil }
func (noStudies) Hold(int64) (study.Hold, bool, error)                { return study.Hold{}, false, nil }
func (noStudies) PutHold(study.Hold) error                            { return ErrReadOnly }
func (noStudies) DropHold(int64) error                                { return ErrReadOnly }
func (noStudies) Holds(int64) ([]study.Hold, error)                   { return nil, nil }
func (noStudies) Loads(int64, int64, time.Time) ([]study.Load, error) { return nil, nil }
func (noStudies) Complete(study.Completion) error                     { return ErrReadOnly }
func (noStudies) Done(int64, string) (bool, error)                    { return false, nil }
func (noStudies) Completions(int64) ([]study.Completion, error)       { return nil, nil }
func (noStudies) Rater([32]byte) (study.Rater, error) {
	return study.Rater{}, notFound(pgx.ErrNoRows, "rater", "of that token")
}
