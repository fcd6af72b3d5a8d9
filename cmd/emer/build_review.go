package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/batch"
	"emer/internal/dataset"
	"emer/internal/store"
	"emer/internal/textenc"
)

func init() { registerBuild(newBuildReviewCmd) }

// buildReviewOptions are the inputs of runBuildReview.
type buildReviewOptions struct {
	DB       string // the store: DIR/emer.db of emer build summarize
	Export   string // CSV to write
	Import   string // CSV to read
	Reviewer string // who made the import's changes, where a row does not say
	Stdout   io.Writer
	Stderr   io.Writer

	now func() time.Time // stamps the changes; nil: time.Now
}

func newBuildReviewCmd(g *globalOptions) *cobra.Command {
	var opts buildReviewOptions
	cmd := &cobra.Command{
		Use:   "review --db DIR/emer.db (--export FILE | --import FILE [--reviewer NAME])",
		Short: "Review the descriptions emer build summarize made, offline, as a CSV",
		Long: `review takes the descriptions that emer build summarize put into review out
of its store as a CSV, and puts the reviewed CSV back.

Each description is pending (as summarize made it, or marked for review
with the reason), accepted (the draft stands), edited (a text of the
reviewer's replaces it) or rejected. The CSV has the columns

  name      the clip
  status    pending, accepted, edited or rejected
  reasons   the description: the draft, or the edited text
  reviewer  who set the status
  note      a note; a draft marked for review shows why until it has one

To review, change status (and reasons, for edited), and write your name in
reviewer or give --reviewer for the whole file. --import checks every row
first and reports every problem with its line: an unknown clip or status,
new reasons under any status but edited, accepted for a clip with no draft,
a change with no reviewer. Only when every row is right are the changes
applied, all at once; rows left as exported change nothing, and rows may be
left out. Every change is kept in the store's history with who made it,
when, and the state before and after. An import fails, applying nothing,
when a description it changes was changed meanwhile (by summarize or
another reviewer): export again and redo those rows.`,
		Example: `  emer build review --db runs/summary/emer.db --export review.csv
  emer build review --db runs/summary/emer.db --import review.csv --reviewer ann`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = g.stdout, g.stderr
			return runBuildReview(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DB, "db", "", "the store of emer build summarize (DIR/emer.db)")
	f.StringVar(&opts.Export, "export", "", "write the review CSV to FILE")
	f.StringVar(&opts.Import, "import", "", "apply the review CSV in FILE")
	f.StringVar(&opts.Reviewer, "reviewer", "", "with --import: who made the changes of rows whose reviewer column is empty or as exported")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func runBuildReview(ctx context.Context, opts buildReviewOptions) error {
	var probs []string
	if opts.DB == "" {
		probs = append(probs, "--db is required")
	}
	switch {
	case opts.Export == "" && opts.Import == "":
		probs = append(probs, "give --export FILE or --import FILE")
	case opts.Export != "" && opts.Import != "":
		probs = append(probs, "--export and --import exclude each other")
	}
	if opts.Reviewer != "" && opts.Import == "" {
		probs = append(probs, "--reviewer is for --import")
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	if _, err := os.Stat(opts.DB); err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	if opts.Export != "" {
		return exportReviews(ctx, opts)
	}
	return importReviews(ctx, opts)
}

// noReviews says that a store has no descriptions in review.
func noReviews(db string) error {
	return fmt.Errorf("%s holds no descriptions in review: emer build summarize puts them there", db)
}

func exportReviews(ctx context.Context, opts buildReviewOptions) error {
	db, err := store.OpenReadOnly(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	rs, err := store.NewReviews(db).Reviews(ctx)
	if errors.Is(err, store.ErrNoReviews) || (err == nil && len(rs) == 0) {
		return noReviews(opts.DB)
	}
	if err != nil {
		return err
	}
	if err := batch.ReplaceFile(opts.Export, func(w *bufio.Writer) error { return dataset.WriteReviewCSV(w, rs) }); err != nil {
		return err
	}
	fmt.Fprintf(opts.Stderr, "emer build review: %d descriptions (%s) written to %s\n", len(rs), countStatuses(rs), opts.Export)
	return nil
}

func importReviews(ctx context.Context, opts buildReviewOptions) error {
	f, err := os.Open(opts.Import)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := dataset.ReadReviewCSV(f, opts.Import, textenc.Default())
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	reviews := store.NewReviews(db)
	cur, err := reviews.Reviews(ctx)
	if err != nil {
		return err
	}
	if len(cur) == 0 {
		return noReviews(opts.DB)
	}
	now := opts.now
	if now == nil {
		now = time.Now
	}
	changes, err := dataset.PlanImport(rows, cur, dataset.ImportOptions{Reviewer: opts.Reviewer, At: now()})
	if err != nil {
		return fmt.Errorf("nothing imported:\n%w", err)
	}
	if err := reviews.ApplyReviews(ctx, changes); err != nil {
		if errors.Is(err, dataset.ErrReviewConflict) {
			return fmt.Errorf("nothing imported: %w; export again and redo its rows", err)
		}
		return fmt.Errorf("nothing imported: %w", err)
	}
	after := make([]dataset.Review, len(changes))
	for i, c := range changes {
		after[i] = c.After
	}
	if len(changes) == 0 {
		fmt.Fprintf(opts.Stderr, "emer build review: %s: %d rows, no change\n", opts.Import, len(rows))
		return nil
	}
	fmt.Fprintf(opts.Stderr, "emer build review: %s: %d rows, %d changes applied: %s\n", opts.Import, len(rows), len(changes), countStatuses(after))
	return nil
}

// countStatuses counts reviews by status: "3 pending, 1 accepted".
func countStatuses(rs []dataset.Review) string {
	n := map[dataset.ReviewStatus]int{}
	for _, r := range rs {
		n[r.Status]++
	}
	var parts []string
	for _, st := range dataset.ReviewStatuses {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	return strings.Join(parts, ", ")
}
