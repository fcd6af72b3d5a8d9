package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/dataset"
	"emer/internal/pgstore"
	"emer/internal/store"
	"emer/internal/textenc"
)

func init() { registerBuild(newBuildReviewCmd) }

// buildReviewOptions are the inputs of runBuildReview.
type buildReviewOptions struct {
	DB string // the store: DIR/emer.db of emer build summarize
	// Store is the store when DB is empty: an SQLite file, or a
	// PostgreSQL database where Run names the run of emer build summarize
	// (its name there, or its output folder).
	Store    config.Store
	Run      string
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
		Use:   "review (--db DIR/emer.db | --store postgres://... --run NAME) (--export FILE | --import FILE [--reviewer NAME])",
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
another reviewer): export again and redo those rows.

With --store postgres://USER@HOST/DB (or EMER_STORE) the review state is
that of a run of emer build summarize --store postgres://... in that
database, named by --run: summarize:/ABSOLUTE/OUT (its name unless its
--run gave another), that NAME, or its output folder OUT. emer serve
--store with --review of the same run shows the same state.`,
		Example: `  emer build review --db runs/summary/emer.db --export review.csv
  emer build review --db runs/summary/emer.db --import review.csv --reviewer ann
  emer build review --store postgres://emer@db.lab/emer --run summarize:/data/runs/summary --export review.csv`,
		Args: cobra.NoArgs,
	}
	bind := config.Bind(cmd.Flags(), "store").ShowDefault("store", "--db FILE")
	cmd.Long += "\n\n" + bind.Help()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := bind.Resolve(config.ProcessEnv)
		if err != nil {
			return usageErrorf("%v", err)
		}
		switch {
		case opts.DB != "" && cmd.Flags().Changed("store"):
			return usageErrorf("give --db DIR/emer.db or --store, not both (--db FILE is --store sqlite:FILE)")
		case opts.DB == "":
			// --db wins over a store of the environment or the config
			// file, as flags do.
			opts.Store = cfg.Store
		}
		opts.Stdout, opts.Stderr = g.stdout, g.stderr
		return runBuildReview(cmd.Context(), opts)
	}
	f := cmd.Flags()
	f.StringVar(&opts.DB, "db", "", "the store of emer build summarize (DIR/emer.db); or give --store")
	f.StringVar(&opts.Run, "run", "", "with a postgres:// store: the run of emer build summarize there (summarize:/ABSOLUTE/OUT, NAME or OUT)")
	f.StringVar(&opts.Export, "export", "", "write the review CSV to FILE")
	f.StringVar(&opts.Import, "import", "", "apply the review CSV in FILE")
	f.StringVar(&opts.Reviewer, "reviewer", "", "with --import: who made the changes of rows whose reviewer column is empty or as exported")
	if fl := f.Lookup("store"); fl != nil {
		fl.Usage, fl.DefValue = "the store of emer build summarize: sqlite:DIR/emer.db, as --db, or postgres://USER@HOST/DB with --run ($EMER_STORE)", ""
	}
	return cmd
}

func runBuildReview(ctx context.Context, opts buildReviewOptions) error {
	var probs []string
	if opts.DB == "" && opts.Store.Driver == config.DriverSQLite {
		opts.DB = opts.Store.Path
	}
	shared := opts.DB == "" && opts.Store.Driver == config.DriverPostgres
	switch {
	case opts.DB == "" && !shared:
		probs = append(probs, "--db DIR/emer.db is required, or --store postgres://... with --run")
	case !shared && opts.Run != "":
		probs = append(probs, "--run is for a postgres:// store (--store); --db names the store of one run")
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
	if !shared {
		if _, err := os.Stat(opts.DB); err != nil {
			return fmt.Errorf("--db: %w", err)
		}
	}
	if opts.Export != "" {
		return exportReviews(ctx, opts)
	}
	return importReviews(ctx, opts)
}

// openReviewState opens the review state opts names, read-only for an
// export: the store, what messages call it, and the function that closes
// it. An SQLite store's reviews may be missing (store.ErrNoReviews).
func openReviewState(ctx context.Context, opts buildReviewOptions, readOnly bool) (dataset.ReviewStore, string, func(), error) {
	if opts.DB != "" {
		open := store.Open
		if readOnly {
			open = store.OpenReadOnly
		}
		db, err := open(ctx, opts.DB)
		if err != nil {
			return nil, "", nil, err
		}
		return store.NewReviews(db), opts.DB, func() { db.Close() }, nil
	}
	st, err := pgstore.Open(ctx, opts.Store.URL, pgstore.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, "", nil, err
	}
	run, err := sharedReviewRun(ctx, st, opts.Run, "--run")
	if err != nil {
		st.Close()
		return nil, "", nil, err
	}
	return st.Reviews(run), "run " + run + " in " + st.Name(), func() { st.Close() }, nil
}

// sharedReviewRun returns the run of emer build summarize whose review
// what (the flag's name) names in the shared store st: the run's name
// there, or its output folder (the run summarize:ABSOLUTE-DIR). An
// unknown run is refused with the runs st holds.
func sharedReviewRun(ctx context.Context, st *pgstore.Store, name, what string) (string, error) {
	runs, err := st.ReviewScopes(ctx)
	if err != nil {
		return "", err
	}
	if name != "" && slices.Contains(runs, name) {
		return name, nil
	}
	holds := fmt.Sprintf("%s holds the review of no run (emer build summarize --store %s puts it there)", st.Name(), st.Name())
	if len(runs) > 0 {
		holds = fmt.Sprintf("%s holds the review of %s", st.Name(), strings.Join(runs, ", "))
	}
	if name == "" {
		return "", usageErrorf("%s NAME is required with a postgres:// store: the run of emer build summarize (summarize:/ABSOLUTE/OUT, its --run NAME, or its folder OUT); %s", what, holds)
	}
	if fi, err := os.Stat(name); err == nil {
		if !fi.IsDir() {
			return "", usageErrorf("%s %s is a file: with a postgres:// store, %s names a run of emer build summarize in it (summarize:/ABSOLUTE/OUT, its --run NAME, or its folder OUT); %s", what, name, what, holds)
		}
		if run := "summarize:" + absPath(name); slices.Contains(runs, run) {
			return run, nil
		}
	}
	return "", fmt.Errorf("%s %s: no descriptions of that run are in review; %s", what, name, holds)
}

// noReviews says that a store has no descriptions in review.
func noReviews(db string) error {
	return fmt.Errorf("%s holds no descriptions in review: emer build summarize puts them there", db)
}

func exportReviews(ctx context.Context, opts buildReviewOptions) error {
	reviews, name, done, err := openReviewState(ctx, opts, true)
	if err != nil {
		return err
	}
	defer done()
	rs, err := reviews.Reviews(ctx)
	if errors.Is(err, store.ErrNoReviews) || (err == nil && len(rs) == 0) {
		return noReviews(name)
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
	reviews, name, done, err := openReviewState(ctx, opts, false)
	if err != nil {
		return err
	}
	defer done()
	cur, err := reviews.Reviews(ctx)
	if err != nil {
		return err
	}
	if len(cur) == 0 {
		return noReviews(name)
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
