package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/llm/llmtest"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/store"
	"emer/internal/worker"
)

// paperRunData writes n samples of English ground truth and two systems'
// predictions for the paper protocol.
func paperRunData(t testing.TB, dir string, n int) (gt string, preds []string) {
	t.Helper()
	var names, g, x, y []string
	for i := range n {
		names = append(names, fmt.Sprintf("sample_%05d", i))
		g = append(g, fmt.Sprintf("In clip %d, he frowns and raises his voice%s. Therefore he is angry.", i, strings.Repeat(" loudly", i%4)))
		x = append(x, fmt.Sprintf("Clip %d: the man looks upset and speaks%s.", i, strings.Repeat(" fast", i%3)))
		y = append(y, fmt.Sprintf("Clip %d: a person smiles; the music is%s cheerful.", i, strings.Repeat(" very", i%5)))
	}
	gt = filepath.Join(dir, "gt.csv")
	writeReasonsCSV(t, gt, "reasons", names, g)
	writeReasonsCSV(t, filepath.Join(dir, "x.csv"), "reasons", names, x)
	writeReasonsCSV(t, filepath.Join(dir, "y.csv"), "reasons", names, y)
	return gt, []string{"x=" + filepath.Join(dir, "x.csv"), "y=" + filepath.Join(dir, "y.csv")}
}

// flakyPaper is the fake paper judge with a fixed latency; the first
// request of every 25th distinct prompt fails with a 503, which the
// callers' retries get past. It counts the replies it gave to each
// prompt, faults apart, and the requests in flight.
type flakyPaper struct {
	latency time.Duration

	mu       sync.Mutex
	seen     map[string]int // requests by prompt
	answered map[string]int // replies that were not faults, by prompt
	inFlight int
	peak     int
	total    atomic.Int64 // replies that were not faults
}

func newFlakyPaper(latency time.Duration) *flakyPaper {
	return &flakyPaper{latency: latency, seen: map[string]int{}, answered: map[string]int{}}
}

func (f *flakyPaper) reply(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	h := fnv.New32a()
	h.Write([]byte(p))
	f.mu.Lock()
	f.seen[p]++
	fault := f.seen[p] == 1 && h.Sum32()%25 == 0
	if !fault {
		f.answered[p]++
	}
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	f.mu.Unlock()
	// The latency is served here rather than by Step.Delay, so that the
	// requests in flight can be counted.
	time.Sleep(f.latency)
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
	if fault {
		return llmtest.Step{Status: 503, Body: `{"error":{"message":"overloaded"}}`}
	}
	f.total.Add(1)
	return paperJudge(c)
}

// finalPrompt reports whether p is the last request of a paper item: a
// score, or the modality count. An item judged twice sends it twice.
func finalPrompt(p string) bool {
	return strings.HasSuffix(p, "Score:") || strings.HasPrefix(p, "Please summarize how many modalities")
}

// referenceRun judges gt and preds on one machine, on SQLite, against a
// fresh fake judge, and returns the output folder.
func referenceRun(t *testing.T, dir, gt string, preds []string) string {
	t.Helper()
	ref := llmtest.NewServer(paperJudge)
	defer ref.Close()
	out := filepath.Join(dir, "ref")
	var se bytes.Buffer
	if err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "paper", Out: out, Repeats: 1,
		Config: judgeTestConfig(ref.BaseURL()), Stdout: io.Discard, Stderr: &se}); err != nil {
		t.Fatalf("reference run: %v\n%s", err, se.String())
	}
	return out
}

// sameResults checks that the folder got holds the results and summary
// of the folder want, but for latencies and attempts.
func sameResults(t *testing.T, want, got string, n int) {
	t.Helper()
	w := readResultsJSONL(t, filepath.Join(want, "results.jsonl"))
	g := readResultsJSONL(t, filepath.Join(got, "results.jsonl"))
	if len(w) != n || len(g) != n {
		t.Fatalf("%d results, the reference %d; want %d", len(g), len(w), n)
	}
	strip := func(r store.Result) store.Result { r.LatencyMS, r.Attempts = 0, 0; return r }
	bad := 0
	for k, wr := range w {
		if diff := cmp.Diff(strip(wr), strip(g[k])); diff != "" {
			if bad++; bad <= 5 {
				t.Errorf("%+v (-reference +shared):\n%s", k, diff)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d results differ", bad, n)
	}
	var ws, gs evalSummary
	for _, p := range []struct {
		dir string
		dst *evalSummary
	}{{want, &ws}, {got, &gs}} {
		*p.dst = readSummaryJSON(t, p.dir)
		p.dst.Judge.BaseURL = ""
	}
	if diff := cmp.Diff(ws.Systems, gs.Systems); diff != "" {
		t.Errorf("summary (-reference +shared):\n%s", diff)
	}
}

// sharedRunRecords counts the records of run in the store at url, by key.
func sharedRunRecords(t *testing.T, url, run string) map[string]int {
	t.Helper()
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys := map[string]int{}
	if err := st.Scan(context.Background(), run, store.JudgeKind, func(r batch.Record) error {
		keys[r.Key]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func queryInt(t *testing.T, url, q string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEvalSharedKillWorker is the scale-out acceptance run: 1,000
// samples × 2 systems on the paper protocol (6,000 items, 12,000 calls)
// against a fake judge with a fixed latency and some faults, judged by a
// submitter and three emer worker processes on one PostgreSQL store, one
// worker SIGKILLed mid-run. The results equal those of a single-process
// SQLite run; every item has one record; the items judged twice are at
// most those the killed worker held; a rerun sends no request.
func TestEvalSharedKillWorker(t *testing.T) {
	bin := testBinary(t)
	url := pgtest.New(t).NewDatabase(t)
	dir := t.TempDir()
	const samples, items, calls = 1000, 1000 * 2 * 3, 1000 * 12
	gt, preds := paperRunData(t, dir, samples)

	fake := newFlakyPaper(10 * time.Millisecond)
	srv := llmtest.NewServer(fake.reply)
	defer srv.Close()
	clearConfigEnv(t)
	env := os.Environ()

	start := func(name string, args ...string) (*exec.Cmd, *bytes.Buffer, <-chan error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd, &out, done
	}
	type proc struct {
		cmd  *exec.Cmd
		out  *bytes.Buffer
		done <-chan error
	}
	var workers []proc
	for i := range 3 {
		c, o, d := start(fmt.Sprintf("worker %d", i), "worker", "--store", url, "--base-url", srv.BaseURL(),
			"--concurrency", "4", "--lease", "2s", "--id", fmt.Sprintf("w%d", i))
		workers = append(workers, proc{c, o, d})
	}
	out := filepath.Join(dir, "out")
	sub, subOut, subDone := start("submitter", "eval", "--gt", gt, "--pred", preds[0], "--pred", preds[1], "--protocol", "paper",
		"--model", "fake-judge", "--base-url", srv.BaseURL(), "--concurrency", "4", "--out", out, "--store", url, "--lease", "2s")
	_ = sub

	// Kill worker 0 once about a third of the calls are answered.
	deadline := time.Now().Add(3 * time.Minute)
	for fake.total.Load() < calls/3 {
		select {
		case err := <-subDone:
			t.Fatalf("the submitter ended after %d calls: %v\n%s", fake.total.Load(), err, subOut)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d calls answered in 3 minutes", fake.total.Load())
		}
	}
	if err := workers[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-workers[0].done

	select {
	case err := <-subDone:
		if err != nil {
			t.Fatalf("submitter: %v\n%s", err, subOut)
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("the submitter did not finish\n%s", subOut)
	}
	// The other workers stop on SIGTERM, holding nothing.
	for i, w := range workers[1:] {
		if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := <-w.done
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
			t.Errorf("worker %d after SIGTERM: %v, want exit status 143\n%s", i+1, err, w.out)
		}
		if !strings.Contains(w.out.String(), "worker stopped") {
			t.Errorf("worker %d's log does not say it stopped:\n%s", i+1, w.out)
		}
	}
	if !strings.Contains(workers[1].out.String(), "msg=holding") {
		t.Errorf("worker 1's log never says what it holds:\n%s", workers[1].out)
	}

	sameResults(t, referenceRun(t, dir, gt, preds), out, items)
	run := "eval:" + absPath(out)
	recs := sharedRunRecords(t, url, run)
	if len(recs) != items {
		t.Errorf("%d records of run %s, want %d", len(recs), run, items)
	}

	// The items the killed worker held were released when its lease ran
	// out; only those may have been judged twice.
	released := queryInt(t, url, `SELECT count(*) FROM river_job
		WHERE EXISTS (SELECT 1 FROM unnest(errors) e WHERE e->>'error' LIKE 'released: worker w0 %')`)
	twice := 0
	fake.mu.Lock()
	for p, n := range fake.answered {
		if finalPrompt(p) && n > 1 {
			twice += n - 1
		}
	}
	fake.mu.Unlock()
	t.Logf("killed worker held %d items; %d items judged twice; %d requests in all (%d without faults)", released, twice, srv.Count(), fake.total.Load())
	if released == 0 {
		t.Errorf("the killed worker held no item: the kill tested nothing")
	}
	if twice > released {
		t.Errorf("%d items judged twice, more than the %d the killed worker held", twice, released)
	}

	// A rerun against the same store makes no request and changes nothing.
	before := srv.Count()
	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Concurrency = 4
	cfg.Store = config.Store{Driver: config.DriverPostgres, URL: url}
	var se bytes.Buffer
	resultsBefore, _ := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "paper", Out: out, Repeats: 1,
		Config: cfg, Stdout: io.Discard, Stderr: &se, poll: 20 * time.Millisecond}); err != nil {
		t.Fatalf("rerun: %v\n%s", err, se.String())
	}
	if n := srv.Count() - before; n != 0 {
		t.Errorf("the rerun sent %d requests, want 0", n)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "results.jsonl")); !bytes.Equal(resultsBefore, after) {
		t.Errorf("the rerun changed results.jsonl")
	}

	// emer status sees the run done, nothing held or queued.
	var so bytes.Buffer
	if err := runStatus(context.Background(), statusOptions{JSON: true, Config: config.Config{Store: cfg.Store}, Stdout: &so}); err != nil {
		t.Fatal(err)
	}
	var status pgstore.Status
	if err := json.Unmarshal(so.Bytes(), &status); err != nil {
		t.Fatal(err)
	}
	if len(status.Runs) != 1 || status.Runs[0].Run != run || status.Runs[0].Done+status.Runs[0].Failed != items ||
		status.Runs[0].Held != 0 || status.Runs[0].Queued != 0 {
		t.Errorf("status runs %+v, want %s with %d results, none held or queued", status.Runs, run, items)
	}
}

// TestEvalSharedPostgresRestart restarts PostgreSQL in the middle of a
// shared run: the run goes on once the database is back and ends with the
// results of a single-process run.
func TestEvalSharedPostgresRestart(t *testing.T) {
	cluster := pgtest.New(t)
	url := cluster.NewDatabase(t)
	dir := t.TempDir()
	const samples = 150
	gt, preds := paperRunData(t, dir, samples)
	fake := newFlakyPaper(5 * time.Millisecond)
	srv := llmtest.NewServer(fake.reply)
	defer srv.Close()

	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Concurrency = 4
	cfg.Store = config.Store{Driver: config.DriverPostgres, URL: url}
	out := filepath.Join(dir, "out")
	var se syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "paper", Out: out, Repeats: 1,
			Config: cfg, Stdout: io.Discard, Stderr: &se, poll: 20 * time.Millisecond, retryBase: 10 * time.Millisecond})
	}()
	for fake.total.Load() < samples*12/3 {
		select {
		case err := <-done:
			t.Fatalf("the run ended before the restart: %v\n%s", err, se.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, se.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("the run did not finish after the restart\n%s", se.String())
	}
	if !strings.Contains(se.String(), "database unreachable") {
		t.Logf("the run never found the database unreachable:\n%s", se.String())
	}
	sameResults(t, referenceRun(t, dir, gt, preds), out, samples*6)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scalingRun judges the samples of gt and preds with n workers in this
// process, each limited to limit requests at once, and a submitter that
// only waits; it returns the wall time and the requests sent.
func scalingRun(t testing.TB, url, dir string, gt string, preds []string, n, limit int, srv *llmtest.Server) (time.Duration, int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := pgstore.Open(ctx, url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wcfg := judgeTestConfig(srv.BaseURL())
	wcfg.Concurrency = limit
	var wg sync.WaitGroup
	started := make(chan struct{}, n)
	for i := range n {
		w, err := worker.New(st, worker.Options{Config: wcfg, ID: fmt.Sprintf("scale-%d", i), Started: func(string) { started <- struct{}{} }})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	for range n {
		<-started
	}
	cfg := wcfg
	cfg.Store = config.Store{Driver: config.DriverPostgres, URL: url}
	before := srv.Count()
	begin := time.Now()
	var se bytes.Buffer
	err = runEval(ctx, evalOptions{GT: gt, Preds: preds, Protocol: "paper", Out: filepath.Join(dir, fmt.Sprintf("out%d", n)), Repeats: 1,
		Config: cfg, Stdout: io.Discard, Stderr: &se, Workers: 0, workersSet: true, poll: 20 * time.Millisecond})
	wall := time.Since(begin)
	if err != nil {
		t.Fatalf("%d workers: %v\n%s", n, err, se.String())
	}
	cancel()
	wg.Wait()
	return wall, srv.Count() - before
}

// TestEvalSharedWorkersShareTheLoad runs a shared run with one and then
// three workers of two requests at once each: the judge sees at most
// twice as many requests in flight as there are workers, and with three
// it sees more than two workers could send.
func TestEvalSharedWorkersShareTheLoad(t *testing.T) {
	cluster := pgtest.New(t)
	dir := t.TempDir()
	gt, preds := paperRunData(t, dir, 20)
	const limit = 2
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d workers", n), func(t *testing.T) {
			fake := newFlakyPaper(20 * time.Millisecond)
			srv := llmtest.NewServer(fake.reply)
			defer srv.Close()
			wall, calls := scalingRun(t, cluster.NewDatabase(t), t.TempDir(), gt, preds, n, limit, srv)
			t.Logf("%d workers: %d requests in %v, %.0f calls/s, at most %d in flight", n, calls, wall.Round(time.Millisecond), float64(calls)/wall.Seconds(), fake.peak)
			if fake.peak > n*limit {
				t.Errorf("%d requests in flight at once, more than %d workers × %d", fake.peak, n, limit)
			}
			if n > 1 && fake.peak <= (n-1)*limit {
				t.Errorf("at most %d requests in flight: the %d workers did not share the load", fake.peak, n)
			}
		})
	}
}

// TestEvalSharedSaysNoWorker: a run that only waits (--workers 0) with no
// worker alive says so on stderr, naming the command that starts one;
// once a worker starts on the notice, the run completes.
func TestEvalSharedSaysNoWorker(t *testing.T) {
	url := pgtest.New(t).NewDatabase(t)
	dir := t.TempDir()
	gt, preds := paperRunData(t, dir, 3)
	srv := llmtest.NewServer(newFlakyPaper(0).reply)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := pgstore.Open(ctx, url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wcfg := judgeTestConfig(srv.BaseURL())
	cfg := wcfg
	cfg.Store = config.Store{Driver: config.DriverPostgres, URL: url}
	se := &noticeBuffer{notice: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		errc <- runEval(ctx, evalOptions{GT: gt, Preds: preds, Protocol: "paper", Out: filepath.Join(dir, "out"), Repeats: 1,
			Config: cfg, Stdout: io.Discard, Stderr: se, Workers: 0, workersSet: true, poll: 10 * time.Millisecond})
	}()
	select {
	case <-se.notice:
	case err := <-errc:
		t.Fatalf("the run ended without a worker: %v\n%s", err, se.String())
	}
	if srv.Count() != 0 {
		t.Fatalf("%d requests before any worker", srv.Count())
	}
	w, err := worker.New(st, worker.Options{Config: wcfg})
	if err != nil {
		t.Fatal(err)
	}
	running := w.Start(ctx, nil)
	if err := <-errc; err != nil {
		t.Fatalf("with a worker: %v\n%s", err, se.String())
	}
	if _, err := running.Stop(); err != nil {
		t.Fatal(err)
	}
	out := se.String()
	for _, want := range []string{"emer eval: no worker is alive to take the 18 judge items left", "emer worker --store URL --kinds judge, with the URL of " + pgstore.Redact(url)} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "no worker is alive"); n != 1 {
		t.Errorf("said %d times that no worker is alive, want once:\n%s", n, out)
	}
}

// noticeBuffer is a syncBuffer that closes notice once the no-worker
// notice is written.
type noticeBuffer struct {
	syncBuffer
	notice chan struct{}
	once   sync.Once
}

func (b *noticeBuffer) Write(p []byte) (int, error) {
	n, err := b.syncBuffer.Write(p)
	if strings.Contains(b.syncBuffer.String(), "no worker is alive") {
		b.once.Do(func() { close(b.notice) })
	}
	return n, err
}

// BenchmarkEvalSharedScaling measures how three workers with a
// per-worker limit of 4 requests share 100 samples × 2 systems (1,200
// calls to a judge with a fixed 100 ms latency) against one worker: it
// reports both wall times, their ratio (the goal is 0.37 or less) and
// the calls a second. The latency is long enough for the machine's own
// work per call (HTTP, the store) not to be what is measured.
func BenchmarkEvalSharedScaling(b *testing.B) {
	cluster := pgtest.New(b)
	dir := b.TempDir()
	gt, preds := paperRunData(b, dir, 100)
	for b.Loop() {
		var walls [2]time.Duration
		for i, n := range []int{1, 3} {
			fake := newFlakyPaper(100 * time.Millisecond)
			srv := llmtest.NewServer(fake.reply)
			wall, calls := scalingRun(b, cluster.NewDatabase(b), b.TempDir(), gt, preds, n, 4, srv)
			srv.Close()
			walls[i] = wall
			b.ReportMetric(float64(calls)/wall.Seconds(), fmt.Sprintf("calls/s-%dw", n))
			b.ReportMetric(wall.Seconds(), fmt.Sprintf("wall-s-%dw", n))
		}
		b.ReportMetric(walls[1].Seconds()/walls[0].Seconds(), "ratio-3w/1w")
	}
}

// TestWorkerAndStatusUsage: the mistakes in calling emer worker and emer
// status are usage errors that name every problem, and never show a
// store's password.
func TestWorkerAndStatusUsage(t *testing.T) {
	pg := config.Store{Driver: config.DriverPostgres, URL: "postgres://emer:secret@127.0.0.1:1/emer"}
	sqlite := config.Store{Driver: config.DriverSQLite, Path: "x.db"}
	for _, tt := range []struct {
		name string
		run  func() error
		want []string
	}{
		{"worker without a store", func() error {
			return runWorker(context.Background(), workerOptions{Kinds: worker.Kinds(), Lease: time.Minute, Stderr: io.Discard})
		}, []string{"--store postgres://USER@HOST/DB is required"}},
		{"worker on SQLite, bad kind, lease and grace", func() error {
			return runWorker(context.Background(), workerOptions{Config: config.Config{Store: sqlite}, Kinds: []string{"judge", "paint"},
				Lease: time.Millisecond, Grace: 5 * time.Second, Stderr: io.Discard})
		}, []string{"--store postgres://USER@HOST/DB is required", `--kinds: "paint" is not a kind of item (` + strings.Join(worker.Kinds(), ", ") + ")",
			"--lease 1ms: want 1s or more", "--grace 5s: want 0 up to less than 2s"}},
		{"status without a store", func() error {
			return runStatus(context.Background(), statusOptions{Stdout: io.Discard})
		}, []string{"--store postgres://USER@HOST/DB is required"}},
		{"eval --workers on SQLite", func() error {
			return runEval(context.Background(), evalOptions{GT: "gt.csv", Preds: []string{"a=a.csv"}, Protocol: "paper", Out: t.TempDir(), Repeats: 1,
				Config: judgeTestConfig("http://127.0.0.1:1/v1"), Workers: 0, workersSet: true, Stdout: io.Discard, Stderr: io.Discard})
		}, []string{"--workers and --run are for a shared store (--store postgres://...)"}},
		{"eval --workers 3 and a cache on PostgreSQL", func() error {
			cfg := judgeTestConfig("http://127.0.0.1:1/v1")
			cfg.Store, cfg.Cache = pg, "cache.db"
			return runEval(context.Background(), evalOptions{GT: "gt.csv", Preds: []string{"a=a.csv"}, Protocol: "paper", Out: t.TempDir(), Repeats: 1,
				Config: cfg, Workers: 3, workersSet: true, Stdout: io.Discard, Stderr: io.Discard})
		}, []string{"--workers 3: want 1 (judge here too) or 0 (only wait)", "--cache: a shared store keeps its own cache"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !errors.Is(err, errUsage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			for _, w := range tt.want {
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
