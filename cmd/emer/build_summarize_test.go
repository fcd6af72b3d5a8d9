package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/config"
	"emer/internal/dataset"
	"emer/internal/llm/llmtest"
	"emer/internal/store"
	"emer/internal/textenc"
)

var updateSummarize = flag.Bool("update-summarize", false, "rewrite the expected files of the build summarize and review tests")

func summarizeTD(parts ...string) string {
	return filepath.Join(append([]string{"testdata", "summarize"}, parts...)...)
}

// summarizeModel is the fake chat model of the summarize tests. It
// answers every step from its prompt alone: the clue summary is the first
// and the last clue of the first annotator (in Chinese the first), the
// emotion follows from the words of that
// clue, the labels are the emotion the description states. The fixture's
// clips whose first clue is one of unusual ones get unusable replies:
// a refusal, a reply cut at the token limit, an emotion with no emotion
// word, an empty emotion, labels that are prose.
func summarizeModel(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	switch {
	case strings.HasPrefix(p, "Several descriptions"), strings.HasPrefix(p, "下面给出了"):
		sep, stop, label := ". ", ".", "Clue description 1: "
		if strings.HasPrefix(p, "下") {
			sep, stop, label = "。", "。", "线索描述1："
		}
		_, rest, _ := strings.Cut(p, label)
		first, _, _ := strings.Cut(rest, sep)
		switch {
		case strings.Contains(first, "covers the camera"):
			return llmtest.Step{Text: "I'm sorry, but I can't help with that."}
		case strings.Contains(first, "talks for a long time"):
			return llmtest.Step{Body: strings.Replace(llmtest.Completion("He talks for a long time and", 8), `"finish_reason":"stop"`, `"finish_reason":"length"`, 1)}
		}
		if stop == "。" {
			return llmtest.Step{Text: first + stop, Tokens: 12}
		}
		para, _, _ := strings.Cut(rest, "\n")
		return llmtest.Step{Text: first + ". " + para[strings.LastIndex(para, ". ")+2:], Tokens: 12}
	case strings.HasPrefix(p, "Summarize the emotional state"), strings.HasPrefix(p, "请总结这个人"):
		for _, k := range []struct{ word, emotion string }{
			{"shrugs", "The person in the video."}, {"stands still", ""}, {"hums", "calm"},
			{"frowns", "worried"}, {"smiles", "happy"}, {"glares", "angry"}, {"tears", "sad"}, {"wide", "surprised"},
			{"皱着眉头", "担忧"}, {"开怀大笑", "高兴、感激"},
		} {
			if strings.Contains(lastInput(p), k.word) {
				return llmtest.Step{Text: k.emotion, Tokens: 2}
			}
		}
		return llmtest.Step{Status: 400, Body: `{"error":{"message":"unknown clues"}}`}
	case strings.HasPrefix(p, "Please assume the role"):
		if strings.Contains(p, "hums a tune") {
			return llmtest.Step{Text: "He seems content, humming quietly to himself all day long."}
		}
		for _, k := range []struct{ word, labels string }{
			{"worried", "[worried]"}, {"happy", "[happy, excited]"}, {"angry", "[angry]"}, {"sad", "[sad]"},
			{"surprised", "[surprised]"}, {"The person in the video", "[]"}, {"担忧", "[worried]"}, {"高兴", "[happy, grateful]"},
		} {
			if strings.Contains(lastInput(p), k.word) {
				return llmtest.Step{Text: k.labels, Tokens: 3}
			}
		}
	}
	return llmtest.Step{Status: 400, Body: `{"error":{"message":"unknown prompt"}}`}
}

// lastInput returns what follows the last "Input:" (or "输入：") of a
// few-shot prompt: the text asked about, not the examples.
func lastInput(p string) string {
	i := max(strings.LastIndex(p, "Input:"), strings.LastIndex(p, "输入："))
	return p[max(i, 0):]
}

// answered counts the replies a fake server sent, by prompt.
type answered struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *answered) add(prompt string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[prompt]++
}

func (a *answered) counts() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.n))
	for k, v := range a.n {
		out[k] = v
	}
	return out
}

func summarizeTestConfig(baseURL string) config.Config {
	c := config.Default()
	c.BaseURL, c.Model = baseURL, "fake-model"
	c.Concurrency, c.MaxAttempts, c.Timeout = 4, 2, config.Duration(5*time.Second)
	return c
}

// summarizeRequests is how many requests a run of the fixture sends, one
// per prompt: 25 clips of three; the clue refused (s011) or cut (s017)
// stop at one, the empty emotion (s023) at two; the emotion without an
// emotion word (s007) and the prose labels (s029) go the whole way.
const summarizeRequests = 25*3 + 1 + 1 + 2 + 3 + 3

var summarizeNow = func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

func summarizeOpts(out, baseURL string, stderr io.Writer) buildSummarizeOptions {
	return buildSummarizeOptions{
		Annotations: summarizeTD("annotations.csv"), Dataset: summarizeTD("dataset.csv"), Out: out,
		Config: summarizeTestConfig(baseURL), Stdout: io.Discard, Stderr: stderr, now: summarizeNow,
	}
}

// summarizeFiles are the files of a summarize folder compared with the
// expected ones, and the review CSV exported from its store.
var summarizeFiles = []string{summarizeDescriptions, summarizeOpenset, summarizeSteps, "review.csv"}

// checkSummarizeOutput compares the files of out, and the review CSV
// exported from its store, with those under testdata/summarize/want
// (rewritten with -update-summarize).
func checkSummarizeOutput(t *testing.T, out, want string) {
	t.Helper()
	export := filepath.Join(out, "review.csv")
	if err := runBuildReview(context.Background(), buildReviewOptions{DB: filepath.Join(out, "emer.db"), Export: export, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	for _, name := range summarizeFiles {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(want, name)
		if *updateSummarize {
			if err := os.MkdirAll(want, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		w, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update-summarize to create it)", err)
		}
		if diff := cmp.Diff(strings.Split(string(w), "\n"), strings.Split(string(got), "\n")); diff != "" {
			t.Errorf("%s differs from %s (-want +got):\n%s", name, path, diff)
		}
	}
}

// checkSummarizeAnnotations checks that the store of out holds the
// records of the annotation file, clip by clip, as read.
func checkSummarizeAnnotations(t *testing.T, out, path string) {
	t.Helper()
	ctx := context.Background()
	af, err := dataset.ReadAnnotationsFile(path, dataset.ReadOptions{Encoding: textenc.Default()})
	if err != nil {
		t.Fatal(err)
	}
	byClip := map[string][]dataset.Annotation{}
	for _, r := range af.Records {
		byClip[r.Clip] = append(byClip[r.Clip], r)
	}
	db, err := store.OpenReadOnly(ctx, filepath.Join(out, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for clip, want := range byClip {
		dataset.SortAnnotations(want)
		got, err := db.Annotations(ctx, clip)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("annotations of %s in the store (-want +got):\n%s", clip, diff)
		}
	}
	if len(byClip) != 30 {
		t.Errorf("%s has %d clips, want the fixture's 30", path, len(byClip))
	}
}

// The fixture's 30 clips make 25 descriptions; the 5 with unusable
// replies are in review with their reasons and nowhere else. A rerun asks
// nothing.
func TestBuildSummarize(t *testing.T) {
	var got answered
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step { got.add(c.Prompt()); return summarizeModel(c) })
	defer srv.Close()
	out := t.TempDir()
	var stderr bytes.Buffer
	if err := runBuildSummarize(context.Background(), summarizeOpts(out, srv.BaseURL(), &stderr)); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	checkSummarizeOutput(t, out, summarizeTD("want"))
	checkSummarizeAnnotations(t, out, summarizeTD("annotations.csv"))
	asked := got.counts()
	if n := srv.Count(); n != summarizeRequests || len(asked) != n {
		t.Errorf("%d requests of %d prompts, want %d", n, len(asked), summarizeRequests)
	}
	for p, n := range asked {
		if n != 1 {
			t.Errorf("asked %d times: %.80q", n, p)
		}
	}
	msg := stderr.String()
	for _, want := range []string{
		"sample_s007: marked for review: emotion: no emotion word the emotion lexicon knows in the reply: The person in the video.; labels: the model extracted no emotion label: []",
		"sample_s011: marked for review: clues: the reply declines the task: I'm sorry, but I can't help with that.",
		"sample_s017: marked for review: clues: reply cut off at the token limit (finish_reason length): He talks for a long time and",
		"sample_s023: marked for review: emotion: empty reply",
		"sample_s029: marked for review: labels: no list of labels in the reply: He seems content, humming quietly to himself all day long.",
		"30 clips: 25 described into " + filepath.Join(out, summarizeDescriptions) + ", 5 marked for review, 0 without a reply; this run: 30 summarized, 30 drafts into review, 85 calls",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}

	stderr.Reset()
	if err := runBuildSummarize(context.Background(), summarizeOpts(out, srv.BaseURL(), &stderr)); err != nil {
		t.Fatalf("rerun: %v\n%s", err, stderr.String())
	}
	if n := srv.Count(); n != summarizeRequests {
		t.Errorf("the rerun sent %d requests", n-summarizeRequests)
	}
	if !strings.Contains(stderr.String(), "this run: 0 summarized, 0 drafts into review, 0 calls") {
		t.Errorf("rerun stderr: %s", stderr.String())
	}
	checkSummarizeOutput(t, out, summarizeTD("want"))
}

// A Chinese run: Chinese prompts, the Chinese combination, subtitles
// empty without --dataset.
func TestBuildSummarizeChinese(t *testing.T) {
	srv := llmtest.NewServer(summarizeModel)
	defer srv.Close()
	out := t.TempDir()
	opts := summarizeOpts(out, srv.BaseURL(), io.Discard)
	opts.Annotations, opts.Dataset = summarizeTD("annotations-zh.csv"), ""
	if err := runBuildSummarize(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, summarizeDescriptions))
	if err != nil {
		t.Fatal(err)
	}
	want := "names,emotions,subtitles,reasons\n" +
		"sample_z001,担忧,,在视频中，他皱着眉头，低头看着地面，推测他的情感状态为担忧。\n" +
		"sample_z002,高兴、感激,,在视频中，他开怀大笑，嘴角上扬，推测他的情感状态为高兴、感激。\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("descriptions.csv (-want +got):\n%s", diff)
	}
	para := "\n线索描述1：他皱着眉头，低头看着地面。声音低沉，语速缓慢。他问父亲会不会没事。昏暗的医院走廊。\n线索描述2："
	found := false
	for _, c := range srv.Calls() {
		found = found || strings.Contains(c.Prompt(), para)
	}
	if !found {
		t.Errorf("no prompt holds the paragraph %q", para)
	}
}

func TestBuildSummarizeErrors(t *testing.T) {
	cfg := summarizeTestConfig("http://127.0.0.1:1/v1")
	for _, tc := range []struct {
		name string
		opts buildSummarizeOptions
		want string
	}{
		{"no inputs", buildSummarizeOptions{Config: cfg}, "--annotations is required\n  --out is required"},
		{"bad lang", buildSummarizeOptions{Annotations: "a.csv", Out: "o", Lang: "fr", Config: cfg}, `--lang must be en or zh, got "fr"`},
		{"mixed languages", buildSummarizeOptions{Annotations: summarizeTD("mixed.bad.csv"), Out: "o", Config: cfg},
			"testdata/summarize/mixed.bad.csv: the records are in en (1), fr (1), zh (1): give --lang en or zh, and the records in that language only"},
		{"records in another language", buildSummarizeOptions{Annotations: summarizeTD("mixed.bad.csv"), Out: "o", Lang: "en", Config: cfg},
			"testdata/summarize/mixed.bad.csv: 2 records are not in en, the language of the prompts: \"testdata/summarize/mixed.bad.csv:3 (zh)\", \"testdata/summarize/mixed.bad.csv:4 (fr)\""},
		{"chinese prompts for english clues", buildSummarizeOptions{Annotations: summarizeTD("annotations.csv"), Out: "o", Lang: "zh", Config: cfg},
			"testdata/summarize/annotations.csv: 360 records are not in zh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Stdout, tc.opts.Stderr = io.Discard, io.Discard
			err := runBuildSummarize(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestBuildSummarizeKillResume runs emer build summarize as a process
// (this test binary, through TestMainProcess), kills it with SIGKILL while
// a request is in flight, and runs it again: the output is the same as an
// uninterrupted run's, and no reply received before the kill is asked for
// again. Only the request in flight at the kill is sent twice.
func TestBuildSummarizeKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs emer as a process")
	}
	const killAt = 40 // the request held until the kill, half way
	var got answered
	var mu sync.Mutex
	received := 0
	var beforeKill string // the prompt answered just before the one held
	held := make(chan string, 1)
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		mu.Lock()
		received++
		n := received
		if n == killAt-1 {
			beforeKill = c.Prompt()
		}
		mu.Unlock()
		if n == killAt {
			held <- c.Prompt()
			return llmtest.Step{Hang: true}
		}
		got.add(c.Prompt())
		return summarizeModel(c)
	})
	defer srv.Close()
	tracked := newConnTracker(srv.Config.Handler)
	defer tracked.Close()

	out := t.TempDir()
	args := []string{"build", "summarize", "--annotations", summarizeTD("annotations.csv"), "--dataset", summarizeTD("dataset.csv"),
		"--model", "fake-model", "--base-url", tracked.BaseURL(), "--out", out, "--concurrency", "1", "--max-attempts", "2"}
	clearConfigEnv(t)
	child := exec.Command(os.Args[0], append([]string{"-test.run=^TestMainProcess$", "--"}, args...)...)
	child.Env = append(os.Environ(), "EMER_TEST_MAIN_PROCESS=1")
	var childErr bytes.Buffer
	child.Stderr = &childErr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = child.Wait(); close(exited) }()
	var inFlight string
	select {
	case inFlight = <-held:
	case <-exited:
		t.Fatalf("the run ended after %d requests: %s", srv.Count(), childErr.String())
	}

	// While it runs, the folder is its own.
	err := runBuildSummarize(context.Background(), summarizeOpts(out, tracked.BaseURL(), io.Discard))
	if want := fmt.Sprintf("%s is in use by another emer run (pid %d)", out, child.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a run beside it: err = %v, want %q", err, want)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	if err := tracked.waitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(); n != killAt {
		t.Fatalf("%d requests before the kill, want %d", n, killAt)
	}

	var stderr bytes.Buffer
	if err := runBuildSummarize(context.Background(), summarizeOpts(out, tracked.BaseURL(), &stderr)); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, stderr.String())
	}
	checkSummarizeOutput(t, out, summarizeTD("want"))
	// A reply is stored before its request slot goes to the next request
	// (one slot here), so the reply answered just before the kill was
	// stored before the request in flight was sent: only that one is
	// asked again, and every prompt is answered once.
	counts := got.counts()
	for p, n := range counts {
		if n != 1 {
			t.Errorf("answered %d times: %.80q", n, p)
		}
	}
	if counts[beforeKill] != 1 {
		t.Errorf("the reply answered just before the kill was answered %d times", counts[beforeKill])
	}
	if counts[inFlight] != 1 {
		t.Errorf("the request in flight at the kill was answered %d times after it", counts[inFlight])
	}
	if n := srv.Count(); n != summarizeRequests+1 {
		t.Errorf("%d requests in all, want the %d of a run and the one in flight at the kill", n, summarizeRequests)
	}
}

// Clips whose server fails them (after the retries) are left for the next
// run: the exit status says some failed, the other clips are written, and
// the next run does only those clips and writes the whole output.
func TestBuildSummarizeNoReply(t *testing.T) {
	var failing sync.Mutex
	broken := true
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		failing.Lock()
		defer failing.Unlock()
		if broken && strings.Contains(c.Prompt(), "Clue description 1: He wipes tears") {
			return llmtest.Step{Status: 503, Body: `{"error":{"message":"overloaded"}}`}
		}
		return summarizeModel(c)
	})
	defer srv.Close()
	out := t.TempDir()
	var stderr bytes.Buffer
	opts := summarizeOpts(out, srv.BaseURL(), &stderr)
	opts.retryBase = time.Millisecond
	err := runBuildSummarize(context.Background(), opts)
	if !errors.Is(err, errPartial) || !strings.Contains(err.Error(), "5 of 30 clips got no reply") {
		t.Fatalf("err = %v, want 5 clips without a reply\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "sample_s004: no reply: clues: ") {
		t.Errorf("stderr does not name the clip: %s", stderr.String())
	}
	if rows := readCSVRows(t, filepath.Join(out, summarizeDescriptions)); len(rows) != 1+20 || rows["sample_s004"] != nil {
		t.Errorf("descriptions.csv has %d rows (want a header and 20), sample_s004 %q", len(rows), rows["sample_s004"])
	}
	failing.Lock()
	broken = false
	failing.Unlock()
	sent := srv.Count()
	stderr.Reset()
	if err := runBuildSummarize(context.Background(), opts); err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "this run: 5 summarized, 5 drafts into review") {
		t.Errorf("second run: %s", stderr.String())
	}
	if n := srv.Count() - sent; n != 5*3 {
		t.Errorf("second run sent %d requests, want the 5 clips' 3 each", n)
	}
	checkSummarizeOutput(t, out, summarizeTD("want"))
}
