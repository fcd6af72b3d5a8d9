package vocal

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// Generator is the command that writes the model file.
const Generator = "go run ./internal/vocal/gen"

// Licence is the calibration data's licence, recorded with the model.
const Licence = "RAVDESS, CC BY-NC-SA 4.0: Livingstone & Russo 2018, PLoS ONE 13(5): e0196391, doi:10.1371/journal.pone.0196391"

// Generate cross-validates the fitting procedure on samples of corpus and
// then fits the model on all of them, with its provenance. The result
// depends only on the samples and the settings, not on workers.
func Generate(ctx context.Context, corpus *Corpus, samples []Sample, s Settings, workers int) (*Model, error) {
	cv, err := CrossValidate(ctx, samples, s, workers)
	if err != nil {
		return nil, err
	}
	m, lambda, err := Train(ctx, samples, s, workers)
	if err != nil {
		return nil, err
	}
	actors := make([]string, len(samples))
	for i, smp := range samples {
		actors[i] = smp.Actor
	}
	slices.Sort(actors)
	m.Provenance = &Provenance{
		Generator:    Generator,
		Data:         filepath.Base(filepath.Clean(corpus.Dir)),
		Licence:      Licence,
		LabelsSHA256: corpus.LabelsSHA256,
		AudioSHA256:  corpus.AudioSHA256,
		Clips:        len(samples),
		Actors:       slices.Compact(actors),
		Settings:     s,
		Selection:    Selection,
		Lambda:       lambda,
		CV:           cv,
	}
	return m, nil
}

// WriteTable prints the per-class and overall figures and the confusion
// matrix of r.
func (r *CVReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "emotion\tclips\tcorrect\trecall\tpredicted\tprecision\t\n")
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%d\t%.3f\t\n", c.Emotion, c.Clips, c.Correct, c.Recall, c.Predicted, c.Precision)
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%.3f\t\t\t\n", r.Clips, r.Correct, r.Accuracy)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\naccuracy %.4f (%d/%d), balanced accuracy %.4f, log-loss %.4f, chance 0.125\n",
		r.Accuracy, r.Correct, r.Clips, r.BalancedAccuracy, r.LogLoss)
	if r.GenderCorrect > 0 {
		fmt.Fprintf(w, "speaker gender estimated right for %d/%d clips\n", r.GenderCorrect, r.Clips)
	}
	fmt.Fprintf(w, "\nconfusion (rows: portrayed, columns: predicted)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	var head strings.Builder
	head.WriteString("\t")
	for _, e := range Emotions {
		head.WriteString(abbrev(e) + "\t")
	}
	fmt.Fprintln(tw, head.String())
	for i, e := range Emotions {
		var row strings.Builder
		row.WriteString(string(e) + "\t")
		for j := range Emotions {
			fmt.Fprintf(&row, "%d\t", r.Confusion[i][j])
		}
		fmt.Fprintln(tw, row.String())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nfolds (held-out actor: correct/clips, penalty)\n")
	for _, f := range r.Folds {
		fmt.Fprintf(w, "  %s: %d/%d, lambda %g\n", strings.Join(f.Held, "+"), f.Correct, f.Clips, f.Lambda)
	}
	return nil
}

func abbrev(e Emotion) string { return string(e)[:3] }
