package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"emer/internal/batch"
)

// jobKind is the River job kind of every queued item; the item's own kind
// is its River queue, so that a worker takes only the kinds it serves.
const jobKind = "emer_item"

// itemArgs are the River job arguments of a queued item. Run, kind, key
// and input make it unique among the items not yet finished.
type itemArgs struct {
	Run     string          `json:"run" river:"unique"`
	Of      string          `json:"kind" river:"unique"`
	Key     string          `json:"key" river:"unique"`
	Input   string          `json:"input" river:"unique"`
	Payload json.RawMessage `json:"payload"`
}

func (itemArgs) Kind() string { return jobKind }

// liveStates are the River job states of an item not yet finished.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// MaxAttempts is how many times an item is taken before its last outcome
// stands: an outcome of class Retry (no reply from the model server)
// puts the item back in the queue, to be taken again after River's
// backoff, until then.
const MaxAttempts = 5

// kindName is what an item kind may be: a River queue name.
var kindName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// insertChunk is how many items one insert statement holds.
const insertChunk = 1000

// Enqueue queues items of run and kind as River jobs in the queue named
// kind. An item already queued or held for the same input is skipped.
// Payloads must be JSON, keys and runs UTF-8 without NUL bytes (the
// database keeps job arguments as JSON).
func (s *Store) Enqueue(ctx context.Context, run, kind string, items []batch.Item) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if !kindName.MatchString(kind) {
		return fmt.Errorf("queue: item kind %q is not a lower-case word", kind)
	}
	for _, text := range []string{run} {
		if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
			return fmt.Errorf("queue %s: run %.60q is not UTF-8 text", kind, text)
		}
	}
	params := make([]river.InsertManyParams, 0, min(len(items), insertChunk))
	opts := &river.InsertOpts{
		Queue: kind, MaxAttempts: MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
	flush := func() error {
		if len(params) == 0 {
			return nil
		}
		err := s.retry(ctx, "queue items", func(ctx context.Context) error {
			_, err := s.inserter.InsertMany(ctx, params)
			return err
		})
		params = params[:0]
		if err != nil {
			return fmt.Errorf("%s: queue %s items: %w", s.name, kind, err)
		}
		return nil
	}
	for _, it := range items {
		if !utf8.ValidString(it.Key) || strings.ContainsRune(it.Key, 0) {
			return fmt.Errorf("queue %s: key %.60q is not UTF-8 text", kind, it.Key)
		}
		if !json.Valid(it.Payload) {
			return fmt.Errorf("queue %s %.60q: the payload is not JSON", kind, it.Key)
		}
		params = append(params, river.InsertManyParams{
			Args:       itemArgs{Run: run, Of: kind, Key: it.Key, Input: it.Input, Payload: it.Payload},
			InsertOpts: opts,
		})
		if len(params) == insertChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// liveSQL selects the unfinished items; it matches emer_river_job_live.
const liveSQL = `state IN ('available', 'pending', 'running', 'retryable', 'scheduled')`

// Outstanding returns how many items of run and kind are queued or held.
func (s *Store) Outstanding(ctx context.Context, run, kind string) (int, error) {
	if s.empty {
		return 0, nil
	}
	var n int
	err := s.retry(ctx, "count queued items", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'run' = $1 AND queue = $2 AND `+liveSQL,
			run, kind).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	return n, nil
}

var _ batch.Workers = (*Store)(nil)

// Workers returns how many workers that take items of kind are alive:
// registered, and seen within their lease.
func (s *Store) Workers(ctx context.Context, kind string) (int, error) {
	if s.empty {
		return 0, nil
	}
	var n int
	err := s.retry(ctx, "count the workers", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT count(*) FROM emer_workers
			WHERE $1 = ANY(kinds) AND seen_at >= now() - lease_ms * interval '1 millisecond'`, kind).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	return n, nil
}

// ErrBadItem marks an error of Work that is the item's own (its payload
// cannot be read, say): the item is given up, with no record, and the
// worker goes on.
var ErrBadItem = errors.New("bad item")

// DefaultLease is how long a worker that stopped renewing its lease keeps
// its items.
const DefaultLease = time.Minute

// ServeOptions set up a worker.
type ServeOptions struct {
	// ID names the worker in the database and the log; "": HOST-PID-XXXX.
	ID string
	// Kinds are the item kinds served, each with how many of its items
	// are worked on at once.
	Kinds map[string]int
	// Work does one item. Its outcome is recorded (an outcome of class
	// Retry also puts the item back in the queue, until MaxAttempts). An
	// error wrapping ErrBadItem gives the item up; any other error stops
	// the worker, the item released for another. Work is called from many
	// goroutines at once.
	Work func(ctx context.Context, run, kind string, it batch.Item) (batch.Outcome, error)
	// Lease is how long after the worker's last sign of life its items
	// stay its own (0: DefaultLease); it renews the lease every quarter.
	Lease time.Duration
	// Grace is how long, once ctx ends, the items in progress may take to
	// finish before they are cancelled and released to other workers.
	Grace time.Duration
	// Log receives what the worker holds and does; nil: nothing.
	Log *slog.Logger
	// Started, when set, is called once the worker takes items.
	Started func(id string)
}

// held is an item a worker is working on.
type held struct {
	run, kind, key string
	since          time.Time
}

// worker is the state of one Serve.
type worker struct {
	s    *Store
	id   string
	opts ServeOptions
	log  *slog.Logger

	mu    sync.Mutex
	held  map[int64]held
	done  int // items recorded since the last report
	fatal error
	stop  context.CancelFunc // ends Serve's wait, on a fatal error
}

// Serve works on the items of opts.Kinds until ctx ends or Work fails,
// recording each outcome in the store. When ctx ends it stops taking
// items, lets those in progress finish for opts.Grace, then cancels and
// releases the rest; it returns nil then, and Work's error when that
// stopped it.
func (s *Store) Serve(ctx context.Context, opts ServeOptions) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if len(opts.Kinds) == 0 || opts.Work == nil {
		return errors.New("serve: no kinds to work on")
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	w := &worker{s: s, id: opts.ID, opts: opts, log: opts.Log, held: map[int64]held{}}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.id == "" {
		host, _ := os.Hostname()
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		w.id = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	kinds := slices.Sorted(maps.Keys(opts.Kinds))
	queues := map[string]river.QueueConfig{}
	for _, k := range kinds {
		if !kindName.MatchString(k) {
			return fmt.Errorf("serve: item kind %q is not a lower-case word", k)
		}
		queues[k] = river.QueueConfig{MaxWorkers: max(opts.Kinds[k], 1)}
	}
	if err := w.register(ctx, kinds); err != nil {
		if ctx.Err() != nil {
			return nil // told to stop before it began: nothing held, nothing to release
		}
		return err
	}
	// Items of workers lost while none was running are taken up at once.
	if n, err := s.ReleaseExpired(ctx); err == nil && n > 0 {
		w.log.Info("released the items of workers whose lease ran out", "items", n)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(w.work))
	client, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{
		ID: w.id, Queues: queues, Workers: workers, Logger: s.riverLog(),
		// Items never time out in River: the model-server settings bound
		// each call. The lease (below) takes up the items of a worker
		// that died; River's own rescue is a backstop for the rest.
		JobTimeout: -1, RescueStuckJobsAfter: 24 * time.Hour,
		// Items are fetched a few at a time (River's cooldown of 100 ms),
		// in the order they were queued: the items of one sample, which
		// share the judge's summaries of its ground truth, mostly go to
		// one worker and share its cache's calls in flight.
		FetchPollInterval: 500 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	w.stop = cancelRun
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		w.unregister(ctx)
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	}
	w.log.Info("worker started", "worker", w.id, "store", s.name, "kinds", opts.Kinds, "lease", opts.Lease)
	if opts.Started != nil {
		opts.Started(w.id)
	}
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		w.heartbeat(runCtx)
	}()

	<-runCtx.Done()
	w.mu.Lock()
	n := len(w.held)
	w.mu.Unlock()
	w.log.Info("worker stopping", "worker", w.id, "holding", n, "items", w.heldKeys(10), "grace", opts.Grace)
	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), max(opts.Grace, time.Millisecond))
	err = client.Stop(stopCtx)
	cancelStop()
	if err != nil {
		// The grace ran out: cancel what is left, which releases it.
		hard, cancelHard := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = client.StopAndCancel(hard)
		cancelHard()
		if err != nil {
			w.log.Warn("worker did not stop cleanly", "worker", w.id, "err", err)
		}
	}
	<-hbDone
	w.unregister(ctx)
	w.log.Info("worker stopped", "worker", w.id)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fatal
}

// unregister removes the worker's record: gone, nobody waits for its
// lease to run out.
func (w *worker) unregister(ctx context.Context) {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = w.s.pool.Exec(bg, `DELETE FROM emer_workers WHERE id = $1`, w.id)
}

// register records the worker and its lease.
func (w *worker) register(ctx context.Context, kinds []string) error {
	host, _ := os.Hostname()
	return w.s.retry(ctx, "register the worker", func(ctx context.Context) error {
		_, err := w.s.pool.Exec(ctx, `INSERT INTO emer_workers (id, host, pid, kinds, lease_ms) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET seen_at = now(), kinds = excluded.kinds, lease_ms = excluded.lease_ms`,
			w.id, host, os.Getpid(), kinds, w.opts.Lease.Milliseconds())
		return err
	})
}

// pausedLeases holds the ids of workers whose heartbeat a test has
// stopped, as if they had been killed.
var pausedLeases sync.Map

// heartbeat renews the worker's lease every quarter lease until ctx
// ends, releases the items of workers whose lease ran out, and logs what
// the worker holds.
func (w *worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.opts.Lease / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, paused := pausedLeases.Load(w.id); paused {
			continue // a test stands for a killed worker
		}
		tag, err := w.s.pool.Exec(ctx, `UPDATE emer_workers SET seen_at = now() WHERE id = $1`, w.id)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("lease not renewed: database unreachable", "worker", w.id, "err", err)
			}
			continue
		}
		if tag.RowsAffected() == 0 {
			// Another process found the lease run out and released this
			// worker's items; they may be taken twice.
			w.log.Warn("lease had run out: registering again", "worker", w.id)
			_ = w.register(ctx, slices.Sorted(maps.Keys(w.opts.Kinds)))
		}
		if n, err := w.s.ReleaseExpired(ctx); err != nil {
			if ctx.Err() == nil {
				w.log.Warn("releasing the items of lost workers", "err", err)
			}
		} else if n > 0 {
			w.log.Info("released the items of workers whose lease ran out", "items", n)
		}
		w.mu.Lock()
		n, done := len(w.held), w.done
		w.done = 0
		w.mu.Unlock()
		w.log.Info("holding", "worker", w.id, "items", n, "keys", w.heldKeys(5), "recorded", done)
	}
}

// heldKeys returns up to n of the items held, as run/kind/key, oldest
// first.
func (w *worker) heldKeys(n int) []string {
	w.mu.Lock()
	hs := slices.Collect(maps.Values(w.held))
	w.mu.Unlock()
	slices.SortFunc(hs, func(a, b held) int { return a.since.Compare(b.since) })
	var out []string
	for _, h := range hs[:min(n, len(hs))] {
		out = append(out, fmt.Sprintf("%s/%s/%q", h.run, h.kind, h.key))
	}
	return out
}

// putHeld stores r, the outcome of the job id, if the worker still holds
// the job: a worker whose lease ran out while it worked (it was cut off
// from the database, say) has had its items released, and another may
// be doing this one. It reports whether r was stored.
func (w *worker) putHeld(ctx context.Context, id int64, r batch.Record) (bool, error) {
	if r.Class != batch.Final && r.Class != batch.Retry {
		return false, fmt.Errorf("%s: store %s record %q: class %q is neither %q nor %q", w.s.name, r.Kind, r.Key, r.Class, batch.Final, batch.Retry)
	}
	payload := r.Payload
	if payload == nil {
		payload = []byte{}
	}
	kept := false
	err := w.s.retry(ctx, "store a record", func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, w.s.pool, func(tx pgx.Tx) error {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM river_job WHERE id = $1 AND state = 'running'
				AND attempted_by[array_length(attempted_by, 1)] = $2 FOR UPDATE`, id, w.id).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				kept = false
				return nil
			}
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, putSQL, r.Run, r.Kind, []byte(r.Key), []byte(r.Input), string(r.Class), r.Status, payload)
			kept = err == nil
			return err
		})
	})
	if err != nil {
		return false, fmt.Errorf("%s: store %s record %q: %w", w.s.name, r.Kind, r.Key, err)
	}
	return kept, nil
}

// ReleaseExpired makes the items held by workers whose lease has run out
// available again, and forgets those workers. It returns how many items
// it released.
func (s *Store) ReleaseExpired(ctx context.Context) (int64, error) {
	if s.readOnly || s.empty {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `WITH lost AS (
			DELETE FROM emer_workers WHERE seen_at < now() - lease_ms * interval '1 millisecond' RETURNING id
		)
		UPDATE river_job SET state = 'available', scheduled_at = now(),
			errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
				'error', 'released: worker ' || attempted_by[array_length(attempted_by, 1)] || ' stopped renewing its lease', 'trace', ''))
		WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] IN (SELECT id FROM lost)`)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// work is the River worker of every item.
func (w *worker) work(ctx context.Context, job *river.Job[itemArgs]) error {
	a := job.Args
	w.mu.Lock()
	w.held[job.ID] = held{run: a.Run, kind: a.Of, key: a.Key, since: time.Now()}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.held, job.ID)
		w.mu.Unlock()
	}()
	w.log.Debug("took", "worker", w.id, "run", a.Run, "kind", a.Of, "key", a.Key, "attempt", job.Attempt)

	// Done already (by a worker that was lost after recording it)?
	rec, ok, err := w.s.Lookup(ctx, a.Run, a.Of, a.Key)
	if err != nil {
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		return err
	}
	if ok && rec.Class == batch.Final && rec.Input == a.Input {
		return nil
	}

	o, err := w.opts.Work(ctx, a.Run, a.Of, batch.Item{Key: a.Key, Input: a.Input, Payload: a.Payload})
	if o.Class == "" {
		o.Class = batch.Final
	}
	if ctx.Err() != nil && (err != nil || o.Class != batch.Final) {
		// Stopping, and the item not done: it is released, to be done by
		// another worker. An outcome that stands is kept (below).
		return river.JobSnooze(0)
	}
	if err != nil {
		if errors.Is(err, ErrBadItem) {
			w.log.Warn("item given up", "worker", w.id, "run", a.Run, "kind", a.Of, "key", a.Key, "err", err)
			return river.JobCancel(err)
		}
		w.mu.Lock()
		if w.fatal == nil {
			w.fatal = err
			w.log.Error("worker stops", "worker", w.id, "err", err)
		}
		w.mu.Unlock()
		w.stop()
		return river.JobSnooze(0)
	}
	r := batch.Record{Run: a.Run, Kind: a.Of, Key: a.Key, Input: a.Input, Class: o.Class, Status: o.Status, Payload: o.Payload}
	// A finished outcome is kept even while the worker is being stopped.
	kept, err := w.putHeld(context.WithoutCancel(ctx), job.ID, r)
	if err != nil {
		return err
	}
	if !kept {
		w.log.Warn("outcome dropped: the item was released to another worker while this one held it (its lease had run out)",
			"worker", w.id, "run", a.Run, "kind", a.Of, "key", a.Key)
		return nil
	}
	w.mu.Lock()
	w.done++
	w.mu.Unlock()
	w.log.Debug("recorded", "worker", w.id, "run", a.Run, "kind", a.Of, "key", a.Key, "status", o.Status)
	if o.Class == batch.Retry && job.Attempt < job.MaxAttempts {
		return fmt.Errorf("%s %q: %s, to be tried again", a.Of, a.Key, o.Status)
	}
	return nil
}
