package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// globalOptions holds the flags every command shares.
type globalOptions struct {
	stdout io.Writer
	stderr io.Writer
}

// commandFactory builds one top-level command. Each command file registers
// its factory in an init function, so that adding a command touches only its
// own file.
type commandFactory func(g *globalOptions) *cobra.Command

var commandFactories []commandFactory

func register(f commandFactory) { commandFactories = append(commandFactories, f) }

// exitError carries a process exit status through cobra without printing
// anything more: the command has already reported what went wrong.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errPartial is returned by a command that finished its work and wrote its
// output but had some items fail; the process exits with status 1.
var errPartial = errors.New("some items failed")

func newRootCmd(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "emer",
		Short: "Explainable multimodal emotion reasoning: build, run, score, study, report",
		Long: `emer works on EMER data: video clips, the emotions people show in them, and
the clues (face, voice, words, scene) that explain those emotions.

  measure   emer cues, emer faces: faces and expressions, voice prosody and
            subtitle emotion words of a clip, offline (emer models install first)
  judge     emer eval, emer ensemble: the EMER LLM judge over any
            OpenAI-compatible server, cached and resumable
  score     emer score ov, emer score unibench: the published OV-MER and
            MER-UniBench metrics, exactly, from the released .npz/.csv/.xlsx files

Every command explains its flags and shows examples with --help.
`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	cmds := make([]*cobra.Command, 0, len(commandFactories))
	for _, f := range commandFactories {
		cmds = append(cmds, f(g))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	return root
}

// execute runs the CLI with args and returns the process exit status.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globalOptions{stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && isCobraUsage(err) {
		err = usageErrorf("%v", err)
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, errPartial) {
		fmt.Fprintf(stderr, "emer: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "emer: %v\n", err)
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// errUsage marks errors in how a command was called.
var errUsage = errors.New("usage")

// usageErrorf returns an error about the command line; the process exits 2.
func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// isCobraUsage recognises the errors cobra returns for a bad command line
// that do not pass through the flag error function: unknown commands,
// wrong argument counts and missing required flags.
func isCobraUsage(err error) bool {
	if errors.Is(err, errUsage) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "required flag(s)", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
