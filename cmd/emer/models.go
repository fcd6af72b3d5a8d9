package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"emer/internal/models"

	"github.com/spf13/cobra"
)

func init() { register(newModelsCmd) }

// modelsOptions configures `emer models install` and `emer models list`.
type modelsOptions struct {
	dir  string // model directory; empty means models.Dir()
	out  io.Writer
	pack models.Packer
}

func newModelsCmd(g *globalOptions) *cobra.Command {
	opts := modelsOptions{out: g.stdout, pack: models.NPMPack}
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Install and list the face model files",
		Long: `emer's face detector and expression network use the weights of the npm
package ` + models.Package + `. "emer models install" fetches them once with
npm pack into the user's cache (or $` + models.EnvDir + `) and checks each file
against its pinned SHA-256. Nothing else ever downloads a model.`,
		// A word that names no subcommand is a mistake, not a request for
		// help: cobra would print the help and succeed.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&opts.dir, "dir", "", "model directory (default $"+models.EnvDir+" or the user cache)")
	cmd.AddCommand(&cobra.Command{
		Use:   "install",
		Short: "Fetch and verify the model files (does nothing when they are in place)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runModelsInstall(cmd.Context(), opts)
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "Show which model files are installed and whether they verify",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runModelsList(cmd.Context(), opts)
		},
	})
	return cmd
}

func (o modelsOptions) modelDir() (string, error) {
	if o.dir != "" {
		return o.dir, nil
	}
	return models.Dir()
}

func runModelsInstall(ctx context.Context, opts modelsOptions) error {
	dir, err := opts.modelDir()
	if err != nil {
		return err
	}
	wrote, err := models.Install(ctx, dir, opts.pack)
	if err != nil {
		return err
	}
	if len(wrote) == 0 {
		_, err = fmt.Fprintf(opts.out, "model files already installed and verified in %s\n", dir)
		return err
	}
	for _, name := range wrote {
		fmt.Fprintf(opts.out, "installed %s\n", name)
	}
	_, err = fmt.Fprintf(opts.out, "%d model files from %s verified in %s\n", len(wrote), models.Package, dir)
	return err
}

func runModelsList(_ context.Context, opts modelsOptions) error {
	dir, err := opts.modelDir()
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.out, "model directory: %s\n", dir)
	tw := tabwriter.NewWriter(opts.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSIZE\tSTATUS")
	bad := 0
	for _, st := range models.Check(dir) {
		status := "ok (sha256 verified)"
		switch {
		case st.Verified:
		case errors.Is(st.Err, models.ErrNotInstalled):
			status = "missing"
		case st.Mismatch != "":
			status = "corrupt: " + st.Mismatch
		default:
			status = "unreadable: " + st.Err.Error()
		}
		if !st.Verified {
			bad++
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", st.Name, st.Size, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d model files missing or corrupt; run `emer models install` to repair them: %w", bad, len(models.Files), errPartial)
	}
	return nil
}
