package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
// warning (exit 0 with the warning on stderr).
func TestScoreBadInput(t *testing.T) {
	wheels := sharedData(t, "emotion-wheel", "affectgpt2025")
	dir := filepath.Join("testdata", "score")
	gt := filepath.Join(dir, "gt.good.csv")
	want := map[string]struct {
		code int
		msg  string
	}{
		"missing-column.bad.csv":   {1, `missing-column.bad.csv:1: missing column "openset"`},
		"duplicate-name.bad.csv":   {1, `duplicate-name.bad.csv:3: duplicate name "s1" (first on line 2)`},
		"truncated.bad.npz":        {1, "truncated.bad.npz: not a readable .npz archive (truncated or not a zip file)"},
		"forbidden-global.bad.npz": {1, "member filenames.npy: object array: forbidden pickle global os.system"},
		"malformed-labels.bad.csv": {0, "warning: 2 malformed label lists, read leniently as the reference does (e.g. malformed-labels.bad.csv: s1:"},
		"extra-sample.bad.csv":     {0, "warning: 1 predicted samples not in the ground truth, ignored (e.g. s9)"},
		"missing-sample.bad.csv":   {0, "warning: 1 samples without a prediction, scored as empty predictions (e.g. s2)"},
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
