package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm/llmtest"
	"emer/internal/store"
)

// evalInto runs emer eval of preds into out with the release protocol
// against srv and returns what it printed on stderr.
func evalInto(t *testing.T, srv *llmtest.Server, gt, out string, repeats int, preds ...string) (string, error) {
	t.Helper()
	var so, se bytes.Buffer
	err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: out, Repeats: repeats,
		Config: judgeTestConfig(srv.BaseURL()), Stdout: &so, Stderr: &se})
	return se.String(), err
}

// readFileWithout reads a file of an output folder with the judge's base
// URL, if given, taken out, so that folders judged by two fake servers
// compare.
func readFileWithout(t *testing.T, path, baseURL string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if baseURL == "" {
		return string(b)
	}
	return strings.ReplaceAll(string(b), baseURL, "BASE_URL")
}

// TestEvalAccumulates judges systems into one output folder in several
// runs, as docs/model-servers.md does with an ensemble, and checks that
// the folder ends as if all had been judged in one run: the same results,
// summaries and run.json, no request sent twice, and the same ensemble.
func TestEvalAccumulates(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 4) // systems a and b
	var names, texts []string
	for i := range 4 {
		names = append(names, fmt.Sprintf("sample_%05d", i))
		texts = append(texts, fmt.Sprintf("第%d段：他%s平静。", i, strings.Repeat("十分", i%2+1)))
	}
	cPath := filepath.Join(dir, "c.csv")
	writeReasonsCSV(t, cPath, "chi_reasons", names, texts)
	predC := "c=" + cPath

	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	if _, err := evalInto(t, srv, gt, out, 1, preds...); err != nil {
		t.Fatal(err)
	}
	stderr, err := evalInto(t, srv, gt, out, 1, predC)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if want := out + " also holds a, b from earlier runs"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not say %q", stderr, want)
	}

	// The reference: the three systems in one run, against a fresh judge.
	ref := llmtest.NewServer(releaseJudge)
	defer ref.Close()
	refOut := filepath.Join(dir, "ref")
	if stderr, err := evalInto(t, ref, gt, refOut, 1, append(preds, predC)...); err != nil {
		t.Fatalf("reference: %v\n%s", err, stderr)
	}
	got, want := readResultsJSONL(t, filepath.Join(out, "results.jsonl")), readResultsJSONL(t, filepath.Join(refOut, "results.jsonl"))
	if len(want) != 4*3*2 {
		t.Fatalf("reference has %d results, want %d", len(want), 4*3*2)
	}
	if diff := cmpResults(want, got); diff != "" {
		t.Errorf("results.jsonl (-one run +two runs):\n%s", diff)
	}
	for _, name := range []string{"summary.json", "summary.md", "run.json"} {
		if diff := cmp.Diff(readFileWithout(t, filepath.Join(refOut, name), ref.BaseURL()), readFileWithout(t, filepath.Join(out, name), srv.BaseURL())); diff != "" {
			t.Errorf("%s (-one run +two runs):\n%s", name, diff)
		}
	}
	if srv.Count() != ref.Count() {
		t.Errorf("two runs sent %d requests, one run %d", srv.Count(), ref.Count())
	}

	// What summary.json and run.json say of every system: its file and
	// the file's digest.
	sum := readSummaryJSON(t, out)
	var info evalRunInfo
	if err := json.Unmarshal([]byte(readFileWithout(t, filepath.Join(out, "run.json"), "")), &info); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(preds, predC) {
		name, path, _ := strings.Cut(p, "=")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		f := inputFile{Path: path, SHA256: hex.EncodeToString(h[:])}
		if sum.Predictions[name] != f || info.Systems[name] != f.Path || info.SystemsSHA256[name] != f.SHA256 {
			t.Errorf("%s: summary.json has %+v, run.json %s %s; want %+v", name, sum.Predictions[name], info.Systems[name], info.SystemsSHA256[name], f)
		}
		if _, ok := sum.Systems[name]; !ok {
			t.Errorf("summary.json has no scores of %s", name)
		}
	}

	// emer ensemble works on the folder and picks as from the reference;
	// the ensemble judged into the folder on its own joins the others,
	// and a later ensemble still picks from them only.
	ensemble := func(results, name, csvPath string) {
		t.Helper()
		var se bytes.Buffer
		if err := runEnsemble(context.Background(), ensembleOptions{Results: results, By: "clue", Name: name, Out: csvPath, Stderr: &se}); err != nil {
			t.Fatalf("ensemble of %s: %v\n%s", results, err, se.String())
		}
	}
	best, bestRef := filepath.Join(dir, "best.csv"), filepath.Join(dir, "best-ref.csv")
	ensemble(out, "best", best)
	ensemble(refOut, "best", bestRef)
	if diff := cmp.Diff(readFileWithout(t, bestRef, ""), readFileWithout(t, best, "")); diff != "" {
		t.Errorf("ensemble (-one run +two runs):\n%s", diff)
	}
	if stderr, err := evalInto(t, srv, gt, out, 1, "best="+best); err != nil {
		t.Fatalf("judging the ensemble: %v\n%s", err, stderr)
	}
	if got := readResultsJSONL(t, filepath.Join(out, "results.jsonl")); len(got) != 4*4*2 {
		t.Errorf("%d results after judging the ensemble, want %d", len(got), 4*4*2)
	}
	if sum := readSummaryJSON(t, out); len(sum.Systems) != 4 || len(sum.Predictions) != 4 {
		t.Errorf("summary after judging the ensemble: systems %v, predictions %v", sum.Systems, sum.Predictions)
	}
	again := filepath.Join(dir, "again.csv")
	ensemble(out, "best", again)
	if diff := cmp.Diff(readFileWithout(t, best, ""), readFileWithout(t, again, "")); diff != "" {
		t.Errorf("second ensemble (-first +second):\n%s", diff)
	}

	// A system of an earlier run whose file is gone must be given again.
	if err := os.Rename(cPath, cPath+".moved"); err != nil {
		t.Fatal(err)
	}
	_, err = evalInto(t, srv, gt, out, 1, "best="+best)
	for _, want := range []string{out + " holds system c", cPath, "--pred c=FILE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("with c's file gone: err = %v, want it to say %q", err, want)
		}
	}
	if err := os.Rename(cPath+".moved", cPath); err != nil {
		t.Fatal(err)
	}
	// Another judge is refused as before.
	var se bytes.Buffer
	err = runEval(context.Background(), evalOptions{GT: gt, Preds: []string{predC}, Protocol: "paper", Out: out, Repeats: 1,
		Config: judgeTestConfig(srv.BaseURL()), Stdout: io.Discard, Stderr: &se})
	if err == nil || !strings.Contains(err.Error(), "another judge") {
		t.Errorf("another protocol: err = %v, want another judge", err)
	}
}

// TestEvalAccumulatesRepeats checks that a run adding a system to a folder
// judged with more repeats judges it with as many, and keeps the earlier
// system's repeats in the files.
func TestEvalAccumulatesRepeats(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 3)
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	if _, err := evalInto(t, srv, gt, out, 2, preds[0]); err != nil {
		t.Fatal(err)
	}
	stderr, err := evalInto(t, srv, gt, out, 1, preds[1])
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if want := out + " holds 2 repeats per item: judging 2, not 1"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not say %q", stderr, want)
	}
	res := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(res) != 3*2*2*2 {
		t.Errorf("%d results, want %d (3 samples, 2 systems, 2 metrics, 2 repeats)", len(res), 3*2*2*2)
	}
	for _, sys := range []string{"a", "b"} {
		if _, ok := res[store.ResultKey{Sample: "sample_00002", System: sys, Metric: "emotion", Repeat: 1}]; !ok {
			t.Errorf("no second repeat of %s", sys)
		}
	}
	var se bytes.Buffer
	if err := runEnsemble(context.Background(), ensembleOptions{Results: out, By: "clue", Name: "e", Out: filepath.Join(dir, "e.csv"), Stderr: &se}); err != nil {
		t.Errorf("ensemble: %v", err)
	}
}

var evalTotalsRE = regexp.MustCompile(`emer eval: (\d+) results .*this run: (\d+) judged`)

// TestEvalDryRunDecidesAsTheRun changes one thing at a time in the options
// of a finished folder and checks that a dry run decides as the run then
// does: both refuse with the same error, or the dry run counts the results
// the run judges.
func TestEvalDryRunDecidesAsTheRun(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 3)
	var names, texts []string
	for i := range 3 {
		names = append(names, fmt.Sprintf("sample_%05d", i))
		texts = append(texts, fmt.Sprintf("第%d段：他很平静。", i))
	}
	cPath := filepath.Join(dir, "c.csv")
	writeReasonsCSV(t, cPath, "chi_reasons", names, texts)
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	other := llmtest.NewServer(releaseJudge)
	defer other.Close()

	cases := []struct {
		name string
		edit func(o *evalOptions)
	}{
		{"same judge", func(*evalOptions) {}},
		{"another model", func(o *evalOptions) { o.Config.Model = "another-judge" }},
		{"another base URL", func(o *evalOptions) { o.Config.BaseURL = other.BaseURL() }},
		{"another protocol", func(o *evalOptions) { o.Protocol = "paper" }},
		{"another temperature", func(o *evalOptions) { o.Temperature = 0.5 }},
		{"another reply limit", func(o *evalOptions) { o.Config.MaxTokens = 64 }},
		{"one repeat more", func(o *evalOptions) { o.Repeats = 2 }},
		{"a system more", func(o *evalOptions) { o.Preds = append(o.Preds, "c="+cPath) }},
		{"a system fewer", func(o *evalOptions) { o.Preds = o.Preds[:1] }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("out%d", i))
			if _, err := evalInto(t, srv, gt, out, 1, preds...); err != nil {
				t.Fatal(err)
			}
			opts := evalOptions{GT: gt, Preds: append([]string(nil), preds...), Protocol: "release", Out: out, Repeats: 1,
				Config: judgeTestConfig(srv.BaseURL()), Stdout: io.Discard, Stderr: io.Discard}
			c.edit(&opts)

			var plan bytes.Buffer
			dry := opts
			dry.DryRun, dry.JSON, dry.Stdout = true, true, &plan
			dryErr := runEval(context.Background(), dry)
			var stderr bytes.Buffer
			run := opts
			run.Stderr = &stderr
			runErr := runEval(context.Background(), run)

			if dryErr != nil || runErr != nil {
				if dryErr == nil || runErr == nil || dryErr.Error() != runErr.Error() {
					t.Fatalf("dry run: %v\nrun: %v", dryErr, runErr)
				}
				return
			}
			var counts map[string]int
			if err := json.Unmarshal(plan.Bytes(), &counts); err != nil {
				t.Fatalf("dry run output %q: %v", plan.String(), err)
			}
			m := evalTotalsRE.FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("no totals in %q", stderr.String())
			}
			total, _ := strconv.Atoi(m[1])
			judged, _ := strconv.Atoi(m[2])
			if counts["results"] != total || counts["results_pending"] != judged {
				t.Errorf("dry run counts %d results, %d to judge; the run has %d and judged %d", counts["results"], counts["results_pending"], total, judged)
			}
		})
	}
}

// fileState is what snapshotDir records of a file.
type fileState struct {
	Mode   fs.FileMode
	Size   int64
	MTime  int64
	SHA256 string
}

// snapshotDir records every file of dir, to tell whether anything changed.
func snapshotDir(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fileState{Mode: fi.Mode(), Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			st.SHA256 = hex.EncodeToString(h[:])
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEvalDryRunWritesNothing dry-runs a folder whose store has an older
// schema: the dry run changes no file and applies no migration, and counts
// as the run then does (results of that schema have no input digest, so
// they are judged again, from the cache).
func TestEvalDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 3)
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	if _, err := evalInto(t, srv, gt, out, 1, preds...); err != nil {
		t.Fatal(err)
	}
	// Back to schema 1, as emer wrote it before results had digests.
	dbPath := filepath.Join(out, "emer.db")
	rebuildAsOldSchema(t, dbPath, 1)
	before := snapshotDir(t, out)

	var plan bytes.Buffer
	err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: out, Repeats: 1, DryRun: true, JSON: true,
		Config: judgeTestConfig(srv.BaseURL()), Stdout: &plan, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, snapshotDir(t, out)); diff != "" {
		t.Errorf("the dry run changed the folder (-before +after):\n%s", diff)
	}
	ro, err := store.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ro.SchemaVersion(context.Background())
	ro.Close()
	if v != 1 {
		t.Errorf("schema version %d after the dry run, want 1", v)
	}
	var counts map[string]int
	if err := json.Unmarshal(plan.Bytes(), &counts); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"results": 12, "results_done": 0, "results_pending": 12, "calls": counts["calls"], "calls_cached": counts["calls"], "calls_to_make": 0}; !cmp.Equal(counts, want) {
		t.Errorf("dry run counts %v, want %v", counts, want)
	}

	requests := srv.Count()
	stderr, err := evalInto(t, srv, gt, out, 1, preds...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "this run: 12 judged") || srv.Count() != requests {
		t.Errorf("the run after the dry run sent %d requests: %s", srv.Count()-requests, stderr)
	}
}

// TestEvalLock starts a run and, while it holds the folder, a second one:
// the second refuses at once, naming the first's process; a dry run needs
// no lock; once the first is done the folder is free again.
func TestEvalLock(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 3)
	// With one request in flight per run, a second request waiting at once
	// is the second run's.
	var inFlight atomic.Int32
	firstIn, secondIn, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		switch inFlight.Add(1) {
		case 1:
			close(firstIn)
		case 2:
			close(secondIn)
		}
		<-release
		return releaseJudge(c)
	})
	defer srv.Close()
	defer unblock() // before srv.Close, which waits for the handlers

	out := filepath.Join(dir, "out")
	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Concurrency = 1
	cfg.Timeout = 0 // a request waits for release however long it takes, never retried
	opts := evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: out, Repeats: 1, Config: cfg, Stdout: io.Discard, Stderr: io.Discard}
	first := make(chan error, 1)
	go func() { first <- runEval(context.Background(), opts) }()
	select {
	case <-firstIn: // the first run holds the lock: it takes it before any request
	case err := <-first:
		t.Fatalf("first run ended early: %v", err)
	}

	second := make(chan error, 1)
	go func() { second <- runEval(context.Background(), opts) }()
	select {
	case err := <-second:
		want := fmt.Sprintf("%s is in use by another emer eval (pid %d)", out, os.Getpid())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("second run: err = %v, want %q", err, want)
		}
	case <-secondIn:
		t.Error("the second run judged the folder the first is judging")
		unblock()
		<-second
	}

	var plan bytes.Buffer
	dry := opts
	dry.DryRun, dry.Stdout = true, &plan
	if err := runEval(context.Background(), dry); err != nil || !strings.Contains(plan.String(), "dry run: 12 results") {
		t.Errorf("dry run beside the run: %v, %q", err, plan.String())
	}

	unblock()
	if err := <-first; err != nil {
		t.Fatalf("first run: %v", err)
	}
	if err := runEval(context.Background(), opts); err != nil {
		t.Errorf("a run after the first ended: %v", err)
	}
	if l, err := store.LockDir(out); err != nil {
		t.Errorf("the folder is still locked after the runs: %v", err)
	} else {
		l.Close()
	}
}
