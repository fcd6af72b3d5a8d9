// Command emer is the toolkit for explainable multimodal emotion reasoning:
// it builds EMER datasets, runs models over clips, scores predictions as the
// papers do, and reports the results.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// signalGrace is how long a command has to stop, writing what it has,
// after the first SIGINT or SIGTERM cancelled its context.
const signalGrace = 2 * time.Second

// runMain runs the command line with args. The first SIGINT or SIGTERM
// cancels the command's context; if the command has not returned within
// signalGrace, or at a second signal, the process exits at once.
func runMain(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go signalWatch{
		signals: sigs,
		done:    done,
		cancel:  cancel,
		grace:   func() <-chan time.Time { return time.After(signalGrace) },
		stderr:  stderr,
		exit:    os.Exit,
	}.run()
	return execute(ctx, args, stdout, stderr)
}

// interruption is the cause of a context cancelled by a signal.
type interruption struct{ sig os.Signal }

func (e *interruption) Error() string { return "interrupted by " + signalName(e.sig) }

// exitCode is the shell's status for a process ended by the signal.
func (e *interruption) exitCode() int { return signalExitCode(e.sig) }

func signalExitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// signalWatch turns signals into the cancellation of a command and, when
// the command does not stop, into the end of the process.
type signalWatch struct {
	signals <-chan os.Signal
	done    <-chan struct{} // closed when the command has returned
	cancel  context.CancelCauseFunc
	grace   func() <-chan time.Time // started at the first signal
	stderr  io.Writer
	exit    func(code int)
}

func (w signalWatch) run() {
	var first os.Signal
	select {
	case first = <-w.signals:
	case <-w.done:
		return
	}
	cause := &interruption{first}
	fmt.Fprintf(w.stderr, "emer: %s: stopping; send it again to exit at once\n", signalName(first))
	w.cancel(cause)
	timeout := w.grace()
	select {
	case s := <-w.signals:
		fmt.Fprintf(w.stderr, "emer: %s again, exiting now\n", signalName(s))
		w.exit(signalExitCode(s))
	case <-timeout:
		fmt.Fprintf(w.stderr, "emer: %v; the command did not stop in time, exiting\n", cause)
		w.exit(cause.exitCode())
	case <-w.done:
	}
}
