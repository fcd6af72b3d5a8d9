// Command calib measures the speaker-independent accuracy of the local
// reasoner's top emotion (explain.Local with the voice-emotion model of
// package vocal, as `emer infer` runs it) on the ravdess-calib corpus, and
// that of the voice model alone in the same harness.
//
//	go run ./internal/infer/calib [-data DIR] [-workers N] [-subtitles]
//
// Leave-one-actor-out, one fold per actor: in each fold the voice model is
// fitted on the other actors exactly as ./internal/vocal/gen fits it
// (vocal.Train: standardization, gender stage and penalty chosen on those
// actors only), and the held-out actor's recordings go through the whole
// local pipeline: cue extraction of the WAV with voice features, then the
// reasoner with the fold's model. Each recording's cues are measured once:
// they do not depend on the fold, only the model does. The recordings
// have no subtitles unless -subtitles gives each its sentence.
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
	workers int
	// subtitles gives each clip its sentence as its subtitle.
	subtitles bool
	stdout    io.Writer
	stderr    io.Writer
}

func main() {
	var o options
	flag.StringVar(&o.data, "data", "", "corpus folder (default: ../shared/data/ravdess-calib beside the module root)")
	flag.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "clips measured and folds fitted at a time")
	flag.BoolVar(&o.subtitles, "subtitles", false, "give each clip its sentence (the statement column of labels.csv) as its subtitle, as a dataset CSV gives the words")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "calib: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	o.stdout, o.stderr = os.Stdout, os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "calib:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.data == "" {
		shared, err := sharedtest.Root()
		if err != nil {
			return fmt.Errorf("%w; give -data", err)
		}
		o.data = filepath.Join(shared, "data", "ravdess-calib")
	}
	start := time.Now()
	corpus, err := vocal.LoadCorpus(o.data)
	if err != nil {
		return err
	}
	var subs map[string]string
	if o.subtitles {
		if subs, err = statements(corpus.Dir); err != nil {
			return err
		}
	}
	res, err := calibrate(ctx, corpus, subs, vocal.DefaultSettings(), o.workers, o.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stderr, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return res.write(o.stdout, filepath.Base(filepath.Clean(corpus.Dir)))
}

// calibrate measures the cues of corpus (with the subtitles given, by
// clip name) and cross-validates the reasoner and the voice model fitted
// with settings s on them, saying how long the measuring took on progress.
func calibrate(ctx context.Context, corpus *vocal.Corpus, subtitles map[string]string, s vocal.Settings, workers int, progress io.Writer) (*result, error) {
	start := time.Now()
	clips, err := measure(ctx, corpus, subtitles, workers)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "measured the cues of %d clips in %s\n", len(clips), time.Since(start).Round(time.Millisecond))
	return crossValidate(ctx, clips, s, workers)
}
