package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"emer/internal/config"
)

// migrations are emer's own schema steps, applied in order after River's;
// the table emer_schema records each one applied. Append only: never
// edit a migration that has shipped.
var migrations = []string{
	// Records of the batch engine: one row per item of a run, keyed by run,
	// kind and key. Keys are bytes, compared bytewise as batch.Ledger wants
	// (a text column would compare by the database's collation and refuse
	// bytes that are not UTF-8).
	`CREATE TABLE emer_records (
		run        text        NOT NULL,
		kind       text        NOT NULL,
		key        bytea       NOT NULL,
		input      bytea       NOT NULL,
		class      text        NOT NULL CHECK (class IN ('final', 'retry')),
		status     text        NOT NULL,
		payload    bytea       NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (run, kind, key)
	);
	CREATE INDEX emer_records_updated ON emer_records (run, kind, updated_at);
	CREATE TABLE emer_cache (
		key        text        PRIMARY KEY,
		reply      text        NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE emer_meta (
		run   text NOT NULL,
		key   text NOT NULL,
		value text NOT NULL,
		PRIMARY KEY (run, key)
	);
	CREATE TABLE emer_workers (
		id         text        PRIMARY KEY,
		host       text        NOT NULL,
		pid        integer     NOT NULL,
		kinds      text[]      NOT NULL,
		lease_ms   bigint      NOT NULL,
		started_at timestamptz NOT NULL DEFAULT now(),
		seen_at    timestamptz NOT NULL DEFAULT now()
	);
	-- The items of a run not yet finished, counted while a run waits for them.
	CREATE INDEX emer_river_job_live ON river_job ((args->>'run'), queue)
		WHERE state IN ('available', 'pending', 'running', 'retryable', 'scheduled');`,
	// Rating studies of emer serve (see study.Store), as the SQLite
	// store's: studies, clips, candidates, raters (tokens only as hashes),
	// holds and completed ratings. Clip IDs compare bytewise (COLLATE
	// "C"), whatever the database's collation; times are microseconds,
	// a hold's expiry milliseconds since 1970.
	`CREATE TABLE emer_studies (
		id         bigint      PRIMARY KEY,
		name       text        NOT NULL,
		target     integer     NOT NULL,
		seed       bigint      NOT NULL,
		secret     bytea       NOT NULL,
		sources    text        NOT NULL,
		created_at timestamptz NOT NULL
	);
	CREATE TABLE emer_study_clips (
		study     bigint  NOT NULL REFERENCES emer_studies (id),
		id        text    COLLATE "C" NOT NULL,
		name      text    COLLATE "C" NOT NULL,
		media     text    NOT NULL,
		rank      integer NOT NULL,
		subtitles text    NOT NULL,
		PRIMARY KEY (study, id),
		UNIQUE (study, name)
	);
	CREATE INDEX emer_study_clips_rank ON emer_study_clips (study, rank);
	CREATE TABLE emer_study_candidates (
		study  bigint  NOT NULL,
		clip   text    COLLATE "C" NOT NULL,
		id     integer NOT NULL,
		source text    NOT NULL,
		text   text    NOT NULL,
		PRIMARY KEY (study, clip, id),
		FOREIGN KEY (study, clip) REFERENCES emer_study_clips (study, id)
	);
	CREATE TABLE emer_study_raters (
		id           bigint      PRIMARY KEY,
		study        bigint      NOT NULL REFERENCES emer_studies (id),
		label        text        NOT NULL,
		token_sha256 bytea       NOT NULL UNIQUE,
		created_at   timestamptz NOT NULL
	);
	CREATE INDEX emer_study_raters_study ON emer_study_raters (study, id);
	CREATE TABLE emer_study_holds (
		rater      bigint PRIMARY KEY REFERENCES emer_study_raters (id),
		study      bigint NOT NULL,
		clip       text   COLLATE "C" NOT NULL,
		expires_ms bigint NOT NULL,
		shown      text   NOT NULL,
		FOREIGN KEY (study, clip) REFERENCES emer_study_clips (study, id)
	);
	CREATE INDEX emer_study_holds_clip ON emer_study_holds (study, clip);
	CREATE TABLE emer_study_done (
		study bigint      NOT NULL,
		clip  text        COLLATE "C" NOT NULL,
		rater bigint      NOT NULL REFERENCES emer_study_raters (id),
		shown text        NOT NULL,
		at    timestamptz NOT NULL,
		PRIMARY KEY (study, clip, rater),
		FOREIGN KEY (study, clip) REFERENCES emer_study_clips (study, id)
	);
	CREATE INDEX emer_study_done_rater ON emer_study_done (rater, clip);
	CREATE TABLE emer_study_ratings (
		study     bigint  NOT NULL,
		clip      text    COLLATE "C" NOT NULL,
		rater     bigint  NOT NULL,
		candidate integer NOT NULL,
		position  integer NOT NULL,
		score     integer NOT NULL CHECK (score BETWEEN 1 AND 4),
		PRIMARY KEY (study, clip, rater, candidate),
		FOREIGN KEY (study, clip, rater) REFERENCES emer_study_done (study, clip, rater),
		FOREIGN KEY (study, clip, candidate) REFERENCES emer_study_candidates (study, clip, id)
	);`,
	// Review state of the descriptions of emer build summarize (see
	// dataset.ReviewStore and web.ReviewStore), as the SQLite store's,
	// each row in a scope: the run of summarize it belongs to, so that one
	// database holds the review of many runs. Reviewers' names are unique
	// in a scope without ASCII case, as SQLite's NOCASE compares them;
	// clips compare bytewise. Flags, claims and the states of the history
	// are JSON text, kept byte for byte.
	`CREATE TABLE emer_reviews (
		scope    text        NOT NULL,
		clip     text        COLLATE "C" NOT NULL,
		status   text        NOT NULL CHECK (status IN ('pending', 'accepted', 'edited', 'rejected')),
		draft    text        NOT NULL,
		text     text        NOT NULL,
		flags    text        NOT NULL,
		reviewer text        NOT NULL,
		note     text        NOT NULL,
		at       timestamptz NOT NULL,
		PRIMARY KEY (scope, clip)
	);
	CREATE TABLE emer_review_history (
		id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		scope       text        NOT NULL,
		clip        text        COLLATE "C" NOT NULL,
		author      text        NOT NULL,
		at          timestamptz NOT NULL,
		before_json text,
		after_json  text        NOT NULL,
		FOREIGN KEY (scope, clip) REFERENCES emer_reviews (scope, clip)
	);
	CREATE INDEX emer_review_history_clip ON emer_review_history (scope, clip, id);
	CREATE TABLE emer_reviewers (
		id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		scope        text        NOT NULL,
		name         text        NOT NULL,
		token_sha256 bytea       NOT NULL,
		invited_at   timestamptz NOT NULL,
		UNIQUE (scope, token_sha256)
	);
	CREATE UNIQUE INDEX emer_reviewers_name ON emer_reviewers (scope, lower(name COLLATE "C"));
	CREATE TABLE emer_review_checks (
		scope       text        NOT NULL,
		clip        text        COLLATE "C" NOT NULL,
		description text        NOT NULL,
		claims      text        NOT NULL,
		source      text        NOT NULL,
		loaded_at   timestamptz NOT NULL,
		PRIMARY KEY (scope, clip)
	);`,
	// Annotation records (see dataset.Store), as the SQLite store's, in a
	// scope: the run that keeps them.
	`CREATE TABLE emer_annotations (
		scope     text    NOT NULL,
		clip      text    COLLATE "C" NOT NULL,
		aspect    text    NOT NULL CHECK (aspect IN ('visual', 'audio', 'content', 'context')),
		annotator text    COLLATE "C" NOT NULL,
		text      text    NOT NULL,
		lang      text    NOT NULL,
		file      text    NOT NULL,
		line      integer NOT NULL,
		PRIMARY KEY (scope, clip, aspect, annotator)
	);`,
}

// SchemaVersion is the number of emer's own migrations this emer knows.
var SchemaVersion = len(migrations)

// Options set up a Store.
type Options struct {
	// MaxConns caps the connections to the database; 0: 24.
	MaxConns int32
	// RetryFor is how long an operation is tried again while the
	// database cannot be reached before its error is returned; 0: 10
	// minutes.
	RetryFor time.Duration
	// Log receives a record when the database cannot be reached and when
	// it can again; nil: none.
	Log *slog.Logger
	// ReadOnly opens without applying migrations, for dry runs: a database
	// without emer's schema reads as empty, and writes fail.
	ReadOnly bool
}

// Store is an open PostgreSQL database. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	name     string // the database's address without the password, for messages
	retryFor time.Duration
	log      *slog.Logger
	readOnly bool
	empty    bool // a read-only store of a database without emer's schema

	inserter *river.Client[pgx.Tx]

	// beforeCommit, set by tests, runs in each transaction of inTx just
	// before its commit.
	beforeCommit func(ctx context.Context, tx pgx.Tx) error
}

// ErrReadOnly is returned by the writing methods of a read-only store.
var ErrReadOnly = errors.New("store opened read-only")

// Redact returns the URL u with its password, if any, replaced, for
// messages and logs.
func Redact(u string) string { return config.RedactURL(u) }

// Open connects to the database at the postgres:// URL and brings its
// schema up to date: River's migrations, then emer's. Several processes
// may open one database at once; migrations are applied by one of them.
func Open(ctx context.Context, dbURL string, opts Options) (*Store, error) {
	name := Redact(dbURL)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		// pgx's message may quote the URL, password and all.
		return nil, fmt.Errorf("store %s: not a PostgreSQL URL emer can read", name)
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 24
	}
	s := &Store{name: name, retryFor: opts.RetryFor, log: opts.Log, readOnly: opts.ReadOnly}
	if s.retryFor <= 0 {
		s.retryFor = 10 * time.Minute
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	if err := s.retry(ctx, "connect", func(ctx context.Context) error { return s.pool.Ping(ctx) }); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	if opts.ReadOnly {
		var v int
		err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM emer_schema`).Scan(&v)
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe) && pe.Code == "42P01": // undefined_table
			s.empty = true
		case err != nil:
			s.pool.Close()
			return nil, fmt.Errorf("store %s: %w", name, err)
		case v > SchemaVersion:
			s.pool.Close()
			return nil, fmt.Errorf("store %s: schema version %d is newer than this emer knows (%d)", name, v, SchemaVersion)
		}
		return s, nil
	}
	if err := s.retry(ctx, "migrate", s.migrate); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	if s.inserter, err = river.NewClient(riverpgxv5.New(s.pool), &river.Config{Logger: s.riverLog()}); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	return s, nil
}

// Name returns the database's URL without its password.
func (s *Store) Name() string { return s.name }

// Close closes the connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// riverLog is the logger River's clients report to: its warnings and
// errors (a lost connection, say) only.
func (s *Store) riverLog() *slog.Logger {
	return slog.New(levelAtLeast{s.log.Handler(), slog.LevelWarn})
}

type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// migrateLock keys the advisory lock held while migrations run.
const migrateLock = 0x656d6572 // "emer"

// migrate applies River's migrations and then emer's, holding an advisory
// lock so that processes starting together apply each step once.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock)

	m, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Logger: s.riverLog()})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS emer_schema (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM emer_schema`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this emer knows (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO emer_schema (version) VALUES ($1)`, i+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// Version returns the number of emer's migrations the database has.
func (s *Store) Version(ctx context.Context) (int, error) {
	if s.empty {
		return 0, nil
	}
	var v int
	err := s.retry(ctx, "read the schema version", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM emer_schema`).Scan(&v)
	})
	return v, err
}

// transient reports whether err is the database being out of reach (a
// lost or refused connection, a server shutting down or starting up, too
// many connections) or a conflict that a new attempt resolves, rather
// than a fault of the statement.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources (too many connections)
			"57": // operator intervention: admin shutdown, cannot connect now
			return true
		}
		return pe.Code == "40001" || pe.Code == "40P01" // serialization failure, deadlock
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, net.ErrClosed) || isConnClosed(err)
}

// isConnClosed matches pgx's error for a connection that closed under a
// statement, which has no type of its own.
func isConnClosed(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "conn closed" {
			return true
		}
	}
	return false
}

// retry runs op until it succeeds, fails with an error that is not
// transient, ctx ends, or the store's RetryFor has passed since the first
// failure, waiting 100 ms doubling to 5 s between attempts. what names
// the operation in the log.
func (s *Store) retry(ctx context.Context, what string, op func(ctx context.Context) error) error {
	var (
		start time.Time
		delay = 100 * time.Millisecond
	)
	for {
		err := op(ctx)
		if err == nil {
			if !start.IsZero() {
				s.log.Info("database reachable again", "store", s.name, "op", what, "after", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if !transient(err) || ctx.Err() != nil {
			return err
		}
		if start.IsZero() {
			start = time.Now()
			s.log.Warn("database unreachable, trying again", "store", s.name, "op", what, "err", err)
		} else if time.Since(start) > s.retryFor {
			return fmt.Errorf("%s: database unreachable for %v: %w", what, time.Since(start).Round(time.Second), err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}
