package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"emer/internal/openset"
)

// scoreOVOptions configures `emer score ov`.
type scoreOVOptions struct {
	gt, pred string
	wheels   string // emotion-wheel folder or wheel_mapping.npz
	synonyms string // MER2024 synonym zip; selects the MER2024 metric
	json     bool
	out, err io.Writer
}

func newScoreOVCmd(g *globalOptions) *cobra.Command {
	opts := scoreOVOptions{out: g.stdout, err: g.stderr}
	cmd := &cobra.Command{
		Use:   "ov --gt FILE --pred FILE (--wheels DIR | --synonyms ZIP) [--json]",
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
	_ = cmd.MarkFlagRequired("gt")
	_ = cmd.MarkFlagRequired("pred")
	return cmd
}

// ovJSON adds warnings to the table's contract fields.
type ovJSON struct {
	*openset.Table
	Warnings []string `json:"warnings,omitempty"`
}

type synonymJSON struct {
	openset.SynonymResult
	Warnings []string `json:"warnings,omitempty"`
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
	pred, err := openset.Read(opts.pred)
	if err != nil {
		return fmt.Errorf("predictions: %w", err)
	}
	var warn openset.Warnings
	pairs := openset.Align(gt, pred, &warn)
	if len(gt.Names) > 0 && warn.Count(openset.WarnMissingPred) == len(gt.Names) {
		return fmt.Errorf("none of the %d ground-truth samples of %s has a prediction in %s: are these files of the same dataset?", len(gt.Names), opts.gt, opts.pred)
	}

	if opts.synonyms != "" {
		syn, err := openset.ReadSynonyms(opts.synonyms)
		if err != nil {
			return err
		}
		r := openset.ScoreSynonyms(syn, pairs, &warn)
		printWarnings(opts.err, warn.Messages())
		if opts.json {
			return writeJSON(opts.out, synonymJSON{r, warn.Messages()})
		}
		tw := newTable(opts.out)
		fmt.Fprintf(tw, "samples\tprecision\trecall\tmean\n")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Samples, f4(r.Precision), f4(r.Recall), f4(r.Mean))
		return tw.Flush()
	}

	x, err := openWheels(opts.wheels)
	if err != nil {
		return err
	}
	t := openset.Score(x, pairs)
	printWarnings(opts.err, warn.Messages())
	if opts.json {
		return writeJSON(opts.out, ovJSON{t, warn.Messages()})
	}
	names, cols := t.Columns()
	tw := newTable(opts.out)
	fmt.Fprintf(tw, "column\tF\tprecision\trecall\n")
	for i, n := range names {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n, f4(cols[i].F), f4(cols[i].Precision), f4(cols[i].Recall))
	}
	fmt.Fprintf(tw, "wheels L1 mean\t%s\t%s\t%s\n", f4(t.M3Mean.Level1.F), f4(t.M3Mean.Level1.Precision), f4(t.M3Mean.Level1.Recall))
	fmt.Fprintf(tw, "wheels L2 mean\t%s\t%s\t%s\n", f4(t.M3Mean.Level2.F), f4(t.M3Mean.Level2.Precision), f4(t.M3Mean.Level2.Recall))
	fmt.Fprintf(tw, "m_avg (12 F)\t%s\t\t\n", f4(t.MAvg))
	fmt.Fprintf(tw, "samples\t%d\t\t\n", t.Samples)
	return tw.Flush()
}
