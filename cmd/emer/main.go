// Command emer is the toolkit for explainable multimodal emotion reasoning:
// it builds EMER datasets, runs models over clips, scores predictions as the
// papers do, and reports the results.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
