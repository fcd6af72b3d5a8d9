package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver

	"emer/internal/llm"
)

// migrations are applied in order; PRAGMA user_version records how many
// have been. Append only: never edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE cache (
		key        TEXT PRIMARY KEY,
		reply      TEXT NOT NULL,
		created_at TEXT NOT NULL
	);
	CREATE TABLE results (
		sample     TEXT    NOT NULL,
		system     TEXT    NOT NULL,
		metric     TEXT    NOT NULL,
		repeat     INTEGER NOT NULL,
		status     TEXT    NOT NULL,
		score      REAL,
		raw        TEXT    NOT NULL,
		attempts   INTEGER NOT NULL,
		latency_ms INTEGER NOT NULL,
		tokens     INTEGER NOT NULL,
		PRIMARY KEY (sample, system, metric, repeat)
	);
	CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);`,
	// The digest of the texts a result judged, so that a result whose ground
	// truth or prediction has since changed is judged again.
	`ALTER TABLE results ADD COLUMN input_sha256 TEXT NOT NULL DEFAULT '';`,
}

// Store is an open database. It is safe for concurrent use; writes are
// serialized on one connection.
type Store struct {
	db   *sql.DB
	path string

	// readOnly is set by OpenReadOnly: writes fail with ErrReadOnly, and
	// version is the schema as found, which may be older than this emer's.
	readOnly bool
	version  int

	// Statements of the hot paths, prepared once; the writing ones are
	// nil in a read-only store.
	getReply, putReply, putResult *sql.Stmt
}

var _ llm.CacheStore = (*Store)(nil)

// ErrReadOnly is returned by the writing methods of a store opened with
// OpenReadOnly.
var ErrReadOnly = errors.New("store opened read-only")

// Open opens (creating if needed) the database at path and brings its
// schema up to date. A database that cannot be written is reported by
// CheckWritable's error, naming the folder or file, before SQLite is asked.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := CheckWritable(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	db, err := sql.Open("sqlite", dsn(path, q))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One connection: SQLite allows one writer at a time, and a single
	// connection avoids busy-waiting between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path, version: len(migrations)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.getReply, `SELECT reply FROM cache WHERE key = ?`},
		{&s.putReply, `INSERT OR REPLACE INTO cache (key, reply, created_at) VALUES (?, ?, ?)`},
		{&s.putResult, `INSERT OR REPLACE INTO results
			(sample, system, metric, repeat, status, score, raw, attempts, latency_ms, tokens, input_sha256)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		if *p.dst, err = db.PrepareContext(ctx, p.sql); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return s, nil
}

// OpenReadOnly opens the existing database at path for reading only. It
// writes nothing: no data, no schema (no migration is applied; a database
// of an older schema is read as the migrations would leave it), and no
// file beside it, so it works in a folder that cannot be written.
//
// A database with no -wal file beside it holds every commit in its main
// file, which is then read as immutable (SQLite would otherwise make -wal
// and -shm files); a writer that starts while it is open goes unseen, and
// its first checkpoint may make reads fail. With a -wal file (a writer is
// at work, or was killed), the database is read through it, as it stands.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	_, err := os.Stat(path + "-wal")
	immutable := errors.Is(err, fs.ErrNotExist)
	s, err := openReadOnly(ctx, path, immutable)
	if err != nil && !immutable {
		// The -shm file is missing and cannot be made: read the main file.
		var se *sqlite.Error
		if errors.As(err, &se) && (se.Code()&0xff == sqliteReadOnly || se.Code()&0xff == sqliteCantOpen) {
			s, err = openReadOnly(ctx, path, true)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s read-only: %w", path, err)
	}
	if s.version > len(migrations) {
		s.Close()
		return nil, fmt.Errorf("%s: schema version %d is newer than this emer knows (%d)", path, s.version, len(migrations))
	}
	return s, nil
}

// Primary SQLite result codes (the low byte of an extended code).
const (
	sqliteReadOnly = 8
	sqliteCantOpen = 14
)

func openReadOnly(ctx context.Context, path string, immutable bool) (*Store, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	if immutable {
		q.Set("immutable", "1")
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", dsn(path, q))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path, readOnly: true}
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&s.version); err != nil {
		db.Close()
		return nil, err
	}
	if s.version > 0 {
		if s.getReply, err = db.PrepareContext(ctx, `SELECT reply FROM cache WHERE key = ?`); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// dsn returns the SQLite URI of the file at path with the query q. SQLite
// percent-decodes the path of a URI and ends it at '?' or '#', so each
// segment of path is escaped; '/' stays the separator.
func dsn(path string, q url.Values) string {
	segs := strings.Split(filepath.ToSlash(path), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := url.URL{Scheme: "file", Opaque: strings.Join(segs, "/"), RawQuery: q.Encode()}
	return u.String()
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.getReply, s.putReply, s.putResult} {
		if st != nil {
			st.Close()
		}
	}
	return s.db.Close()
}

func (s *Store) migrate(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this emer knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion returns the number of migrations applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	if s.readOnly {
		return s.version, nil
	}
	var v int
	err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

// GetReply returns the cached reply for key.
func (s *Store) GetReply(ctx context.Context, key string) (llm.Reply, bool, error) {
	if s.getReply == nil { // a read-only store of an empty database
		return llm.Reply{}, false, nil
	}
	var text string
	err := s.getReply.QueryRowContext(ctx, key).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return llm.Reply{}, false, nil
	}
	if err != nil {
		return llm.Reply{}, false, err
	}
	var r llm.Reply
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return llm.Reply{}, false, fmt.Errorf("cache entry %s: %w", key, err)
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
	_, err = s.putReply.ExecContext(ctx, key, string(b), time.Now().UTC().Format(time.RFC3339))
	return err
}

// CacheSize returns the number of cached replies.
func (s *Store) CacheSize(ctx context.Context) (int, error) {
	if s.version == 0 {
		return 0, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM cache`).Scan(&n)
	return n, err
}

// Result is one judged item: a sample of a system on a metric, one repeat.
// Its JSON form is a line of results.jsonl.
type Result struct {
	Sample    string   `json:"sample"`
	System    string   `json:"system"`
	Metric    string   `json:"metric"`
	Repeat    int      `json:"repeat"`
	Status    string   `json:"status"`
	Score     *float64 `json:"score,omitempty"` // set only when Status is ok
	Raw       string   `json:"raw"`
	Attempts  int      `json:"attempts"`
	LatencyMS int64    `json:"latency_ms"`
	Tokens    int      `json:"tokens"`

	// InputSHA256 identifies the ground-truth and prediction texts judged
	// (see InputSHA256); it is not part of results.jsonl.
	InputSHA256 string `json:"-"`
}

// InputSHA256 returns the digest of the texts a result judges.
func InputSHA256(gt, pred string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d\x00%s", len(gt), gt, len(pred), pred)
	return hex.EncodeToString(h.Sum(nil))
}

// ResultKey identifies a Result.
type ResultKey struct {
	Sample, System, Metric string
	Repeat                 int
}

// Key returns r's identity.
func (r Result) Key() ResultKey { return ResultKey{r.Sample, r.System, r.Metric, r.Repeat} }

// PutResult stores r, replacing an earlier result with the same key.
func (s *Store) PutResult(ctx context.Context, r Result) error {
	if s.readOnly {
		return ErrReadOnly
	}
	var score any
	if r.Score != nil {
		score = *r.Score
	}
	_, err := s.putResult.ExecContext(ctx, r.Sample, r.System, r.Metric, r.Repeat, r.Status, score, r.Raw, r.Attempts, r.LatencyMS, r.Tokens, r.InputSHA256)
	return err
}

// Results returns every stored result ordered by system, sample, metric
// and repeat.
func (s *Store) Results(ctx context.Context) ([]Result, error) {
	if s.version == 0 {
		return nil, nil
	}
	input := "input_sha256"
	if s.version < 2 { // read-only, before migration 2: no digest, as it would leave them
		input = "''"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sample, system, metric, repeat, status, score, raw, attempts, latency_ms, tokens, `+input+`
		FROM results ORDER BY system, sample, metric, repeat`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var r Result
		var score sql.NullFloat64
		if err := rows.Scan(&r.Sample, &r.System, &r.Metric, &r.Repeat, &r.Status, &score, &r.Raw, &r.Attempts, &r.LatencyMS, &r.Tokens, &r.InputSHA256); err != nil {
			return nil, err
		}
		if score.Valid {
			v := score.Float64
			r.Score = &v
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteResults removes the results with the given status and returns how
// many there were.
func (s *Store) DeleteResults(ctx context.Context, status string) (int, error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM results WHERE status = ?`, status)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Meta returns the value stored under key, or "" and false.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	if s.version == 0 {
		return "", false, nil
	}
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// SetMeta stores value under key.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, key, value)
	return err
}
