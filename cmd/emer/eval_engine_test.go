package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/judge"
	"emer/internal/llm/llmtest"
	"emer/internal/store"
)

// TestEvalUnreachable judges against a server that drops every
// connection: the run stops calling it after the breaker's failures in a
// row (plus those in flight), says once that it is unreachable, records
// the items as request_error, and the next run, with the server back,
// judges them all.
func TestEvalUnreachable(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 40)
	var up atomic.Bool
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		if !up.Load() {
			return llmtest.Step{Drop: true}
		}
		return releaseJudge(c)
	})
	defer srv.Close()
	out := filepath.Join(dir, "out")
	cfg := judgeTestConfig(srv.BaseURL())
	opts := evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: out, Repeats: 1, Config: cfg,
		Stdout: io.Discard, retryBase: 1}
	var stderr bytes.Buffer
	opts.Stderr = &stderr
	err := runEval(context.Background(), opts)
	if !errors.Is(err, errPartial) {
		t.Fatalf("err = %v, want errPartial", err)
	}
	failures, workers := max(cfg.BreakerFailures, 8, 2*cfg.Concurrency), 8*cfg.Concurrency
	if n := srv.Count(); n > failures+workers {
		t.Errorf("%d requests sent to a server that drops them all, want at most %d (%d failures in a row, %d in flight)", n, failures+workers, failures, workers)
	}
	if n := strings.Count(stderr.String(), "is unreachable"); n != 1 {
		t.Errorf("stderr says %d times that the server is unreachable, want once:\n%s", n, stderr.String())
	}
	if !strings.Contains(stderr.String(), srv.BaseURL()) {
		t.Errorf("stderr does not name the server %s:\n%s", srv.BaseURL(), stderr.String())
	}
	res := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(res) != 160 {
		t.Fatalf("%d results, want 160", len(res))
	}
	for k, r := range res {
		if r.Status != string(judge.StatusRequestError) {
			t.Fatalf("%+v: status %s, want request_error", k, r.Status)
		}
	}

	// The items are of class Retry: the dry run and the run do them all.
	up.Store(true)
	var plan bytes.Buffer
	dry := opts
	dry.DryRun, dry.Stdout = true, &plan
	if err := runEval(context.Background(), dry); err != nil || !strings.Contains(plan.String(), "160 results, 0 already done, 160 to judge") {
		t.Errorf("dry run with the server back: %v, %q", err, plan.String())
	}
	stderr.Reset()
	if err := runEval(context.Background(), opts); err != nil {
		t.Fatalf("run with the server back: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "unreachable") {
		t.Errorf("stderr of the second run: %s", stderr.String())
	}
	for k, r := range readResultsJSONL(t, filepath.Join(out, "results.jsonl")) {
		if r.Status != string(judge.StatusOK) {
			t.Errorf("%+v after the server came back: %s", k, r.Status)
		}
	}
}

// TestEvalStoredBaseURL resumes a folder whose store recorded the judge's
// base URL as it was written (an earlier emer did not normalise it): it
// is the same judge, so nothing is judged again, and the judge is
// recorded with the URL normalised. A base URL given with a trailing
// slash is the same judge too.
func TestEvalStoredBaseURL(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 3)
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	if _, err := evalInto(t, srv, gt, out, 1, preds...); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(out, "emer.db")
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored string
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'judge'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var ji judgeInfo
	if err := json.Unmarshal([]byte(stored), &ji); err != nil {
		t.Fatal(err)
	}
	written := ji
	written.BaseURL = strings.Replace(ji.BaseURL, "http://", "HTTP://", 1) + "/"
	b, _ := json.Marshal(written)
	if _, err := db.Exec(`UPDATE meta SET value = ? WHERE key = 'judge'`, string(b)); err != nil {
		t.Fatal(err)
	}

	before := srv.Count()
	for _, baseURL := range []string{srv.BaseURL(), srv.BaseURL() + "/"} {
		cfg := judgeTestConfig(baseURL)
		var se bytes.Buffer
		if err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: out, Repeats: 1,
			Config: cfg, Stdout: io.Discard, Stderr: &se}); err != nil {
			t.Fatalf("--base-url %s: %v\n%s", baseURL, err, se.String())
		}
	}
	if srv.Count() != before {
		t.Errorf("%d requests sent for a folder judged already", srv.Count()-before)
	}
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'judge'`).Scan(&stored); err != nil || stored != mustJSON(ji) {
		t.Errorf("judge recorded as %s (%v), want %s", stored, err, mustJSON(ji))
	}
	if got := readSummaryJSON(t, out).Judge.BaseURL; got != srv.BaseURL() {
		t.Errorf("summary.json judge base_url %q, want %q", got, srv.BaseURL())
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestSummarizeEvalStreams checks that the summary read from the ledger
// as a stream equals judge.Summarize over every result held at once, with
// repeats, failures and results of texts no longer judged.
func TestSummarizeEvalStreams(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	l := batch.NewMemory()
	proto, err := judge.LookupProtocol("paper")
	if err != nil {
		t.Fatal(err)
	}
	plan := &evalPlan{run: store.JudgeRun, systems: []*evalSystem{{Name: "a"}, {Name: "b b"}, {Name: "c"}}}
	var all []judge.Judged
	statuses := []judge.Status{judge.StatusOK, judge.StatusOK, judge.StatusOK, judge.StatusParseError, judge.StatusRequestError, judge.StatusRefused}
	for i := range 30 {
		for _, s := range plan.systems {
			for _, m := range proto.Metrics {
				for rep := range 3 {
					k := store.ResultKey{Sample: fmt.Sprintf("s%d", i), System: s.Name, Metric: string(m), Repeat: rep}
					input := fmt.Sprintf("in%d", rng.IntN(4))
					plan.tasks = append(plan.tasks, batch.Task[evalItem]{Key: k.String(), Input: "in0"})
					if rng.IntN(10) == 0 {
						continue // not judged (yet)
					}
					r := store.Result{Sample: k.Sample, System: k.System, Metric: k.Metric, Repeat: rep, Status: string(statuses[rng.IntN(len(statuses))]), InputSHA256: input}
					if r.Status == string(judge.StatusOK) {
						v := float64(rng.IntN(11))
						r.Score = &v
					}
					rec, err := r.Record()
					if err != nil {
						t.Fatal(err)
					}
					if err := l.Put(ctx, rec); err != nil {
						t.Fatal(err)
					}
					if input == "in0" {
						all = append(all, judge.Judged{Sample: r.Sample, System: r.System, Metric: judge.Metric(r.Metric), Status: judge.Status(r.Status), Score: r.Score})
					}
				}
			}
		}
	}
	sum, err := summarizeEval(ctx, l, plan, proto, judgeInfo{})
	if err != nil {
		t.Fatal(err)
	}
	want := judge.Summarize(all, []string{"a", "b b", "c"}, proto.Metrics)
	if diff := cmp.Diff(want, sum.Systems); diff != "" {
		t.Errorf("streamed summary (-all at once +streamed):\n%s", diff)
	}
}
