package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/dataset"
	"emer/internal/llm/llmtest"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/summarize"
	"emer/internal/textenc"
)

// sharedSummarizeOpts are summarizeOpts on the PostgreSQL store at url.
func sharedSummarizeOpts(out, baseURL, url string, stderr io.Writer) buildSummarizeOptions {
	opts := summarizeOpts(out, baseURL, stderr)
	opts.Config.Store = config.Store{Driver: config.DriverPostgres, URL: url}
	opts.Lease, opts.poll = 2*time.Second, 20*time.Millisecond
	return opts
}

// startSummarizeWorkers starts n emer worker of the summarize kind on the
// store at url, asking baseURL, until the returned function is called;
// it returns once each takes items.
func startSummarizeWorkers(t *testing.T, n int, url, baseURL string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := summarizeTestConfig(baseURL)
	cfg.Store = config.Store{Driver: config.DriverPostgres, URL: url}
	var wg sync.WaitGroup
	started := make(chan struct{}, n)
	for i := range n {
		var log syncBuffer
		wg.Go(func() {
			err := runWorker(ctx, workerOptions{Config: cfg, Kinds: []string{summarize.Kind}, Lease: 2 * time.Second,
				ID: fmt.Sprintf("sw%d", i), Stderr: &log, started: func(string) { started <- struct{}{} }})
			if err != nil {
				t.Errorf("worker sw%d: %v\n%s", i, err, log.String())
			}
		})
	}
	for range n {
		<-started
	}
	return func() { cancel(); wg.Wait() }
}

// checkSharedSummarizeOutput compares the files of out, and the review
// state of the run, with those of the single-process run under
// testdata/summarize/want.
func checkSharedSummarizeOutput(t *testing.T, out string, reviews dataset.ReviewStore) {
	t.Helper()
	rs, err := reviews.Reviews(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := dataset.WriteReviewCSV(&csv, rs); err != nil {
		t.Fatal(err)
	}
	for _, name := range summarizeFiles {
		path := filepath.Join(out, name)
		got, err := os.ReadFile(path)
		if name == "review.csv" {
			got, err = csv.Bytes(), nil
		}
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(summarizeTD("want", name))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
			t.Errorf("%s differs from the single-process run's (-want +got):\n%s", name, diff)
		}
	}
	for _, r := range rs {
		if !r.At.Equal(summarizeNow()) || r.Status != dataset.Pending {
			t.Errorf("review of %s: %s at %v, want pending at the submitter's time", r.Clip, r.Status, r.At)
		}
	}
}

// TestBuildSummarizeShared runs emer build summarize on a PostgreSQL
// store with --workers 0 and two emer worker of the summarize kind: the
// descriptions, labels, steps and review state are those of the run on
// one machine, every prompt is asked once, by the workers' server and
// never the submitter's, whose address is nowhere in the queue; the
// annotation records are kept under the run; a rerun asks nothing.
func TestBuildSummarizeShared(t *testing.T) {
	url := pgtest.New(t).NewDatabase(t)
	var asked answered
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step { asked.add(c.Prompt()); return summarizeModel(c) })
	defer srv.Close()
	submitterSrv := llmtest.NewServer(summarizeModel)
	defer submitterSrv.Close()

	stop := startSummarizeWorkers(t, 2, url, srv.BaseURL())
	out := t.TempDir()
	var stderr bytes.Buffer
	opts := sharedSummarizeOpts(out, submitterSrv.BaseURL(), url, &stderr)
	opts.Workers, opts.workersSet = 0, true
	err := runBuildSummarize(context.Background(), opts)
	stop()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	ctx := context.Background()
	st, err := pgstore.Open(ctx, url, pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := "summarize:" + absPath(out)
	if scopes, err := st.ReviewScopes(ctx); err != nil || !cmp.Equal(scopes, []string{run}) {
		t.Fatalf("review state of runs %q (%v), want %s", scopes, err, run)
	}
	checkSharedSummarizeOutput(t, out, st.Reviews(run))

	if n := submitterSrv.Count(); n != 0 {
		t.Errorf("the submitter with --workers 0 sent %d requests", n)
	}
	counts := asked.counts()
	if n := srv.Count(); n != summarizeRequests || len(counts) != n {
		t.Errorf("the workers sent %d requests of %d prompts, want %d", n, len(counts), summarizeRequests)
	}
	for p, n := range counts {
		if n != 1 {
			t.Errorf("asked %d times: %.80q", n, p)
		}
	}
	for _, u := range []string{srv.URL, submitterSrv.URL, "127.0.0.1"} {
		if n := queryInt(t, url, `SELECT count(*) FROM river_job WHERE args::text LIKE '%' || $1 || '%'`, u); n != 0 {
			t.Errorf("%d queued items hold %s", n, u)
		}
	}
	if n := queryInt(t, url, `SELECT count(*) FROM river_job WHERE args->>'run' = $1 AND queue = $2`, run, summarize.Kind); n != 30 {
		t.Errorf("%d items queued, want the fixture's 30 clips", n)
	}
	// Each worker holds at most 16 clips at once: both took some.
	if n := queryInt(t, url, `SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE queue = $1`, summarize.Kind); n != 2 {
		t.Errorf("the clips were taken by %d workers, want 2", n)
	}
	msg := stderr.String()
	for _, want := range []string{
		"run " + run + " in ",
		"sample_s011: marked for review: clues: the reply declines the task: I'm sorry, but I can't help with that.",
		"30 clips: 25 described into " + filepath.Join(out, summarizeDescriptions) + ", 5 marked for review, 0 without a reply; this run: 30 summarized, 30 drafts into review, 0 calls",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}

	// The records summarized are kept under the run, as read.
	af, err := dataset.ReadAnnotationsFile(summarizeTD("annotations.csv"), dataset.ReadOptions{Encoding: textenc.Default()})
	if err != nil {
		t.Fatal(err)
	}
	byClip := map[string][]dataset.Annotation{}
	for _, r := range af.Records {
		byClip[r.Clip] = append(byClip[r.Clip], r)
	}
	for clip, want := range byClip {
		dataset.SortAnnotations(want)
		got, err := st.Annotations(run).Annotations(ctx, clip)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("annotations of %s in the store (-want +got):\n%s", clip, diff)
		}
	}

	// A rerun, with a worker of its own, asks nothing and changes nothing.
	stderr.Reset()
	opts = sharedSummarizeOpts(out, srv.BaseURL(), url, &stderr)
	if err := runBuildSummarize(ctx, opts); err != nil {
		t.Fatalf("rerun: %v\n%s", err, stderr.String())
	}
	if n := srv.Count() + submitterSrv.Count(); n != summarizeRequests {
		t.Errorf("the rerun sent %d requests", n-summarizeRequests)
	}
	if !strings.Contains(stderr.String(), "this run: 0 summarized, 0 drafts into review, 0 calls") {
		t.Errorf("rerun stderr: %s", stderr.String())
	}
	checkSharedSummarizeOutput(t, out, st.Reviews(run))
}

// A worker whose emer has other prompts than the submitter's refuses the
// items: it stops, asking nothing, and the items stay queued with no
// result.
func TestBuildSummarizeSharedOtherPrompts(t *testing.T) {
	url := pgtest.New(t).NewDatabase(t)
	srv := llmtest.NewServer(summarizeModel)
	defer srv.Close()
	ctx := context.Background()
	st, err := pgstore.Open(ctx, url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const run = "summarize:/elsewhere"
	// Queued by an emer of other prompts.
	si := summarize.NewItem(summarize.Spec{Model: "fake-model", Lang: summarize.English},
		summarize.Clip{Name: "sample_s001", Descriptions: []string{"He frowns. His voice is low."}})
	si.PromptSHA256 = strings.Repeat("0", 64)
	payload, err := json.Marshal(si)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(ctx, run, summarize.Kind, []batch.Item{{Key: si.Name, Input: si.Input(), Payload: payload}}); err != nil {
		t.Fatal(err)
	}

	cfg := summarizeTestConfig(srv.BaseURL())
	cfg.Store = config.Store{Driver: config.DriverPostgres, URL: url}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var log syncBuffer
	err = runWorker(wctx, workerOptions{Config: cfg, Kinds: []string{summarize.Kind}, Lease: 2 * time.Second, Stderr: &log})
	want := `summarize item "sample_s001" was queued with prompts of sha256 000000000000, this emer's are ` + summarize.PromptsSHA256()[:12]
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("worker: err = %v, want %q\n%s", err, want, log.String())
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if n, err := st.Outstanding(ctx, run, summarize.Kind); err != nil || n != 1 {
		t.Errorf("%d items outstanding (%v), want the one refused", n, err)
	}
	if _, ok, err := st.Lookup(ctx, run, summarize.Kind, si.Name); err != nil || ok {
		t.Errorf("a result was recorded for the item refused (%v)", err)
	}
}

// The mistakes in calling emer build summarize on a store are usage
// errors naming every problem.
func TestBuildSummarizeSharedUsage(t *testing.T) {
	pg := config.Store{Driver: config.DriverPostgres, URL: "postgres://emer:secret@127.0.0.1:1/emer"}
	for _, tc := range []struct {
		name string
		edit func(*buildSummarizeOptions)
		want []string
	}{
		{"workers and run on SQLite", func(o *buildSummarizeOptions) { o.Workers, o.workersSet, o.Run = 0, true, "r" },
			[]string{"--workers and --run are for a shared store (--store postgres://...)"}},
		{"workers 2, a short lease and a cache on PostgreSQL", func(o *buildSummarizeOptions) {
			o.Config.Store, o.Config.Cache, o.Workers, o.workersSet, o.Lease = pg, "cache.db", 2, true, time.Millisecond
		}, []string{"--workers 2: want 1 (summarize here too) or 0 (only wait)", "--lease 1ms: want 1s or more", "--cache: a shared store keeps its own cache"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := summarizeOpts(t.TempDir(), "http://127.0.0.1:1/v1", io.Discard)
			tc.edit(&opts)
			err := runBuildSummarize(context.Background(), opts)
			if !errors.Is(err, errUsage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// --store sqlite:PATH keeps the run, the cache, the records and the
// review state in PATH instead of DIR/emer.db.
func TestBuildSummarizeSQLiteStore(t *testing.T) {
	srv := llmtest.NewServer(summarizeModel)
	defer srv.Close()
	out, db := t.TempDir(), filepath.Join(t.TempDir(), "runs.db")
	opts := summarizeOpts(out, srv.BaseURL(), io.Discard)
	opts.Config.Store = config.Store{Driver: config.DriverSQLite, Path: db}
	if err := runBuildSummarize(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "emer.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s/emer.db: %v, want none", out, err)
	}
	export := filepath.Join(out, "review.csv")
	if err := runBuildReview(context.Background(), buildReviewOptions{DB: db, Export: export, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(export)
	want, _ := os.ReadFile(summarizeTD("want", "review.csv"))
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("review state in %s:\n%s\nwant:\n%s", db, got, want)
	}
}
