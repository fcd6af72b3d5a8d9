package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/sharedtest"
)

var sharedData = sharedtest.Data

// run executes the CLI in-process and returns its exit status and output.
func run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestScoreOVSynonymsJSON(t *testing.T) {
	dir := sharedData(t, "ovmerd")
	code, out, errOut := run(t, "score", "ov", "--gt", filepath.Join(dir, "check-openset.csv"),
		"--pred", filepath.Join(dir, "predict-openset.csv"), "--synonyms", filepath.Join(dir, "openset-synonym.zip"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]float64{"samples": 332, "precision": 0.581777108433735, "recall": 0.4977911646586345, "mean": 0.5397841365461847}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestScoreOVWheelsJSON(t *testing.T) {
	dir := sharedData(t, "ovmerd")
	code, out, errOut := run(t, "score", "ov", "--gt", filepath.Join(dir, "check-openset.csv"),
		"--pred", filepath.Join(dir, "predict-openset.csv"), "--wheels", sharedData(t, "emotion-wheel", "affectgpt2025"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Samples int                                      `json:"samples"`
		M1      map[string]float64                       `json:"m1"`
		M2      map[string]float64                       `json:"m2"`
		M3      map[string]map[string]map[string]float64 `json:"m3"`
		M3Mean  map[string]map[string]float64            `json:"m3_mean"`
		MAvg    *float64                                 `json:"m_avg"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Samples != 332 || got.MAvg == nil || len(got.M3) != 5 || got.M1["f"] <= 0 || got.M2["recall"] <= 0 || got.M3Mean["level2"]["f"] <= 0 {
		t.Fatalf("output %s", out)
	}
	for w, levels := range got.M3 {
		for _, l := range []string{"level1", "level2"} {
			for _, k := range []string{"f", "precision", "recall"} {
				if v, ok := levels[l][k]; !ok || v <= 0 || v >= 1 {
					t.Errorf("m3.%s.%s.%s = %v, %v", w, l, k, v, ok)
				}
			}
		}
	}
	for _, k := range []string{`"m1": {`, `"m2": {`, `"m3_mean": {`, `"level1": {`} {
		if !strings.Contains(out, k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

func TestScoreUnibenchAll(t *testing.T) {
	data := sharedData(t)
	code, out, errOut := run(t, "score", "unibench", "--all",
		"--labels-dir", filepath.Join(data, "merbench-labels"),
		"--outputs-dir", filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output"),
		"--wheels", filepath.Join(data, "emotion-wheel", "affectgpt2025"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Datasets map[string]struct {
			Dataset     string `json:"dataset"`
			Metric      string `json:"metric"`
			Checkpoints []struct {
				Name     string   `json:"name"`
				Score    float64  `json:"score"`
				Accuracy *float64 `json:"accuracy"`
				Samples  int      `json:"samples"`
			} `json:"checkpoints"`
			Best struct {
				Name  string  `json:"name"`
				Score float64 `json:"score"`
			} `json:"best"`
		} `json:"datasets"`
		Mean    float64 `json:"mean"`
		Skipped []struct {
			Dir    string `json:"dir"`
			Reason string `json:"reason"`
		} `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Datasets) != 7 {
		t.Errorf("%d datasets scored, want 7", len(got.Datasets))
	}
	for name, want := range map[string]float64{"mer2023": 0.7854, "meld": 0.5565, "mosi": 0.8130} {
		d := got.Datasets[name]
		if r := float64(int(d.Best.Score*1e4+0.5)) / 1e4; r != want {
			t.Errorf("%s best %v, want %v", name, d.Best.Score, want)
		}
	}
	mosi := got.Datasets["mosi"]
	if mosi.Metric != "weighted_f1" || len(mosi.Checkpoints) != 7 || mosi.Checkpoints[0].Name != "checkpoint_000030_loss_0.602" || mosi.Checkpoints[0].Accuracy == nil {
		t.Errorf("mosi: %+v", mosi)
	}
	if got.Datasets["meld"].Metric != "hit_rate" || got.Datasets["meld"].Checkpoints[0].Accuracy != nil {
		t.Errorf("meld: %+v", got.Datasets["meld"])
	}
	skipped := map[string]bool{}
	for _, s := range got.Skipped {
		skipped[filepath.Base(s.Dir)] = s.Reason != ""
	}
	if !skipped["results-mer2024"] || !skipped["results-ovmerdplus"] || len(got.Skipped) != 2 {
		t.Errorf("skipped %+v", got.Skipped)
	}
}

func TestScoreUnibenchOne(t *testing.T) {
	data := sharedData(t)
	pred := filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output", "results-cmumosi")
	code, out, errOut := run(t, "score", "unibench", "--dataset", "mosi",
		"--labels", filepath.Join(data, "merbench-labels", "cmumosi-process_label.npz"), "--pred", pred)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "best: checkpoint_000040_loss_0.569  0.8130") {
		t.Errorf("table:\n%s", out)
	}
}

func TestScoreUsageErrors(t *testing.T) {
	data := sharedData(t)
	ov := filepath.Join(data, "ovmerd", "check-openset.csv")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ov without a metric", []string{"score", "ov", "--gt", ov, "--pred", ov}, 2, "give --wheels"},
		{"ov missing flag", []string{"score", "ov", "--gt", ov}, 2, `"pred" not set`},
		{"unknown flag", []string{"score", "ov", "--nope"}, 2, "unknown flag: --nope"},
		{"unknown command", []string{"scorez"}, 2, "unknown command"},
		{"unibench unknown dataset", []string{"score", "unibench", "--dataset", "nope", "--labels", "x", "--pred", "y"}, 2, "unknown dataset"},
		{"emotion set without wheels", []string{"score", "unibench", "--dataset", "meld", "--labels", "x", "--pred", "y"}, 2, "give --wheels"},
		{"all without dirs", []string{"score", "unibench", "--all"}, 2, "--labels-dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.msg)
			}
		})
	}
}

func BenchmarkScoreUnibenchAll(b *testing.B) {
	data := sharedData(b)
	args := []string{"score", "unibench", "--all",
		"--labels-dir", filepath.Join(data, "merbench-labels"),
		"--outputs-dir", filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output"),
		"--wheels", filepath.Join(data, "emotion-wheel", "affectgpt2025"), "--json"}
	for b.Loop() {
		if code, _, errOut := run(b, args...); code != 0 {
			b.Fatal(errOut)
		}
	}
}

// Every bad prediction file gives a precise error (exit 1) or a counted
// warning (exit 0 with the warning on stderr: one example, and with
// --verbose those the JSON keeps).
func TestScoreBadInput(t *testing.T) {
	wheels := sharedData(t, "emotion-wheel", "affectgpt2025")
	dir := filepath.Join("testdata", "score")
	gt := filepath.Join(dir, "gt.good.csv")
	want := map[string]struct {
		code    int
		msg     string
		verbose string // with --verbose, when it differs
	}{
		"missing-column.bad.csv":   {1, `missing-column.bad.csv:1: missing column openset (the columns are name, labels)`, ""},
		"duplicate-name.bad.csv":   {1, `duplicate-name.bad.csv:3: duplicate name "s1" (first on line 2)`, ""},
		"truncated.bad.npz":        {1, "truncated.bad.npz: not a readable .npz archive (truncated or not a zip file)", ""},
		"forbidden-global.bad.npz": {1, "member filenames.npy: object array: forbidden pickle global os.system", ""},
		"malformed-labels.bad.csv": {0, `warning: 2 malformed label lists, read leniently as the reference does (e.g. s1: prediction "['happy'": '[' without a closing ']')` + "\nnote: one example of each kind; --verbose gives more, as the JSON keeps them\n",
			`warning: 2 malformed label lists, read leniently as the reference does (e.g. s1: prediction "['happy'": '[' without a closing ']'; s3: prediction "[sad]]": nested list)` + "\n"},
		"extra-sample.bad.csv":   {0, "warning: 1 predicted samples not in the ground truth, ignored (e.g. s9)\n", ""},
		"missing-sample.bad.csv": {0, "warning: 1 samples without a prediction, scored as empty predictions (e.g. s2)\n", ""},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.bad.*"))
	if len(files) != len(want) {
		t.Errorf("%d bad files, want %d", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			code, out, errOut := run(t, "score", "ov", "--gt", gt, "--pred", f, "--wheels", wheels, "--json")
			if code != w.code || !strings.Contains(errOut, w.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, w.code, w.msg)
			}
			if w.code == 0 && !strings.Contains(out, `"warnings": [`) {
				t.Errorf("JSON does not carry the warnings: %s", out)
			}
			if w.code != 0 {
				return
			}
			if errOut != w.msg {
				t.Errorf("stderr %q, want only %q", errOut, w.msg)
			}
			code, _, errOut = run(t, "score", "ov", "--gt", gt, "--pred", f, "--wheels", wheels, "--verbose")
			v := w.verbose
			if v == "" {
				v = w.msg
			}
			if code != 0 || errOut != v {
				t.Errorf("--verbose: exit %d, stderr %q; want 0 and %q", code, errOut, v)
			}
		})
	}
	// The good pair scores without warnings.
	code, _, errOut := run(t, "score", "ov", "--gt", gt, "--pred", filepath.Join(dir, "pred.good.csv"), "--wheels", wheels)
	if code != 0 || errOut != "" {
		t.Errorf("good files: exit %d, stderr %q", code, errOut)
	}
}

// A checkpoint folder with one unreadable file: the others are scored, the
// failure is reported, and the exit status is 1.
func TestScoreUnibenchBadCheckpoint(t *testing.T) {
	data := sharedData(t)
	src := filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output", "results-cmumosi")
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(src, "*", "checkpoint_00003*-openset-sentiment.npz"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad, err := os.ReadFile(filepath.Join("testdata", "score", "truncated.bad.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "checkpoint_000099_loss_0.1-openset-sentiment.npz"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "score", "unibench", "--dataset", "mosi",
		"--labels", filepath.Join(data, "merbench-labels", "cmumosi-process_label.npz"), "--pred", dir, "--json")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut, "1 of 3 checkpoints could not be scored") || !strings.Contains(errOut, "checkpoint_000099_loss_0.1: ") {
		t.Errorf("stderr %q", errOut)
	}
	var got struct {
		Checkpoints []struct {
			Name  string   `json:"name"`
			Score *float64 `json:"score"`
			Error string   `json:"error"`
		} `json:"checkpoints"`
		Best struct{ Name string } `json:"best"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Checkpoints) != 3 || got.Checkpoints[2].Score != nil || got.Checkpoints[2].Error == "" || got.Checkpoints[0].Score == nil {
		t.Errorf("checkpoints %+v", got.Checkpoints)
	}
}

// Files of the wrong kind or dataset are errors, not zero scores.
func TestScoreWrongFiles(t *testing.T) {
	data := sharedData(t)
	out := filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output")
	labels := filepath.Join(data, "merbench-labels")
	wheels := filepath.Join(data, "emotion-wheel", "affectgpt2025")
	mosiRun, _ := filepath.Glob(filepath.Join(out, "results-cmumosi", "*"))
	meldRun, _ := filepath.Glob(filepath.Join(out, "results-meld", "*"))
	if len(mosiRun) != 1 || len(meldRun) != 1 {
		t.Fatalf("runs: %v %v", mosiRun, meldRun)
	}
	twoRuns := t.TempDir()
	for _, run := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(twoRuns, run), 0o755); err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(mosiRun[0], "checkpoint_000030_loss_0.602-openset-sentiment.npz")
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(twoRuns, run, filepath.Base(src)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ov := filepath.Join(data, "ovmerd", "check-openset.csv")
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"emotion file for a sentiment set", []string{"score", "unibench", "--dataset", "mosi", "--labels", filepath.Join(labels, "cmumosi-process_label.npz"),
			"--pred", filepath.Join(mosiRun[0], "checkpoint_000030_loss_0.602-openset.npz")}, "not a MOSI prediction file"},
		{"two runs in one folder", []string{"score", "unibench", "--dataset", "mosi", "--labels", filepath.Join(labels, "cmumosi-process_label.npz"),
			"--pred", twoRuns}, "checkpoints of 2 runs (a, b)"},
		{"another dataset's predictions", []string{"score", "unibench", "--dataset", "mer2023", "--wheels", wheels,
			"--labels", filepath.Join(labels, "mer2023-dataset-process_label-6way.npz"), "--pred", meldRun[0]}, "none of the 411 MER2023 clips has a prediction here"},
		{"ov without shared samples", []string{"score", "ov", "--gt", ov, "--wheels", wheels,
			"--pred", filepath.Join("testdata", "score", "gt.good.csv")}, "none of the 332 ground-truth samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != 1 || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.msg)
			}
		})
	}
}

func TestScoreWheelsFromEnvironment(t *testing.T) {
	dir := sharedData(t, "ovmerd")
	t.Setenv("EMER_WHEELS", sharedData(t, "emotion-wheel", "affectgpt2025"))
	code, out, errOut := run(t, "score", "ov", "--gt", filepath.Join(dir, "check-openset.csv"), "--pred", filepath.Join(dir, "predict-openset.csv"))
	if code != 0 || !strings.Contains(out, "m_avg (12 F)") {
		t.Errorf("exit %d, stderr %q, out %q", code, errOut, out)
	}
}

// --all reports a dataset whose outputs mix two runs as skipped with the
// reason, still scores the others, and exits 1.
func TestScoreUnibenchAllMixedRuns(t *testing.T) {
	data := sharedData(t)
	src, _ := filepath.Glob(filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output", "results-cmumosi", "*", "checkpoint_000030_loss_0.602-openset-sentiment.npz"))
	sims, _ := filepath.Glob(filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output", "results-sims", "*", "checkpoint_000030_loss_0.602-openset-sentiment.npz"))
	if len(src) != 1 || len(sims) != 1 {
		t.Fatalf("released outputs: %v %v", src, sims)
	}
	outputs := t.TempDir()
	copyTo := func(from, dir string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(from)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(src[0], filepath.Join(outputs, "results-cmumosi", "run-a"))
	copyTo(src[0], filepath.Join(outputs, "results-cmumosi", "run-b"))
	copyTo(sims[0], filepath.Join(outputs, "results-sims", "run"))
	code, out, errOut := run(t, "score", "unibench", "--all", "--labels-dir", filepath.Join(data, "merbench-labels"), "--outputs-dir", outputs, "--json")
	if code != 1 || !strings.Contains(errOut, "1 datasets could not be scored") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	var got struct {
		Datasets map[string]json.RawMessage `json:"datasets"`
		Skipped  []struct{ Dir, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Datasets["sims"]; !ok || len(got.Datasets) != 1 {
		t.Errorf("datasets %v", got.Datasets)
	}
	if len(got.Skipped) != 1 || !strings.Contains(got.Skipped[0].Reason, "checkpoints of 2 runs (run-a, run-b)") {
		t.Errorf("skipped %+v", got.Skipped)
	}
}

// A ground truth with nothing to score is an error, not a table of zeros:
// the figures are n/a (null in JSON), the samples left out are counted by
// reason, and the exit status is 1. Partly scorable files keep their
// figures and report what was left out.
func TestScoreOVNothingScored(t *testing.T) {
	wheels := sharedData(t, "emotion-wheel", "affectgpt2025")
	synonyms := sharedData(t, "ovmerd", "openset-synonym.zip")
	dir := filepath.Join("testdata", "score", "unscored")
	pred := filepath.Join("testdata", "score", "pred.good.csv")
	synPred := filepath.Join(dir, "ungrouped.pred.csv")
	type counts struct {
		Samples   int  `json:"samples"`
		Scored    int  `json:"scored"`
		EmptyGT   int  `json:"empty_ground_truth"`
		OffWheels *int `json:"no_label_on_any_wheel"`
		Ungrouped *int `json:"no_label_in_synonym_groups"`
	}
	zero, one, two, three := 0, 1, 2, 3
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		stdout  []string // in the table
		stderr  string
		counts  counts
		defined bool // m_avg, or the synonym mean, is a number
	}{
		{name: "header only", args: []string{"--gt", filepath.Join(dir, "header-only.bad.csv"), "--pred", pred, "--wheels", wheels},
			code: 1, stderr: "header-only.bad.csv holds no samples, nothing to score"},
		{name: "labels off the wheels", args: []string{"--gt", filepath.Join(dir, "off-wheels.bad.csv"), "--pred", pred, "--wheels", wheels},
			code: 1, stdout: []string{"M1              n/a  n/a        n/a     0", "m_avg (12 F)    n/a", "3 samples, 0 scored: 3 with no ground-truth label on any wheel"},
			stderr: "off-wheels.bad.csv: nothing could be scored: 3 samples, 0 scored: 3 with no ground-truth label on any wheel",
			counts: counts{Samples: 3, OffWheels: &three}},
		{name: "empty label lists", args: []string{"--gt", filepath.Join(dir, "empty-lists.bad.csv"), "--pred", pred, "--wheels", wheels},
			code: 1, stdout: []string{"wheels L1 mean  n/a  n/a        n/a", "3 samples, 0 scored: 3 with an empty ground-truth list"},
			stderr: "empty-lists.bad.csv: nothing could be scored: 3 samples, 0 scored: 3 with an empty ground-truth list",
			counts: counts{Samples: 3, EmptyGT: 3, OffWheels: &zero}},
		{name: "some samples scored", args: []string{"--gt", filepath.Join(dir, "partial.csv"), "--pred", pred, "--wheels", wheels},
			code: 0, stdout: []string{"m_avg (12 F)    0.9167", "3 samples, 1 scored: 1 with an empty ground-truth list, 1 with no ground-truth label on any wheel"},
			counts: counts{Samples: 3, Scored: 1, EmptyGT: 1, OffWheels: &one}, defined: true},
		{name: "synonyms: labels in no group", args: []string{"--gt", filepath.Join(dir, "ungrouped.bad.csv"), "--pred", synPred, "--synonyms", synonyms},
			code: 1, stdout: []string{"2        n/a        n/a     n/a", "2 samples, 0 scored: 2 with no ground-truth label in the sample's synonym groups"},
			stderr: "ungrouped.bad.csv: nothing could be scored: 2 samples, 0 scored: 2 with no ground-truth label in the sample's synonym groups",
			counts: counts{Samples: 2, Ungrouped: &two}},
		{name: "synonyms: empty label lists", args: []string{"--gt", filepath.Join(dir, "empty-lists.bad.csv"), "--pred", pred, "--synonyms", synonyms},
			code: 1, stdout: []string{"3 samples, 0 scored: 3 with an empty ground-truth list"},
			stderr: "nothing could be scored: 3 samples, 0 scored: 3 with an empty ground-truth list",
			counts: counts{Samples: 3, EmptyGT: 3, Ungrouped: &zero}},
		{name: "synonyms: some samples scored", args: []string{"--gt", filepath.Join(dir, "ungrouped-partial.csv"), "--pred", synPred, "--synonyms", synonyms},
			code: 0, stdout: []string{"2        1.0000     1.0000  1.0000", "2 samples, 1 scored: 1 with no ground-truth label in the sample's synonym groups"},
			counts: counts{Samples: 2, Scored: 1, Ungrouped: &one}, defined: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"score", "ov"}, tc.args...)
			code, out, errOut := run(t, args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("table lacks %q:\n%s", s, out)
				}
			}
			if tc.stdout == nil && out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			code, out, errOut = run(t, append(args, "--json")...)
			if code != tc.code {
				t.Errorf("--json: exit %d, want %d: %s", code, tc.code, errOut)
			}
			if tc.stdout == nil {
				return
			}
			var got struct {
				counts
				M1     map[string]*float64 `json:"m1"`
				MAvg   *float64            `json:"m_avg"`
				Recall *float64            `json:"recall"`
				Mean   *float64            `json:"mean"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if diff := cmp.Diff(tc.counts, got.counts); diff != "" {
				t.Errorf("counts (-want +got)\n%s", diff)
			}
			headline := got.MAvg
			if tc.counts.Ungrouped != nil {
				headline = got.Mean
				if (got.Recall != nil) != tc.defined {
					t.Errorf("recall %v, want a number: %v", got.Recall, tc.defined)
				}
			} else if (got.M1["f"] != nil) != tc.defined {
				t.Errorf("m1 %v, want numbers: %v", got.M1, tc.defined)
			}
			if (headline != nil) != tc.defined {
				t.Errorf("headline %v, want a number: %v\n%s", headline, tc.defined, out)
			}
			if !tc.defined && !strings.Contains(out, `null`) {
				t.Errorf("JSON without null: %s", out)
			}
		})
	}
}

// npyFile is a .npy file (format 1.0) with the given header fields and body.
func npyFile(descr, shape string, body []byte) []byte {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), body...)
}

// pickleValence is the pickle numpy.save writes for a 0-d object array
// holding {clip: {"val": valence}}.
func pickleValence(val map[string]float64) []byte {
	var p bytes.Buffer
	str := func(s string) {
		p.WriteByte('X')
		binary.Write(&p, binary.LittleEndian, uint32(len(s)))
		p.WriteString(s)
	}
	num := func(i int32) { p.WriteByte('J'); binary.Write(&p, binary.LittleEndian, i) }
	p.Write([]byte{0x80, 3})
	p.WriteString("cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(J\x00\x00\x00\x00tB\x01\x00\x00\x00btR")
	p.WriteString("(")
	num(1)
	p.WriteString("(tcnumpy\ndtype\n(")
	str("O8")
	p.Write([]byte{0x89, 0x88, 't', 'R', '('})
	num(3)
	str("|")
	p.WriteString("NNN")
	num(-1)
	num(1)
	num(0)
	p.WriteString("tb")
	p.WriteByte(0x89)
	p.WriteString("](}(")
	for _, name := range slices.Sorted(maps.Keys(val)) {
		str(name)
		p.WriteString("}(")
		str("val")
		p.WriteByte('G')
		binary.Write(&p, binary.BigEndian, math.Float64bits(val[name]))
		p.WriteByte('u')
	}
	p.WriteString("uetb.")
	return p.Bytes()
}

// unicodeNpy is a 1-d '<U' array of the strings.
func unicodeNpy(ss []string) []byte {
	width := 1
	for _, s := range ss {
		width = max(width, len([]rune(s)))
	}
	var body bytes.Buffer
	for _, s := range ss {
		r := []rune(s)
		for i := range width {
			var c uint32
			if i < len(r) {
				c = uint32(r[i])
			}
			binary.Write(&body, binary.LittleEndian, c)
		}
	}
	return npyFile(fmt.Sprintf("<U%d", width), fmt.Sprintf("(%d,)", len(ss)), body.Bytes())
}

// writeNpz writes an .npz archive of the named .npy members.
func writeNpz(t *testing.T, path string, members map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range slices.Sorted(maps.Keys(members)) {
		w, err := zw.Create(n + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(members[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mosiFiles writes MOSI labels with the given valences and one checkpoint
// predicting "positive" for every clip, in the released layout:
// labels/cmumosi-process_label.npz and outputs/results-cmumosi/run/.
func mosiFiles(t *testing.T, val map[string]float64) (labelsDir, outputsDir string) {
	t.Helper()
	dir := t.TempDir()
	labelsDir, outputsDir = filepath.Join(dir, "labels"), filepath.Join(dir, "outputs")
	writeNpz(t, filepath.Join(labelsDir, "cmumosi-process_label.npz"),
		map[string][]byte{"test_corpus": npyFile("|O", "()", pickleValence(val))})
	names := slices.Sorted(maps.Keys(val))
	items := make([]string, len(names))
	for i := range items {
		items[i] = "positive"
	}
	writeNpz(t, filepath.Join(outputsDir, "results-cmumosi", "run", "checkpoint_000030_loss_0.602-openset-sentiment.npz"),
		map[string][]byte{"filenames": unicodeNpy(names), "fileitems": unicodeNpy(items)})
	return labelsDir, outputsDir
}

// A dataset whose clips all have valence 0 has nothing to score: n/a and
// null, not 0, with the count, and exit 1; --all reports it as a dataset
// that could not be scored. Clips with valence 0 among others are counted.
func TestScoreUnibenchNothingScored(t *testing.T) {
	for _, tc := range []struct {
		name     string
		val      map[string]float64
		all      bool
		code     int
		stdout   string
		stderr   string
		score    bool // the checkpoint has a score in JSON
		coverage string
	}{
		{name: "every valence 0", val: map[string]float64{"a": 0, "b": 0},
			code: 1, stdout: "checkpoint_000030_loss_0.602  n/a          n/a       0\n2 clips, 0 scored: 2 with valence 0; the weighted F1 and accuracy are undefined\n",
			stderr: "MOSI: " + "LABELS: nothing could be scored: 2 clips, 0 scored: 2 with valence 0; the weighted F1 and accuracy are undefined"},
		{name: "every valence 0, --all", val: map[string]float64{"a": 0, "b": 0}, all: true,
			code: 1, stdout: "MOSI     weighted_f1  n/a               1            0 of 2",
			stderr: "error: mosi: LABELS: nothing could be scored: 2 clips, 0 scored: 2 with valence 0"},
		{name: "some valence 0", val: map[string]float64{"a": 0, "b": 1.5, "c": -2},
			code: 0, stdout: "3 clips, 2 scored: 1 with valence 0", score: true},
		{name: "some valence 0, --all", val: map[string]float64{"a": 0, "b": 1.5, "c": -2}, all: true,
			code: 0, stdout: "MOSI       weighted_f1  0.3333  checkpoint_000030_loss_0.602  1            2 of 3", score: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			labelsDir, outputsDir := mosiFiles(t, tc.val)
			labels := filepath.Join(labelsDir, "cmumosi-process_label.npz")
			args := []string{"score", "unibench", "--dataset", "mosi", "--labels", labels, "--pred", filepath.Join(outputsDir, "results-cmumosi")}
			if tc.all {
				args = []string{"score", "unibench", "--all", "--labels-dir", labelsDir, "--outputs-dir", outputsDir}
			}
			code, out, errOut := run(t, args...)
			stderr := strings.ReplaceAll(tc.stderr, "LABELS", labels)
			if code != tc.code || !strings.Contains(errOut, stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, stderr)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("table lacks %q:\n%s", tc.stdout, out)
			}
			code, out, _ = run(t, append(args, "--json")...)
			if code != tc.code {
				t.Errorf("--json: exit %d, want %d", code, tc.code)
			}
			type result struct {
				Clips, Scored int
				Checkpoints   []map[string]json.RawMessage
			}
			var got result
			if tc.all {
				var all struct{ Datasets map[string]result }
				err := json.Unmarshal([]byte(out), &all)
				if err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				got = all.Datasets["mosi"]
			} else if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Clips != len(tc.val) || len(got.Checkpoints) != 1 {
				t.Fatalf("JSON %s", out)
			}
			for _, k := range []string{"score", "accuracy"} {
				v, ok := got.Checkpoints[0][k]
				if !ok || (string(v) != "null") != tc.score {
					t.Errorf("%s = %s (present %v), want a number: %v\n%s", k, v, ok, tc.score, out)
				}
			}
		})
	}
}

// --all with no output folder it can score prints nothing on stdout: the
// error and the folders skipped go to stderr.
func TestScoreUnibenchAllNothingFound(t *testing.T) {
	labelsDir, outputsDir := mosiFiles(t, map[string]float64{"a": 1})
	if err := os.Rename(filepath.Join(outputsDir, "results-cmumosi"), filepath.Join(outputsDir, "results-other")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"--json"}} {
		code, out, errOut := run(t, append([]string{"score", "unibench", "--all", "--labels-dir", labelsDir, "--outputs-dir", outputsDir}, args...)...)
		if code != 1 || out != "" || !strings.Contains(errOut, "results-other: not a MER-UniBench output folder") ||
			!strings.Contains(errOut, "emer: no MER-UniBench output folder with labels and predictions found under "+outputsDir) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
