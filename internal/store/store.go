package store

import (
	"context"
	"database/sql"
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

// A migration brings the schema one version up: its SQL, then, when set,
// a step in Go (for data SQL alone cannot convert), in one transaction.
type migration struct {
	sql string
	run func(ctx context.Context, tx *sql.Tx) error
}

// migrations are applied in order; PRAGMA user_version records how many
// have been. Append only: never edit a migration that has shipped.
var migrations = []migration{
	{sql: `CREATE TABLE cache (
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
	);`},
	// The digest of the texts a result judged, so that a result whose ground
	// truth or prediction has since changed is judged again.
	{sql: `ALTER TABLE results ADD COLUMN input_sha256 TEXT NOT NULL DEFAULT '';`},
	// The batch engine's records (see records.go); the judge results move
	// into them, and their old table goes.
	{sql: recordsSchema, run: moveResults},
	// Rating studies (see study.go).
	{sql: studySchema},
	// The review state of descriptions (see review.go).
	{sql: reviewSchema},
	// Reviewers and grounding checks of review in the browser (see reviewers.go).
	{sql: reviewerSchema},
	// Annotation records (see annotations.go).
	{sql: annotationSchema},
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
	// nil in a read-only store, and those of tables its schema lacks.
	getReply, putReply             *sql.Stmt
	putRecord, scanFirst, scanNext *sql.Stmt
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
		{&s.putRecord, putRecordSQL},
		{&s.scanFirst, scanFirstSQL},
		{&s.scanNext, scanNextSQL},
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
	for _, p := range []struct {
		dst     **sql.Stmt
		sql     string
		version int // the schema version that has the table
	}{
		{&s.getReply, `SELECT reply FROM cache WHERE key = ?`, 1},
		{&s.scanFirst, scanFirstSQL, recordsVersion},
		{&s.scanNext, scanNextSQL, recordsVersion},
	} {
		if s.version < p.version {
			continue
		}
		if *p.dst, err = db.PrepareContext(ctx, p.sql); err != nil {
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
	for _, st := range []*sql.Stmt{s.getReply, s.putReply, s.putRecord, s.scanFirst, s.scanNext} {
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
		m := migrations[i]
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if m.run != nil {
			if err := m.run(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
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
