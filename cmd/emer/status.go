package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/config"
	"emer/internal/pgstore"
)

func init() { register(newStatusCmd) }

// statusOptions are the inputs of runStatus.
type statusOptions struct {
	JSON   bool
	Config config.Config // the store

	Stdout io.Writer

	configErr error
}

func newStatusCmd(g *globalOptions) *cobra.Command {
	opts := statusOptions{}
	var bind *config.Binding
	cmd := &cobra.Command{
		Use:   "status --store postgres://USER@HOST/DB [--json]",
		Short: "Show the runs of a shared store: items done, failed, held and queued, throughput, workers",
		Long: `status reads a shared PostgreSQL store and prints, for each run and kind of
item, the items done (a result with status ok), failed (any other result,
among them those to be tried again), held by a worker now and queued, with
the results a second over the last minute and over the whole run; then
every worker with a lease: its host and pid, what it holds and when it was
last seen. It changes nothing.

Examples:
  emer status --store postgres://emer@db.lab/emer
  emer status --store postgres://emer@db.lab/emer --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Config, opts.configErr = bind.Resolve(config.ProcessEnv)
			opts.Stdout = g.stdout
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object instead of tables")
	bind = config.Bind(cmd.Flags(), "store").ShowDefault("store", "(required: postgres://)")
	cmd.Long += "\n\n" + bind.Help()
	return cmd
}

func runStatus(ctx context.Context, opts statusOptions) error {
	if opts.configErr != nil {
		return usageErrorf("%v", opts.configErr)
	}
	if opts.Config.Store.Driver != config.DriverPostgres {
		return usageErrorf("--store postgres://USER@HOST/DB is required (or EMER_STORE): status reads a shared store")
	}
	st, err := pgstore.Open(ctx, opts.Config.Store.URL, pgstore.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Status(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return writeStatus(opts.Stdout, st.Name(), s)
}

func writeStatus(w io.Writer, name string, s pgstore.Status) error {
	fmt.Fprintf(w, "%s\n\n", name)
	if len(s.Runs) == 0 {
		fmt.Fprintln(w, "no runs")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "run\tkind\tdone\tfailed\theld\tqueued\tper s (last min)\tper s (run)\tlast result\t")
		for _, r := range s.Runs {
			last := "—"
			if r.Last != nil {
				last = r.Last.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%s\t\n", r.Run, r.Kind, r.Done, r.Failed, r.Held, r.Queued, r.PerSecond(), r.Overall(), last)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(s.Workers) == 0 {
		_, err := fmt.Fprintln(w, "no workers")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "worker\thost\tpid\tkinds\tholding\tlast seen\tstarted")
	for _, wk := range s.Workers {
		seen := fmt.Sprintf("%.0fs ago", wk.SeenAgoS)
		if wk.Expired {
			seen += " (lease ran out)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\n", wk.ID, wk.Host, wk.PID, strings.Join(wk.Kinds, ","), wk.Holding, seen, wk.Started.Local().Format(time.DateTime))
	}
	return tw.Flush()
}
