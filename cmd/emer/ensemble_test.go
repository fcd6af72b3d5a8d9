package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	if want := "--results is required\n  --by"; !strings.Contains(stderr.String(), want) {
		t.Errorf("usage error %q does not list one problem a line", stderr.String())
	}
	// A folder with run.json but without the store of results.
	dir := t.TempDir()
	writeEvalDir(t, dir, 1, []string{"s1"}, map[string][]string{"a": {"x"}}, []store.Result{okResult("s1", "a", 0, 5)})
	if err := os.Remove(filepath.Join(dir, "emer.db")); err != nil {
		t.Fatal(err)
	}
	err := runEnsemble(context.Background(), ensembleOptions{Results: dir, By: "clue", Name: "e", Out: filepath.Join(dir, "e.csv"), Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "emer.db")) {
		t.Errorf("no store: err = %v, want emer.db named", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "emer.db")); !os.IsNotExist(err) {
		t.Errorf("a missing store was created")
	}
}

// writeEvalDir writes an emer eval output directory by hand: run.json, the
// store of results and the CSV files they name. The ground truth of a
// sample is its name. A result without an input digest gets the digest of
// the texts written.
func writeEvalDir(t *testing.T, dir string, repeats int, names []string, preds map[string][]string, results []store.Result) {
	t.Helper()
	gt := filepath.Join(dir, "gt.csv")
	writeReasonsCSV(t, gt, "reasons", names, names)
	info := evalRunInfo{GT: gt, Systems: map[string]string{}, Protocol: "release", Repeats: repeats}
	text := map[string]map[string]string{}
	for sys, texts := range preds {
		path := filepath.Join(dir, sys+".csv")
		writeReasonsCSV(t, path, "reasons", names, texts)
		info.Systems[sys] = path
		text[sys] = map[string]string{}
		for i, n := range names {
			text[sys][n] = texts[i]
		}
	}
	if err := replaceJSONFile(filepath.Join(dir, "run.json"), info); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var lines []byte
	for _, r := range results {
		if r.InputSHA256 == "" {
			r.InputSHA256 = store.InputSHA256(r.Sample, text[r.System][r.Sample])
		}
		rec, err := r.Record()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Put(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, rec.Payload...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "results.jsonl"), lines, 0o644); err != nil {
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

// twoSystemDir writes an output directory where b scores 9 and a 5 on
// every sample, so that the ensemble takes b's predictions.
func twoSystemDir(t *testing.T, dir string, n int) (names []string) {
	t.Helper()
	preds := map[string][]string{}
	var results []store.Result
	for i := range n {
		s := fmt.Sprintf("s%d", i+1)
		names = append(names, s)
		preds["a"] = append(preds["a"], "a says "+s)
		preds["b"] = append(preds["b"], "b says "+s)
		results = append(results, okResult(s, "a", 0, 5), okResult(s, "b", 0, 9))
	}
	writeEvalDir(t, dir, 1, names, preds, results)
	return names
}

// TestEnsembleChangedInputs checks that the ensemble refuses to copy text
// that was not the text judged: an input edited, a prediction removed, a
// file gone since emer eval ran. Nothing is written then.
func TestEnsembleChangedInputs(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(t *testing.T, dir string, names []string)
		want []string // in the error
	}{
		{"prediction edited", func(t *testing.T, dir string, names []string) {
			texts := []string{"b says s1", "b says something else", "b says s3", "b says s4", "b says s5", "b says s6", "b says s7"}
			writeReasonsCSV(t, filepath.Join(dir, "b.csv"), "reasons", names, texts)
		}, []string{"predictions of b (" + "DIR/b.csv): s2;", "same --out DIR", "emer eval"}},
		{"prediction removed", func(t *testing.T, dir string, names []string) {
			writeReasonsCSV(t, filepath.Join(dir, "a.csv"), "reasons", names[1:], []string{"a says s2", "a says s3", "a says s4", "a says s5", "a says s6", "a says s7"})
		}, []string{"predictions of a (DIR/a.csv): s1;", "same --out DIR"}},
		{"many predictions edited", func(t *testing.T, dir string, names []string) {
			writeReasonsCSV(t, filepath.Join(dir, "b.csv"), "reasons", names, names)
		}, []string{"predictions of b (DIR/b.csv): s1, s2, s3, s4, s5, … (2 more);", "same --out DIR"}},
		{"ground truth edited", func(t *testing.T, dir string, names []string) {
			gt := append([]string(nil), names...)
			gt[2] = "s3, but angrier"
			writeReasonsCSV(t, filepath.Join(dir, "gt.csv"), "reasons", names, gt)
		}, []string{"ground truth DIR/gt.csv or every system's prediction: s3;", "same --out DIR"}},
		{"prediction file gone", func(t *testing.T, dir string, _ []string) {
			if err := os.Remove(filepath.Join(dir, "b.csv")); err != nil {
				t.Fatal(err)
			}
		}, []string{"predictions of b: DIR/b.csv is gone", "DIR/run.json"}},
		{"ground truth gone", func(t *testing.T, dir string, _ []string) {
			if err := os.Remove(filepath.Join(dir, "gt.csv")); err != nil {
				t.Fatal(err)
			}
		}, []string{"ground truth: DIR/gt.csv is gone", "DIR/run.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			names := twoSystemDir(t, dir, 7)
			c.edit(t, dir, names)
			out := filepath.Join(dir, "e.csv")
			if err := os.WriteFile(out, []byte("names,reasons\nkept,as it was\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			err := runEnsemble(context.Background(), ensembleOptions{Results: dir, By: "clue", Name: "e", Out: out, Stderr: &stderr})
			if err == nil || errors.Is(err, errPartial) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if b, _ := os.ReadFile(out); string(b) != "names,reasons\nkept,as it was\n" {
				t.Errorf("--out was written after the refusal:\n%s", b)
			}
		})
	}
}

// TestEnsembleRejudged checks, through emer eval, that an edited prediction
// is refused until it has been judged again, and then ranked by its new
// score.
func TestEnsembleRejudged(t *testing.T) {
	dir := t.TempDir()
	names := []string{"s1", "s2"}
	gt := filepath.Join(dir, "gt.csv")
	writeReasonsCSV(t, gt, "chi_reasons", names, []string{"他生气", "他高兴"})
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	writeReasonsCSV(t, a, "chi_reasons", names, []string{"a1 clue5 emo1", "a2 clue5 emo1"})
	writeReasonsCSV(t, b, "chi_reasons", names, []string{"b1 clue9 emo1", "b2 clue9 emo1"})
	srv := llmtest.NewServer(pickJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	eval := func() {
		t.Helper()
		var so, se bytes.Buffer
		if err := runEval(context.Background(), evalOptions{GT: gt, Preds: []string{"a=" + a, "b=" + b}, Protocol: "release", Out: out, Repeats: 1,
			Config: judgeTestConfig(srv.BaseURL()), Stdout: &so, Stderr: &se}); err != nil {
			t.Fatal(err)
		}
	}
	ensemble := func() (map[string]string, error) {
		t.Helper()
		csv := filepath.Join(dir, "clue.csv")
		_ = os.Remove(csv)
		if err := runEnsemble(context.Background(), ensembleOptions{Results: out, By: "clue", Name: "best", Out: csv, Stderr: io.Discard}); err != nil {
			return nil, err
		}
		tb, err := table.ReadFile(csv, "reasons")
		if err != nil {
			t.Fatal(err)
		}
		return tb.Map("reasons"), nil
	}
	eval()
	got, err := ensemble()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"s1": "b1 clue9 emo1", "s2": "b2 clue9 emo1"}, got); diff != "" {
		t.Errorf("first ensemble (-want +got):\n%s", diff)
	}
	// b's s2 is edited into a worse prediction: its score of 9 no longer
	// stands for it.
	writeReasonsCSV(t, b, "chi_reasons", names, []string{"b1 clue9 emo1", "b2 edited clue1 emo1"})
	if _, err := ensemble(); err == nil || !strings.Contains(err.Error(), "predictions of b ("+b+"): s2;") {
		t.Fatalf("ensemble after an edit: err = %v, want b's s2 named as changed", err)
	}
	eval()
	got, err = ensemble()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"s1": "b1 clue9 emo1", "s2": "a2 clue5 emo1"}, got); diff != "" {
		t.Errorf("ensemble after judging again (-want +got):\n%s", diff)
	}
}

// TestEnsembleOut checks that --out never replaces a file the ensemble
// reads or emer eval writes, whatever path names it, and that the file of
// the ensemble's own system can be rebuilt.
func TestEnsembleOut(t *testing.T) {
	for _, c := range []struct {
		name string
		out  func(t *testing.T, dir string) string // --out; may chdir
		want string                                // in the error; "" for success
	}{
		{"prediction by a relative path", func(t *testing.T, dir string) string {
			t.Chdir(dir)
			return "./b.csv"
		}, "is the predictions of b"},
		{"prediction through a symlink", func(t *testing.T, dir string) string {
			link := filepath.Join(t.TempDir(), "link.csv")
			if err := os.Symlink(filepath.Join(dir, "b.csv"), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "is the predictions of b"},
		{"ground truth through a hard link", func(t *testing.T, dir string) string {
			hard := filepath.Join(dir, "hard.csv")
			if err := os.Link(filepath.Join(dir, "gt.csv"), hard); err != nil {
				t.Fatal(err)
			}
			return hard
		}, "is the ground truth"},
		{"run.json", func(t *testing.T, dir string) string { return filepath.Join(dir, "run.json") }, "is a file of the emer eval output directory"},
		{"results.jsonl", func(t *testing.T, dir string) string { return filepath.Join(dir, "results.jsonl") }, "is a file of the emer eval output directory"},
		{"the store through a symlinked folder", func(t *testing.T, dir string) string {
			link := filepath.Join(t.TempDir(), "runs")
			if err := os.Symlink(dir, link); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(link, "emer.db")
		}, "is a file of the emer eval output directory"},
		{"summary not yet written", func(t *testing.T, dir string) string { return filepath.Join(dir, "summary.md") }, "is a file of the emer eval output directory"},
		{"a folder", func(t *testing.T, dir string) string { return dir }, "is a directory"},
		{"the ensemble's own earlier file", func(t *testing.T, dir string) string { return filepath.Join(dir, "e.csv") }, ""},
		{"a new file in the results folder", func(t *testing.T, dir string) string { return filepath.Join(dir, "new.csv") }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			// e is the ensemble, judged before: its own file may be replaced.
			writeEvalDir(t, dir, 1, []string{"s1"}, map[string][]string{"a": {"from a"}, "b": {"from b"}, "e": {"from e"}},
				[]store.Result{okResult("s1", "a", 0, 5), okResult("s1", "b", 0, 9), okResult("s1", "e", 0, 9)})
			out := c.out(t, dir)
			before := snapshot(t, dir)
			var stderr bytes.Buffer
			err := runEnsemble(context.Background(), ensembleOptions{Results: dir, By: "clue", Name: "e", Out: out, Stderr: &stderr})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				tb, err := table.ReadFile(out, "reasons")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(map[string]string{"s1": "from b"}, tb.Map("reasons")); diff != "" {
					t.Errorf("ensemble (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), out) {
				t.Fatalf("err = %v, want %q naming %s", err, c.want, out)
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("the results folder changed (-before +after):\n%s", diff)
			}
		})
	}
}

// snapshot returns the contents of the files in dir, by name.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestEnsembleReadsOnly builds the ensemble of a folder judged by the emer
// of an older schema: its store is read as it is, neither migrated nor
// written, and the ensemble is the one of the folder as judged.
func TestEnsembleReadsOnly(t *testing.T) {
	dir := t.TempDir()
	gt, preds := killData(t, dir, 4)
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	out := filepath.Join(dir, "out")
	if _, err := evalInto(t, srv, gt, out, 1, preds...); err != nil {
		t.Fatal(err)
	}
	ensemble := func(csv string) string {
		t.Helper()
		if err := runEnsemble(context.Background(), ensembleOptions{Results: out, By: "clue", Name: "best", Out: csv, Stderr: io.Discard}); err != nil {
			t.Fatal(err)
		}
		return readFileWithout(t, csv, "")
	}
	want := ensemble(filepath.Join(dir, "now.csv"))
	rebuildAsOldSchema(t, filepath.Join(out, "emer.db"), 2)
	before := snapshotDir(t, out)
	if diff := cmp.Diff(want, ensemble(filepath.Join(dir, "old.csv"))); diff != "" {
		t.Errorf("ensemble of the old folder (-as judged +old schema):\n%s", diff)
	}
	if diff := cmp.Diff(before, snapshotDir(t, out)); diff != "" {
		t.Errorf("the ensemble changed the folder (-before +after):\n%s", diff)
	}
}
