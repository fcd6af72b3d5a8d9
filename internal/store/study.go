package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"emer/internal/study"
)

// studySchema holds rating studies (see internal/study): the studies,
// their clips and candidate reasonings, the raters (their tokens only as
// hashes), the clip each rater holds, and the completed ratings with the
// order the candidates were shown in.
const studySchema = `CREATE TABLE studies (
		id         INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		target     INTEGER NOT NULL,
		seed       INTEGER NOT NULL,
		secret     BLOB    NOT NULL,
		sources    TEXT    NOT NULL,
		created_at TEXT    NOT NULL
	);
	CREATE TABLE study_clips (
		study     INTEGER NOT NULL REFERENCES studies (id),
		id        TEXT    NOT NULL,
		name      TEXT    NOT NULL,
		media     TEXT    NOT NULL,
		rank      INTEGER NOT NULL,
		subtitles TEXT    NOT NULL,
		PRIMARY KEY (study, id),
		UNIQUE (study, name)
	);
	CREATE TABLE study_candidates (
		study  INTEGER NOT NULL,
		clip   TEXT    NOT NULL,
		id     INTEGER NOT NULL,
		source TEXT    NOT NULL,
		text   TEXT    NOT NULL,
		PRIMARY KEY (study, clip, id),
		FOREIGN KEY (study, clip) REFERENCES study_clips (study, id)
	);
	CREATE TABLE study_raters (
		id           INTEGER PRIMARY KEY,
		study        INTEGER NOT NULL REFERENCES studies (id),
		label        TEXT    NOT NULL,
		token_sha256 BLOB    NOT NULL UNIQUE,
		created_at   TEXT    NOT NULL
	);
	CREATE INDEX study_raters_study ON study_raters (study);
	CREATE TABLE study_holds (
		rater      INTEGER PRIMARY KEY REFERENCES study_raters (id),
		study      INTEGER NOT NULL,
		clip       TEXT    NOT NULL,
		expires_ms INTEGER NOT NULL,
		shown      TEXT    NOT NULL,
		FOREIGN KEY (study, clip) REFERENCES study_clips (study, id)
	);
	CREATE INDEX study_holds_clip ON study_holds (study, clip);
	CREATE TABLE study_done (
		study INTEGER NOT NULL,
		clip  TEXT    NOT NULL,
		rater INTEGER NOT NULL REFERENCES study_raters (id),
		shown TEXT    NOT NULL,
		at    TEXT    NOT NULL,
		PRIMARY KEY (study, clip, rater),
		FOREIGN KEY (study, clip) REFERENCES study_clips (study, id)
	);
	CREATE INDEX study_done_rater ON study_done (rater, clip);
	CREATE TABLE study_ratings (
		study     INTEGER NOT NULL,
		clip      TEXT    NOT NULL,
		rater     INTEGER NOT NULL,
		candidate INTEGER NOT NULL,
		position  INTEGER NOT NULL,
		score     INTEGER NOT NULL CHECK (score BETWEEN 1 AND 4),
		PRIMARY KEY (study, clip, rater, candidate),
		FOREIGN KEY (study, clip, rater) REFERENCES study_done (study, clip, rater),
		FOREIGN KEY (study, clip, candidate) REFERENCES study_candidates (study, clip, id)
	);`

// studyVersion is the schema version that has the study tables.
const studyVersion = 4

// timeLayout writes times in UTC at a fixed width, so that they sort as
// text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// Studies is the study.Store of a Store. It is safe for concurrent use.
type Studies struct {
	s *Store

	// mu queues the transactions: the Store has one connection, which
	// database/sql hands to a random waiter, so that under load a few
	// would wait far longer than the rest; a sync.Mutex that waiters
	// have queued on for over a millisecond is handed on in order.
	mu sync.Mutex

	once  sync.Once
	stmts map[string]*sql.Stmt
	err   error
}

var _ study.Store = (*Studies)(nil)

// NewStudies returns the rating studies of s. Their statements are
// prepared at first use; Close them before closing s.
func NewStudies(s *Store) *Studies { return &Studies{s: s} }

// The statements of the hot paths (a rater's next clip and submission).
var studyStmts = map[string]string{
	"loads": `SELECT c.id, c.rank,
		(SELECT count(*) FROM study_done d WHERE d.study = c.study AND d.clip = c.id),
		(SELECT count(*) FROM study_holds h WHERE h.study = c.study AND h.clip = c.id AND h.expires_ms > ?2 AND h.rater <> ?3),
		EXISTS (SELECT 1 FROM study_done d WHERE d.study = c.study AND d.clip = c.id AND d.rater = ?3)
		FROM study_clips c WHERE c.study = ?1 ORDER BY c.rank`,
	"hold":       `SELECT study, clip, expires_ms, shown FROM study_holds WHERE rater = ?`,
	"putHold":    `INSERT OR REPLACE INTO study_holds (rater, study, clip, expires_ms, shown) VALUES (?, ?, ?, ?, ?)`,
	"dropHold":   `DELETE FROM study_holds WHERE rater = ?`,
	"done":       `SELECT EXISTS (SELECT 1 FROM study_done WHERE rater = ? AND clip = ?)`,
	"putDone":    `INSERT INTO study_done (study, clip, rater, shown, at) VALUES (?, ?, ?, ?, ?)`,
	"putRating":  `INSERT INTO study_ratings (study, clip, rater, candidate, position, score) VALUES (?, ?, ?, ?, ?, ?)`,
	"rater":      `SELECT id, study, label, token_sha256, created_at FROM study_raters WHERE token_sha256 = ?`,
	"study":      `SELECT id, name, target, seed, secret, sources, created_at FROM studies WHERE id = ?`,
	"clip":       `SELECT study, id, name, media, rank, subtitles FROM study_clips WHERE study = ? AND id = ?`,
	"candidates": `SELECT study, clip, id, source, text FROM study_candidates WHERE study = ? AND clip = ? ORDER BY id`,
}

func (st *Studies) prepare(ctx context.Context) error {
	st.once.Do(func() {
		if st.s.version < studyVersion {
			st.err = fmt.Errorf("%s: schema version %d has no study tables (%d does)", st.s.path, st.s.version, studyVersion)
			return
		}
		st.stmts = map[string]*sql.Stmt{}
		for name, q := range studyStmts {
			p, err := st.s.db.PrepareContext(ctx, q)
			if err != nil {
				st.err = fmt.Errorf("%s: %w", st.s.path, err)
				return
			}
			st.stmts[name] = p
		}
	})
	return st.err
}

// Close closes the statements; the Store stays open.
func (st *Studies) Close() error {
	st.once.Do(func() { st.err = errors.New("study statements closed") })
	for _, p := range st.stmts {
		p.Close()
	}
	return nil
}

// View runs fn in a read-only transaction.
func (st *Studies) View(ctx context.Context, fn func(study.Tx) error) error {
	return st.run(ctx, true, fn)
}

// Update runs fn in a transaction that is committed when fn returns nil:
// when Update returns nil, what fn wrote is in the database file's
// write-ahead log, and survives the process being killed.
func (st *Studies) Update(ctx context.Context, fn func(study.Tx) error) error {
	if st.s.readOnly {
		return ErrReadOnly
	}
	return st.run(ctx, false, fn)
}

func (st *Studies) run(ctx context.Context, readOnly bool, fn func(study.Tx) error) error {
	if err := st.prepare(ctx); err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	tx, err := st.s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return err
	}
	if err := fn(&studyTx{ctx: ctx, tx: tx, st: st}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// studyTx is a study.Tx over an SQL transaction.
type studyTx struct {
	ctx context.Context
	tx  *sql.Tx
	st  *Studies
}

func (t *studyTx) stmt(name string) *sql.Stmt { return t.tx.StmtContext(t.ctx, t.st.stmts[name]) }

func (t *studyTx) exec(q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx, q, args...)
}

// notFound turns sql.ErrNoRows into study.ErrNotFound.
func notFound(err error, what string, key any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %v: %w", what, key, study.ErrNotFound)
	}
	return err
}

func (t *studyTx) AddStudy(s *study.Study) error {
	src, err := json.Marshal(s.Sources)
	if err != nil {
		return err
	}
	res, err := t.exec(`INSERT INTO studies (name, target, seed, secret, sources, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		s.Name, s.Target, s.Seed, s.Secret, string(src), formatTime(s.Created))
	if err != nil {
		return err
	}
	s.ID, err = res.LastInsertId()
	return err
}

func (t *studyTx) AddClip(c study.Clip) error {
	subs, err := json.Marshal(c.Subtitles)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO study_clips (study, id, name, media, rank, subtitles) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Study, c.ID, c.Name, c.Media, c.Rank, string(subs))
	return err
}

func (t *studyTx) AddCandidate(c study.Candidate) error {
	_, err := t.exec(`INSERT INTO study_candidates (study, clip, id, source, text) VALUES (?, ?, ?, ?, ?)`,
		c.Study, c.Clip, c.ID, c.Source, c.Text)
	return err
}

type studyRow interface{ Scan(dest ...any) error }

func scanStudy(r studyRow) (study.Study, error) {
	var s study.Study
	var src, created string
	if err := r.Scan(&s.ID, &s.Name, &s.Target, &s.Seed, &s.Secret, &src, &created); err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(src), &s.Sources); err != nil {
		return s, fmt.Errorf("study %d: sources: %w", s.ID, err)
	}
	var err error
	if s.Created, err = parseTime(created); err != nil {
		return s, fmt.Errorf("study %d: %w", s.ID, err)
	}
	return s, nil
}

func (t *studyTx) Study(id int64) (study.Study, error) {
	s, err := scanStudy(t.stmt("study").QueryRowContext(t.ctx, id))
	return s, notFound(err, "study", id)
}

func (t *studyTx) Studies() ([]study.Study, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, name, target, seed, secret, sources, created_at FROM studies ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanStudy)
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(studyRow) (T, error)) ([]T, error) {
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

func scanClip(r studyRow) (study.Clip, error) {
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
	c, err := scanClip(t.stmt("clip").QueryRowContext(t.ctx, st, id))
	return c, notFound(err, "clip", id)
}

func (t *studyTx) Clips(st int64) ([]study.Clip, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT study, id, name, media, rank, subtitles FROM study_clips WHERE study = ? ORDER BY rank`, st)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanClip)
}

func (t *studyTx) Candidates(st int64, clip string) ([]study.Candidate, error) {
	rows, err := t.stmt("candidates").QueryContext(t.ctx, st, clip)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r studyRow) (study.Candidate, error) {
		var c study.Candidate
		err := r.Scan(&c.Study, &c.Clip, &c.ID, &c.Source, &c.Text)
		return c, err
	})
}

func (t *studyTx) AddRater(r *study.Rater) error {
	res, err := t.exec(`INSERT INTO study_raters (study, label, token_sha256, created_at) VALUES (?, ?, ?, ?)`,
		r.Study, r.Label, r.TokenHash[:], formatTime(r.Created))
	if err != nil {
		return err
	}
	r.ID, err = res.LastInsertId()
	return err
}

func scanRater(r studyRow) (study.Rater, error) {
	var out study.Rater
	var hash []byte
	var created string
	if err := r.Scan(&out.ID, &out.Study, &out.Label, &hash, &created); err != nil {
		return out, err
	}
	if len(hash) != len(out.TokenHash) {
		return out, fmt.Errorf("rater %d: token hash of %d bytes", out.ID, len(hash))
	}
	copy(out.TokenHash[:], hash)
	var err error
	out.Created, err = parseTime(created)
	return out, err
}

func (t *studyTx) Rater(hash [32]byte) (study.Rater, error) {
	r, err := scanRater(t.stmt("rater").QueryRowContext(t.ctx, hash[:]))
	return r, notFound(err, "rater", "of that token")
}

func (t *studyTx) Raters(st int64) ([]study.Rater, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, study, label, token_sha256, created_at FROM study_raters WHERE study = ? ORDER BY id`, st)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanRater)
}

func scanShown(s string, dst *[]int) error { return json.Unmarshal([]byte(s), dst) }

func (t *studyTx) Hold(rater int64) (study.Hold, bool, error) {
	h := study.Hold{Rater: rater}
	var ms int64
	var shown string
	err := t.stmt("hold").QueryRowContext(t.ctx, rater).Scan(&h.Study, &h.Clip, &ms, &shown)
	if errors.Is(err, sql.ErrNoRows) {
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
	shown, err := json.Marshal(h.Shown)
	if err != nil {
		return err
	}
	_, err = t.stmt("putHold").ExecContext(t.ctx, h.Rater, h.Study, h.Clip, h.Expires.UnixMilli(), string(shown))
	return err
}

func (t *studyTx) DropHold(rater int64) error {
	_, err := t.stmt("dropHold").ExecContext(t.ctx, rater)
	return err
}

func (t *studyTx) Holds(st int64) ([]study.Hold, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT rater, study, clip, expires_ms, shown FROM study_holds WHERE study = ? ORDER BY rater`, st)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r studyRow) (study.Hold, error) {
		var h study.Hold
		var ms int64
		var shown string
		if err := r.Scan(&h.Rater, &h.Study, &h.Clip, &ms, &shown); err != nil {
			return h, err
		}
		h.Expires = time.UnixMilli(ms).UTC()
		return h, scanShown(shown, &h.Shown)
	})
}

func (t *studyTx) Loads(st, rater int64, now time.Time) ([]study.Load, error) {
	rows, err := t.stmt("loads").QueryContext(t.ctx, st, now.UnixMilli(), rater)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r studyRow) (study.Load, error) {
		var l study.Load
		err := r.Scan(&l.Clip, &l.Rank, &l.Done, &l.Held, &l.DoneByRater)
		return l, err
	})
}

func (t *studyTx) Complete(c study.Completion) error {
	if len(c.Scores) != len(c.Shown) {
		return fmt.Errorf("completion of clip %s: %d scores for %d reasonings", c.Clip, len(c.Scores), len(c.Shown))
	}
	shown, err := json.Marshal(c.Shown)
	if err != nil {
		return err
	}
	if _, err := t.stmt("putDone").ExecContext(t.ctx, c.Study, c.Clip, c.Rater, string(shown), formatTime(c.At)); err != nil {
		return err
	}
	put := t.stmt("putRating")
	for i, cand := range c.Shown {
		if _, err := put.ExecContext(t.ctx, c.Study, c.Clip, c.Rater, cand, i, int(c.Scores[i])); err != nil {
			return err
		}
	}
	return nil
}

func (t *studyTx) Done(rater int64, clip string) (bool, error) {
	var ok bool
	err := t.stmt("done").QueryRowContext(t.ctx, rater, clip).Scan(&ok)
	return ok, err
}

func (t *studyTx) Completions(st int64) ([]study.Completion, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT d.clip, d.rater, d.shown, d.at, r.position, r.score
		FROM study_done d JOIN study_ratings r USING (study, clip, rater)
		WHERE d.study = ? ORDER BY d.at, d.rater, d.clip, r.position`, st)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []study.Completion
	for rows.Next() {
		var clip, shown, at string
		var rater int64
		var pos, score int
		if err := rows.Scan(&clip, &rater, &shown, &at, &pos, &score); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].Clip != clip || out[n-1].Rater != rater {
			c := study.Completion{Study: st, Rater: rater, Clip: clip}
			if err := scanShown(shown, &c.Shown); err != nil {
				return nil, fmt.Errorf("ratings of rater %d on clip %s: %w", rater, clip, err)
			}
			if c.At, err = parseTime(at); err != nil {
				return nil, err
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
