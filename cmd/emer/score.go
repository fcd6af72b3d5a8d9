package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"emer/internal/config"
	"emer/internal/wheel"
)

func init() { register(newScoreCmd) }

func newScoreCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Score predictions with the deterministic OV-MER and MER-UniBench metrics",
		Long: `score computes the published deterministic metrics of open-vocabulary and
basic emotion recognition from released prediction files, with no model
and no network:

  emer score ov        OV-MER: 12 emotion-wheel columns, or the MER2024
                       GPT-synonym metric with --synonyms
  emer score unibench  MER-UniBench: hit rate (MER2023, MELD, IEMOCAP) and
                       weighted F1 (MOSI, MOSEI, SIMS, SIMSv2), best checkpoint

Values are fractions in 0..1. Tables go to stdout by default; --json prints
one JSON object instead. Warnings (missing or extra samples, malformed label
lists) are counted and printed on stderr, grouped by kind (the count, the
checkpoints, the commonest values and one example); --verbose lists them
one by one as the JSON keeps them. Samples a metric cannot compare
(no ground-truth label on the wheels, valence 0, ...) are counted with the
reason; a metric with no sample to compare is n/a in tables and null in
JSON, never 0, and the exit status is 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newScoreOVCmd(g), newScoreUnibenchCmd(g))
	return cmd
}

// writeJSON prints v as one indented JSON object.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newTable returns a tab-aligned writer for plain-text tables.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// wheelsEnv names the environment variable that gives --wheels a default.
const wheelsEnv = config.EnvWheels

// wheelsPath returns the --wheels value, or $EMER_WHEELS when it is empty.
func wheelsPath(flag string) string {
	if flag != "" {
		return flag
	}
	return config.FromEnv("wheels")
}

// openWheels loads the emotion-wheel lexicon from a folder in the released
// layout (format.csv, synonym.xlsx, wheel1..5.xlsx) or from a precomputed
// wheel_mapping.npz.
func openWheels(path string) (*wheel.Lexicon, error) {
	x, err := wheel.Open(path)
	if err != nil {
		return nil, fmt.Errorf("emotion wheels: %w", err)
	}
	return x, nil
}

func f4(v float64) string { return fmt.Sprintf("%.4f", v) }

// f4p is f4 of a score that may be undefined: "n/a" for nil.
func f4p(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return f4(*v)
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
