package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm/llmtest"
	"emer/internal/store"
	"emer/internal/table"
)

// pickJudge scores a clue prompt by the "clueN" in its prediction (no
// number: an unparseable reply) and an emotion by the "emoN" in it.
func pickJudge(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	num := func(re, s string) string {
		if m := regexp.MustCompile(re).FindStringSubmatch(s); m != nil {
			return m[1]
		}
		return ""
	}
	switch {
	case strings.HasPrefix(p, "下面给出人物的《真实描述》"):
		if n := num(`clue(\d+)`, textBetween(p, "《预测描述》：", "\n输出：")); n != "" {
			return llmtest.Step{Text: "'预测分数'：" + n + "；'原因'：x"}
		}
		return llmtest.Step{Text: "还行"}
	case strings.HasPrefix(p, "请根据以下视频描述"):
		n := num(`emo(\d+)`, textBetween(p, "视频描述：", "\n输出结果："))
		if n == "" {
			n = "1"
		}
		return llmtest.Step{Text: "情感" + n}
	}
	return llmtest.Step{Text: "'预测分数'：" + num(`情感(\d+)`, textBetween(p, "《预测情感》：", "\n输出：")) + "；'原因'：x"}
}

func TestEnsemble(t *testing.T) {
	dir := t.TempDir()
	names := []string{"s1", "s2", "s3", "s4"}
	writeReasonsCSV(t, filepath.Join(dir, "gt.csv"), "chi_reasons", names, []string{"他生气", "他高兴", "他难过", "他平静"})
	systems := map[string][]string{
		"a": {"a1 clue7 emo9", "a2 clue8 emo2", "a3 emo2", "a4 emo5"},
		"b": {"b1 clue9 emo1", "b2 clue2 emo2", "b3 clue4 emo3", "b4 emo5"},
		"c": {"c1 clue9 emo1", "c2 clue5 emo2", "c3 clue6 emo3", "c4 emo4"},
	}
	var preds []string
	for _, s := range []string{"c", "a", "b"} {
		path := filepath.Join(dir, s+".csv")
		writeReasonsCSV(t, path, "chi_reasons", names, systems[s])
		preds = append(preds, s+"="+path)
	}
	srv := llmtest.NewServer(pickJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	eval := func(preds []string) error {
		return runEval(context.Background(), evalOptions{GT: filepath.Join(dir, "gt.csv"), Preds: preds, Protocol: "release", Out: out, Repeats: 1,
			Config: judgeTestConfig(srv.BaseURL()), Stdout: &stdout, Stderr: &stderr})
	}
	if err := eval(preds); !errors.Is(err, errPartial) {
		t.Fatalf("eval: %v, want errPartial (unparseable clue replies)", err)
	}

	readCSV := func(path string) map[string]string {
		tb, err := table.ReadFile(path, "reasons")
		if err != nil {
			t.Fatal(err)
		}
		return tb.Map("reasons")
	}

	// By clue: s1 ties b and c at 9 (b wins by name), s2 goes to a, s3 to c
	// (a's reply had no score), and s4 has no clue score at all: its row
	// comes from a, the first system by name, and is reported.
	clueCSV := filepath.Join(dir, "clue.csv")
	stderr.Reset()
	err := runEnsemble(context.Background(), ensembleOptions{Results: out, By: "clue", Name: "best-clue", Out: clueCSV, Stderr: &stderr})
	if !errors.Is(err, errPartial) || !strings.Contains(err.Error(), "s4") {
		t.Fatalf("ensemble by clue: %v, want errPartial naming s4", err)
	}
	if !strings.Contains(stderr.String(), "come from a, the first system by name: s4") {
		t.Errorf("stderr %q does not report the filled sample", stderr.String())
	}
	want := map[string]string{"s1": "b1 clue9 emo1", "s2": "a2 clue8 emo2", "s3": "c3 clue6 emo3", "s4": "a4 emo5"}
	if diff := cmp.Diff(want, readCSV(clueCSV)); diff != "" {
		t.Errorf("ensemble by clue (-want +got):\n%s", diff)
	}
	// emer eval accepts it: every sample has a row.
	if _, _, _, err := checkEvalOptions(evalOptions{GT: filepath.Join(dir, "gt.csv"), Preds: []string{"best-clue=" + clueCSV}, Protocol: "release", Out: out, Repeats: 1,
		Config: judgeTestConfig(srv.BaseURL())}); err != nil {
		t.Errorf("emer eval refuses the clue ensemble: %v", err)
	}

	// By emotion every sample has a score: s1 a (9), s2 a/b/c tie at 2 (a),
	// s3 b/c tie at 3 (b), s4 a/b tie at 5 (a).
	emoCSV := filepath.Join(dir, "emotion.csv")
	if err := runEnsemble(context.Background(), ensembleOptions{Results: out, By: "emotion", Name: "best-emotion", Out: emoCSV, Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"s1": "a1 clue7 emo9", "s2": "a2 clue8 emo2", "s3": "b3 clue4 emo3", "s4": "a4 emo5"}
	if diff := cmp.Diff(want, readCSV(emoCSV)); diff != "" {
		t.Errorf("ensemble by emotion (-want +got):\n%s", diff)
	}

	// emer eval takes the ensemble as another system; a later ensemble never
	// picks from the ensemble itself.
	if err := eval(append(preds, "best-emotion="+emoCSV)); !errors.Is(err, errPartial) {
		t.Fatalf("eval with the ensemble: %v", err)
	}
	sum := readSummaryJSON(t, out)
	if m := sum.Systems["best-emotion"]["emotion"]; m.Mean == nil || *m.Mean != (9.0+2+3+5)/4 {
		t.Errorf("ensemble's emotion summary %+v", m)
	}
	again := filepath.Join(dir, "again.csv")
	if err := runEnsemble(context.Background(), ensembleOptions{Results: out, By: "emotion", Name: "best-emotion", Out: again, Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, readCSV(again)); diff != "" {
		t.Errorf("second ensemble (-want +got):\n%s", diff)
	}
}

func TestEnsembleErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), []string{"ensemble", "--by", "tone"}, &stdout, &stderr); code != 2 {
		t.Errorf("bad flags: exit %d, want 2", code)
	}
	for _, want := range []string{"--results", "--by", "--name", "--out"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage error %q lacks %s", stderr.String(), want)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(`{"gt":"x","systems":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.jsonl"), []byte("{\"sample\":\"s1\"}\n{\"sample\""), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runEnsemble(context.Background(), ensembleOptions{Results: dir, By: "clue", Name: "e", Out: filepath.Join(dir, "e.csv"), Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "results.jsonl:2") {
		t.Errorf("torn results: err = %v, want the line named", err)
	}
}

// writeEvalDir writes an emer eval output directory by hand: run.json,
// results.jsonl and the CSV files they name.
func writeEvalDir(t *testing.T, dir string, repeats int, names []string, preds map[string][]string, results []store.Result) {
	t.Helper()
	gt := filepath.Join(dir, "gt.csv")
	writeReasonsCSV(t, gt, "reasons", names, names)
	info := evalRunInfo{GT: gt, Systems: map[string]string{}, Protocol: "release", Repeats: repeats}
	for sys, texts := range preds {
		path := filepath.Join(dir, sys+".csv")
		writeReasonsCSV(t, path, "reasons", names, texts)
		info.Systems[sys] = path
	}
	if err := replaceJSONFile(filepath.Join(dir, "run.json"), info); err != nil {
		t.Fatal(err)
	}
	if err := writeResults(filepath.Join(dir, "results.jsonl"), results); err != nil {
		t.Fatal(err)
	}
}

func okResult(sample, system string, repeat int, score float64) store.Result {
	return store.Result{Sample: sample, System: system, Metric: "clue", Repeat: repeat, Status: "ok", Score: &score, Raw: "x", Attempts: 1}
}

// TestEnsembleMedian checks that the ensemble ranks systems by the score
// emer eval gives a sample, the median of its repeats, not their mean.
func TestEnsembleMedian(t *testing.T) {
	dir := t.TempDir()
	// s1: a has 1, 9, 9 (median 9, mean 6.3); b has 7, 7, 7.
	results := []store.Result{
		okResult("s1", "a", 0, 1), okResult("s1", "a", 1, 9), okResult("s1", "a", 2, 9),
		okResult("s1", "b", 0, 7), okResult("s1", "b", 1, 7), okResult("s1", "b", 2, 7),
	}
	writeEvalDir(t, dir, 3, []string{"s1"}, map[string][]string{"a": {"from a"}, "b": {"from b"}}, results)
	out := filepath.Join(dir, "e.csv")
	var stderr bytes.Buffer
	if err := runEnsemble(context.Background(), ensembleOptions{Results: dir, By: "clue", Name: "e", Out: out, Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	tb, err := table.ReadFile(out, "reasons")
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.Map("reasons")["s1"]; got != "from a" {
		t.Errorf("s1 picked %q, want a's prediction (median 9 against 7)", got)
	}
}

// TestEnsembleIncomplete checks that results of an unfinished run are
// refused rather than built from.
func TestEnsembleIncomplete(t *testing.T) {
	dir := t.TempDir()
	// b's repeat 1 of s2 is missing, as after a killed run.
	results := []store.Result{
		okResult("s1", "a", 0, 5), okResult("s1", "a", 1, 5), okResult("s2", "a", 0, 5), okResult("s2", "a", 1, 5),
		okResult("s1", "b", 0, 9), okResult("s1", "b", 1, 9), okResult("s2", "b", 0, 9),
	}
	writeEvalDir(t, dir, 2, []string{"s1", "s2"}, map[string][]string{"a": {"a1", "a2"}, "b": {"b1", "b2"}}, results)
	out := filepath.Join(dir, "e.csv")
	var stderr bytes.Buffer
	err := runEnsemble(context.Background(), ensembleOptions{Results: dir, By: "clue", Name: "e", Out: out, Stderr: &stderr})
	if err == nil || errors.Is(err, errPartial) || !strings.Contains(err.Error(), "b/s2/repeat 1") || !strings.Contains(err.Error(), "emer eval again") {
		t.Fatalf("err = %v, want an error naming b/s2/repeat 1 and saying to rerun emer eval", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an ensemble was written from incomplete results")
	}
}
