package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/llm"
	"emer/internal/pgstore"
)

// A kind is one kind of item a worker can do. Each kind lives in a file
// of its own and registers itself from init.
type kind struct {
	// slots is how many of the kind's items a worker holds at once.
	slots func(Options) int
	// do does one item of the kind, as pgstore.ServeOptions.Work does.
	do func(w *Worker, ctx context.Context, it batch.Item) (batch.Outcome, error)
}

var kinds = map[string]kind{}

func register(name string, k kind) {
	if _, dup := kinds[name]; dup {
		panic("worker: kind " + name + " registered twice")
	}
	kinds[name] = k
}

// Kinds lists the item kinds a worker can do, sorted.
func Kinds() []string { return slices.Sorted(maps.Keys(kinds)) }

// Options set up a Worker.
type Options struct {
	// Config holds the model-server settings (base URL, API key,
	// concurrency, timeouts, retries, rate): the worker's own, never
	// the submitter's.
	Config config.Config
	// Kinds are the item kinds to take; empty: all of Kinds.
	Kinds []string
	// Lease and Grace are as in pgstore.ServeOptions.
	Lease, Grace time.Duration
	// ID names the worker; "": HOST-PID-XXXX.
	ID string
	// Log receives what the worker holds and does; CallLog a record of
	// every model call and request (as calls.jsonl has them); nil: none.
	Log, CallLog *slog.Logger
	// Started, when set, is called once the worker takes items.
	Started func(id string)
	// RetryBase is the delay before a call's first retry; 0: llm's default.
	RetryBase time.Duration
}

// Worker takes items from a store's queue and does them.
type Worker struct {
	st    *pgstore.Store
	opts  Options
	stack *llm.Stack

	mu   sync.Mutex
	memo map[any]any // what items build once and share: judges, pipelines
}

// New returns a worker on st. It refuses kinds it does not know.
func New(st *pgstore.Store, opts Options) (*Worker, error) {
	if len(opts.Kinds) == 0 {
		opts.Kinds = Kinds()
	}
	for _, k := range opts.Kinds {
		if _, ok := kinds[k]; !ok {
			return nil, fmt.Errorf("kind %q: a worker does %s", k, strings.Join(Kinds(), ", "))
		}
	}
	cfg := opts.Config
	sc := cfg.StackConfig()
	sc.RetryBase = opts.RetryBase
	// As emer eval does: every request in flight fails at once when a
	// server goes away.
	sc.BreakerFailures = max(cfg.BreakerFailures, 8, 2*cfg.Concurrency)
	sc.Cache = st
	sc.Log = opts.CallLog
	return &Worker{st: st, opts: opts, stack: llm.NewStack(sc), memo: map[any]any{}}, nil
}

// Totals returns what the worker's calls to its model server came to.
func (w *Worker) Totals() llm.Totals { return w.stack.Totals() }

// ErrUnreachable is returned by Run when the worker stopped because its
// model server could not be reached.
var ErrUnreachable = errors.New("model server unreachable")

// Run takes and does items until ctx ends (then, within Grace, it
// finishes or releases what it holds and returns nil) or the model server
// cannot be reached (then it releases what it holds and returns an error
// wrapping ErrUnreachable).
func (w *Worker) Run(ctx context.Context) error {
	slots := map[string]int{}
	for _, k := range w.opts.Kinds {
		slots[k] = max(kinds[k].slots(w.opts), 1)
	}
	return w.st.Serve(ctx, pgstore.ServeOptions{
		ID: w.opts.ID, Kinds: slots, Lease: w.opts.Lease, Grace: w.opts.Grace, Log: w.opts.Log,
		Started: w.opts.Started, Work: w.work,
	})
}

func (w *Worker) work(ctx context.Context, run, name string, it batch.Item) (batch.Outcome, error) {
	k, ok := kinds[name]
	if !ok {
		return batch.Outcome{}, fmt.Errorf("%w: kind %q", pgstore.ErrBadItem, name)
	}
	o, err := k.do(w, ctx, it)
	if err == nil && ctx.Err() != nil {
		// The worker is stopping and cut the item short: what it came to
		// (a failure of the cancelled work) is not its outcome, and the
		// item is released for another worker.
		return batch.Outcome{}, ctx.Err()
	}
	return o, err
}

// shared returns the value built for key, building it with build the first
// time: what the items of a kind share (a judge, a pipeline) is built once
// per worker. Keys of different kinds are of different types. An error is
// returned, and nothing kept, when build fails.
func (w *Worker) shared(key any, build func() (any, error)) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.memo[key]; ok {
		return v, nil
	}
	v, err := build()
	if err != nil {
		return nil, err
	}
	w.memo[key] = v
	return v, nil
}

func shortSHA(s string) string { return s[:min(len(s), 12)] }

// Running is a worker running in the background, as a submitting process
// runs one beside its waiting.
type Running struct {
	w      *Worker
	cancel context.CancelFunc
	errc   chan error
}

// Start runs w until Stop or until ctx ends. When the worker ends by
// itself (its server unreachable), it calls ended, so that the waiting
// beside it stops too.
func (w *Worker) Start(ctx context.Context, ended func()) *Running {
	wctx, cancel := context.WithCancel(ctx)
	r := &Running{w: w, cancel: cancel, errc: make(chan error, 1)}
	go func() {
		err := w.Run(wctx)
		if err != nil && ended != nil {
			ended()
		}
		r.errc <- err
	}()
	return r
}

// Stop stops the worker, waits for it to release what it holds and
// returns what its calls came to and the error that ended it, if any.
func (r *Running) Stop() (llm.Totals, error) {
	r.cancel()
	err := <-r.errc
	return r.w.Totals(), err
}

// errNewerItem marks an item with a field this emer does not know: queued
// by another emer version, whose work this one would not do alike. The
// worker stops on it, leaving the item to a worker of that version,
// rather than give it up.
var errNewerItem = errors.New("queued by another emer version")

// decodePayload reads the JSON payload of an item of kind into v,
// refusing fields v does not have (errNewerItem).
func decodePayload(kind string, it batch.Item, v any) error {
	dec := json.NewDecoder(bytes.NewReader(it.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			return fmt.Errorf("%s item %.60q: %w (%v): run the submitter's emer version", kind, it.Key, errNewerItem, err)
		}
		return fmt.Errorf("%s item %.60q: %w", kind, it.Key, err)
	}
	return nil
}

// itemError is how a kind returns an item it cannot read: given up
// (pgstore.ErrBadItem), unless another emer version queued it.
func itemError(err error) error {
	if errors.Is(err, errNewerItem) {
		return err
	}
	return fmt.Errorf("%w: %w", pgstore.ErrBadItem, err)
}
