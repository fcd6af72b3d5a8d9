package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/judge"
	"emer/internal/llm"
	"emer/internal/pgstore"
)

// Kinds lists the item kinds a worker can do.
var Kinds = []string{KindJudge}

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

	mu     sync.Mutex
	judges map[judgeID]*judge.Judge
}

// judgeID is what tells judges apart: an item names its judge.
type judgeID struct {
	protocol, model string
	temperature     float64
	maxTokens       int
}

// New returns a worker on st. It refuses kinds it does not know.
func New(st *pgstore.Store, opts Options) (*Worker, error) {
	if len(opts.Kinds) == 0 {
		opts.Kinds = Kinds
	}
	for _, k := range opts.Kinds {
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("kind %q: a worker does %s", k, strings.Join(Kinds, ", "))
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
	return &Worker{st: st, opts: opts, stack: llm.NewStack(sc), judges: map[judgeID]*judge.Judge{}}, nil
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
	kinds := map[string]int{}
	for _, k := range w.opts.Kinds {
		// Items outnumber the request slots, as in emer eval, so that the
		// slots stay busy while items wait on the store or on a step
		// shared with another item.
		kinds[k] = 8 * max(w.opts.Config.Concurrency, 1)
	}
	return w.st.Serve(ctx, pgstore.ServeOptions{
		ID: w.opts.ID, Kinds: kinds, Lease: w.opts.Lease, Grace: w.opts.Grace, Log: w.opts.Log,
		Started: w.opts.Started, Work: w.work,
	})
}

func (w *Worker) work(ctx context.Context, run, kind string, it batch.Item) (batch.Outcome, error) {
	switch kind {
	case KindJudge:
		return w.judge(ctx, it)
	}
	return batch.Outcome{}, fmt.Errorf("%w: kind %q", pgstore.ErrBadItem, kind)
}

func (w *Worker) judge(ctx context.Context, it batch.Item) (batch.Outcome, error) {
	ji, proto, err := decodeJudge(it)
	if err != nil {
		return batch.Outcome{}, fmt.Errorf("%w: %w", pgstore.ErrBadItem, err)
	}
	if proto.PromptSHA256() != ji.PromptSHA256 {
		// Another emer's prompts: its results would not be this run's.
		return batch.Outcome{}, fmt.Errorf("judge item %.60q was queued with %s prompts of sha256 %s, this emer's are %s: run the submitter's emer version",
			it.Key, ji.Protocol, shortSHA(ji.PromptSHA256), shortSHA(proto.PromptSHA256()))
	}
	j := w.judgeFor(judgeID{ji.Protocol, ji.Model, ji.Temperature, ji.MaxTokens}, proto)
	o, err := Judge(ctx, j, ji.Key(), ji.GT, ji.Pred)
	if err != nil {
		return o, err
	}
	if u := w.stack.Unreachable(); u != nil && o.Class == batch.Retry {
		// Not this item's fault: left for a worker whose server answers.
		return batch.Outcome{}, fmt.Errorf("%w: %w", ErrUnreachable, u)
	}
	return o, nil
}

func (w *Worker) judgeFor(id judgeID, proto *judge.Protocol) *judge.Judge {
	w.mu.Lock()
	defer w.mu.Unlock()
	j := w.judges[id]
	if j == nil {
		j = &judge.Judge{Client: w.stack, Model: id.model, Protocol: proto, Temperature: id.temperature, MaxTokens: id.maxTokens}
		w.judges[id] = j
	}
	return j
}

func shortSHA(s string) string { return s[:min(len(s), 12)] }
