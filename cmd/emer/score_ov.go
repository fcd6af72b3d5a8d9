package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"emer/internal/metric"
	"emer/internal/openset"
	"emer/internal/wheel"
)

// scoreOVOptions configures `emer score ov`.
type scoreOVOptions struct {
	gt, pred string
	wheels   string // emotion-wheel folder or wheel_mapping.npz
	synonyms string // MER2024 synonym zip; selects the MER2024 metric
	json     bool
	verbose  bool // warnings one by one
	out, err io.Writer
}

func newScoreOVCmd(g *globalOptions) *cobra.Command {
	opts := scoreOVOptions{out: g.stdout, err: g.stderr}
	cmd := &cobra.Command{
		Use:   "ov --gt FILE --pred FILE (--wheels DIR | --synonyms ZIP) [--json] [--verbose]",
		Short: "Score open-vocabulary emotion labels (OV-MER table or MER2024 synonyms)",
		Long: `ov compares open-vocabulary label sets per sample, e.g. "['worried', 'helpless']".

Ground truth and predictions are CSV files with a name (or names) column and
an openset column, or -openset.npz archives (filenames + fileitems) as
AffectGPT writes them.

With --wheels, it prints the 12 OV-MER columns: M1 (word forms), M2
(synonyms) and M3 on five emotion wheels at level 1 and level 2, each as
F-score, precision and recall averaged over samples, plus the wheel means
and m_avg, the mean of the 12 F-scores. --wheels is a folder in the released
layout (format.csv, synonym.xlsx, wheel1..5.xlsx; e.g. emotion-wheel/affectgpt2025)
or an official wheel_mapping.npz.

With --synonyms, it computes the MER2024 metric instead: each label is
replaced by the first member of its GPT synonym group for that sample
(a zip of per-sample .npy files), and precision, recall and their mean
are reported.

A sample without a prediction scores as an empty prediction; predictions for
samples not in the ground truth are ignored; both are counted as warnings.

Examples:
  emer score ov --gt check-openset.csv --pred predict-openset.csv --wheels emotion-wheel/affectgpt2025
  emer score ov --gt check-openset.csv --pred predict-openset.csv --synonyms openset-synonym.zip --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runScoreOV(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.gt, "gt", "", "ground-truth label sets (CSV or -openset.npz)")
	f.StringVar(&opts.pred, "pred", "", "predicted label sets (CSV or -openset.npz)")
	f.StringVar(&opts.wheels, "wheels", "", "emotion-wheel folder or wheel_mapping.npz (OV-MER table; default $"+wheelsEnv+")")
	f.StringVar(&opts.synonyms, "synonyms", "", "zip of per-sample GPT synonym groups (MER2024 metric)")
	f.BoolVar(&opts.json, "json", false, "print one JSON object")
	f.BoolVar(&opts.verbose, "verbose", false, "list the warnings with all their examples instead of one each")
	_ = cmd.MarkFlagRequired("gt")
	_ = cmd.MarkFlagRequired("pred")
	return cmd
}

// ovColumn is one OV-MER column in JSON: F, precision and recall, null
// when the column scored no sample, and the number of samples it scored.
type ovColumn struct {
	F         *float64 `json:"f"`
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
	Scored    int      `json:"scored"`
}

// ovMean is a mean of columns, null when one of them is.
type ovMean struct {
	F         *float64 `json:"f"`
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
}

type ovLevels[T any] struct {
	Level1 T `json:"level1"`
	Level2 T `json:"level2"`
}

// ovJSON is the --json contract of the OV-MER table: the columns, and how
// many samples were scored (in at least one column) and why the others
// were not.
type ovJSON struct {
	Samples   int                           `json:"samples"`
	Scored    int                           `json:"scored"`
	EmptyGT   int                           `json:"empty_ground_truth"`    // an empty ground-truth list
	OffWheels int                           `json:"no_label_on_any_wheel"` // labels, none known to the wheels
	M1        ovColumn                      `json:"m1"`
	M2        ovColumn                      `json:"m2"`
	M3        map[string]ovLevels[ovColumn] `json:"m3"`
	M3Mean    ovLevels[ovMean]              `json:"m3_mean"`
	MAvg      *float64                      `json:"m_avg"`
	Warnings  []string                      `json:"warnings,omitempty"`
}

// synonymJSON is the --json contract of the MER2024 metric: the figures,
// null when no sample was scored, and how many samples were scored and why
// the others were not.
type synonymJSON struct {
	Samples   int      `json:"samples"`
	Scored    int      `json:"scored"`
	EmptyGT   int      `json:"empty_ground_truth"`         // an empty ground-truth list
	Ungrouped int      `json:"no_label_in_synonym_groups"` // labels, none in the sample's groups
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
	Mean      *float64 `json:"mean"`
	Warnings  []string `json:"warnings,omitempty"`
}

func runScoreOV(_ context.Context, opts scoreOVOptions) error {
	if opts.synonyms == "" {
		opts.wheels = wheelsPath(opts.wheels)
	}
	switch {
	case opts.wheels == "" && opts.synonyms == "":
		return usageErrorf("give --wheels (OV-MER table; or set $%s) or --synonyms (MER2024 metric)", wheelsEnv)
	case opts.wheels != "" && opts.synonyms != "":
		return usageErrorf("give --wheels or --synonyms, not both")
	}
	gt, err := openset.Read(opts.gt)
	if err != nil {
		return fmt.Errorf("ground truth: %w", err)
	}
	if len(gt.Names) == 0 {
		return fmt.Errorf("ground truth: %s holds no samples, nothing to score", opts.gt)
	}
	pred, err := openset.Read(opts.pred)
	if err != nil {
		return fmt.Errorf("predictions: %w", err)
	}
	var warn openset.Warnings
	pairs := openset.Align(gt, pred, &warn)
	if warn.Count(openset.WarnMissingPred) == len(gt.Names) {
		return fmt.Errorf("none of the %d ground-truth samples of %s has a prediction in %s: are these files of the same dataset?", len(gt.Names), opts.gt, opts.pred)
	}
	if opts.synonyms != "" {
		return scoreSynonyms(opts, pairs, &warn)
	}
	x, err := openWheels(opts.wheels)
	if err != nil {
		return err
	}
	t := openset.Score(x, pairs)
	printOVWarnings(opts, &warn)
	out := ovResult(x, t, pairs)
	out.Warnings = warn.Messages()
	if opts.json {
		err = writeJSON(opts.out, out)
	} else {
		err = printOV(opts.out, out)
	}
	if err != nil {
		return err
	}
	var undefined []string
	for i, c := range out.columns() {
		if c.F == nil {
			undefined = append(undefined, ovColumnNames()[i])
		}
	}
	switch {
	case out.Scored == 0:
		return fmt.Errorf("%s: nothing could be scored: %s", opts.gt, out.coverage())
	case len(undefined) > 0:
		return fmt.Errorf("%s: no ground-truth label maps onto %s, so m_avg is undefined (%s)", opts.gt, strings.Join(undefined, ", "), out.coverage())
	}
	return nil
}

// ovColumnNames are the table's names of the twelve columns, in the order
// of wheel.Mappings.
func ovColumnNames() []string {
	names := []string{"M1", "M2"}
	for w := range wheel.NumWheels {
		names = append(names, fmt.Sprintf("W%d-L1", w+1), fmt.Sprintf("W%d-L2", w+1))
	}
	return names
}

// ovResult joins the table's figures with how many samples each column
// scored: a column scores the samples whose ground truth it maps to at
// least one label, and has no figures when there are none.
func ovResult(x *wheel.Lexicon, t *openset.Table, pairs []openset.Pair) *ovJSON {
	out := &ovJSON{Samples: len(pairs), M3: map[string]ovLevels[ovColumn]{}}
	scored := make([]int, len(wheel.Mappings()))
	for _, p := range pairs {
		if len(p.GT) == 0 {
			out.EmptyGT++
			continue
		}
		mapped := false
		for i, m := range wheel.Mappings() {
			if len(x.MapSet(m, p.GT)) > 0 {
				scored[i]++
				mapped = true
			}
		}
		if mapped {
			out.Scored++
		} else {
			out.OffWheels++
		}
	}
	_, prfs := t.Columns()
	col := func(i int) ovColumn {
		if scored[i] == 0 {
			return ovColumn{}
		}
		r := prfs[i]
		return ovColumn{F: &r.F, Precision: &r.Precision, Recall: &r.Recall, Scored: scored[i]}
	}
	out.M1, out.M2 = col(0), col(1)
	levelDefined := [2]bool{true, true}
	for w := range wheel.NumWheels {
		l := ovLevels[ovColumn]{Level1: col(2 + 2*w), Level2: col(3 + 2*w)}
		out.M3[fmt.Sprintf("wheel%d", w+1)] = l
		levelDefined[0] = levelDefined[0] && l.Level1.F != nil
		levelDefined[1] = levelDefined[1] && l.Level2.F != nil
	}
	mean := func(ok bool, r metric.PRF) ovMean {
		if !ok {
			return ovMean{}
		}
		return ovMean{F: &r.F, Precision: &r.Precision, Recall: &r.Recall}
	}
	out.M3Mean = ovLevels[ovMean]{Level1: mean(levelDefined[0], t.M3Mean.Level1), Level2: mean(levelDefined[1], t.M3Mean.Level2)}
	if !slices.ContainsFunc(out.columns(), func(c ovColumn) bool { return c.F == nil }) {
		out.MAvg = &t.MAvg
	}
	return out
}

// columns returns the twelve columns in table order.
func (o *ovJSON) columns() []ovColumn {
	cols := []ovColumn{o.M1, o.M2}
	for w := range wheel.NumWheels {
		l := o.M3[fmt.Sprintf("wheel%d", w+1)]
		cols = append(cols, l.Level1, l.Level2)
	}
	return cols
}

// coverage says how many samples were scored and why the others were not:
// "332 samples, 0 scored: 332 with no ground-truth label on any wheel".
func (o *ovJSON) coverage() string {
	return coverageLine(o.Samples, o.Scored,
		reason{o.EmptyGT, "with an empty ground-truth list"},
		reason{o.OffWheels, "with no ground-truth label on any wheel"})
}

// reason is a count of samples left out for one reason.
type reason struct {
	n    int
	text string
}

func coverageLine(samples, scored int, why ...reason) string {
	s := fmt.Sprintf("%d samples, %d scored", samples, scored)
	var parts []string
	for _, r := range why {
		if r.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", r.n, r.text))
		}
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

func printOV(w io.Writer, o *ovJSON) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "column\tF\tprecision\trecall\tscored\n")
	for i, c := range o.columns() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", ovColumnNames()[i], f4p(c.F), f4p(c.Precision), f4p(c.Recall), c.Scored)
	}
	fmt.Fprintf(tw, "wheels L1 mean\t%s\t%s\t%s\t\n", f4p(o.M3Mean.Level1.F), f4p(o.M3Mean.Level1.Precision), f4p(o.M3Mean.Level1.Recall))
	fmt.Fprintf(tw, "wheels L2 mean\t%s\t%s\t%s\t\n", f4p(o.M3Mean.Level2.F), f4p(o.M3Mean.Level2.Precision), f4p(o.M3Mean.Level2.Recall))
	fmt.Fprintf(tw, "m_avg (12 F)\t%s\t\t\t\n", f4p(o.MAvg))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, o.coverage())
	return err
}

// scoreSynonyms prints the MER2024 metric. A sample is scored when its
// ground truth keeps a label once mapped through its synonym groups.
func scoreSynonyms(opts scoreOVOptions, pairs []openset.Pair, warn *openset.Warnings) error {
	syn, err := openset.ReadSynonyms(opts.synonyms)
	if err != nil {
		return err
	}
	r := openset.ScoreSynonyms(syn, pairs, warn)
	printOVWarnings(opts, warn)
	out := synonymJSON{Samples: len(pairs), Scored: r.Samples, Warnings: warn.Messages()}
	for _, p := range pairs {
		switch groups, ok := syn[p.Name]; {
		case len(p.GT) == 0:
			out.EmptyGT++
		case ok && len(openset.Canonical(groups, p.GT)) == 0:
			out.Ungrouped++
		}
	}
	if r.Samples > 0 {
		out.Precision, out.Recall, out.Mean = &r.Precision, &r.Recall, &r.Mean
	}
	if opts.json {
		err = writeJSON(opts.out, out)
	} else {
		tw := newTable(opts.out)
		fmt.Fprintf(tw, "samples\tprecision\trecall\tmean\n")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", out.Samples, f4p(out.Precision), f4p(out.Recall), f4p(out.Mean))
		if err = tw.Flush(); err == nil {
			_, err = fmt.Fprintln(opts.out, out.coverage())
		}
	}
	if err != nil {
		return err
	}
	if out.Scored == 0 {
		return fmt.Errorf("%s: nothing could be scored: %s", opts.gt, out.coverage())
	}
	return nil
}

// printOVWarnings writes the warnings on stderr, one line per kind with
// one example, or with --verbose as the JSON keeps them.
func printOVWarnings(opts scoreOVOptions, warn *openset.Warnings) {
	wp := warningPrinter{w: opts.err, verbose: opts.verbose}
	if len(warn.Kinds()) > 0 {
		wp.print("", groupWarnings([]warningSource{{"", warn}}, 1), warn.Messages())
	}
	wp.done()
}

func (o synonymJSON) coverage() string {
	return coverageLine(o.Samples, o.Scored,
		reason{o.EmptyGT, "with an empty ground-truth list"},
		reason{o.Ungrouped, "with no ground-truth label in the sample's synonym groups"})
}
