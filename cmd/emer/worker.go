package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/config"
	"emer/internal/pgstore"
	"emer/internal/worker"
)

func init() { register(newWorkerCmd) }

// workerOptions are the inputs of runWorker.
type workerOptions struct {
	Kinds   []string
	Lease   time.Duration
	Grace   time.Duration
	ID      string
	Verbose bool
	Config  config.Config // the store and this worker's model server

	Stderr io.Writer

	configErr error
	retryBase time.Duration
	// started, when set, is called with the worker's id once it takes items.
	started func(id string)
}

// workerGrace is the default time items in progress have to finish once
// the worker is told to stop; it is below signalGrace, after which the
// process ends.
const workerGrace = time.Second

func newWorkerCmd(g *globalOptions) *cobra.Command {
	opts := workerOptions{}
	var bind *config.Binding
	cmd := &cobra.Command{
		Use:   "worker --store postgres://USER@HOST/DB [--concurrency N] [--kinds judge,infer,summarize]",
		Short: "Take items of shared runs from a PostgreSQL store's queue and do them",
		Long: `worker serves the queue of a shared store: it takes the items that runs of
emer eval, emer infer --dataset and emer build summarize --store
postgres://... queued, does them against its own model
server (--base-url, the API key from EMER_API_KEY or OPENAI_API_KEY, its own
--concurrency, --rate, --timeout and retries), and records each result in
the store. Start as many as the model servers take, on any machine that
reaches the database; each can have its own --base-url. An item carries
everything its work needs (a judge item its texts, metric, repeat,
protocol and judge model; an infer item, a clip of emer infer --dataset,
its name, subtitle and the run's settings; a summarize item, a clip of emer
build summarize, its annotators' clues, the model, language, token limit
and the digest of the prompts, which the worker's must match); API keys and
server addresses never enter the database.

An infer item names its clip's media by the absolute path the submitter
found it at: the worker reads it there, so it needs the submitter's media
at the same paths (a shared filesystem). A worker that does not find the
media's folder stops with a message naming it and leaves the clip to the
others; a file missing from its folder, or not the one queued (its size or
time differ), fails that clip for now: other workers try it, and the next
run of the submitter queues it again or reports it without media. It measures the
clip's cues with its own face models (--models), transcribes speech with
its own --asr-url when the run asks for speech to text, and keeps as many
clips in progress as it has cores or --concurrency, whichever is more.

The worker renews a lease in the store every quarter of --lease; when it is
killed, its items are taken up by the other workers once the lease has run
out. On SIGTERM or SIGINT it takes no more items, lets those in progress
finish for --grace and releases the rest to the other workers. When its
model server cannot be reached it releases what it holds and exits with
status 1. The log (stderr) says what it holds every quarter lease.

Examples:
  emer worker --store postgres://emer@db.lab/emer --base-url http://gpu1:8000/v1 --concurrency 32
  EMER_STORE=postgres://emer@db.lab/emer EMER_BASE_URL=http://127.0.0.1:8000/v1 emer worker`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Config, opts.configErr = bind.Resolve(config.ProcessEnv)
			opts.Stderr = g.stderr
			return runWorker(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Kinds, "kinds", worker.Kinds(), "item kinds to take, comma-separated: "+strings.Join(worker.Kinds(), ", "))
	f.DurationVar(&opts.Lease, "lease", pgstore.DefaultLease, "how long this worker's items stay its own once it stops renewing its lease (killed)")
	f.DurationVar(&opts.Grace, "grace", workerGrace, "on SIGTERM: how long items in progress may take to finish before they are released")
	f.StringVar(&opts.ID, "id", "", "the worker's name in the store and its log (default HOST-PID-XXXX)")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log every item taken and recorded, and every model call")
	bind = config.Bind(f, "store", "base_url", "api_key", "timeout", "max_attempts", "concurrency", "rate", "max_reply_bytes", "breaker_failures",
		"asr_url", "models").ShowDefault("store", "(required: postgres://)")
	cmd.Long += "\n\n" + bind.Help()
	return cmd
}

func runWorker(ctx context.Context, opts workerOptions) error {
	var probs []string
	if opts.configErr != nil {
		probs = append(probs, strings.Split(opts.configErr.Error(), "\n")...)
	}
	if opts.Config.Store.Driver != config.DriverPostgres {
		probs = append(probs, "--store postgres://USER@HOST/DB is required (or EMER_STORE): workers share a PostgreSQL store")
	}
	for _, k := range opts.Kinds {
		if !slices.Contains(worker.Kinds(), k) {
			probs = append(probs, fmt.Sprintf("--kinds: %q is not a kind of item (%s)", k, strings.Join(worker.Kinds(), ", ")))
		}
	}
	if opts.Lease < time.Second {
		probs = append(probs, fmt.Sprintf("--lease %v: want 1s or more", opts.Lease))
	}
	if opts.Grace < 0 || opts.Grace >= signalGrace {
		probs = append(probs, fmt.Sprintf("--grace %v: want 0 up to less than %v (the process ends %v after a signal)", opts.Grace, signalGrace, signalGrace))
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	level := slog.LevelInfo
	if opts.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: level}))
	st, err := pgstore.Open(ctx, opts.Config.Store.URL, pgstore.Options{Log: log})
	if err != nil {
		return err
	}
	defer st.Close()
	wo := worker.Options{
		Config: opts.Config, Kinds: opts.Kinds, Lease: opts.Lease, Grace: opts.Grace, ID: opts.ID,
		Log: log, Started: opts.started, RetryBase: opts.retryBase,
	}
	if opts.Verbose {
		wo.CallLog = log
	}
	w, err := worker.New(st, wo)
	if err != nil {
		return usageErrorf("%v", err)
	}
	err = w.Run(ctx)
	t := w.Totals()
	log.Info("worker totals", "calls", t.Calls, "cache_hits", t.CacheHits, "requests", t.Requests, "failed", t.Failures, "tokens", t.Tokens)
	return err
}

// noWorkerNotice returns what a submitting command (cmd, e.g. "emer eval")
// says when its run waits on items of kind that no worker alive takes:
// how to start one on the store st.
func noWorkerNotice(w io.Writer, cmd string, st *pgstore.Store, kind string) func(string) {
	return func(msg string) {
		fmt.Fprintf(w, "%s: %s: emer worker --store URL --kinds %s, with the URL of %s (or $EMER_STORE)\n", cmd, msg, kind, st.Name())
	}
}

// startLocalWorker starts, beside a submitting command's waiting, a worker
// of kind on st with the command's settings, whose calls and holdings are
// logged to calls (the output folder's calls.jsonl); ended is called when
// it stops by itself (its server unreachable).
func startLocalWorker(ctx context.Context, st *pgstore.Store, kind string, cfg config.Config, lease, retryBase time.Duration, calls io.Writer, ended func()) (*worker.Running, error) {
	log := slog.New(slog.NewJSONHandler(calls, nil))
	w, err := worker.New(st, worker.Options{
		Config: cfg, Kinds: []string{kind}, Lease: lease, Log: log, CallLog: log, RetryBase: retryBase,
	})
	if err != nil {
		return nil, err
	}
	return w.Start(ctx, ended), nil
}
