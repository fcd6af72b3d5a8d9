package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/dataset"
	"emer/internal/llm"
	"emer/internal/pgstore"
	"emer/internal/store"
	"emer/internal/summarize"
	"emer/internal/table"
	"emer/internal/textenc"
	"emer/internal/worker"
)

func init() { registerBuild(newBuildSummarizeCmd) }

// buildSummarizeOptions are the inputs of runBuildSummarize.
type buildSummarizeOptions struct {
	Annotations string // annotation records, CSV or JSONL
	Dataset     string // EMER CSV of names and subtitles, optional
	Lang        string // en or zh; "": the records' language
	Out         string
	Config      config.Config // model server, concurrency, cache, store: fully resolved

	// With a postgres:// store: Workers is how many workers the run
	// starts in its own process besides waiting (0: only waits, for
	// emer worker processes elsewhere; 1 when not set); Run names the run
	// in the store ("": summarize:ABSOLUTE-OUT); Lease is the local
	// worker's lease (0: pgstore.DefaultLease).
	Workers    int
	workersSet bool
	Run        string
	Lease      time.Duration

	Stdout, Stderr io.Writer
	// Progress is told how the run advances; nil: batch.NewProgress on
	// Stderr.
	Progress batch.Progress

	configErr error            // what resolving the settings found wrong
	retryBase time.Duration    // delay before the first retry; 0: llm.DefaultRetryBase
	now       func() time.Time // stamps the review changes; nil: time.Now
	poll      time.Duration    // how often a shared run looks at its queue; 0: batch.DefaultPoll
}

// The files of a summarize folder.
const (
	summarizeDescriptions = "descriptions.csv"
	summarizeOpenset      = "openset.csv"
	summarizeSteps        = "steps.jsonl"
)

func newBuildSummarizeCmd(g *globalOptions) *cobra.Command {
	opts := buildSummarizeOptions{}
	var bind *config.Binding
	cmd := &cobra.Command{
		Use:   "summarize --annotations FILE --model M [--base-url URL] [--lang en|zh] [--dataset CSV] [--store postgres://...] --out DIR",
		Short: "Summarize annotators' clues into EMER descriptions with a chat model, for review",
		Long: `summarize builds an EMER description for every clip of an annotation file
(clip, annotator, aspect, text, lang; CSV or JSONL, as emer build cost
reads) the way the EMER dataset was built, with a chat model behind an
OpenAI-compatible server:

  1. clue summarization: the clues of each annotator, their aspects in
     EMER's order (visual, audio, content, context), are one "clue
     description" paragraph; the model merges the paragraphs into one
  2. emotion summarization: the few-shot prompt infers the emotion from
     the merged clues
  3. combination: both are joined by the EMER-V1 form, with no model
     call: "In the video, {clues}. Therefore, it is inferred that his
     emotional state is {emotions}." (Chinese: "在视频中，{clues}，推测他的
     情感状态为{emotions}。")
  4. the open-vocabulary labels of the description, by AffectGPT 2025's
     extraction prompt (in English for both languages: the labels of
     OV-MER and AffectGPT are English words)

The prompts are the paper's, in English, or in Chinese with --lang zh
(the default is the language of the records, which must then share one).
A reply that is empty, refused, cut off at the token limit, an emotion with
no word the emotion lexicon knows (the AffectGPT emotion wheels' words,
Chinese emotion words, neutral), or labels that cannot be read or are none
marks the clip for review, with the reason; it is never written as a
description.

It writes, in DIR:
  descriptions.csv  names, emotions, subtitles, reasons (the EMER-V1
                    layout) of the clips whose every reply was usable;
                    subtitles from --dataset (names + subtitles), else empty
  openset.csv       name, openset ("['worried', 'sad']") of the same clips
  steps.jsonl       one line per clip: its status, each step's raw reply
                    and why a reply was unusable
  calls.jsonl       every request and reply
  emer.db           the run, the reply cache, the annotation records
                    summarized, and the review state

Every clip's draft goes into review in DIR/emer.db: pending, with the
reasons it was marked for, until someone accepts, edits or rejects it
(emer build review). A draft already reviewed keeps its review unless it
changes. Running again with the same --out resumes: done clips are kept,
cached replies are not asked again, and a clip is summarized again when
its clues or the settings change. The exit status is 1 when a clip got no
reply from the server, after everything else is written.

With --store postgres://USER@HOST/DB the run is shared: the clips left to
summarize are queued in that database, each with its clues, the model
name, the language, the token limit and the digest of the prompts (a
worker whose emer has other prompts refuses them); emer worker processes
on any machine (each with its own model server) take them, and this
command summarizes too (--workers 0: it only waits). Once every clip has a
result it puts the drafts into review in that database, under the run's
name (summarize:ABSOLUTE-OUT unless --run says otherwise), keeps the
annotation records there, and writes descriptions.csv, openset.csv,
steps.jsonl and calls.jsonl (of its own calls) in DIR. Run it again to
resume or collect; emer status shows the progress. API keys and server
addresses never enter the database. See docs/scale-out.md.`,
		Example: `  emer build summarize --annotations clues.csv --model qwen2.5:7b --base-url http://127.0.0.1:11434/v1 --out runs/summary
  emer build summarize --annotations clues.jsonl --lang zh --dataset gt-chi.csv --model gpt-4o-mini \
      --base-url https://api.example.com/v1 --out runs/zh`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Config, opts.configErr = bind.Resolve(config.ProcessEnv)
			opts.Stdout, opts.Stderr = g.stdout, g.stderr
			opts.workersSet = cmd.Flags().Changed("workers")
			return runBuildSummarize(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Annotations, "annotations", "", "annotation records: clip, annotator, aspect, text, lang (.csv or .jsonl)")
	f.StringVar(&opts.Dataset, "dataset", "", "EMER CSV with the clips' subtitles (names + subtitles), optional")
	f.StringVar(&opts.Lang, "lang", "", "language of the prompts and descriptions: en or zh (default: the records')")
	f.StringVar(&opts.Out, "out", "", "output folder; rerun with the same one to resume")
	f.IntVar(&opts.Workers, "workers", 1, "with a postgres:// store: summarize in this process too (1) or only wait for emer worker processes (0)")
	f.StringVar(&opts.Run, "run", "", "with a postgres:// store: the run's name there (default summarize:ABSOLUTE-OUT)")
	f.DurationVar(&opts.Lease, "lease", pgstore.DefaultLease, "with a postgres:// store: how long this process's clips stay its own once it stops renewing its lease (killed)")
	bind = config.Bind(f, append(slices.Clone(config.ChatKeys), "store")...).Require("model")
	cmd.Long += "\n\n" + bind.Help()
	return cmd
}

func runBuildSummarize(ctx context.Context, opts buildSummarizeOptions) error {
	var probs []string
	if opts.Annotations == "" {
		probs = append(probs, "--annotations is required")
	}
	if opts.Out == "" {
		probs = append(probs, "--out is required")
	}
	if opts.Lang != "" && opts.Lang != summarize.English && opts.Lang != summarize.Chinese {
		probs = append(probs, fmt.Sprintf("--lang must be en or zh, got %q", opts.Lang))
	}
	if opts.configErr != nil {
		probs = append(probs, strings.Split(opts.configErr.Error(), "\n")...)
	} else if err := opts.Config.Validate(); err != nil {
		probs = append(probs, strings.Split(err.Error(), "\n")...)
	}
	shared := opts.Config.Store.Driver == config.DriverPostgres
	if !shared {
		if opts.workersSet || opts.Run != "" {
			probs = append(probs, "--workers and --run are for a shared store (--store postgres://...)")
		}
	} else {
		if opts.workersSet && opts.Workers != 0 && opts.Workers != 1 {
			probs = append(probs, fmt.Sprintf("--workers %d: want 1 (summarize here too) or 0 (only wait); --concurrency sets the requests in flight", opts.Workers))
		}
		if opts.Lease != 0 && opts.Lease < time.Second {
			probs = append(probs, fmt.Sprintf("--lease %v: want 1s or more", opts.Lease))
		}
		if opts.Config.Cache != "" {
			probs = append(probs, "--cache: a shared store keeps its own cache")
		}
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	cfg := opts.Config

	enc := textenc.Default()
	af, err := dataset.ReadAnnotationsFile(opts.Annotations, dataset.ReadOptions{Encoding: enc})
	if err != nil {
		return err
	}
	lang, err := annotationsLanguage(af, opts.Lang)
	if err != nil {
		return err
	}
	clips := summarize.Clips(af.Records, lang)
	subtitles := map[string]string{}
	if opts.Dataset != "" {
		if subtitles, err = readSubtitles(opts.Dataset, lang, clips, opts.Stderr); err != nil {
			return err
		}
	}

	if err := makeOutDir(opts.Out); err != nil {
		return err
	}
	dbPath := filepath.Join(opts.Out, "emer.db")
	if cfg.Store.Driver == config.DriverSQLite {
		dbPath = cfg.Store.Path
	}
	if !shared {
		if err := store.CheckWritable(dbPath); err != nil {
			return err
		}
	}
	lock, err := store.LockDir(opts.Out)
	if err != nil {
		if le, ok := errors.AsType[*store.LockedError](err); ok {
			return fmt.Errorf("%s is in use by another emer run (pid %d): wait for it to finish, or use another --out", le.Dir, le.PID)
		}
		return err
	}
	defer lock.Close()
	if shared {
		return runBuildSummarizeShared(ctx, opts, af, lang, clips, subtitles)
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	// The store holds the records it summarized.
	if err := db.PutAnnotations(ctx, af.Records); err != nil {
		return err
	}
	cacheDB := db
	if cfg.Cache != "" && absPath(cfg.Cache) != absPath(dbPath) {
		if cacheDB, err = store.Open(ctx, cfg.Cache); err != nil {
			return err
		}
		defer cacheDB.Close()
	}
	logFile, err := os.OpenFile(filepath.Join(opts.Out, "calls.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	sc := cfg.StackConfig()
	sc.RetryBase = opts.retryBase
	sc.BreakerFailures = max(cfg.BreakerFailures, 8, 2*cfg.Concurrency)
	sc.Cache = cacheDB
	sc.Log = slog.New(slog.NewJSONHandler(logFile, nil))
	client := llm.NewStack(sc)

	settings, err := json.Marshal(map[string]any{
		"model": cfg.Model, "base_url": llm.NormalizeBaseURL(cfg.BaseURL), "lang": lang, "max_tokens": cfg.MaxTokens,
	})
	if err != nil {
		return err
	}
	prog := opts.Progress
	if prog == nil {
		prog = batch.NewProgress(opts.Stderr)
	}
	s := &summarize.Summarizer{Client: client, Model: cfg.Model, Lang: lang, MaxTokens: cfg.MaxTokens}
	rep, err := summarize.Run(ctx, db, store.NewReviews(db), s, clips, summarize.RunOptions{
		Run: summarize.Kind, Workers: 4 * cfg.Concurrency, Journal: filepath.Join(opts.Out, summarizeSteps),
		Progress: prog, Settings: string(settings), Now: opts.now,
	})
	if unreachable := client.Unreachable(); unreachable != nil {
		fmt.Fprintf(opts.Stderr, "emer build summarize: %v\n  the clips it could not summarize are left for the next run with the same --out\n", unreachable)
	}
	if err == nil || errors.Is(err, batch.ErrInterrupted) {
		// What is done is written, also when the run was interrupted.
		if werr := writeSummaries(opts.Out, rep.Results, subtitles); werr != nil {
			return werr
		}
	}
	if errors.Is(err, batch.ErrInterrupted) {
		return fmt.Errorf("interrupted (%w): run again with the same --out to resume", ctx.Err())
	}
	if err != nil {
		return err
	}
	return reportSummaries(opts, rep, client.Totals())
}

// summarizeRunName is the run's name in a shared store.
func summarizeRunName(opts buildSummarizeOptions) string {
	if opts.Run != "" {
		return opts.Run
	}
	return "summarize:" + absPath(opts.Out)
}

// runBuildSummarizeShared is runBuildSummarize on a PostgreSQL store, in
// the locked output folder: it keeps the annotation records in the store
// under the run's name, queues the clips left to summarize, summarizes in
// this process too unless --workers 0, waits until every clip has a
// result, puts the drafts into the run's review state in the store and
// writes the folder's files.
func runBuildSummarizeShared(ctx context.Context, opts buildSummarizeOptions, af *dataset.AnnotationFile, lang string, clips []summarize.Clip, subtitles map[string]string) error {
	cfg := opts.Config
	run := summarizeRunName(opts)
	// The store's own complaints (the database unreachable, and back).
	storeLog := slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := pgstore.Open(ctx, cfg.Store.URL, pgstore.Options{Log: storeLog})
	if err != nil {
		return err
	}
	defer st.Close()
	// The store holds the records it summarized, and the review state,
	// under the run's name.
	if err := st.Annotations(run).PutAnnotations(ctx, af.Records); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(opts.Out, "calls.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	fmt.Fprintf(opts.Stderr, "emer build summarize: run %s in %s\n", run, st.Name())

	// The local worker, if any: its calls and what it holds go to
	// calls.jsonl. When it cannot go on (its server is unreachable), the
	// waiting stops too.
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	var lw *worker.Running
	if !opts.workersSet || opts.Workers > 0 {
		if lw, err = startLocalWorker(ctx, st, worker.KindSummarize, cfg, opts.Lease, opts.retryBase, logFile, stopWaiting); err != nil {
			return err
		}
	}
	prog := opts.Progress
	if prog == nil {
		prog = batch.NewProgress(opts.Stderr)
	}
	spec := summarize.Spec{Model: cfg.Model, Lang: lang, MaxTokens: cfg.MaxTokens}
	rep, err := summarize.Distribute(waitCtx, st, st, st.Reviews(run), spec, clips, summarize.RunOptions{
		Run: run, Journal: filepath.Join(opts.Out, summarizeSteps), Progress: prog, Now: opts.now, Poll: opts.poll,
		Notify: noWorkerNotice(opts.Stderr, "emer build summarize", st, worker.KindSummarize),
	})
	var totals llm.Totals
	var werr error
	if lw != nil {
		totals, werr = lw.Stop()
	}
	if err == nil || errors.Is(err, batch.ErrInterrupted) {
		// What is done is written, also when the run was interrupted.
		if err := writeSummaries(opts.Out, rep.Results, subtitles); err != nil {
			return err
		}
	}
	if werr != nil {
		fmt.Fprintf(opts.Stderr, "emer build summarize: this process stopped summarizing: %v\n  the clips left stay queued in %s for emer worker processes; run again with the same --out to collect them\n", werr, st.Name())
		return werr
	}
	if errors.Is(err, batch.ErrInterrupted) {
		return fmt.Errorf("interrupted (%w): the clips left stay queued for emer worker processes; run again with the same --out to collect them", ctx.Err())
	}
	if err != nil {
		return err
	}
	return reportSummaries(opts, rep, totals)
}

// writeSummaries writes descriptions.csv and openset.csv in dir.
func writeSummaries(dir string, results []summarize.Result, subtitles map[string]string) error {
	if err := summarize.WriteDescriptions(filepath.Join(dir, summarizeDescriptions), results, subtitles); err != nil {
		return err
	}
	return summarize.WriteOpenset(filepath.Join(dir, summarizeOpenset), results)
}

// reportSummaries says on stderr what the run made, and which clips are in
// review or got no reply.
func reportSummaries(opts buildSummarizeOptions, rep *summarize.Report, t llm.Totals) error {
	var review, failed []summarize.Result
	for _, r := range rep.Results {
		switch r.Status {
		case summarize.StatusReview:
			review = append(review, r)
		case summarize.StatusRetry:
			failed = append(failed, r)
		}
	}
	for _, r := range review {
		fmt.Fprintf(opts.Stderr, "emer build summarize: %s: marked for review: %s\n", r.Name, strings.Join(r.Review, "; "))
	}
	for _, r := range failed {
		fmt.Fprintf(opts.Stderr, "emer build summarize: %s: no reply: %s\n", r.Name, r.Error)
	}
	fmt.Fprintf(opts.Stderr, "emer build summarize: %d clips: %d described into %s, %d marked for review, %d without a reply; this run: %d summarized, %d drafts into review, %d calls (%d from the cache, %d requests sent, %d failed)\n",
		rep.Total, rep.ByStatus[summarize.StatusOK], filepath.Join(opts.Out, summarizeDescriptions), len(review), len(failed)+rep.Stats.Missing,
		rep.Ran, rep.Drafted, t.Calls, t.CacheHits, t.Requests, t.Failures)
	if n := len(failed) + rep.Stats.Missing; n > 0 {
		return fmt.Errorf("%d of %d clips got no reply (see %s): %w", n, rep.Total, filepath.Join(opts.Out, summarizeSteps), errPartial)
	}
	return nil
}

// annotationsLanguage returns the language the records are summarized in:
// lang when given, which every record must be in, else the one language
// all records share.
func annotationsLanguage(af *dataset.AnnotationFile, lang string) (string, error) {
	byLang := map[string][]dataset.Annotation{}
	for _, r := range af.Records {
		b := summarize.BaseLanguage(r.Lang)
		if b == "" {
			b = r.Lang
		}
		byLang[b] = append(byLang[b], r)
	}
	if len(af.Records) == 0 {
		return "", fmt.Errorf("%s: no annotation records", af.Path)
	}
	if lang == "" {
		if len(byLang) == 1 {
			for l := range byLang {
				lang = l
			}
		} else {
			langs := make([]string, 0, len(byLang))
			for l, rs := range byLang {
				langs = append(langs, fmt.Sprintf("%s (%d)", l, len(rs)))
			}
			slices.Sort(langs)
			return "", usageErrorf("%s: the records are in %s: give --lang en or zh, and the records in that language only", af.Path, strings.Join(langs, ", "))
		}
		if lang != summarize.English && lang != summarize.Chinese {
			return "", fmt.Errorf("%s: the records are in %s; the prompts are in en or zh", af.Path, lang)
		}
		return lang, nil
	}
	var other []string
	for l, rs := range byLang {
		if l == lang {
			continue
		}
		for _, r := range rs {
			other = append(other, fmt.Sprintf("%s (%s)", r.Pos, r.Lang))
		}
	}
	if len(other) > 0 {
		slices.Sort(other)
		return "", fmt.Errorf("%s: %d records are not in %s, the language of the prompts: %s", af.Path, len(other), lang, table.ListNames(other, 5))
	}
	return lang, nil
}

// readSubtitles reads the subtitle of each clip from an EMER CSV: its
// chisubs, subtitles or subtitle column for Chinese, subtitles, engsubs or
// subtitle for English. Clips the file lacks are counted on stderr and
// get no subtitle.
func readSubtitles(path, lang string, clips []summarize.Clip, stderr io.Writer) (map[string]string, error) {
	t, err := table.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cols := []string{"subtitles", "engsubs", "subtitle"}
	if lang == summarize.Chinese {
		cols = []string{"chisubs", "subtitles", "subtitle"}
	}
	col, err := t.RequireOneOf(cols...)
	if err != nil {
		return nil, err
	}
	subs := t.Map(col)
	var missing []string
	for _, c := range clips {
		if _, ok := subs[c.Name]; !ok {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "emer build summarize: %s: no row for %d annotated clips, whose subtitles stay empty: %s\n", path, len(missing), table.ListNames(missing, 8))
	}
	return subs, nil
}
