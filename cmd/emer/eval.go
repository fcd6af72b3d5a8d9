package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/judge"
	"emer/internal/llm"
	"emer/internal/pgstore"
	"emer/internal/store"
	"emer/internal/table"
	"emer/internal/worker"
)

// evalDB is the store of an output folder's run: its records and meta
// entries. It is the folder's SQLite store, or one run of a shared
// PostgreSQL store (sharedRun).
type evalDB interface {
	batch.Ledger
	Meta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
	// Path names the store in messages.
	Path() string
}

var _ evalDB = (*store.Store)(nil)

func init() { register(newEvalCmd) }

// evalOptions are the inputs of runEval.
type evalOptions struct {
	GT          string
	Preds       []string // NAME=FILE
	Protocol    string
	Out         string
	Repeats     int
	Temperature float64
	DryRun      bool
	JSON        bool
	Config      config.Config // model server, concurrency, cache, store: fully resolved

	// With a postgres:// store: Workers is how many workers the run
	// starts in its own process besides waiting (0: only waits, for
	// emer worker processes elsewhere; 1 when not set); Run names the run
	// in the store ("": eval:ABSOLUTE-OUT); Lease is the local worker's
	// lease (0: pgstore.DefaultLease).
	Workers    int
	workersSet bool
	Run        string
	Lease      time.Duration

	Stdout, Stderr io.Writer
	// Progress is told how the judging advances; nil: batch.NewProgress on
	// Stderr (a bar on a terminal, a line per tenth otherwise).
	Progress batch.Progress

	// configErr is what resolving the settings found wrong, reported with
	// the other problems of the options.
	configErr error
	retryBase time.Duration // delay before the first retry; 0: llm.DefaultRetryBase
	poll      time.Duration // how often a shared run looks at its queue; 0: batch.DefaultPoll
}

func newEvalCmd(g *globalOptions) *cobra.Command {
	opts := evalOptions{Repeats: 1}
	var bind *config.Binding
	cmd := &cobra.Command{
		Use:   "eval --gt FILE --pred NAME=FILE [--pred NAME=FILE ...] --protocol paper|release --model M --out DIR",
		Short: "Score predicted emotion reasoning with an LLM judge (EMER automatic evaluation)",
		Long: `eval asks an LLM judge, served behind an OpenAI-compatible API, to score each
system's predictions against the ground truth: clue overlap and emotion
overlap (and, with the paper protocol, modality completeness).

It writes DIR/results.jsonl (one line per sample, system, metric and
repeat), DIR/summary.json, DIR/summary.md and DIR/calls.jsonl (every request
and reply). Replies are cached in SQLite (DIR/emer.db unless --cache says
otherwise); running again with the same --out resumes where it stopped and
retries only the calls that failed to get a reply. Systems judged into DIR
by earlier runs stay in its files: a run with other --pred systems adds
them. One emer eval at a time works in DIR; --dry-run writes nothing and
may run beside it. A reply with no valid score is recorded with its status
and raw text, never as a score. When the server cannot be reached (as many
connection failures in a row as breaker_failures, 8 or twice --concurrency,
whichever is most), the run stops calling it, says so, and leaves the items
it could not judge to the next run. The exit status is 1 when any result
failed, after everything is written.

With --store postgres://USER@HOST/DB the run is shared: what is left to
judge is queued in that database, emer worker processes on any machine
(each with its own model server) take items from it, and this command
judges too (--workers 0: it only waits) and writes DIR's files once every
item has a result. Run it again to resume or collect; emer status shows
the progress. See docs/scale-out.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Config, opts.configErr = bind.Resolve(config.ProcessEnv)
			opts.Stdout, opts.Stderr = g.stdout, g.stderr
			opts.workersSet = cmd.Flags().Changed("workers")
			return runEval(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.GT, "gt", "", "ground-truth CSV (names + reasons or chi_reasons)")
	f.StringArrayVar(&opts.Preds, "pred", nil, "a system's predictions as NAME=FILE (CSV, names + reasons or chi_reasons); repeatable")
	f.StringVar(&opts.Protocol, "protocol", "", "judge protocol: paper (English, 0-10, two steps) or release (Chinese, 1-10, released prompts)")
	f.StringVar(&opts.Out, "out", "", "output directory; rerun with the same one to resume")
	f.IntVar(&opts.Repeats, "repeats", 1, "judge each item K times; a sample's score is the median of its ok replies")
	f.Float64Var(&opts.Temperature, "temperature", 0, "judge temperature; replies are cached only at 0")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print how many calls would be made and how many the cache holds; make none and write nothing")
	f.BoolVar(&opts.JSON, "json", false, "print summary.json to stdout")
	f.IntVar(&opts.Workers, "workers", 1, "with a postgres:// store: judge in this process too (1) or only wait for emer worker processes (0)")
	f.StringVar(&opts.Run, "run", "", "with a postgres:// store: the run's name there (default eval:ABSOLUTE-OUT)")
	f.DurationVar(&opts.Lease, "lease", pgstore.DefaultLease, "with a postgres:// store: how long this process's items stay its own once it stops renewing its lease (killed)")
	bind = config.Bind(f, append(slices.Clone(config.ChatKeys), "store")...)
	cmd.Long += "\n\n" + bind.Help()
	return cmd
}

// evalSystem is one system judged: a --pred, or one an earlier run judged
// into the same output folder.
type evalSystem struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"` // of the predictions file as read
	pred   map[string]string
}

// inputFile is a file a run read: where, and the SHA-256 of its bytes.
type inputFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// evalRunInfo is DIR/run.json: what was judged, for resuming and for
// emer ensemble. Systems holds every system of the folder, those of
// earlier runs included.
type evalRunInfo struct {
	GT            string            `json:"gt"`
	GTSHA256      string            `json:"gt_sha256,omitempty"`
	Systems       map[string]string `json:"systems"`                  // name -> predictions file (absolute)
	SystemsSHA256 map[string]string `json:"systems_sha256,omitempty"` // name -> SHA-256 of that file
	Protocol      string            `json:"protocol"`
	Repeats       int               `json:"repeats"`
}

// judgeInfo identifies the judge; results from different judges never mix
// in one output directory.
type judgeInfo struct {
	Model        string `json:"model"`
	BaseURL      string `json:"base_url"`
	Protocol     string `json:"protocol"`
	PromptSHA256 string `json:"prompt_sha256"`
}

type evalSummary struct {
	Systems     map[string]map[judge.Metric]judge.MetricSummary `json:"systems"`
	Judge       judgeInfo                                       `json:"judge"`
	GroundTruth inputFile                                       `json:"ground_truth"`
	Predictions map[string]inputFile                            `json:"predictions"` // system -> file judged
}

// judgeSampling is how the judge samples its replies; like judgeInfo, it
// must not change within an output directory.
type judgeSampling struct {
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
}

// evalItem is one unit of work: a sample of a system on a metric, one repeat.
type evalItem struct {
	key      store.ResultKey
	gt, pred string
	input    string // store.InputSHA256(gt, pred)
}

// Keys of the store's meta table.
const (
	metaJudge    = "judge"    // judgeInfo
	metaSampling = "sampling" // judgeSampling
	metaSystems  = "systems"  // name -> inputFile of every system judged into the folder
	metaRepeats  = "repeats"  // repeats per item
)

// makeOutDir makes an output folder and its parents, saying which folder
// cannot be made and why (without the path error's repetition of it).
func makeOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%s cannot be created: %w", dir, err)
	}
	return nil
}

// evalInUseError reports an output folder locked by another emer eval.
func evalInUseError(le *store.LockedError) error {
	if le.PID == 0 {
		return fmt.Errorf("%s is in use by another emer eval: wait for it to finish, or use another --out", le.Dir)
	}
	return fmt.Errorf("%s is in use by another emer eval (pid %d): wait for it to finish, or use another --out", le.Dir, le.PID)
}

func runEval(ctx context.Context, opts evalOptions) error {
	proto, given, gt, err := checkEvalOptions(opts)
	if err != nil {
		return err
	}
	cfg := opts.Config
	cfg.BaseURL = llm.NormalizeBaseURL(cfg.BaseURL)
	ji := judgeInfo{Model: cfg.Model, BaseURL: cfg.BaseURL, Protocol: proto.Name, PromptSHA256: proto.PromptSHA256()}
	js := judgeSampling{Temperature: opts.Temperature, MaxTokens: cfg.MaxTokens}
	if cfg.Store.Driver == config.DriverPostgres {
		return runEvalShared(ctx, opts, proto, given, gt, ji, js)
	}
	dbPath := filepath.Join(opts.Out, "emer.db")
	if cfg.Store.Driver == config.DriverSQLite {
		dbPath = cfg.Store.Path
	}
	cachePath := cfg.Cache
	if cachePath == "" {
		cachePath = dbPath
	}
	if opts.DryRun {
		return evalDryRun(ctx, opts, proto, given, gt, ji, js, dbPath, cachePath)
	}

	if err := makeOutDir(opts.Out); err != nil {
		return err
	}
	// Checked before SQLite is asked, whose own words would be "unable to
	// open database file".
	if err := store.CheckWritable(dbPath); err != nil {
		return err
	}
	lock, err := store.LockDir(opts.Out)
	if err != nil {
		if le, ok := errors.AsType[*store.LockedError](err); ok {
			return evalInUseError(le)
		}
		return err
	}
	defer lock.Close()
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	cacheDB := db
	if absPath(cachePath) != absPath(dbPath) {
		if cacheDB, err = store.Open(ctx, cachePath); err != nil {
			return err
		}
		defer cacheDB.Close()
	}
	plan, err := planEval(ctx, db, store.JudgeRun, opts, proto, given, gt, ji, js)
	if err != nil {
		return err
	}
	plan.report(opts.Stderr)
	for _, k := range slices.Sorted(maps.Keys(plan.meta)) {
		if err := db.SetMeta(ctx, k, plan.meta[k]); err != nil {
			return err
		}
	}
	if err := replaceJSONFile(filepath.Join(opts.Out, "run.json"), plan.runInfo()); err != nil {
		return err
	}

	logFile, err := os.OpenFile(filepath.Join(opts.Out, "calls.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	sc := cfg.StackConfig()
	sc.RetryBase = opts.retryBase
	// Every request in flight fails at once when a server goes away, so
	// that a run needs more failures in a row than it has requests in
	// flight before it gives up on the server.
	sc.BreakerFailures = max(cfg.BreakerFailures, 8, 2*cfg.Concurrency)
	sc.Cache = cacheDB
	sc.Log = slog.New(slog.NewJSONHandler(logFile, nil)) // calls.jsonl: every call and every request sent
	client := llm.NewStack(sc)
	j := &judge.Judge{Client: client, Model: cfg.Model, Protocol: proto, Temperature: opts.Temperature, MaxTokens: cfg.MaxTokens}

	prog := opts.Progress
	if prog == nil {
		prog = batch.NewProgress(opts.Stderr)
	}
	resultsPath := filepath.Join(opts.Out, "results.jsonl")
	// Workers outnumber the request slots so that the slots stay busy while
	// items read or write the store, or wait on a step shared with another
	// item. results.jsonl is the run's journal: rebuilt from the store when
	// the run starts (mending a line torn by a crash) and ends.
	st, err := batch.Run(ctx, db, batch.Options{
		Run: store.JudgeRun, Kind: store.JudgeKind, Workers: 8 * cfg.Concurrency,
		Journal: resultsPath, Progress: prog, Describe: "judging",
	}, plan.tasks, func(ctx context.Context, t batch.Task[evalItem]) (batch.Outcome, error) {
		return worker.Judge(ctx, j, t.Value.key, t.Value.gt, t.Value.pred)
	})
	unreachable := client.Unreachable()
	if unreachable != nil {
		fmt.Fprintf(opts.Stderr, "emer eval: %v\n  the items it could not judge are request_error; run again with the same --out once it answers\n", unreachable)
	}
	if errors.Is(err, batch.ErrInterrupted) {
		return fmt.Errorf("interrupted (%w): run again with the same --out to resume", ctx.Err())
	}
	if err != nil {
		return err
	}

	return finishEval(ctx, opts, db, plan, proto, ji, st, client.Totals(), resultsPath)
}

// finishEval writes the summaries of a run whose judging ended, reports
// it on stderr, and returns errPartial when any result failed.
func finishEval(ctx context.Context, opts evalOptions, db batch.Ledger, plan *evalPlan, proto *judge.Protocol, ji judgeInfo, st batch.Stats, t llm.Totals, resultsPath string) error {
	sum, err := summarizeEval(ctx, db, plan, proto, ji)
	if err != nil {
		return err
	}
	sumJSON, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	sumJSON = append(sumJSON, '\n')
	if err := replaceFile(filepath.Join(opts.Out, "summary.json"), sumJSON); err != nil {
		return err
	}
	if err := replaceFile(filepath.Join(opts.Out, "summary.md"), []byte(summaryMarkdown(sum, proto))); err != nil {
		return err
	}

	results := st.Total - st.Missing
	var parts []string
	for _, s := range judge.Statuses {
		parts = append(parts, fmt.Sprintf("%s %d", s, st.ByStatus[string(s)]))
	}
	fmt.Fprintf(opts.Stderr, "emer eval: %d results (%s); this run: %d judged, %d calls (%d from the cache, %d requests sent, %d failed), %d tokens\n",
		results, strings.Join(parts, ", "), st.Ran, t.Calls, t.CacheHits, t.Requests, t.Failures, t.Tokens)
	if opts.JSON {
		if _, err := opts.Stdout.Write(sumJSON); err != nil {
			return err
		}
	}
	if failed := st.Failed(string(judge.StatusOK)); failed > 0 {
		return fmt.Errorf("%d of %d results failed (see %s): %w", failed, st.Total, resultsPath, errPartial)
	}
	return nil
}

// checkEvalOptions validates the options and reads the inputs, reporting
// every problem it finds.
func checkEvalOptions(opts evalOptions) (*judge.Protocol, []*evalSystem, *table.Table, error) {
	var probs []string
	if opts.GT == "" {
		probs = append(probs, "--gt is required")
	}
	if len(opts.Preds) == 0 {
		probs = append(probs, "at least one --pred NAME=FILE is required")
	}
	if opts.Out == "" {
		probs = append(probs, "--out is required")
	}
	if opts.Repeats < 1 || opts.Repeats > store.MaxRepeats {
		probs = append(probs, fmt.Sprintf("--repeats %d: want 1 to %d", opts.Repeats, store.MaxRepeats))
	}
	if opts.Temperature < 0 {
		probs = append(probs, fmt.Sprintf("--temperature %v is negative", opts.Temperature))
	}
	if opts.Config.Store.Driver != config.DriverPostgres {
		if opts.workersSet || opts.Run != "" {
			probs = append(probs, "--workers and --run are for a shared store (--store postgres://...)")
		}
	} else {
		if opts.workersSet && opts.Workers != 0 && opts.Workers != 1 {
			probs = append(probs, fmt.Sprintf("--workers %d: want 1 (judge here too) or 0 (only wait); --concurrency sets the requests in flight", opts.Workers))
		}
		if opts.Config.Cache != "" {
			probs = append(probs, "--cache: a shared store keeps its own cache")
		}
	}
	proto, err := judge.LookupProtocol(opts.Protocol)
	if err != nil {
		probs = append(probs, "--protocol: "+err.Error())
	}
	switch {
	case opts.configErr != nil:
		probs = append(probs, strings.Split(opts.configErr.Error(), "\n")...)
		if opts.Config.Model == "" {
			probs = append(probs, "model is empty (--model or EMER_MODEL)")
		}
	default:
		if err := opts.Config.Validate(); err != nil {
			probs = append(probs, strings.Split(err.Error(), "\n")...)
		}
	}
	var systems []*evalSystem
	seen := map[string]bool{}
	for _, p := range opts.Preds {
		name, path, ok := strings.Cut(p, "=")
		switch {
		case !ok || name == "" || path == "":
			probs = append(probs, fmt.Sprintf("--pred %q: want NAME=FILE", p))
		case seen[name]:
			probs = append(probs, fmt.Sprintf("--pred: system %q given twice", name))
		default:
			seen[name] = true
			systems = append(systems, &evalSystem{Name: name, Path: path})
		}
	}
	if len(probs) > 0 {
		return nil, nil, nil, usageErrorf("%s", strings.Join(probs, "\n  "))
	}

	var errs []error
	gt, err := readReasons(opts.GT)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, s := range systems {
		if err := readPredictions(s, gt); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, err
	}
	return proto, systems, gt, nil
}

// readPredictions reads the predictions of s from s.Path, with the digest
// of the file, and checks that they cover every ground-truth sample.
func readPredictions(s *evalSystem, gt *table.Table) error {
	t, sum, err := readReasonsSHA256(s.Path)
	if err != nil {
		return err
	}
	s.pred, s.SHA256 = t.Map(reasonsColumn(t)), sum
	var missing []string
	for _, n := range gt.Names() {
		if _, ok := s.pred[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: no prediction for %d ground-truth samples: %s", s.Path, len(missing), abbreviateNames(missing, 10))
	}
	return nil
}

// readReasonsSHA256 is readReasons that also returns the SHA-256 of the
// file's bytes, read once.
func readReasonsSHA256(path string) (*table.Table, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	h := sha256.New()
	t, err := table.Read(io.TeeReader(f, h), path)
	if err != nil {
		return nil, "", err
	}
	if _, err := t.RequireOneOf("reasons", "chi_reasons"); err != nil {
		return nil, "", err
	}
	if _, err := io.Copy(h, f); err != nil { // whatever the reader left
		return nil, "", err
	}
	return t, hex.EncodeToString(h.Sum(nil)), nil
}

// readReasons reads an EMER CSV with a reasons or chi_reasons column.
func readReasons(path string) (*table.Table, error) {
	t, err := table.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := t.RequireOneOf("reasons", "chi_reasons"); err != nil {
		return nil, err
	}
	return t, nil
}

func reasonsColumn(t *table.Table) string {
	c, _ := t.RequireOneOf("reasons", "chi_reasons")
	return c
}

func abbreviateNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(", … (%d more)", len(names)-n)
}

// evalPlan is what a run into an output folder has to do. A real run and
// a dry run make it with the same code, from the same store (a dry run's
// opened read-only), and decide what is left with batch.Plan on it, so
// that the dry run counts what the run would do.
type evalPlan struct {
	run      string // the run's name in the store's records
	out      string
	gt       inputFile
	protocol string
	repeats  int
	systems  []*evalSystem // those given, then those of earlier runs, by name
	carried  []string      // systems of earlier runs not given this time

	// tasks are everything the folder's files describe, one per item,
	// keyed by the item's record key, with the digest of the texts it
	// judges as input: a stored result stands only for those texts.
	tasks []batch.Task[evalItem]

	meta  map[string]string // store meta entries to record before judging
	notes []string          // for stderr
}

// planEval decides what a run into opts.Out does, given the store of the
// folder (nil when it has none yet). It refuses another judge or sampling
// than the folder's; it keeps the systems judged into the folder by
// earlier runs, read again from the files they were judged from, so that
// the folder's files go on describing them; and it lists every item to
// be judged or already judged, for batch.Run or batch.Plan to skip the
// stored results that judged the texts the files hold now (except calls
// that got no reply, which are of class Retry).
func planEval(ctx context.Context, db evalDB, run string, opts evalOptions, proto *judge.Protocol, given []*evalSystem, gt *table.Table, ji judgeInfo, js judgeSampling) (*evalPlan, error) {
	gtSum, err := fileSHA256(opts.GT)
	if err != nil {
		return nil, err
	}
	p := &evalPlan{
		run: run, out: opts.Out, gt: inputFile{Path: absPath(opts.GT), SHA256: gtSum}, protocol: proto.Name,
		repeats: opts.Repeats, systems: given, meta: map[string]string{},
	}

	// One folder, one judge. A folder from before the sampling was
	// recorded takes the sampling of its next run; one whose judge was
	// recorded with its base URL as written is the same judge at the same
	// URL normalised, and is recorded so.
	if err := checkJudgeMeta(ctx, db, opts.Out, p.meta, ji, js); err != nil {
		return nil, err
	}

	// The systems and repeats of earlier runs.
	earlier, repeats, err := folderSystems(ctx, db, opts.Out)
	if err != nil {
		return nil, err
	}
	isGiven := map[string]bool{}
	for _, s := range given {
		isGiven[s.Name] = true
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(earlier)) {
		if isGiven[name] {
			continue
		}
		rec := earlier[name]
		s := &evalSystem{Name: name, Path: rec.Path}
		if err := readPredictions(s, gt); err != nil {
			errs = append(errs, fmt.Errorf("%s holds system %s, judged in an earlier run from %s: %w\n  give it again with --pred %s=FILE, or use another --out",
				opts.Out, name, rec.Path, err, name))
			continue
		}
		if rec.SHA256 != "" && rec.SHA256 != s.SHA256 {
			p.notes = append(p.notes, fmt.Sprintf("%s (system %s) has changed since it was judged: its changed samples are judged again", rec.Path, name))
		}
		p.systems = append(p.systems, s)
		p.carried = append(p.carried, name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Every system of a folder has as many repeats, and a run adds
	// repeats but never drops judged ones from the files.
	if repeats > p.repeats {
		p.notes = append(p.notes, fmt.Sprintf("%s holds %d repeats per item: judging %d, not %d", opts.Out, repeats, repeats, p.repeats))
		p.repeats = repeats
	}
	if p.repeats > store.MaxRepeats {
		return nil, fmt.Errorf("%s holds %d repeats per item, more than emer eval can tell apart (%d)", opts.Out, p.repeats, store.MaxRepeats)
	}

	// Everything to judge, in sample order so that a sample's ground-truth
	// summaries are shared by the systems judged next to each other. The
	// record keys order the results by system, sample, metric and repeat.
	gtReasons := gt.Map(reasonsColumn(gt))
	for _, sample := range gt.Names() {
		for _, s := range p.systems {
			for _, m := range proto.Metrics {
				for r := range p.repeats {
					it := evalItem{
						key:   store.ResultKey{Sample: sample, System: s.Name, Metric: string(m), Repeat: r},
						gt:    gtReasons[sample],
						pred:  s.pred[sample],
						input: store.InputSHA256(gtReasons[sample], s.pred[sample]),
					}
					p.tasks = append(p.tasks, batch.Task[evalItem]{Key: it.key.String(), Input: it.input, Value: it})
				}
			}
		}
	}
	if db != nil {
		orphans, err := orphanSystems(ctx, db, run, p.systems)
		if err != nil {
			return nil, err
		}
		if len(orphans) > 0 {
			p.notes = append(p.notes, fmt.Sprintf("%s holds results of systems whose predictions file was not recorded (%s): give them again with --pred NAME=FILE to keep them in its files",
				opts.Out, strings.Join(orphans, ", ")))
		}
	}

	systems := make(map[string]inputFile, len(p.systems))
	for _, s := range p.systems {
		systems[s.Name] = inputFile{Path: absPath(s.Path), SHA256: s.SHA256}
	}
	b, _ := json.Marshal(systems)
	p.meta[metaSystems] = string(b)
	p.meta[metaRepeats] = strconv.Itoa(p.repeats)
	return p, nil
}

// checkJudgeMeta refuses a folder whose store records another judge or
// sampling than ji and js, and adds to meta the entries to record: those
// the store lacks, and a judge recorded with its base URL not normalised.
func checkJudgeMeta(ctx context.Context, db evalDB, out string, meta map[string]string, ji judgeInfo, js judgeSampling) error {
	for _, m := range []struct {
		key string
		v   any
	}{{metaJudge, ji}, {metaSampling, js}} {
		want, _ := json.Marshal(m.v)
		have, ok, err := metaEntry(ctx, db, m.key)
		if err != nil {
			return err
		}
		if !ok {
			meta[m.key] = string(want)
			continue
		}
		if have == string(want) {
			continue
		}
		if m.key == metaJudge {
			// An earlier emer kept the base URL as given.
			var old judgeInfo
			if json.Unmarshal([]byte(have), &old) == nil {
				old.BaseURL = llm.NormalizeBaseURL(old.BaseURL)
				if old == ji {
					meta[m.key] = string(want)
					continue
				}
			}
		}
		return fmt.Errorf("%s holds results from another judge (%s, now %s): use another --out", out, have, want)
	}
	return nil
}

// orphanSystems returns, in order, the systems that db holds results of
// and that are not among systems.
func orphanSystems(ctx context.Context, db evalDB, run string, systems []*evalSystem) ([]string, error) {
	known := map[string]bool{}
	for _, s := range systems {
		known[s.Name] = true
	}
	var orphans []string
	err := db.Scan(ctx, run, store.JudgeKind, func(r batch.Record) error {
		k, err := store.ParseResultKey(r.Key)
		if err != nil {
			return fmt.Errorf("%s: %w", db.Path(), err)
		}
		if !known[k.System] && !slices.Contains(orphans, k.System) {
			orphans = append(orphans, k.System)
		}
		return nil
	})
	return orphans, err
}

// metaEntry reads a meta entry of db; a nil db holds none.
func metaEntry(ctx context.Context, db evalDB, key string) (string, bool, error) {
	if db == nil {
		return "", false, nil
	}
	return db.Meta(ctx, key)
}

// folderSystems returns the systems judged into the folder dir and its
// repeats per item (0 when unknown), from its store (nil: none yet), or
// for a folder from before the store recorded them, from its run.json.
func folderSystems(ctx context.Context, db evalDB, dir string) (map[string]inputFile, int, error) {
	systems := map[string]inputFile{}
	v, ok, err := metaEntry(ctx, db, metaSystems)
	if err != nil {
		return nil, 0, err
	}
	if ok {
		if err := json.Unmarshal([]byte(v), &systems); err != nil {
			return nil, 0, fmt.Errorf("%s: the systems recorded in its store: %w", dir, err)
		}
		v, _, err := metaEntry(ctx, db, metaRepeats)
		if err != nil {
			return nil, 0, err
		}
		repeats, _ := strconv.Atoi(v)
		return systems, repeats, nil
	}
	runPath := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(runPath)
	if errors.Is(err, fs.ErrNotExist) {
		return systems, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var info evalRunInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", runPath, err)
	}
	for name, path := range info.Systems {
		systems[name] = inputFile{Path: path, SHA256: info.SystemsSHA256[name]}
	}
	return systems, info.Repeats, nil
}

// report prints the plan's notes, and the systems of earlier runs kept.
func (p *evalPlan) report(w io.Writer) {
	if len(p.carried) > 0 {
		fmt.Fprintf(w, "emer eval: %s also holds %s from earlier runs; they stay in its results and summaries\n", p.out, strings.Join(p.carried, ", "))
	}
	for _, n := range p.notes {
		fmt.Fprintf(w, "emer eval: %s\n", n)
	}
}

// runInfo returns run.json for the plan.
func (p *evalPlan) runInfo() evalRunInfo {
	info := evalRunInfo{GT: p.gt.Path, GTSHA256: p.gt.SHA256, Systems: map[string]string{}, SystemsSHA256: map[string]string{},
		Protocol: p.protocol, Repeats: p.repeats}
	for _, s := range p.systems {
		info.Systems[s.Name] = absPath(s.Path)
		info.SystemsSHA256[s.Name] = s.SHA256
	}
	return info
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// evalDryRun counts what a run would do. It writes nothing: the folder's
// store and the cache are opened read-only, if they exist.
func evalDryRun(ctx context.Context, opts evalOptions, proto *judge.Protocol, given []*evalSystem, gt *table.Table, ji judgeInfo, js judgeSampling, dbPath, cachePath string) error {
	openIfThere := func(path string) (*store.Store, error) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return store.OpenReadOnly(ctx, path)
	}
	db, err := openIfThere(dbPath)
	if err != nil {
		return err
	}
	var edb evalDB
	var cache llm.CacheStore
	if db != nil {
		defer db.Close()
		edb = db
	}
	if absPath(cachePath) == absPath(dbPath) {
		if db != nil {
			cache = db
		}
	} else {
		c, err := openIfThere(cachePath)
		if err != nil {
			return err
		}
		if c != nil {
			defer c.Close()
			cache = c
		}
	}
	return countDryRun(ctx, opts, edb, store.JudgeRun, cache, proto, given, gt, ji, js)
}

// countDryRun plans the run on db (nil: a folder with no store yet) and
// counts the calls its judging would make, and those cache holds.
func countDryRun(ctx context.Context, opts evalOptions, db evalDB, run string, cache llm.CacheStore, proto *judge.Protocol, given []*evalSystem, gt *table.Table, ji judgeInfo, js judgeSampling) error {
	cfg := opts.Config
	plan, err := planEval(ctx, db, run, opts, proto, given, gt, ji, js)
	if err != nil {
		return err
	}
	plan.report(opts.Stderr)
	todo := plan.tasks
	if db != nil {
		if todo, err = batch.Plan(ctx, db, run, store.JudgeKind, plan.tasks); err != nil {
			return err
		}
	}
	dry := llm.NewDryRun(cfg.BaseURL, cache)
	j := &judge.Judge{Client: dry, Model: cfg.Model, Protocol: proto, Temperature: opts.Temperature, MaxTokens: cfg.MaxTokens}
	for _, t := range todo {
		it := t.Value
		j.Score(ctx, judge.Metric(it.key.Metric), it.gt, it.pred, it.key.Repeat)
	}
	total, pending := len(plan.tasks), len(todo)
	calls, cached := dry.Counts()
	if opts.JSON {
		return json.NewEncoder(opts.Stdout).Encode(map[string]int{
			"results": total, "results_done": total - pending, "results_pending": pending,
			"calls": calls, "calls_cached": cached, "calls_to_make": calls - cached,
		})
	}
	_, err = fmt.Fprintf(opts.Stdout, "dry run: %d results, %d already done, %d to judge; %d calls needed, %d held by the cache, %d to make\n",
		total, total-pending, pending, calls, cached, calls-cached)
	return err
}

// replaceFile writes data to a temporary file beside path, syncs it and
// renames it over path.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func replaceJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(path, append(b, '\n'))
}

// shortSHA returns the first 12 digits of a digest, as summary.md shows it.
func shortSHA(s string) string { return s[:min(len(s), 12)] }

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// summarizeEval computes summary.json from the folder's results of the
// plan's systems, read from the ledger as a stream: the results of an
// item's repeats, next to each other in key order, become the sample's
// score (the median of the ok ones) as they go by, so that only one
// score per sample, system and metric is held, never the results.
func summarizeEval(ctx context.Context, l batch.Ledger, plan *evalPlan, proto *judge.Protocol, ji judgeInfo) (evalSummary, error) {
	var (
		items []judge.Judged
		cur   judge.Judged // the sample, system and metric being read
		oks   []float64    // the ok scores of cur's repeats
		have  bool
	)
	flush := func() {
		if !have {
			return
		}
		if len(oks) > 0 {
			m := judge.Median(oks)
			cur.Status, cur.Score = judge.StatusOK, &m
		}
		items = append(items, cur)
		oks = oks[:0]
	}
	err := batch.Each(ctx, l, plan.run, store.JudgeKind, plan.tasks, func(rec batch.Record) error {
		r, err := store.ParseResult(rec)
		if err != nil {
			return err
		}
		if !have || r.Sample != cur.Sample || r.System != cur.System || judge.Metric(r.Metric) != cur.Metric {
			flush()
			cur, have = judge.Judged{Sample: r.Sample, System: r.System, Metric: judge.Metric(r.Metric), Status: judge.Status(r.Status)}, true
		}
		if judge.Status(r.Status) == judge.StatusOK && r.Score != nil {
			oks = append(oks, *r.Score)
		}
		return nil
	})
	if err != nil {
		return evalSummary{}, err
	}
	flush()
	names := make([]string, len(plan.systems))
	preds := make(map[string]inputFile, len(plan.systems))
	for i, s := range plan.systems {
		names[i] = s.Name
		preds[s.Name] = inputFile{Path: absPath(s.Path), SHA256: s.SHA256}
	}
	return evalSummary{Systems: judge.Summarize(items, names, proto.Metrics), Judge: ji, GroundTruth: plan.gt, Predictions: preds}, nil
}

// summaryMarkdown renders the summary as the paper's table: one row per
// system, ordered by clue overlap as the paper orders them.
func summaryMarkdown(sum evalSummary, proto *judge.Protocol) string {
	names := make([]string, 0, len(sum.Systems))
	for n := range sum.Systems {
		names = append(names, n)
	}
	clue := func(n string) float64 {
		if m := sum.Systems[n][judge.MetricClue].Mean; m != nil {
			return *m
		}
		return math.Inf(-1)
	}
	sort.Slice(names, func(i, j int) bool {
		if ci, cj := clue(names[i]), clue(names[j]); ci != cj {
			return ci < cj
		}
		return names[i] < names[j]
	})
	title := map[judge.Metric]string{judge.MetricClue: "Clue overlap", judge.MetricEmotion: "Emotion overlap", judge.MetricModality: "Modality"}
	var b strings.Builder
	fmt.Fprintf(&b, "# EMER judge results\n\nJudge: `%s` at %s, protocol `%s` (scores %g-%g; prompts sha256 %s).\n\n",
		sum.Judge.Model, sum.Judge.BaseURL, proto.Name, proto.Lo, proto.Hi, sum.Judge.PromptSHA256[:12])
	b.WriteString("| System |")
	for _, m := range proto.Metrics {
		fmt.Fprintf(&b, " %s |", title[m])
	}
	b.WriteString("\n| --- |")
	for range proto.Metrics {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, n := range names {
		fmt.Fprintf(&b, "| %s |", n)
		for _, m := range proto.Metrics {
			ms := sum.Systems[n][m]
			cell := "—"
			if ms.Mean != nil {
				cell = fmt.Sprintf("%.2f", *ms.Mean)
				if ms.Stderr != nil {
					cell += fmt.Sprintf(" ± %.2f", *ms.Stderr)
				}
			}
			if ms.NFailed > 0 {
				cell += fmt.Sprintf(" (%d failed)", ms.NFailed)
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nMean ± standard error over the samples with a score; a sample's score is the median of its ok repeats. Failed samples have no score and are not averaged; see results.jsonl for their status and raw reply.\n")
	fmt.Fprintf(&b, "\nGround truth: `%s` (sha256 %s).\n\n| System | Predictions | sha256 |\n| --- | --- | --- |\n", sum.GroundTruth.Path, shortSHA(sum.GroundTruth.SHA256))
	for _, n := range slices.Sorted(maps.Keys(sum.Predictions)) {
		f := sum.Predictions[n]
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", n, f.Path, shortSHA(f.SHA256))
	}
	return b.String()
}

// sharedRun is one run of a shared PostgreSQL store, as the evalDB of an
// output folder: its meta entries are the run's own.
type sharedRun struct {
	*pgstore.Store
	run string
}

func (r sharedRun) Meta(ctx context.Context, key string) (string, bool, error) {
	return r.Store.Meta(ctx, r.run, key)
}

func (r sharedRun) SetMeta(ctx context.Context, key, value string) error {
	return r.Store.SetMeta(ctx, r.run, key, value)
}

func (r sharedRun) Path() string { return r.Store.Name() }

// evalRunName is the run's name in a shared store.
func evalRunName(opts evalOptions) string {
	if opts.Run != "" {
		return opts.Run
	}
	return "eval:" + absPath(opts.Out)
}

// runEvalShared is runEval on a PostgreSQL store: it queues what is left
// to judge, judges in this process too unless --workers 0, waits until
// every item has a result, and writes the folder's files from the store.
func runEvalShared(ctx context.Context, opts evalOptions, proto *judge.Protocol, given []*evalSystem, gt *table.Table, ji judgeInfo, js judgeSampling) error {
	cfg := opts.Config
	run := evalRunName(opts)
	// The store's own complaints (the database unreachable, and back).
	storeLog := slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if opts.DryRun {
		st, err := pgstore.Open(ctx, cfg.Store.URL, pgstore.Options{ReadOnly: true, Log: storeLog})
		if err != nil {
			return err
		}
		defer st.Close()
		return countDryRun(ctx, opts, sharedRun{st, run}, run, st, proto, given, gt, ji, js)
	}
	if err := makeOutDir(opts.Out); err != nil {
		return err
	}
	lock, err := store.LockDir(opts.Out)
	if err != nil {
		if le, ok := errors.AsType[*store.LockedError](err); ok {
			return evalInUseError(le)
		}
		return err
	}
	defer lock.Close()
	st, err := pgstore.Open(ctx, cfg.Store.URL, pgstore.Options{Log: storeLog})
	if err != nil {
		return err
	}
	defer st.Close()
	db := sharedRun{st, run}
	plan, err := planEval(ctx, db, run, opts, proto, given, gt, ji, js)
	if err != nil {
		return err
	}
	plan.report(opts.Stderr)
	for _, k := range slices.Sorted(maps.Keys(plan.meta)) {
		if err := db.SetMeta(ctx, k, plan.meta[k]); err != nil {
			return err
		}
	}
	if err := replaceJSONFile(filepath.Join(opts.Out, "run.json"), plan.runInfo()); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(opts.Out, "calls.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	fmt.Fprintf(opts.Stderr, "emer eval: run %s in %s\n", run, st.Name())

	// The local worker, if any: its calls and what it holds go to
	// calls.jsonl. When it cannot go on (its server is unreachable), the
	// waiting stops too.
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	var lw *worker.Running
	if !opts.workersSet || opts.Workers > 0 {
		if lw, err = startLocalWorker(ctx, st, worker.KindJudge, cfg, opts.Lease, opts.retryBase, logFile, stopWaiting); err != nil {
			return err
		}
	}
	prog := opts.Progress
	if prog == nil {
		prog = batch.NewProgress(opts.Stderr)
	}
	resultsPath := filepath.Join(opts.Out, "results.jsonl")
	encode := func(t batch.Task[evalItem]) ([]byte, error) {
		it := t.Value
		return json.Marshal(worker.JudgeItem{
			Sample: it.key.Sample, System: it.key.System, Metric: it.key.Metric, Repeat: it.key.Repeat,
			GT: it.gt, Pred: it.pred,
			Protocol: proto.Name, PromptSHA256: proto.PromptSHA256(), Model: cfg.Model,
			Temperature: opts.Temperature, MaxTokens: cfg.MaxTokens,
		})
	}
	stats, err := batch.Distribute(waitCtx, db, st, batch.Options{
		Run: run, Kind: store.JudgeKind, Journal: resultsPath, Progress: prog, Describe: "judging",
		Notify: noWorkerNotice(opts.Stderr, "emer eval", st, worker.KindJudge),
	}, opts.poll, queueOrder(plan.tasks), encode)
	var totals llm.Totals
	if lw != nil {
		var werr error
		if totals, werr = lw.Stop(); werr != nil {
			fmt.Fprintf(opts.Stderr, "emer eval: this process stopped judging: %v\n  the items left stay queued in %s for emer worker processes; run again with the same --out to collect them\n", werr, st.Name())
			return werr
		}
	}
	if errors.Is(err, batch.ErrInterrupted) {
		return fmt.Errorf("interrupted (%w): the items left stay queued for emer worker processes; run again with the same --out to collect them", ctx.Err())
	}
	if err != nil {
		return err
	}
	return finishEval(ctx, opts, db, plan, proto, ji, stats, totals, resultsPath)
}

// queueOrder returns tasks in the order a shared run queues them: by
// metric and repeat, then system, then sample. The items that share the
// judge's summary of a sample's ground truth (one per system) are then a
// whole pass over the samples apart: the second finds the summary in the
// store's cache, where items of one sample queued side by side would be
// taken by different workers at once and each make the call.
func queueOrder(tasks []batch.Task[evalItem]) []batch.Task[evalItem] {
	sample := map[string]int{}
	system := map[string]int{}
	metric := map[string]int{}
	for _, t := range tasks {
		k := t.Value.key
		for _, m := range []struct {
			index map[string]int
			name  string
		}{{sample, k.Sample}, {system, k.System}, {metric, k.Metric}} {
			if _, ok := m.index[m.name]; !ok {
				m.index[m.name] = len(m.index)
			}
		}
	}
	out := slices.Clone(tasks)
	slices.SortStableFunc(out, func(a, b batch.Task[evalItem]) int {
		ka, kb := a.Value.key, b.Value.key
		return cmp.Or(
			cmp.Compare(metric[ka.Metric], metric[kb.Metric]),
			cmp.Compare(ka.Repeat, kb.Repeat),
			cmp.Compare(system[ka.System], system[kb.System]),
			cmp.Compare(sample[ka.Sample], sample[kb.Sample]))
	})
	return out
}
