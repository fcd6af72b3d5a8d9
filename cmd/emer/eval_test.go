package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"emer/internal/config"
	"emer/internal/judge"
	"emer/internal/llm/llmtest"
	"emer/internal/sharedtest"
	"emer/internal/store"
)

// writeReasonsCSV writes an EMER CSV with a names column and one text column.
func writeReasonsCSV(t testing.TB, path, col string, names, texts []string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"names", col})
	for i := range names {
		_ = w.Write([]string{names[i], texts[i]})
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// textBetween returns the text after the last occurrence of start and before
// the next end.
func textBetween(s, start, end string) string {
	i := strings.LastIndex(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// The fake release judge: its answers are known functions of its input.
func fakeClueScore(gt, pred string) int { return 1 + (runeLen(gt)+2*runeLen(pred))%10 }
func fakeEmotion(reason string) string  { return fmt.Sprintf("情感%d", runeLen(reason)%5) }
func fakeEmotionScore(gt, pred string) int {
	var a, b int
	fmt.Sscanf(gt, "情感%d", &a)
	fmt.Sscanf(pred, "情感%d", &b)
	return 1 + (a+2*b)%10
}

// releaseJudge answers the three release prompts.
func releaseJudge(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	switch {
	case strings.HasPrefix(p, "下面给出人物的《真实描述》"):
		gt, pred := textBetween(p, "《真实描述》：", "\n《预测描述》："), textBetween(p, "《预测描述》：", "\n输出：")
		return llmtest.Step{Text: fmt.Sprintf("'预测分数'：%d；'原因'：长度相近", fakeClueScore(gt, pred)), Tokens: 7}
	case strings.HasPrefix(p, "请根据以下视频描述"):
		return llmtest.Step{Text: fakeEmotion(textBetween(p, "视频描述：", "\n输出结果：")), Tokens: 2}
	case strings.HasPrefix(p, "下面给出人物的《真实情感》"):
		gt, pred := textBetween(p, "《真实情感》：", "\n《预测情感》："), textBetween(p, "《预测情感》：", "\n输出：")
		return llmtest.Step{Text: fmt.Sprintf("'预测分数'：%d；'原因'：一致", fakeEmotionScore(gt, pred)), Tokens: 5}
	}
	return llmtest.Step{Status: 400, Body: `{"error":{"message":"unknown prompt"}}`}
}

// clearConfigEnv unsets every setting's environment variable for a test
// that goes through the command line.
func clearConfigEnv(t *testing.T) {
	t.Setenv(config.ConfigEnv, "")
	for _, s := range config.Settings {
		for _, e := range s.Env {
			t.Setenv(e, "")
		}
	}
}

func judgeTestConfig(baseURL string) config.Config {
	c := config.Default()
	c.BaseURL, c.Model = baseURL, "fake-judge"
	c.Concurrency, c.MaxAttempts, c.Timeout = 8, 3, config.Duration(2*time.Second)
	return c
}

// readResultsJSONL parses results.jsonl strictly: every line whole, no key twice.
func readResultsJSONL(t *testing.T, path string) map[store.ResultKey]store.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends in a torn line", path)
	}
	out := map[store.ResultKey]store.Result{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var r store.Result
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if _, dup := out[r.Key()]; dup {
			t.Fatalf("%s:%d: duplicate result %+v", path, n, r.Key())
		}
		var fields map[string]any
		_ = json.Unmarshal(sc.Bytes(), &fields)
		if _, has := fields["score"]; has != (r.Status == "ok") {
			t.Fatalf("%s:%d: status %s with score field present=%v", path, n, r.Status, has)
		}
		out[r.Key()] = r
	}
	return out
}

func readSummaryJSON(t *testing.T, dir string) evalSummary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s evalSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// faultJudge answers release prompts; a clue prompt whose prediction names
// a fault gets that fault.
type faultJudge struct {
	mu      sync.Mutex
	seen    map[string]int
	healthy bool // once set, faults of the request_error kind stop
}

func (f *faultJudge) reply(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	if !strings.HasPrefix(p, "下面给出人物的《真实描述》") {
		if strings.HasPrefix(p, "请根据以下视频描述") {
			return llmtest.Step{Text: "生气"}
		}
		return llmtest.Step{Text: "'预测分数'：5；'原因'：一致"}
	}
	pred := textBetween(p, "《预测描述》：", "\n输出：")
	f.mu.Lock()
	f.seen[pred]++
	n, healthy := f.seen[pred], f.healthy
	f.mu.Unlock()
	ok := llmtest.Step{Text: "'预测分数'：7；'原因'：相近", Tokens: 3}
	if healthy {
		return ok
	}
	switch pred {
	case "429 once":
		if n == 1 {
			return llmtest.Step{Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: `{"error":{"message":"rate limited"}}`}
		}
	case "500 always":
		return llmtest.Step{Status: 500, Header: map[string]string{"Content-Type": "text/plain"}, Body: "upstream exploded"}
	case "slow":
		return llmtest.Step{Hang: true}
	case "malformed":
		return llmtest.Step{Body: `{"choices": [`}
	case "no choices":
		return llmtest.Step{Body: `{"id":"x","choices":[]}`}
	case "401":
		return llmtest.Step{Status: 401, Body: `{"error":{"message":"invalid api key"}}`}
	}
	switch pred {
	case "out of range":
		return llmtest.Step{Text: "'预测分数'：15；'原因'：非常好"}
	case "negative":
		return llmtest.Step{Text: "'预测分数'：-1；'原因'：无关"}
	case "no number":
		return llmtest.Step{Text: "'预测分数'：较高；'原因'：情感一致"}
	case "two numbers":
		return llmtest.Step{Text: "7 或 8"}
	case "refusal":
		return llmtest.Step{Text: "抱歉，我无法完成这个评分。"}
	case "empty":
		return llmtest.Step{Text: ""}
	case "full-width":
		return llmtest.Step{Text: "'预测分数'：９；'原因'：一致"}
	}
	return ok
}

func TestEvalFaults(t *testing.T) {
	cases := []struct {
		pred, status, raw string
		attempts          int
	}{
		{"fine", "ok", "'预测分数'：7", 1},
		{"429 once", "ok", "'预测分数'：7", 2},
		{"full-width", "ok", "９", 1},
		{"500 always", "request_error", "upstream exploded", 3},
		{"slow", "request_error", "timed out", 3},
		{"malformed", "request_error", `{"choices": [`, 3},
		{"no choices", "request_error", `"choices":[]`, 3},
		{"401", "request_error", "invalid api key", 1},
		{"out of range", "out_of_range", "15", 1},
		{"negative", "out_of_range", "-1", 1},
		{"no number", "parse_error", "较高", 1},
		{"two numbers", "parse_error", "7 或 8", 1},
		{"refusal", "refused", "抱歉", 1},
		{"empty", "parse_error", "", 1},
	}
	dir := t.TempDir()
	var names, gts, preds []string
	for i, c := range cases {
		names = append(names, fmt.Sprintf("s%02d", i))
		gts = append(gts, "他很生气")
		preds = append(preds, c.pred)
	}
	writeReasonsCSV(t, filepath.Join(dir, "gt.csv"), "chi_reasons", names, gts)
	writeReasonsCSV(t, filepath.Join(dir, "a.csv"), "chi_reasons", names, preds)

	fj := &faultJudge{seen: map[string]int{}}
	srv := llmtest.NewServer(fj.reply)
	defer srv.Close()
	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Timeout = config.Duration(300 * time.Millisecond)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	opts := evalOptions{
		GT: filepath.Join(dir, "gt.csv"), Preds: []string{"a=" + filepath.Join(dir, "a.csv")},
		Protocol: "release", Out: out, Repeats: 1, JSON: true, Config: cfg,
		Stdout: &stdout, Stderr: &stderr, retryBase: time.Millisecond,
	}
	err := runEval(context.Background(), opts)
	if !errors.Is(err, errPartial) {
		t.Fatalf("err = %v, want errPartial", err)
	}
	res := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(res) != 2*len(cases) {
		t.Fatalf("%d results, want %d", len(res), 2*len(cases))
	}
	failed := 0
	for i, c := range cases {
		r := res[store.ResultKey{Sample: names[i], System: "a", Metric: "clue"}]
		if r.Status != c.status || r.Attempts != c.attempts || !strings.Contains(r.Raw, c.raw) {
			t.Errorf("%s: got status %s, attempts %d, raw %q; want %s, %d, raw containing %q", c.pred, r.Status, r.Attempts, r.Raw, c.status, c.attempts, c.raw)
		}
		if (r.Score != nil) != (c.status == "ok") || (r.Score != nil && *r.Score != map[bool]float64{true: 9, false: 7}[c.pred == "full-width"]) {
			t.Errorf("%s: score %v with status %s", c.pred, r.Score, r.Status)
		}
		if c.status != "ok" {
			failed++
			if c.pred != "empty" && r.Raw == "" {
				t.Errorf("%s: failure without raw text", c.pred)
			}
		}
		if e := res[store.ResultKey{Sample: names[i], System: "a", Metric: "emotion"}]; e.Status != "ok" || *e.Score != 5 {
			t.Errorf("%s: emotion %+v", c.pred, e)
		}
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("%d of %d results failed", failed, len(res))) {
		t.Errorf("error %q does not count %d failures", err, failed)
	}

	// calls.jsonl holds every request sent, failed attempts included.
	failedAttempts := 0
	logData, err2 := os.ReadFile(filepath.Join(out, "calls.jsonl"))
	if err2 != nil {
		t.Fatal(err2)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(logData)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("calls.jsonl: %v: %q", err, l)
		}
		if m["msg"] == "attempt" && m["status"] == float64(500) && m["raw"] == "upstream exploded" {
			failedAttempts++
		}
	}
	if failedAttempts != 3 {
		t.Errorf("calls.jsonl records %d failed attempts of the 500 item, want 3", failedAttempts)
	}

	// The summary and its totals add up.
	var sum evalSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout.String())
	}
	clue := sum.Systems["a"]["clue"]
	if clue.NScored != 3 || clue.NFailed != len(cases)-3 || clue.Mean == nil || math.Abs(*clue.Mean-23.0/3) > 1e-12 {
		t.Errorf("clue summary %+v, want 3 scored (mean 23/3), %d failed", clue, len(cases)-3)
	}
	if got := readSummaryJSON(t, out); got.Systems["a"]["clue"].NFailed != clue.NFailed || got.Judge.Protocol != "release" || len(got.Judge.PromptSHA256) != 64 {
		t.Errorf("summary.json = %+v", got)
	}
	for _, want := range []string{"ok 17", "parse_error 3", "out_of_range 2", "request_error 5", "refused 1", fmt.Sprintf("%d requests sent", srv.Count())} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("totals %q lack %q", stderr.String(), want)
		}
	}

	// A torn line left by a crash is mended; rerunning retries only the
	// calls that got no reply.
	f, _ := os.OpenFile(filepath.Join(out, "results.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"sample":"s00","sys`)
	f.Close()
	fj.mu.Lock()
	fj.healthy = true
	fj.mu.Unlock()
	before := srv.Count()
	stdout.Reset()
	err = runEval(context.Background(), opts)
	if !errors.Is(err, errPartial) {
		t.Fatalf("rerun: err = %v, want errPartial (parse failures stand)", err)
	}
	if got := srv.Count() - before; got != 5 {
		t.Errorf("rerun sent %d requests, want 5 (the request errors)", got)
	}
	res = readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(res) != 2*len(cases) {
		t.Fatalf("rerun: %d results, want %d", len(res), 2*len(cases))
	}
	for i, c := range cases {
		r := res[store.ResultKey{Sample: names[i], System: "a", Metric: "clue"}]
		want := c.status
		if want == "request_error" {
			want = "ok"
		}
		if r.Status != want {
			t.Errorf("rerun %s: status %s, want %s", c.pred, r.Status, want)
		}
	}
}

func TestEvalUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	clearConfigEnv(t)
	code := execute(context.Background(), []string{"eval", "--protocol", "gpt", "--pred", "noequals", "--repeats", "0"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
	}
	for _, want := range []string{"--gt", "--out", "--repeats", "protocol", "NAME=FILE", "model"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage error %q does not mention %s", stderr.String(), want)
		}
	}

	// A setting that is wrong is reported with the other problems, and
	// with where it came from.
	stdout.Reset()
	stderr.Reset()
	t.Setenv("EMER_CONCURRENCY", "0")
	code = execute(context.Background(), []string{"eval", "--protocol", "paper", "--model", "m"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
	}
	for _, want := range []string{"--gt is required", "--out is required", "EMER_CONCURRENCY: concurrency"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage error %q does not mention %s", stderr.String(), want)
		}
	}
	if strings.Contains(stderr.String(), "model is empty") {
		t.Errorf("usage error %q says the model given is empty", stderr.String())
	}
}

func TestEvalDryRunAndResume(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	names := []string{"a1", "a2", "a3"}
	writeReasonsCSV(t, filepath.Join(dir, "gt.csv"), "reasons", names, []string{"He frowns.", "He smiles.", "He cries."})
	writeReasonsCSV(t, filepath.Join(dir, "x.csv"), "reasons", names, []string{"angry", "happy", "sad"})
	writeReasonsCSV(t, filepath.Join(dir, "y.csv"), "reasons", names, []string{"calm", "happy", "sad"})
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		switch p := c.Prompt(); {
		case strings.HasPrefix(p, "Please summarize how many modalities"):
			return llmtest.Step{Text: "visual, audio"}
		case strings.HasSuffix(p, "Score:"):
			return llmtest.Step{Text: "Score: 6"}
		}
		return llmtest.Step{Text: "a summary"}
	})
	defer srv.Close()
	out := filepath.Join(dir, "out")
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		base := []string{"eval", "--gt", filepath.Join(dir, "gt.csv"), "--pred", "x=" + filepath.Join(dir, "x.csv"), "--pred", "y=" + filepath.Join(dir, "y.csv"),
			"--protocol", "paper", "--model", "m", "--base-url", srv.BaseURL(), "--out", out, "--concurrency", "4"}
		code := execute(context.Background(), append(base, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	// 3 samples: 2 ground-truth summaries each (6); x and y predict the
	// same for a2 and a3, so 4 distinct predictions, each with a clue
	// summary, an emotion summary, two scores and a modality call (20).
	code, stdout, _ := run("--dry-run")
	if code != 0 || !strings.Contains(stdout, "18 results, 0 already done, 18 to judge; 26 calls needed, 0 held by the cache, 26 to make") {
		t.Fatalf("dry run before: exit %d, %q", code, stdout)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("dry run created %s", out)
	}
	if srv.Count() != 0 {
		t.Fatalf("dry run sent %d requests", srv.Count())
	}
	code, stdout, stderr := run("--json")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	// Every summary is "a summary", so the score prompts collapse to one
	// for clues and one for emotions: 6 + 8 + 2 + 4 requests.
	first := srv.Count()
	if first != 20 {
		t.Fatalf("run sent %d requests", first)
	}
	var sum evalSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if m := sum.Systems["y"]["modality"]; m.Mean == nil || *m.Mean != 2 || m.NScored != 3 || m.Stderr == nil || *m.Stderr != 0 {
		t.Errorf("modality summary %+v", m)
	}
	if _, err := os.Stat(filepath.Join(out, "summary.md")); err != nil {
		t.Error(err)
	}
	code, stdout, _ = run("--dry-run", "--json")
	var plan map[string]int
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil || code != 0 || plan["results_pending"] != 0 || plan["calls_to_make"] != 0 {
		t.Fatalf("dry run after: exit %d, %q", code, stdout)
	}
	if code, _, stderr := run(); code != 0 || srv.Count() != first {
		t.Fatalf("rerun: exit %d, %d new requests; %s", code, srv.Count()-first, stderr)
	}
	// Adding a repeat judges only the new repeat; the cache holds nothing for it.
	code, stdout, _ = run("--repeats", "2", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "36 results, 18 already done, 18 to judge") {
		t.Fatalf("dry run with a repeat: %q", stdout)
	}
	// Another judge model cannot write into the same directory.
	var so, se bytes.Buffer
	code = execute(context.Background(), []string{"eval", "--gt", filepath.Join(dir, "gt.csv"), "--pred", "x=" + filepath.Join(dir, "x.csv"),
		"--protocol", "paper", "--model", "other", "--base-url", srv.BaseURL(), "--out", out}, &so, &se)
	if code == 0 || !strings.Contains(se.String(), "another judge") {
		t.Errorf("other judge: exit %d, %s", code, se.String())
	}
}

// TestEvalRealData judges the EMER-V1 baselines with the release protocol
// against a fake judge whose scores are known functions of its input, and
// checks summary.json against the expectation computed here from the CSV
// files directly.
func TestEvalRealData(t *testing.T) {
	gtPath := sharedtest.Data(t, "emer-v1", "gt-zh-eval.csv")
	preds, _ := filepath.Glob(filepath.Join(sharedtest.Data(t, "emer-v1", "predictions-zh"), "*.csv"))
	if len(preds) == 0 {
		t.Fatal("no predictions in the EMER-V1 data")
	}
	readCol := func(path string) map[string]string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range recs[1:] {
			m[r[0]] = r[1]
		}
		return m
	}
	gt := readCol(gtPath)

	type stat struct{ mean, se float64 }
	meanSE := func(v []float64) stat {
		var s float64
		for _, x := range v {
			s += x
		}
		m := s / float64(len(v))
		var ss float64
		for _, x := range v {
			ss += (x - m) * (x - m)
		}
		return stat{m, math.Sqrt(ss/float64(len(v)-1)) / math.Sqrt(float64(len(v)))}
	}
	want := map[string]map[string]stat{}
	var args []string
	distinct := map[string]bool{} // distinct requests the judge must see
	for _, p := range preds {
		name := strings.TrimSuffix(filepath.Base(p), ".csv")
		args = append(args, name+"="+p)
		pred := readCol(p)
		var clue, emo []float64
		for n, g := range gt {
			clue = append(clue, float64(fakeClueScore(g, pred[n])))
			emo = append(emo, float64(fakeEmotionScore(fakeEmotion(g), fakeEmotion(pred[n]))))
			distinct["clue\x00"+g+"\x00"+pred[n]] = true
			distinct["sum\x00"+g] = true
			distinct["sum\x00"+pred[n]] = true
			distinct["emo\x00"+fakeEmotion(g)+"\x00"+fakeEmotion(pred[n])] = true
		}
		want[name] = map[string]stat{"clue": meanSE(clue), "emotion": meanSE(emo)}
	}

	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	out := t.TempDir()
	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Concurrency = 16
	var stdout, stderr bytes.Buffer
	err := runEval(context.Background(), evalOptions{GT: gtPath, Preds: args, Protocol: "release", Out: out, Repeats: 1, Config: cfg, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	sum := readSummaryJSON(t, out)
	if len(sum.Systems) != len(preds) {
		t.Fatalf("%d systems in the summary, want %d", len(sum.Systems), len(preds))
	}
	for name, metrics := range want {
		for m, w := range metrics {
			got := sum.Systems[name][judge.Metric(m)]
			if got.NScored != len(gt) || got.NFailed != 0 || got.Mean == nil || got.Stderr == nil ||
				math.Abs(*got.Mean-w.mean) > 1e-9 || math.Abs(*got.Stderr-w.se) > 1e-9 {
				t.Errorf("%s %s: got %+v (mean %v, stderr %v), want mean %v, stderr %v over %d", name, m, got, derefScore(got.Mean), derefScore(got.Stderr), w.mean, w.se, len(gt))
			}
		}
	}
	if srv.Count() != len(distinct) {
		t.Errorf("judge saw %d requests, want %d distinct ones", srv.Count(), len(distinct))
	}
	if sum.Judge.Model != "fake-judge" || sum.Judge.BaseURL != srv.BaseURL() || sum.Judge.Protocol != "release" {
		t.Errorf("judge block %+v", sum.Judge)
	}
	res := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(res) != 2*len(gt)*len(preds) {
		t.Errorf("%d results, want %d", len(res), 2*len(gt)*len(preds))
	}
	md, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !strings.Contains(string(md), "| "+n+" | ") {
			t.Errorf("summary.md lacks a row for %s", n)
		}
	}
}

func derefScore(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestEvalSharedCache(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 5)
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Cache = filepath.Join(dir, "shared.db")
	run := func(out string, temperature float64) {
		t.Helper()
		var so, se bytes.Buffer
		err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: filepath.Join(dir, out),
			Repeats: 1, Temperature: temperature, Config: cfg, Stdout: &so, Stderr: &se})
		if err != nil {
			t.Fatalf("%s: %v\n%s", out, err, se.String())
		}
	}
	run("one", 0)
	first := srv.Count()
	run("two", 0) // another output directory, same cache: no request
	if srv.Count() != first {
		t.Errorf("second directory sent %d requests through a shared cache", srv.Count()-first)
	}
	if diff := cmpResults(readResultsJSONL(t, filepath.Join(dir, "one", "results.jsonl")), readResultsJSONL(t, filepath.Join(dir, "two", "results.jsonl"))); diff != "" {
		t.Errorf("results differ:\n%s", diff)
	}
	// At temperature 0.7 replies are samples: none is read from or put in
	// the cache, and nothing is shared, so every item makes all its calls:
	// a clue score, two emotion summaries and an emotion score.
	// A dry run counts them all too.
	var plan bytes.Buffer
	if err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: filepath.Join(dir, "warm"),
		Repeats: 1, Temperature: 0.7, DryRun: true, Config: cfg, Stdout: &plan, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if want := "40 calls needed, 0 held by the cache, 40 to make"; !strings.Contains(plan.String(), want) {
		t.Errorf("dry run at temperature 0.7: %q, want %q", plan.String(), want)
	}
	run("warm", 0.7)
	if got, want := srv.Count()-first, 5*2*4; got != want {
		t.Errorf("temperature 0.7 sent %d requests, want %d", got, want)
	}
}

// cmpResults compares results without their timings and attempt counts.
func cmpResults(a, b map[store.ResultKey]store.Result) string {
	strip := func(m map[store.ResultKey]store.Result) map[store.ResultKey]store.Result {
		out := make(map[store.ResultKey]store.Result, len(m))
		for k, r := range m {
			r.LatencyMS, r.Attempts = 0, 0
			out[k] = r
		}
		return out
	}
	return cmp.Diff(strip(a), strip(b))
}

func TestEvalInterrupt(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 20)
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		s := releaseJudge(c)
		s.Delay = 5 * time.Millisecond
		return s
	})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Ends with the test's context even if the run stops short of 30.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for srv.Count() < 30 {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		cancel()
	}()
	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Concurrency = 2
	opts := evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: filepath.Join(dir, "out"), Repeats: 1, Config: cfg, Stdout: io.Discard, Stderr: io.Discard}
	err := runEval(ctx, opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("interrupted run: %v", err)
	}
	partial := readResultsJSONL(t, filepath.Join(dir, "out", "results.jsonl"))
	for _, r := range partial {
		if r.Status != "ok" {
			t.Errorf("interruption recorded as a result: %+v", r)
		}
	}
	if err := runEval(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if res := readResultsJSONL(t, filepath.Join(dir, "out", "results.jsonl")); len(res) != 80 || len(partial) >= 80 {
		t.Errorf("%d results after the interruption, %d after resuming; want fewer than 80, then 80", len(partial), len(res))
	}
}

// TestEvalChangedInputs checks that a rerun into the same --out judges again
// the items whose ground truth or prediction changed, and refuses another
// temperature or reply length.
func TestEvalChangedInputs(t *testing.T) {
	dir := t.TempDir()
	names := []string{"s1", "s2", "s3"}
	gt := filepath.Join(dir, "gt.csv")
	pred := filepath.Join(dir, "a.csv")
	writeReasonsCSV(t, gt, "chi_reasons", names, []string{"他生气", "他高兴", "他难过"})
	writeReasonsCSV(t, pred, "chi_reasons", names, []string{"他很生气", "她高兴", "他难过了"})
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	run := func(temperature float64, maxTokens int) error {
		cfg := judgeTestConfig(srv.BaseURL())
		cfg.MaxTokens = maxTokens
		var so, se bytes.Buffer
		return runEval(context.Background(), evalOptions{GT: gt, Preds: []string{"a=" + pred}, Protocol: "release", Out: out,
			Repeats: 1, Temperature: temperature, Config: cfg, Stdout: &so, Stderr: &se})
	}
	if err := run(0, 0); err != nil {
		t.Fatal(err)
	}
	// s2's prediction changes: its clue score is judged again (and its
	// emotion summary and score), nothing else.
	writeReasonsCSV(t, pred, "chi_reasons", names, []string{"他很生气", "她非常非常高兴", "他难过了"})
	var plan bytes.Buffer
	if err := runEval(context.Background(), evalOptions{GT: gt, Preds: []string{"a=" + pred}, Protocol: "release", Out: out,
		Repeats: 1, DryRun: true, Config: judgeTestConfig(srv.BaseURL()), Stdout: &plan, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if want := "6 results, 4 already done, 2 to judge"; !strings.Contains(plan.String(), want) {
		t.Errorf("dry run after an edit: %q, want %q", plan.String(), want)
	}
	before := srv.Count()
	if err := run(0, 0); err != nil {
		t.Fatal(err)
	}
	if got := srv.Count() - before; got != 3 {
		t.Errorf("rerun after an edit sent %d requests, want 3 (clue score, prediction summary, emotion score)", got)
	}
	res := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))
	if len(res) != 6 {
		t.Fatalf("%d results, want 6", len(res))
	}
	want := float64(fakeClueScore("他高兴", "她非常非常高兴"))
	if r := res[store.ResultKey{Sample: "s2", System: "a", Metric: "clue"}]; r.Score == nil || *r.Score != want {
		t.Errorf("s2 clue after the edit: %+v, want score %v", r, want)
	}
	// The ground truth changes too: every item of s1 is judged again.
	writeReasonsCSV(t, gt, "chi_reasons", names, []string{"他非常生气", "他高兴", "他难过"})
	before = srv.Count()
	if err := run(0, 0); err != nil {
		t.Fatal(err)
	}
	if got := srv.Count() - before; got != 3 {
		t.Errorf("rerun after a ground-truth edit sent %d requests, want 3", got)
	}
	want = float64(fakeClueScore("他非常生气", "他很生气"))
	if r := readResultsJSONL(t, filepath.Join(out, "results.jsonl"))[store.ResultKey{Sample: "s1", System: "a", Metric: "clue"}]; r.Score == nil || *r.Score != want {
		t.Errorf("s1 clue after the edit: %+v, want score %v", r, want)
	}
	// Another temperature or reply length is another judge.
	for _, c := range []struct {
		temperature float64
		maxTokens   int
	}{{0.9, 0}, {0, 64}} {
		if err := run(c.temperature, c.maxTokens); err == nil || !strings.Contains(err.Error(), "another judge") {
			t.Errorf("temperature %v, max tokens %d: err = %v, want another judge", c.temperature, c.maxTokens, err)
		}
	}
}
