package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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

// waitQuiet waits until the server's request count has stopped changing
// (the same over 50 looks 2 ms apart) and returns it.
func waitQuiet(t *testing.T, srv *llmtest.Server) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last, same := srv.Count(), 0
	for same < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("the server kept receiving requests (%d) after the client died", srv.Count())
		}
		time.Sleep(2 * time.Millisecond)
		if n := srv.Count(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	return last
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
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		s := releaseJudge(c)
		s.Delay = 10 * time.Millisecond
		return s
	})
	defer srv.Close()
	out := filepath.Join(dir, "out")
	args := []string{"eval", "--gt", gt, "--pred", preds[0], "--pred", preds[1], "--protocol", "release",
		"--model", "fake-judge", "--base-url", srv.BaseURL(), "--out", out, "--concurrency", fmt.Sprint(concurrency)}
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
	deadline := time.Now().Add(30 * time.Second)
	for srv.Count() < 90 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	sentBeforeKill := waitQuiet(t, srv) // the server may still be reading what the process sent

	if sentBeforeKill < 90 {
		t.Fatalf("first run made only %d requests before the deadline: %s", sentBeforeKill, firstErr.String())
	}
	partial := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(partial) == 0 || len(partial) >= 160 {
		t.Fatalf("killed run left %d results; want some of 160", len(partial))
	}
	// The calls in flight at the kill: sent, but with no reply in the cache.
	db, err := store.Open(context.Background(), filepath.Join(out, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	cachedBeforeKill, err := db.CacheSize(context.Background())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	inFlight := sentBeforeKill - cachedBeforeKill

	// Second run: finishes what is left.
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
	if a, b := os.ReadFile(filepath.Join(out, "summary.json")); b == nil {
		r, _ := os.ReadFile(filepath.Join(refOut, "summary.json"))
		if !bytes.Equal(bytes.ReplaceAll(a, []byte(srv.BaseURL()), nil), bytes.ReplaceAll(r, []byte(ref.BaseURL()), nil)) {
			t.Errorf("summaries differ:\n%s\n%s", a, r)
		}
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
