package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"emer/internal/judge"
	"emer/internal/store"
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
was interrupted). A sample that no system has a score for takes the
prediction of the first system by name, so that the file still covers every
sample; such samples are listed on stderr and the exit status is then 1,
after the file is written.`,
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
	f.StringVar(&opts.Out, "out", "", "CSV file to write (names,reasons)")
	return cmd
}

func runEnsemble(_ context.Context, opts ensembleOptions) error {
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
		return usageErrorf("%s", joinProblems(probs))
	}

	var info evalRunInfo
	b, err := os.ReadFile(filepath.Join(opts.Results, "run.json"))
	if err != nil {
		return fmt.Errorf("%s is not an emer eval output directory: %w", opts.Results, err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(opts.Results, "run.json"), err)
	}
	results, err := readResultsFile(filepath.Join(opts.Results, "results.jsonl"))
	if err != nil {
		return err
	}
	gt, err := readReasons(info.GT)
	if err != nil {
		return fmt.Errorf("ground truth of %s: %w", opts.Results, err)
	}
	preds := map[string]map[string]string{}
	systems := make([]string, 0, len(info.Systems))
	for name, path := range info.Systems {
		if name == opts.Name {
			continue
		}
		t, err := readReasons(path)
		if err != nil {
			return fmt.Errorf("predictions of %s: %w", name, err)
		}
		preds[name] = t.Map(reasonsColumn(t))
		systems = append(systems, name)
	}
	sort.Strings(systems)
	if len(systems) == 0 {
		return fmt.Errorf("%s judged no system besides %s to pick from", opts.Results, opts.Name)
	}

	// Every system, sample and repeat must have its result: an ensemble
	// built from an interrupted run would pick from whatever was finished.
	metric := judge.Metric(opts.By)
	have := map[store.ResultKey]bool{}
	var judged []judge.Judged
	for _, r := range results {
		if r.Metric != opts.By {
			continue
		}
		have[r.Key()] = true
		judged = append(judged, judge.Judged{Sample: r.Sample, System: r.System, Metric: metric, Status: judge.Status(r.Status), Score: r.Score})
	}
	var missing []string
	nMissing := 0
	for _, sys := range systems {
		for _, sample := range gt.Names() {
			for rep := range max(info.Repeats, 1) {
				if !have[store.ResultKey{Sample: sample, System: sys, Metric: opts.By, Repeat: rep}] {
					nMissing++
					if len(missing) < 5 {
						missing = append(missing, fmt.Sprintf("%s/%s/repeat %d", sys, sample, rep))
					}
				}
			}
		}
	}
	if nMissing > 0 {
		return fmt.Errorf("%s lacks %d %s results (%s): the run did not finish; run emer eval again with the same --out, then emer ensemble",
			opts.Results, nMissing, opts.By, strings.Join(missing, ", "))
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

// readResultsFile reads results.jsonl; a torn or invalid line is an error
// naming its line.
func readResultsFile(path string) ([]store.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []store.Result
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 {
				return nil, fmt.Errorf("%s:%d: incomplete last line (was emer eval interrupted? run it again)", path, n)
			}
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var res store.Result
		if err := json.Unmarshal(line, &res); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, res)
	}
}

func joinProblems(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(x)
	}
	return b.String()
}
