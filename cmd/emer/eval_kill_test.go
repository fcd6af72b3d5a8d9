package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm/llmtest"
	"emer/internal/store"
)

// killData writes n samples of ground truth and two systems' predictions.
func killData(t *testing.T, dir string, n int) (gt string, preds []string) {
	t.Helper()
	var names, g, a, b []string
	for i := range n {
		names = append(names, fmt.Sprintf("sample_%05d", i))
		g = append(g, fmt.Sprintf("在第%d段视频中，他%s生气。", i, strings.Repeat("非常", i%5+1)))
		a = append(a, fmt.Sprintf("第%d段：他看起来%s难过。", i, strings.Repeat("有点", i%7+1)))
		b = append(b, fmt.Sprintf("第%d段：她%s高兴，笑着说话。", i, strings.Repeat("很", i%3+1)))
	}
	gt = filepath.Join(dir, "gt.csv")
	writeReasonsCSV(t, gt, "chi_reasons", names, g)
	writeReasonsCSV(t, filepath.Join(dir, "a.csv"), "chi_reasons", names, a)
	writeReasonsCSV(t, filepath.Join(dir, "b.csv"), "chi_reasons", names, b)
	return gt, []string{"a=" + filepath.Join(dir, "a.csv"), "b=" + filepath.Join(dir, "b.csv")}
}

// connTracker serves a handler (a fake judge's) on a server of its own
// that knows which of its connections are open, so that once a client is
// gone a test can wait until every request the client sent has been
// received.
type connTracker struct {
	*httptest.Server

	mu      sync.Mutex
	open    map[string]bool // remote address -> open
	changed chan struct{}   // closed and replaced whenever open changes
}

func newConnTracker(h http.Handler) *connTracker {
	c := &connTracker{open: map[string]bool{}, changed: make(chan struct{})}
	c.Server = httptest.NewUnstartedServer(h)
	c.Config.ConnState = func(conn net.Conn, st http.ConnState) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch st {
		case http.StateNew:
			c.open[conn.RemoteAddr().String()] = true
		case http.StateHijacked, http.StateClosed:
			delete(c.open, conn.RemoteAddr().String())
		default:
			return
		}
		close(c.changed)
		c.changed = make(chan struct{})
	}
	c.Start()
	return c
}

// BaseURL returns the URL clients use as base URL.
func (c *connTracker) BaseURL() string { return c.URL + "/v1" }

func (c *connTracker) waitFor(ctx context.Context, done func(open map[string]bool) bool) error {
	for {
		c.mu.Lock()
		ok, changed := done(c.open), c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitIdle waits until every connection made to the server so far has
// closed, and with it every request sent on one has been read. Call it
// once the clients are gone. Connections still queued to be accepted
// count too: it dials one of its own and waits for the server to accept
// it, which it does in the order they were made.
func (c *connTracker) waitIdle(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Listener.Addr().String())
	if err != nil {
		return err
	}
	mine := conn.LocalAddr().String()
	err = c.waitFor(ctx, func(open map[string]bool) bool { return open[mine] })
	conn.Close()
	if err != nil {
		return err
	}
	return c.waitFor(ctx, func(open map[string]bool) bool { return len(open) == 0 })
}

// promptCounts counts how often the server answered each prompt.
func promptCounts(srv *llmtest.Server) map[string]int {
	m := map[string]int{}
	for _, c := range srv.Calls() {
		m[c.Prompt()]++
	}
	return m
}

// TestEvalKillResume starts emer eval as a process, kills it with SIGKILL
// mid-run, runs it again, and checks that the results equal those of an
// uninterrupted run, with no duplicate or torn line and no call repeated
// except those in flight at the kill.
func TestEvalKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the emer binary")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool to build emer with: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "emer")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	gt, preds := killData(t, dir, 40)

	const concurrency = 2
	var answered atomic.Int64
	third := make(chan struct{}) // closed at the 90th request, about a third of the run
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		if answered.Add(1) == 90 {
			close(third)
		}
		s := releaseJudge(c)
		s.Delay = 10 * time.Millisecond
		return s
	})
	defer srv.Close()
	// The fake judge, on a server that tracks its connections: srv counts
	// and records the calls, tracked is where the runs send them.
	tracked := newConnTracker(srv.Config.Handler)
	defer tracked.Close()
	out := filepath.Join(dir, "out")
	args := []string{"eval", "--gt", gt, "--pred", preds[0], "--pred", preds[1], "--protocol", "release",
		"--model", "fake-judge", "--base-url", tracked.BaseURL(), "--out", out, "--concurrency", fmt.Sprint(concurrency)}
	clearConfigEnv(t) // the child processes inherit the cleared variables
	env := os.Environ()

	// First run: killed once the judge has answered about a third of it.
	first := exec.Command(bin, args...)
	first.Env = env
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = first.Wait()
		close(exited)
	}()
	select {
	case <-third:
	case <-exited:
		t.Fatalf("first run ended after %d requests: %s", srv.Count(), firstErr.String())
	}

	// While it runs, the folder is its own: another run refuses at once.
	err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: out, Repeats: 1,
		Config: judgeTestConfig(tracked.BaseURL()), Stdout: io.Discard, Stderr: io.Discard})
	if want := fmt.Sprintf("%s is in use by another emer eval (pid %d)", out, first.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a run beside the first: err = %v, want %q", err, want)
	}

	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	// The server may still be reading what the process sent.
	if err := tracked.waitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	sentBeforeKill := srv.Count()
	partial := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(partial) == 0 || len(partial) >= 160 {
		t.Fatalf("killed run left %d results; want some of 160", len(partial))
	}
	// The calls in flight at the kill: sent, but with no reply in the cache.
	db, err := store.OpenReadOnly(context.Background(), filepath.Join(out, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	cachedBeforeKill, err := db.CacheSize(context.Background())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	inFlight := sentBeforeKill - cachedBeforeKill

	// Second run: finishes what is left; the killed run's lock went with it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	second := exec.CommandContext(ctx, bin, args...)
	second.Env = env
	if b, err := second.CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, b)
	}
	got := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))

	// Reference: one uninterrupted run against a fresh judge.
	ref := llmtest.NewServer(releaseJudge)
	defer ref.Close()
	refOut := filepath.Join(dir, "ref")
	cfg := judgeTestConfig(ref.BaseURL())
	var so, se bytes.Buffer
	if err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: refOut, Repeats: 1, Config: cfg, Stdout: &so, Stderr: &se}); err != nil {
		t.Fatalf("reference run: %v\n%s", err, se.String())
	}
	want := readResultsJSONL(t, filepath.Join(refOut, "results.jsonl"))
	if len(got) != len(want) || len(want) != 160 {
		t.Fatalf("resumed run has %d results, reference %d, want 160", len(got), len(want))
	}
	strip := func(r store.Result) store.Result { r.LatencyMS, r.Attempts = 0, 0; return r }
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing %+v", k)
			continue
		}
		if diff := cmp.Diff(strip(w), strip(g)); diff != "" {
			t.Errorf("%+v (-reference +resumed):\n%s", k, diff)
		}
	}
	if diff := cmp.Diff(readFileWithout(t, filepath.Join(refOut, "summary.json"), ref.BaseURL()), readFileWithout(t, filepath.Join(out, "summary.json"), tracked.BaseURL())); diff != "" {
		t.Errorf("summary.json (-reference +resumed):\n%s", diff)
	}

	// Only the calls in flight at the kill are sent again: none whose reply
	// was cached. Each item holds at most one call, so no more are in
	// flight than there are workers.
	repeated := 0
	for p, n := range promptCounts(srv) {
		if n > 1 {
			repeated += n - 1
			t.Logf("sent %d times: %.60q", n, p)
		}
	}
	if repeated != inFlight {
		t.Errorf("%d requests repeated after the kill; %d were in flight (%d sent, %d cached)", repeated, inFlight, sentBeforeKill, cachedBeforeKill)
	}
	if inFlight < 0 || inFlight > 8*concurrency {
		t.Errorf("%d calls in flight at the kill, want at most %d", inFlight, 8*concurrency)
	}
	if srv.Count() != ref.Count()+repeated {
		t.Errorf("killed and resumed runs sent %d requests, the uninterrupted one %d, with %d repeated", srv.Count(), ref.Count(), repeated)
	}
}
