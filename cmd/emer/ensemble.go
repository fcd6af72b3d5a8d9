package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"emer/internal/batch"
	"emer/internal/judge"
	"emer/internal/store"
	"emer/internal/table"
)

func init() { register(newEnsembleCmd) }

// ensembleOptions are the inputs of runEnsemble.
type ensembleOptions struct {
	Results string // an emer eval output directory
	By      string // clue or emotion
	Name    string // the ensemble's system name
	Out     string // CSV to write
	Stderr  io.Writer
}

func newEnsembleCmd(g *globalOptions) *cobra.Command {
	var opts ensembleOptions
	cmd := &cobra.Command{
		Use:   "ensemble --results DIR --by clue|emotion --name NAME --out FILE",
		Short: "Pick, per sample, the prediction of the system the judge scored best",
		Long: `ensemble reads an emer eval output directory and, for each sample, takes the
prediction of the system with the best mean score on one metric (ties go to
the system whose name sorts first). It writes an EMER CSV (names,reasons)
that emer eval accepts as another system: the paper's "Baseline (clue)" and
"Baseline (emotion)".

Scores are those of emer eval: a sample's score for a system is the median
of its ok repeats. The results must be complete (rerun emer eval first if it
was interrupted) and must have judged the texts the files hold now: if the
ground truth or a prediction was edited since, or a file named in run.json
is gone, nothing is written and emer eval has to judge them again first. A
sample that no system has a score for takes the prediction of the first
system by name, so that the file still covers every sample; such samples
are listed on stderr and the exit status is then 1, after the file is
written.

--out is never one of the inputs (ground truth, predictions, the files of
the output directory), whatever path names it; the file of the system NAME
itself may be replaced, which rebuilds the ensemble after it was judged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stderr = g.stderr
			return runEnsemble(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Results, "results", "", "output directory of emer eval")
	f.StringVar(&opts.By, "by", "", "metric to pick by: clue or emotion")
	f.StringVar(&opts.Name, "name", "", "name of the ensemble system (it is never picked from)")
	f.StringVar(&opts.Out, "out", "", "CSV file to write (names,reasons); never one of the inputs")
	return cmd
}

func runEnsemble(ctx context.Context, opts ensembleOptions) error {
	var probs []string
	if opts.Results == "" {
		probs = append(probs, "--results is required")
	}
	if opts.By != string(judge.MetricClue) && opts.By != string(judge.MetricEmotion) {
		probs = append(probs, fmt.Sprintf("--by %q: want clue or emotion", opts.By))
	}
	if opts.Name == "" {
		probs = append(probs, "--name is required")
	}
	if opts.Out == "" {
		probs = append(probs, "--out is required")
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}

	runPath := filepath.Join(opts.Results, "run.json")
	var info evalRunInfo
	b, err := os.ReadFile(runPath)
	if err != nil {
		return fmt.Errorf("%s is not an emer eval output directory: %w", opts.Results, err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return fmt.Errorf("%s: %w", runPath, err)
	}
	systems := make([]string, 0, len(info.Systems))
	for name := range info.Systems {
		if name != opts.Name {
			systems = append(systems, name)
		}
	}
	sort.Strings(systems)
	if len(systems) == 0 {
		return fmt.Errorf("%s judged no system besides %s to pick from", opts.Results, opts.Name)
	}
	if err := checkEnsembleOut(opts.Out, opts.Results, info, systems); err != nil {
		return err
	}
	gt, preds, err := readEnsembleInputs(runPath, info, systems)
	if err != nil {
		return err
	}

	// The results come from the store, which keeps with each result the
	// digest of the texts it judged (results.jsonl does not). It is read
	// only: the ensemble changes nothing in the folder.
	dbPath := filepath.Join(opts.Results, "emer.db")
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("%s: the results of emer eval and the digests of the texts they judged are read from its store: %w", opts.Results, err)
	}
	db, err := store.OpenReadOnly(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	byKey, err := judgedScores(ctx, db, opts.By)
	if err != nil {
		return fmt.Errorf("%s: %w", dbPath, err)
	}

	// Every system, sample and repeat must have its result (an ensemble
	// built from an interrupted run would pick from whatever was finished),
	// and that result must have judged the texts the files hold now (else
	// the score would pick a text that was never judged).
	metric := judge.Metric(opts.By)
	gtText := gt.Map(reasonsColumn(gt))
	var judged []judge.Judged
	var missing []string
	nMissing := 0
	changed := make(map[string][]string, len(systems)) // system -> samples judged on other texts
	for _, sys := range systems {
		for _, sample := range gt.Names() {
			pred, hasPred := preds[sys][sample]
			input := store.InputSHA256(gtText[sample], pred)
			stale := false
			for rep := range max(info.Repeats, 1) {
				r, ok := byKey[store.ResultKey{Sample: sample, System: sys, Metric: opts.By, Repeat: rep}]
				switch {
				case !ok:
					nMissing++
					if len(missing) < 5 {
						missing = append(missing, fmt.Sprintf("%s/%s/repeat %d", sys, sample, rep))
					}
				case !hasPred || r.input != input:
					stale = true
				default:
					judged = append(judged, judge.Judged{Sample: sample, System: sys, Metric: metric, Status: r.status, Score: r.score})
				}
			}
			if stale {
				changed[sys] = append(changed[sys], sample)
			}
		}
	}
	var errs []error
	if nMissing > 0 {
		errs = append(errs, fmt.Errorf("%s lacks %d %s results (%s): the run did not finish; run emer eval again with the same --out, then emer ensemble",
			opts.Results, nMissing, opts.By, strings.Join(missing, ", ")))
	}
	if len(changed) > 0 {
		errs = append(errs, changedInputsError(opts.Results, info, systems, changed))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	// Each sample's score per system, as emer eval computes it: the median
	// of its ok repeats.
	scores := make(map[string]map[string]float64, len(systems)) // system -> sample -> score
	for _, sys := range systems {
		scores[sys] = judge.SampleScores(judged, sys, metric)
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"names", "reasons"})
	picked := map[string]int{}
	fallback := systems[0]
	var unscored []string
	for _, sample := range gt.Names() {
		best, bestScore := "", 0.0
		for _, sys := range systems { // sorted: the first of equal scores wins
			v, ok := scores[sys][sample]
			if ok && (best == "" || v > bestScore) {
				best, bestScore = sys, v
			}
		}
		if best == "" {
			// No system has a score: the row still has to be there for
			// emer eval to accept the file, so it comes from a fixed
			// system, reported below.
			unscored = append(unscored, sample)
			best = fallback
		}
		pred, ok := preds[best][sample]
		if !ok {
			return fmt.Errorf("%s has no prediction for %s", info.Systems[best], sample)
		}
		picked[best]++
		_ = w.Write([]string{sample, pred})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	// Written beside --out and renamed over it: a failed run leaves the
	// old file, or none.
	if err := replaceFile(opts.Out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(opts.Stderr, "emer ensemble: %s by %s: %d samples", opts.Name, opts.By, len(gt.Rows))
	for _, sys := range systems {
		fmt.Fprintf(opts.Stderr, ", %d from %s", picked[sys], sys)
	}
	fmt.Fprintln(opts.Stderr)
	if len(unscored) > 0 {
		fmt.Fprintf(opts.Stderr, "emer ensemble: %d samples have no %s score from any system; their rows come from %s, the first system by name: %s\n",
			len(unscored), opts.By, fallback, strings.Join(unscored, ", "))
		return fmt.Errorf("%d samples have no %s score from any system and were filled from %s (%s): %w",
			len(unscored), opts.By, fallback, abbreviateNames(unscored, 10), errPartial)
	}
	return nil
}

// judgedScore is what the ensemble needs of a stored result.
type judgedScore struct {
	input  string // digest of the texts judged
	status judge.Status
	score  *float64
}

// judgedScores reads from db the status, score and input digest of every
// judge result on metric, by key; the raw replies are not kept.
func judgedScores(ctx context.Context, db *store.Store, metric string) (map[store.ResultKey]judgedScore, error) {
	out := map[store.ResultKey]judgedScore{}
	err := db.Scan(ctx, store.JudgeRun, store.JudgeKind, func(rec batch.Record) error {
		k, err := store.ParseResultKey(rec.Key)
		if err != nil {
			return err
		}
		if k.Metric != metric {
			return nil
		}
		r, err := store.ParseResult(rec)
		if err != nil {
			return err
		}
		out[k] = judgedScore{input: r.InputSHA256, status: judge.Status(r.Status), score: r.Score}
		return nil
	})
	return out, err
}

// readEnsembleInputs reads the ground truth and the predictions of systems
// from the files run.json names, reporting every file that is gone.
func readEnsembleInputs(runPath string, info evalRunInfo, systems []string) (*table.Table, map[string]map[string]string, error) {
	var errs []error
	read := func(what, path, flag string) *table.Table {
		t, err := readReasons(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			errs = append(errs, fmt.Errorf("%s: %s is gone (it is named in %s): restore it, or run emer eval again with %s and the same --out %s",
				what, path, runPath, flag, filepath.Dir(runPath)))
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
		return t
	}
	gt := read("ground truth", info.GT, "--gt FILE")
	preds := make(map[string]map[string]string, len(systems))
	for _, sys := range systems {
		if t := read("predictions of "+sys, info.Systems[sys], "--pred "+sys+"=FILE"); t != nil {
			preds[sys] = t.Map(reasonsColumn(t))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return gt, preds, nil
}

// changedInputsError reports the samples whose results judged other texts
// than the files hold now: those changed for every system (as when the
// ground truth was edited) once, the others by system.
func changedInputsError(results string, info evalRunInfo, systems []string, changed map[string][]string) error {
	count := map[string]int{}
	for _, sys := range systems {
		for _, s := range changed[sys] {
			count[s]++
		}
	}
	var common []string
	if len(systems) > 1 {
		for _, s := range changed[systems[0]] { // in ground-truth order
			if count[s] == len(systems) {
				common = append(common, s)
			}
		}
	}
	var parts []string
	if len(common) > 0 {
		parts = append(parts, fmt.Sprintf("ground truth %s or every system's prediction: %s", info.GT, abbreviateNames(common, 5)))
	}
	for _, sys := range systems {
		var own []string
		for _, s := range changed[sys] {
			if count[s] < len(systems) || len(common) == 0 {
				own = append(own, s)
			}
		}
		if len(own) > 0 {
			parts = append(parts, fmt.Sprintf("predictions of %s (%s): %s", sys, info.Systems[sys], abbreviateNames(own, 5)))
		}
	}
	return fmt.Errorf("%s: texts changed since emer eval judged them: %s; run emer eval again with the same --out %s to judge them again, then emer ensemble",
		results, strings.Join(parts, "; "), results)
}

// evalOutputFiles are the files emer eval keeps in its output directory,
// whether or not they exist yet.
var evalOutputFiles = []string{"run.json", "results.jsonl", "summary.json", "summary.md", "calls.jsonl",
	"emer.db", "emer.db-wal", "emer.db-shm", "emer.db-journal", "emer.lock"}

// checkEnsembleOut refuses an --out that is a file the ensemble reads or
// emer eval writes, whatever path names it: ./x.csv, a symlink, a hard
// link. The file of the ensemble's own system is no input and may be
// replaced.
func checkEnsembleOut(out, results string, info evalRunInfo, systems []string) error {
	o := identifyFile(out)
	if o.info != nil && o.info.IsDir() {
		return fmt.Errorf("--out %s is a directory: name the CSV file to write", out)
	}
	type input struct{ path, what string }
	inputs := []input{{info.GT, "the ground truth"}}
	for _, sys := range systems {
		inputs = append(inputs, input{info.Systems[sys], "the predictions of " + sys})
	}
	for _, name := range evalOutputFiles {
		inputs = append(inputs, input{filepath.Join(results, name), "a file of the emer eval output directory"})
	}
	for _, in := range inputs {
		if o.same(identifyFile(in.path)) {
			return fmt.Errorf("--out %s is %s (%s), which emer ensemble never overwrites: write the ensemble to another file", out, in.what, in.path)
		}
	}
	return nil
}

// fileIdentity is what tells two names of one file apart from two files:
// the file's FileInfo when it exists (os.SameFile sees through symlinks and
// hard links), else its path with symlinks resolved as far as it exists.
type fileIdentity struct {
	path string
	info os.FileInfo
}

func identifyFile(path string) fileIdentity {
	p := absPath(path)
	id := fileIdentity{path: filepath.Clean(p)}
	if fi, err := os.Stat(p); err == nil {
		id.info = fi
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		id.path = r
	} else if d, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		id.path = filepath.Join(d, filepath.Base(p))
	}
	return id
}

func (a fileIdentity) same(b fileIdentity) bool {
	if a.info != nil && b.info != nil {
		return os.SameFile(a.info, b.info)
	}
	return a.path == b.path
}
