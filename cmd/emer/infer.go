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
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/cues"
	"emer/internal/explain"
	"emer/internal/infer"
	"emer/internal/pgstore"
	"emer/internal/store"
	"emer/internal/worker"
)

func init() { register(newInferCmd) }

type inferOptions struct {
	clips        []string
	subtitle     string
	subtitleFile string
	backend      string
	mode         string
	prompt       string
	frames       int
	audio        bool
	lang         string
	fps          float64
	detector     string // tiny, ssd or auto
	landmarks    string // net, tiny or none
	json         bool

	dataset, media, out, openset, jsonl string

	// With a postgres:// store: workers is how many workers the run
	// starts in its own process besides waiting (0: only waits, for emer
	// worker processes elsewhere; the flag's default is 1); run names the
	// run in the store ("": infer:ABSOLUTE-OUT); lease is the local
	// worker's lease (0: pgstore.DefaultLease).
	workers int
	run     string
	lease   time.Duration

	cfg            config.Config
	concurrencySet bool // --concurrency was given
	// sharedSet names the flags given that are for shared dataset runs
	// (--store, --workers, --run, --lease), for checkInferStore.
	sharedSet []string
	stdout    io.Writer
	stderr    io.Writer
	// progress reports a dataset run; nil picks a bar or lines for stderr.
	progress batch.Progress
	poll     time.Duration // how often a shared run looks at its queue; 0: batch.DefaultPoll
}

const (
	backendLocal = infer.BackendLocal
	backendLLM   = infer.BackendLLM
)

func newInferCmd(g *globalOptions) *cobra.Command {
	opts := inferOptions{}
	var bind *config.Binding
	cmd := &cobra.Command{
		Use:   "infer CLIP... | infer --dataset CSV --media DIR --out FILE.csv",
		Short: "Explain the emotion in clips: ranked emotions and the measured clues behind them",
		Long: `infer says what the person in a clip feels and why, in the EMER form: ranked
emotions, open-vocabulary labels, and clues from the face, the voice and the
words, each with its time range and the measured evidence it rests on.

--backend local (the default) needs no server: it measures the clip's cues
(faces and expressions, voice prosody, subtitle emotion words) and fuses
them by documented rules into the explanation; it never claims a channel it
did not measure. --backend llm asks a multimodal model behind an
OpenAI-compatible server (--base-url, --model):
  --mode end2end  K frames as images (--frames), the audio with --audio,
                  and the subtitle, in the --prompt (emer, affectgpt2023,
                  affectgpt2025)
  --mode caption  --caption-model describes the frames, --model reasons from
                  that description and the subtitle (VideoChat-Text)
  --mode cues     end2end with the local reasoner's measured cues added to
                  the prompt, so that a model that cannot hear still
                  reasons from the voice
then extracts open-vocabulary labels from the reasoning (AffectGPT 2025).

Subtitles come from --subtitle, --subtitle-file, a sidecar .srt/.vtt, a text
track in the clip or, with --asr-url, speech to text; without them the text
channel is reported absent.

With --dataset, every clip of an EMER CSV (names + subtitles, engsubs or
chisubs) is explained from --media (found by name, any common video or
audio extension) into --out (names,reasons), --openset (name,openset) and
--jsonl (one line per clip), which emer eval and emer score ov read as they
are. The run is recorded in emer.db beside --out (or the SQLite file of
--store sqlite:PATH): run it again to resume; a broken clip is reported and
skipped, and the exit status is 1 at the end when any clip failed. A clip
whose model or speech-to-text server gave no reply (after the retries) is
not explained without it: the next run tries it again.

With --store postgres://USER@HOST/DB a dataset run is shared: the clips
left to explain are queued in that database, emer worker processes on any
machine take them, and this command explains too (--workers 0: it only
waits) and writes the files once every clip has a result; run it again to
resume or collect, emer status shows the progress. A queued clip names its
media by the absolute path found here, and workers read it there: they need
the same files at the same paths (a shared filesystem). A worker that does
not find the media's folder stops, naming it, and leaves the clip to the
others; a file missing or changed since it was queued fails that clip for
now (the next run queues it again, or reports it without media). Each worker explains with its own servers (--base-url,
--asr-url, API key) and face models; the settings (backend, mode, prompt,
models, frames, fps, ...) are this command's. See docs/scale-out.md.

Examples:
  emer infer clip.mp4
  emer infer clip.mp4 --subtitle "I can't believe it." --json
  emer infer clip.mp4 --backend llm --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-VL-7B-Instruct
  emer infer --dataset gt-eng.csv --media clips/ --out preds.csv --openset openset.csv
  emer infer --dataset gt-eng.csv --media /shared/clips --out preds.csv --store postgres://emer@db.lab/emer --workers 0`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.clips = args
			if err := checkInferFlags(cmd, &opts); err != nil {
				return err
			}
			cfg, err := bind.Resolve(config.ProcessEnv)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if opts.backend == backendLLM && cfg.Model == "" {
				return usageErrorf("--backend llm needs --model (or $EMER_MODEL)")
			}
			opts.cfg = cfg
			opts.concurrencySet = cmd.Flags().Changed("concurrency")
			for _, name := range []string{"store", "workers", "run", "lease"} {
				if cmd.Flags().Changed(name) {
					opts.sharedSet = append(opts.sharedSet, "--"+name)
				}
			}
			opts.stdout, opts.stderr = g.stdout, g.stderr
			return runInfer(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.subtitle, "subtitle", "", "subtitle text of the clip (one clip only)")
	f.StringVar(&opts.subtitleFile, "subtitle-file", "", "subtitle file, .srt or .vtt (one clip only)")
	f.StringVar(&opts.backend, "backend", backendLocal, "local (measured cues, no server) or llm (a model behind --base-url)")
	f.StringVar(&opts.mode, "mode", string(explain.ModeEnd2End), "llm backend: end2end, caption or cues")
	f.StringVar(&opts.prompt, "prompt", explain.PromptEMER, "llm backend prompt: emer, affectgpt2023 or affectgpt2025")
	f.IntVar(&opts.frames, "frames", explain.DefaultFrames, "llm backend: frames sampled uniformly and sent as images")
	f.BoolVar(&opts.audio, "audio", false, "llm backend: send the clip's 16 kHz audio too (models that take audio)")
	f.StringVar(&opts.lang, "lang", explain.English, "language of the explanation and of the prompt: en or zh")
	f.Float64Var(&opts.fps, "fps", cues.DefaultFPS, "video frames analysed per second for the cues")
	addFaceFlags(cmd, &opts.detector, &opts.landmarks)
	f.BoolVar(&opts.json, "json", false, "one JSON object per clip, one per line, in argument order")
	f.StringVar(&opts.dataset, "dataset", "", "EMER CSV of clips to explain (names + subtitles, engsubs or chisubs)")
	f.StringVar(&opts.media, "media", "", "with --dataset: the folder holding the clips")
	f.StringVar(&opts.out, "out", "", "with --dataset: names,reasons CSV to write")
	f.StringVar(&opts.openset, "openset", "", "with --dataset: name,openset CSV to write")
	f.StringVar(&opts.jsonl, "jsonl", "", "with --dataset: JSONL of every clip's explanation (default OUT.jsonl)")
	f.IntVar(&opts.workers, "workers", 1, "with --dataset and a postgres:// store: explain in this process too (1) or only wait for emer worker processes (0)")
	f.StringVar(&opts.run, "run", "", "with --dataset and a postgres:// store: the run's name there (default infer:ABSOLUTE-OUT)")
	f.DurationVar(&opts.lease, "lease", pgstore.DefaultLease, "with --dataset and a postgres:// store: how long this process's items stay its own once it stops renewing its lease (killed)")
	bind = config.Bind(f, "base_url", "model", "api_key", "timeout", "max_attempts", "concurrency", "rate",
		"max_tokens", "max_reply_bytes", "breaker_failures", "cache", "caption_model", "asr_url", "asr_model", "models", "store")
	cmd.Long += "\n\n" + bind.Help()
	return cmd
}

// checkInferFlags reports every mistake in how infer is called.
func checkInferFlags(cmd *cobra.Command, o *inferOptions) error {
	f := cmd.Flags()
	var probs []string
	batchMode := o.dataset != ""
	switch {
	case batchMode && len(o.clips) > 0:
		probs = append(probs, "give clips as arguments or --dataset, not both")
	case !batchMode && len(o.clips) == 0:
		probs = append(probs, "give at least one CLIP, or --dataset CSV --media DIR --out FILE.csv")
	}
	if batchMode {
		if o.media == "" {
			probs = append(probs, "--dataset needs --media DIR")
		}
		if o.out == "" {
			probs = append(probs, "--dataset needs --out FILE.csv")
		}
		if f.Changed("subtitle") || f.Changed("subtitle-file") {
			probs = append(probs, "--subtitle and --subtitle-file are for single clips; a dataset's subtitles come from its CSV")
		}
	} else {
		for _, name := range []string{"media", "out", "openset", "jsonl"} {
			if f.Changed(name) {
				probs = append(probs, "--"+name+" is for --dataset runs")
			}
		}
		if (f.Changed("subtitle") || f.Changed("subtitle-file")) && len(o.clips) > 1 {
			probs = append(probs, "--subtitle and --subtitle-file apply to one clip; got "+fmt.Sprint(len(o.clips)))
		}
	}
	if f.Changed("subtitle") && f.Changed("subtitle-file") {
		probs = append(probs, "--subtitle and --subtitle-file exclude each other")
	}
	if o.backend != backendLocal && o.backend != backendLLM {
		probs = append(probs, fmt.Sprintf("--backend must be local or llm, got %q", o.backend))
	}
	if !slices.Contains(explain.Modes, explain.Mode(o.mode)) {
		probs = append(probs, fmt.Sprintf("--mode must be end2end, caption or cues, got %q", o.mode))
	}
	if !slices.Contains(explain.Prompts, o.prompt) {
		probs = append(probs, fmt.Sprintf("--prompt must be one of %s, got %q", strings.Join(explain.Prompts, ", "), o.prompt))
	}
	if o.backend == backendLocal {
		for _, name := range []string{"mode", "prompt", "model", "caption-model", "frames", "audio"} {
			if f.Changed(name) {
				probs = append(probs, "--"+name+" is for --backend llm")
			}
		}
	}
	if o.lang != explain.English && o.lang != explain.Chinese {
		probs = append(probs, fmt.Sprintf("--lang must be en or zh, got %q", o.lang))
	}
	if o.frames < 1 || o.frames > 64 {
		probs = append(probs, fmt.Sprintf("--frames must be 1..64, got %d", o.frames))
	}
	if o.fps == 0 || (cues.Options{FPS: o.fps}).Validate() != nil {
		probs = append(probs, fmt.Sprintf("--fps must be a number of frames a second in (0, %g], got %g", cues.MaxFPS, o.fps))
	}
	if err := checkFaceFlags(o.detector, o.landmarks); err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	return nil
}

// checkInferStore reports the mistakes in the flags of shared dataset
// runs, given the store the settings name.
func checkInferStore(opts inferOptions) error {
	var probs []string
	shared := opts.cfg.Store.Driver == config.DriverPostgres
	switch {
	case opts.dataset == "":
		if len(opts.sharedSet) > 0 {
			probs = append(probs, strings.Join(opts.sharedSet, ", ")+": for --dataset runs")
		}
	case !shared:
		var given []string
		for _, f := range opts.sharedSet {
			if f != "--store" {
				given = append(given, f)
			}
		}
		if len(given) > 0 {
			probs = append(probs, strings.Join(given, ", ")+": for a shared store (--store postgres://...)")
		}
	default:
		if opts.workers != 0 && opts.workers != 1 {
			probs = append(probs, fmt.Sprintf("--workers %d: want 1 (explain here too) or 0 (only wait); --concurrency sets the clips at once", opts.workers))
		}
		if opts.lease < time.Second && opts.lease != 0 {
			probs = append(probs, fmt.Sprintf("--lease %v: want 1s or more", opts.lease))
		}
		if opts.cfg.Cache != "" {
			probs = append(probs, "--cache: a shared store keeps its own cache")
		}
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	return nil
}

// inferSettings are the explanations' settings the options ask for.
func inferSettings(opts inferOptions) infer.Settings {
	s := infer.Settings{
		Backend: opts.backend, Mode: opts.mode, Prompt: opts.prompt, Model: opts.cfg.Model, CaptionModel: opts.cfg.CaptionModel,
		Frames: opts.frames, Audio: opts.audio, Lang: opts.lang,
		FPS: opts.fps, Detector: opts.detector, Landmarks: opts.landmarks,
		ASR: opts.cfg.ASRURL != "", ASRModel: opts.cfg.ASRModel,
	}
	if opts.backend == backendLLM {
		s.MaxTokens = opts.cfg.MaxTokens
	}
	return s.WithVersions()
}

func runInfer(ctx context.Context, opts inferOptions) error {
	if err := checkInferStore(opts); err != nil {
		return err
	}
	// The local backend is bound by the CPU: a clip per core, sharing the
	// extractor's budget; the llm backend by the server.
	if opts.backend == backendLocal && !opts.concurrencySet {
		opts.cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	settings := inferSettings(opts)
	if opts.dataset != "" {
		if err := checkOutputs(opts); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(opts.out), 0o755); err != nil {
			return err
		}
		if opts.cfg.Store.Driver == config.DriverPostgres {
			return inferDatasetShared(ctx, opts, settings)
		}
	}
	var db *store.Store
	env := infer.Env{Config: opts.cfg}
	dbPath := ""
	if opts.dataset != "" {
		dbPath = filepath.Join(filepath.Dir(opts.out), "emer.db")
		if opts.cfg.Store.Driver == config.DriverSQLite {
			dbPath = opts.cfg.Store.Path
		}
		var err error
		if db, err = store.Open(ctx, dbPath); err != nil {
			return err
		}
		defer db.Close()
		env.Cache = db
	}
	// --cache keeps the replies and transcripts in a file of their own,
	// also for clips given as arguments.
	if c := opts.cfg.Cache; c != "" && (dbPath == "" || absPath(c) != absPath(dbPath)) {
		cdb, err := store.Open(ctx, c)
		if err != nil {
			return err
		}
		defer cdb.Close()
		env.Cache = cdb
	}
	p, err := infer.NewPipeline(settings, env)
	if err != nil {
		return err
	}
	p.SubtitleFile = opts.subtitleFile
	if opts.dataset != "" {
		p.RetryTranscripts = true
		return inferDataset(ctx, opts, db, p, settings)
	}
	return inferClips(ctx, opts, p)
}

// checkOutputs refuses output files that are the dataset itself or one
// another.
func checkOutputs(opts inferOptions) error {
	outs := map[string]string{"--out": opts.out}
	if opts.openset != "" {
		outs["--openset"] = opts.openset
	}
	if opts.jsonl != "" {
		outs["--jsonl"] = opts.jsonl
	}
	seen := map[string]string{absPath(opts.dataset): "--dataset"}
	for _, flag := range []string{"--out", "--openset", "--jsonl"} {
		p, ok := outs[flag]
		if !ok {
			continue
		}
		a := absPath(p)
		if other, dup := seen[a]; dup {
			return usageErrorf("%s %s is also %s", flag, p, other)
		}
		seen[a] = flag
	}
	return nil
}

func inferClips(ctx context.Context, opts inferOptions, p *infer.Pipeline) error {
	failed := 0
	for i, path := range opts.clips {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := infer.Clip{Path: path, Subtitle: opts.subtitle}
		e, err := p.Explain(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			fmt.Fprintf(opts.stderr, "emer infer: %s: %v\n", path, err)
			continue
		}
		if opts.json {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := opts.stdout.Write(append(b, '\n')); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(opts.stdout)
		}
		if err := e.WriteText(opts.stdout); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d clips failed: %w", failed, len(opts.clips), errPartial)
	}
	return nil
}

// lockOutDir holds the folder of --out for this run.
func lockOutDir(opts inferOptions) (*store.Lock, error) {
	lock, err := store.LockDir(filepath.Dir(opts.out))
	if err != nil {
		var le *store.LockedError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s is in use by another emer run (pid %d): wait for it, or give another --out folder", le.Dir, le.PID)
		}
		return nil, err
	}
	return lock, nil
}

// datasetOptions are the options of a dataset run of opts.
func datasetOptions(opts inferOptions, settings infer.Settings) infer.DatasetOptions {
	journal := opts.jsonl
	if journal == "" {
		journal = opts.out + ".jsonl"
	}
	prog := opts.progress
	if prog == nil {
		prog = batch.NewProgress(opts.stderr)
	}
	return infer.DatasetOptions{
		Dataset: opts.dataset, Media: opts.media, Lang: opts.lang,
		Out: opts.out, Openset: opts.openset, Journal: journal,
		Workers: opts.cfg.Concurrency, Settings: settings, Progress: prog,
	}
}

func inferDataset(ctx context.Context, opts inferOptions, db *store.Store, p *infer.Pipeline, settings infer.Settings) error {
	lock, err := lockOutDir(opts)
	if err != nil {
		return err
	}
	defer lock.Close()
	do := datasetOptions(opts, settings)
	do.BaseURL, do.ASRURL = opts.cfg.BaseURL, opts.cfg.ASRURL
	do.Run = "infer:" + filepath.Base(opts.out)
	rep, err := infer.RunDataset(ctx, db, do, p)
	if errors.Is(err, batch.ErrInterrupted) {
		if rep != nil {
			reportDataset(opts.stderr, rep, opts.out)
		}
		return fmt.Errorf("interrupted (%w): run again with the same --out to resume", ctx.Err())
	}
	return finishDataset(opts, rep, err)
}

// finishDataset reports a dataset run that was not interrupted, and
// returns its exit error.
func finishDataset(opts inferOptions, rep *infer.Report, err error) error {
	if rep != nil {
		reportDataset(opts.stderr, rep, opts.out)
	}
	if err != nil {
		return err
	}
	if n := len(rep.Failed) + len(rep.Missing) + rep.Stats.Missing; n > 0 {
		return fmt.Errorf("%d of %d clips failed: %w", n, rep.Total+len(rep.Missing), errPartial)
	}
	return nil
}

// inferRunName is a shared dataset run's name in the store.
func inferRunName(opts inferOptions) string {
	if opts.run != "" {
		return opts.run
	}
	return "infer:" + absPath(opts.out)
}

// inferDatasetShared is a dataset run on a PostgreSQL store: it queues
// the clips left to explain, explains in this process too unless
// --workers 0, waits until every clip has a result, and writes the
// files from the store.
func inferDatasetShared(ctx context.Context, opts inferOptions, settings infer.Settings) error {
	cfg := opts.cfg
	run := inferRunName(opts)
	lock, err := lockOutDir(opts)
	if err != nil {
		return err
	}
	defer lock.Close()
	// The store's and the local worker's complaints (the database
	// unreachable and back, a worker stopping).
	log := slog.New(slog.NewTextHandler(opts.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := pgstore.Open(ctx, cfg.Store.URL, pgstore.Options{Log: log})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(opts.stderr, "emer infer: run %s in %s\n", run, st.Name())

	// The local worker, if any: when it cannot go on (its server is
	// unreachable), the waiting stops too.
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	var lw *worker.Running
	if opts.workers > 0 {
		w, err := worker.New(st, worker.Options{Config: cfg, Kinds: []string{worker.KindInfer}, Lease: opts.lease, Log: log})
		if err != nil {
			return err
		}
		lw = w.Start(ctx, stopWaiting)
	}
	do := datasetOptions(opts, settings)
	do.Run, do.Queue, do.Poll = run, st, opts.poll
	do.Notify = noWorkerNotice(opts.stderr, "emer infer", st, worker.KindInfer)
	rep, err := infer.RunDataset(waitCtx, st, do, nil)
	if lw != nil {
		if _, werr := lw.Stop(); werr != nil {
			fmt.Fprintf(opts.stderr, "emer infer: this process stopped explaining: %v\n  the clips left stay queued in %s for emer worker processes; run again with the same --out to collect them\n", werr, st.Name())
			return werr
		}
	}
	if errors.Is(err, batch.ErrInterrupted) {
		if rep != nil {
			reportDataset(opts.stderr, rep, opts.out)
		}
		return fmt.Errorf("interrupted (%w): the clips left stay queued for emer worker processes; run again with the same --out to collect them", ctx.Err())
	}
	return finishDataset(opts, rep, err)
}

func reportDataset(w io.Writer, rep *infer.Report, out string) {
	names := make([]string, 0, len(rep.Missing))
	for n := range rep.Missing {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "emer infer: %s: %v\n", n, rep.Missing[n])
	}
	for _, l := range rep.Failed {
		fmt.Fprintf(w, "emer infer: %s: %s: %s\n", l.Name, l.Status, l.Error)
	}
	fmt.Fprintf(w, "emer infer: %d clips explained into %s (%d this run, %d from earlier runs), %d failed, %d without media\n",
		rep.ByStatus[infer.StatusOK], out, rep.Ran, rep.Skipped, len(rep.Failed), len(rep.Missing))
	if rep.Stats.Missing > 0 {
		fmt.Fprintf(w, "emer infer: %d clips have no result yet\n", rep.Stats.Missing)
	}
}
