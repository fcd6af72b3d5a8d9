// Command gen fits the voice-emotion model of package vocal on the
// ravdess-calib corpus and writes internal/vocal/model.json, or with -cv
// prints the speaker-independent cross-validated figures.
//
//	go run ./internal/vocal/gen            # rewrite internal/vocal/model.json
//	go run ./internal/vocal/gen -cv        # print the CV table and confusion matrix
//
// The corpus is looked for in ../shared/data/ravdess-calib beside the
// module root unless -data names it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"emer/internal/sharedtest"
	"emer/internal/vocal"
)

type options struct {
	data    string
	out     string
	cv      bool
	workers int
	stdout  io.Writer
	stderr  io.Writer
}

func main() {
	var o options
	flag.StringVar(&o.data, "data", "", "corpus folder (default: ../shared/data/ravdess-calib beside the module root)")
	flag.StringVar(&o.out, "out", "", "model file to write (default: internal/vocal/model.json under the module root)")
	flag.BoolVar(&o.cv, "cv", false, "print the cross-validated figures and write nothing")
	flag.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "fits and clips processed at a time")
	flag.Parse()
	o.stdout, o.stderr = os.Stdout, os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	root, err := sharedtest.ModuleRoot()
	if err != nil && (o.data == "" || o.out == "") {
		return fmt.Errorf("%w; give -data and -out", err)
	}
	if o.data == "" {
		o.data = filepath.Join(filepath.Dir(root), "shared", "data", "ravdess-calib")
	}
	if o.out == "" {
		o.out = filepath.Join(root, "internal", "vocal", vocal.ModelFile)
	}
	start := time.Now()
	corpus, err := vocal.LoadCorpus(o.data)
	if err != nil {
		return err
	}
	samples, err := corpus.Measure(ctx, o.workers)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stderr, "measured %d clips in %s\n", len(samples), time.Since(start).Round(time.Millisecond))
	s := vocal.DefaultSettings()
	if o.cv {
		rep, err := vocal.CrossValidate(ctx, samples, s, o.workers)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.stdout, "%s: %d clips, %d features\n%s\n\n", corpus.Dir, len(samples), len(s.Features), rep.Scheme)
		return rep.WriteTable(o.stdout)
	}
	m, err := vocal.Generate(ctx, corpus, samples, s, o.workers)
	if err != nil {
		return err
	}
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.stderr, "wrote %s in %s: CV accuracy %.4f (%d/%d)\n", o.out, time.Since(start).Round(time.Millisecond),
		m.Provenance.CV.Accuracy, m.Provenance.CV.Correct, m.Provenance.CV.Clips)
	return nil
}
