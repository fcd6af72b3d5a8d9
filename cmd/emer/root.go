package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"emer/internal/textenc"
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

Exit status: 0 done; 1 failed, or some items failed; 2 a mistake in the
command line; 130 or 143 stopped by SIGINT or SIGTERM (the command is given
2 s to stop and write what it has; a second signal ends it at once).
`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	var enc textenc.Flag
	root.PersistentFlags().Var(&enc, "encoding", "encoding of the CSV and subtitle files read: gb18030, gbk, big5, shift_jis, utf-16le, utf-16be, ... (default UTF-8; a UTF-8 or UTF-16 byte-order mark is always obeyed; emotion-wheel files are always UTF-8)")
	root.PersistentPreRun = func(*cobra.Command, []string) { textenc.SetDefault(enc.Encoding) }
	cmds := make([]*cobra.Command, 0, len(commandFactories))
	for _, f := range commandFactories {
		cmds = append(cmds, f(g))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	guardUsage(root)
	return root
}

// guardUsage makes every mistake in how c and its subcommands are called
// a usage error. Flag syntax errors come through the flag error function;
// this wraps what cobra reports as plain errors: the argument validators,
// a word after a command family that names none of its commands (for which
// cobra would print the help and succeed), and missing required flags.
func guardUsage(c *cobra.Command) {
	for _, sub := range c.Commands() {
		guardUsage(sub)
	}
	args := c.Args
	if c.HasSubCommands() {
		args = func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return unknownCommand(cmd, a[0])
			}
			return nil
		}
		if !c.Runnable() {
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
	}
	if args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageErrorf("%v", err)
			}
			return nil
		}
	}
	pre, preE := c.PreRun, c.PreRunE
	c.PreRun = nil
	c.PreRunE = func(cmd *cobra.Command, a []string) error {
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return usageErrorf("%v", err)
		}
		if err := cmd.ValidateFlagGroups(); err != nil {
			return usageErrorf("%v", err)
		}
		if preE != nil {
			return preE(cmd, a)
		}
		if pre != nil {
			pre(cmd, a)
		}
		return nil
	}
}

// unknownCommand is the error for a word that names no subcommand of c.
func unknownCommand(c *cobra.Command, word string) error {
	msg := fmt.Sprintf("unknown command %q for %q", word, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, set only where it suggests itself
	}
	if s := c.SuggestionsFor(word); len(s) > 0 {
		for i := range s {
			s[i] = strconv.Quote(s[i])
		}
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return errors.New(msg + "; see '" + c.CommandPath() + " --help'")
}

// execute runs the CLI with args and returns the process exit status:
// 0 on success, 1 when the command failed (or some of its items did), 2
// for a mistake in the command line, and 128 plus the signal's number
// (130 for SIGINT, 143 for SIGTERM) when a signal cancelled ctx.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globalOptions{stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var sig *interruption
	if errors.As(context.Cause(ctx), &sig) {
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "emer: %v\n", err)
		}
		fmt.Fprintf(stderr, "emer: %v\n", sig)
		return sig.exitCode()
	}
	if err == nil {
		return 0
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
