package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"emer/internal/metric"
	"emer/internal/unibench"
	"emer/internal/wheel"
)

// scoreUnibenchOptions configures `emer score unibench`.
type scoreUnibenchOptions struct {
	dataset, labels, pred string // one dataset
	all                   bool
	labelsDir, outputsDir string // --all
	wheels                string
	json, verbose         bool
	out, err              io.Writer
}

func newScoreUnibenchCmd(g *globalOptions) *cobra.Command {
	opts := scoreUnibenchOptions{out: g.stdout, err: g.stderr}
	cmd := &cobra.Command{
		Use:   "unibench (--dataset NAME --labels FILE --pred PATH | --all --labels-dir DIR --outputs-dir DIR) [--wheels DIR] [--json] [--verbose]",
		Short: "Score MER-UniBench predictions over checkpoints and pick the best",
		Long: `unibench scores AffectGPT-style predictions on MER-UniBench (Table 2 of
AffectGPT 2025):

  mer2023, meld, iemocap   hit rate: the ground-truth emotion and the predicted
                           labels are mapped onto each of the five emotion
                           wheels (level 1); the share of clips whose emotion
                           is among the predictions, averaged over wheels.
                           Clips whose emotion is on no wheel (neutral) are
                           not compared. Needs --wheels.
  mosi, mosei, sims,       weighted F1 (and accuracy) of the sign of the
  simsv2                   valence: positive vs not, clips with valence 0
                           dropped.

--labels is the dataset's MER-UniBench label file (e.g.
cmumosi-process_label.npz). --pred is one prediction file or one run's folder
of checkpoints: the command takes every *-openset.npz (emotion sets) or
*-openset-sentiment.npz (sentiment sets) below it and reports each and the
best (the released outputs hold epochs 30 to 60; every checkpoint found is
scored). Sentiment predictions are compared as written: "positive" and
"negative" exactly, anything else counts as not positive (and is counted
in a warning unless it is "neutral").

--all scores every results-* folder under --outputs-dir against the label
files in --labels-dir and prints the Table 2 row with the mean of the sets
scored; folders without released labels (MER2024, OV-MERD+) are listed as
skipped with the reason, and are not in the mean.

A prediction file that cannot be read is reported in its checkpoint's entry;
the others are still scored and the exit status is 1.

Examples:
  emer score unibench --dataset mosi --labels merbench-labels/cmumosi-process_label.npz \
      --pred output/results-cmumosi/RUN --json
  emer score unibench --all --labels-dir merbench-labels --outputs-dir output \
      --wheels emotion-wheel/affectgpt2025`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runScoreUnibench(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.dataset, "dataset", "", "dataset: "+strings.Join(unibench.Names(), "|"))
	f.StringVar(&opts.labels, "labels", "", "the dataset's MER-UniBench label file (.npz)")
	f.StringVar(&opts.pred, "pred", "", "prediction file or folder of checkpoint files")
	f.BoolVar(&opts.all, "all", false, "score every dataset found under --outputs-dir")
	f.StringVar(&opts.labelsDir, "labels-dir", "", "folder of MER-UniBench label files (with --all)")
	f.StringVar(&opts.outputsDir, "outputs-dir", "", "folder of results-* output folders (with --all)")
	f.StringVar(&opts.wheels, "wheels", "", "emotion-wheel folder or wheel_mapping.npz (emotion sets; default $"+wheelsEnv+")")
	f.BoolVar(&opts.json, "json", false, "print one JSON object")
	f.BoolVar(&opts.verbose, "verbose", false, "list every checkpoint's warnings one by one instead of grouping them by kind")
	return cmd
}

func runScoreUnibench(ctx context.Context, opts scoreUnibenchOptions) error {
	if opts.all {
		if opts.dataset != "" || opts.labels != "" || opts.pred != "" {
			return usageErrorf("--all takes --labels-dir and --outputs-dir, not --dataset, --labels or --pred")
		}
		if opts.labelsDir == "" || opts.outputsDir == "" {
			return usageErrorf("--all needs --labels-dir and --outputs-dir")
		}
		return runUnibenchAll(ctx, opts)
	}
	if opts.dataset == "" || opts.labels == "" || opts.pred == "" {
		return usageErrorf("give --dataset, --labels and --pred (or --all)")
	}
	d, err := unibench.Lookup(opts.dataset)
	if err != nil {
		return usageErrorf("%v", err)
	}
	opts.wheels = wheelsPath(opts.wheels)
	if d.Kind == unibench.Emotion && opts.wheels == "" {
		return usageErrorf("%s is scored through the emotion wheels: give --wheels (e.g. emotion-wheel/affectgpt2025)", d.Title)
	}
	var x *wheel.Lexicon
	if d.Kind == unibench.Emotion {
		if x, err = openWheels(opts.wheels); err != nil {
			return err
		}
	}
	lab, err := unibench.ReadLabels(d, opts.labels)
	if err != nil {
		return err
	}
	cps, err := unibench.FindCheckpoints(d, opts.pred)
	if err != nil {
		return err
	}
	r, err := unibench.Score(ctx, d, lab, x, cps)
	if err != nil {
		return err
	}
	wp := warningPrinter{w: opts.err, verbose: opts.verbose}
	wp.print("", checkpointWarnings(r), r.Warnings)
	wp.done()
	if opts.json {
		err = writeJSON(opts.out, r)
	} else {
		err = printCheckpoints(opts.out, d, r)
	}
	if err != nil {
		return err
	}
	if err := checkpointFailures(opts.err, []*unibench.Result{r}); err != nil {
		return err
	}
	if r.Undefined != "" {
		return fmt.Errorf("%s: %s: nothing could be scored: %s", d.Title, lab.Path, r.Coverage())
	}
	return nil
}

// checkpointFailures reports unreadable checkpoints on stderr and returns
// errPartial when there are any.
func checkpointFailures(w io.Writer, rs []*unibench.Result) error {
	n, total := 0, 0
	for _, r := range rs {
		for _, c := range r.Checkpoints {
			total++
			if c.Error != "" {
				n++
				fmt.Fprintf(w, "error: %s %s: %s\n", r.Dataset, c.Name, c.Error)
			}
		}
	}
	if n > 0 {
		return fmt.Errorf("%d of %d checkpoints could not be scored: %w", n, total, errPartial)
	}
	return nil
}

func printCheckpoints(w io.Writer, d unibench.Dataset, r *unibench.Result) error {
	tw := newTable(w)
	if d.Kind == unibench.Sentiment {
		fmt.Fprintf(tw, "%s checkpoint\t%s\taccuracy\tsamples\n", d.Title, r.Metric)
	} else {
		fmt.Fprintf(tw, "%s checkpoint\t%s\tsamples\n", d.Title, r.Metric)
	}
	for _, c := range r.Checkpoints {
		mark := ""
		if r.Best != nil && c.Name == r.Best.Name {
			mark = " *"
		}
		switch {
		case c.Error != "":
			fmt.Fprintf(tw, "%s\tfailed\t\t\n", c.Name)
		case d.Kind == unibench.Sentiment:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", c.Name+mark, f4p(c.Score), f4p(c.Accuracy), c.Samples)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Name+mark, f4p(c.Score), c.Samples)
		}
	}
	if r.Best != nil {
		fmt.Fprintf(tw, "best: %s\t%s\t\n", r.Best.Name, f4(r.Best.Score))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.Coverage())
	return err
}

// skipped is an output folder --all did not score, with the reason.
type skipped struct {
	Dir    string `json:"dir"`
	Reason string `json:"reason"`
}

// allJSON is the --all contract.
type allJSON struct {
	Datasets map[string]*unibench.Result `json:"datasets"`
	Mean     *float64                    `json:"mean"`
	Skipped  []skipped                   `json:"skipped"`
}

// unibenchJob is one dataset found under --outputs-dir.
type unibenchJob struct {
	d     unibench.Dataset
	dir   string
	lab   *unibench.Labels
	cps   []unibench.Checkpoint
	res   *unibench.Result
	err   error
	order int
}

func runUnibenchAll(ctx context.Context, opts scoreUnibenchOptions) error {
	entries, err := os.ReadDir(opts.outputsDir)
	if err != nil {
		return err
	}
	out := allJSON{Datasets: map[string]*unibench.Result{}, Skipped: []skipped{}}
	var jobs []*unibenchJob
	var failed []error
	needWheels := false
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(opts.outputsDir, e.Name())
		d, why := unibench.ForOutputs(e.Name())
		if why != "" {
			out.Skipped = append(out.Skipped, skipped{dir, why})
			continue
		}
		labels := filepath.Join(opts.labelsDir, d.LabelFile)
		if _, err := os.Stat(labels); err != nil {
			out.Skipped = append(out.Skipped, skipped{dir, fmt.Sprintf("no label file %s in %s", d.LabelFile, opts.labelsDir)})
			continue
		}
		cps, err := unibench.FindCheckpoints(d, dir)
		if err != nil {
			// Labels are there but the outputs cannot be scored: a failure.
			failed = append(failed, fmt.Errorf("%s: %w", d.Name, err))
			out.Skipped = append(out.Skipped, skipped{dir, err.Error()})
			continue
		}
		needWheels = needWheels || d.Kind == unibench.Emotion
		jobs = append(jobs, &unibenchJob{d: d, dir: dir, cps: cps, order: indexOf(d)})
	}
	if len(jobs) == 0 {
		for _, s := range out.Skipped {
			fmt.Fprintf(opts.err, "skipped %s: %s\n", s.Dir, s.Reason)
		}
		return errors.New("no MER-UniBench output folder with labels and predictions found under " + opts.outputsDir)
	}
	opts.wheels = wheelsPath(opts.wheels)
	if needWheels && opts.wheels == "" {
		return usageErrorf("the emotion sets (MER2023, MELD, IEMOCAP) are scored through the emotion wheels: give --wheels")
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].order < jobs[j].order })

	// The wheels load while the sentiment sets are scored.
	var (
		lex      *wheel.Lexicon
		lexErr   error
		lexReady sync.WaitGroup
	)
	if needWheels {
		lexReady.Add(1)
		go func() {
			defer lexReady.Done()
			lex, lexErr = openWheels(opts.wheels)
		}()
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if j.lab, j.err = unibench.ReadLabels(j.d, filepath.Join(opts.labelsDir, j.d.LabelFile)); j.err != nil {
				return
			}
			var x *wheel.Lexicon
			if j.d.Kind == unibench.Emotion {
				lexReady.Wait()
				if lexErr != nil {
					j.err = lexErr
					return
				}
				x = lex
			}
			j.res, j.err = unibench.Score(ctx, j.d, j.lab, x, j.cps)
		}()
	}
	wg.Wait()
	if lexErr != nil {
		return lexErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	var results []*unibench.Result
	var bests []float64
	wp := warningPrinter{w: opts.err, verbose: opts.verbose}
	for _, j := range jobs {
		if j.err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", j.d.Name, j.err))
			out.Skipped = append(out.Skipped, skipped{j.dir, j.err.Error()})
			continue
		}
		out.Datasets[j.d.Name] = j.res
		results = append(results, j.res)
		if j.res.Best != nil {
			bests = append(bests, j.res.Best.Score)
		}
		wp.print(j.d.Name+": ", checkpointWarnings(j.res), j.res.Warnings)
		if j.res.Undefined != "" {
			failed = append(failed, fmt.Errorf("%s: %s: nothing could be scored: %s", j.d.Name, j.lab.Path, j.res.Coverage()))
		}
	}
	wp.done()
	if len(bests) > 0 {
		m := metric.Mean(bests)
		out.Mean = &m
	}
	if opts.json {
		err = writeJSON(opts.out, out)
	} else {
		err = printTable2(opts.out, jobs, out)
	}
	if err != nil {
		return err
	}
	for _, f := range failed {
		fmt.Fprintf(opts.err, "error: %v\n", f)
	}
	if err := checkpointFailures(opts.err, results); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d datasets could not be scored: %w", len(failed), errPartial)
	}
	return nil
}

func indexOf(d unibench.Dataset) int {
	for i, x := range unibench.Datasets {
		if x.Name == d.Name {
			return i
		}
	}
	return len(unibench.Datasets)
}

// printTable2 prints one line per dataset (best checkpoint) and the mean,
// then the Table 2 row and what was skipped.
func printTable2(w io.Writer, jobs []*unibenchJob, out allJSON) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "dataset\tmetric\tbest\tcheckpoint\tcheckpoints\tclips scored\n")
	var head, row []string
	for _, j := range jobs {
		r, ok := out.Datasets[j.d.Name]
		switch {
		case !ok:
			fmt.Fprintf(tw, "%s\t%s\tfailed\t\t\t\n", j.d.Title, j.d.Metric())
			continue
		case r.Best == nil:
			what := "failed"
			if r.Undefined != "" {
				what = "n/a"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t%d\t%d of %d\n", j.d.Title, r.Metric, what, len(r.Checkpoints), r.Scored, r.Clips)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d of %d\n", j.d.Title, r.Metric, f4(r.Best.Score), r.Best.Name, len(r.Checkpoints), r.Scored, r.Clips)
		head = append(head, j.d.Title)
		row = append(row, f4(r.Best.Score))
	}
	if out.Mean != nil {
		fmt.Fprintf(tw, "mean of %d\t\t%s\t\t\n", len(row), f4(*out.Mean))
		head = append(head, fmt.Sprintf("mean of %d", len(row)))
		row = append(row, f4(*out.Mean))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(row) > 0 {
		fmt.Fprintln(w)
		tw = newTable(w)
		fmt.Fprintln(tw, strings.Join(head, "\t"))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, s := range out.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Dir, s.Reason)
	}
	return nil
}
