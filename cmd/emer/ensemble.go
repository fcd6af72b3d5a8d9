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

A sample that no system has a score for is left out and reported; the exit
status is then 1, after the file is written.`,
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

	// Each sample's mean score per system on the metric.
	type acc struct {
		sum float64
		n   int
	}
	scores := map[string]map[string]*acc{} // sample -> system -> ok scores
	for _, r := range results {
		if r.Metric != opts.By || r.System == opts.Name || r.Status != string(judge.StatusOK) || r.Score == nil {
			continue
		}
		if _, ok := info.Systems[r.System]; !ok {
			continue
		}
		if scores[r.Sample] == nil {
			scores[r.Sample] = map[string]*acc{}
		}
		a := scores[r.Sample][r.System]
		if a == nil {
			a = &acc{}
			scores[r.Sample][r.System] = a
		}
		a.sum += *r.Score
		a.n++
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

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"names", "reasons"})
	picked := map[string]int{}
	var unscored []string
	for _, sample := range gt.Names() {
		best, bestMean := "", 0.0
		for _, sys := range systems { // sorted: the first of equal means wins
			a := scores[sample][sys]
			if a == nil {
				continue
			}
			if m := a.sum / float64(a.n); best == "" || m > bestMean {
				best, bestMean = sys, m
			}
		}
		if best == "" {
			unscored = append(unscored, sample)
			continue
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
	fmt.Fprintf(opts.Stderr, "emer ensemble: %s by %s: %d samples", opts.Name, opts.By, len(gt.Rows)-len(unscored))
	for _, sys := range systems {
		fmt.Fprintf(opts.Stderr, ", %d from %s", picked[sys], sys)
	}
	fmt.Fprintln(opts.Stderr)
	if len(unscored) > 0 {
		return fmt.Errorf("%d samples have no %s score from any system and were left out (%s): %w",
			len(unscored), opts.By, abbreviateNames(unscored, 10), errPartial)
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
