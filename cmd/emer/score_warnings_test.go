package main

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sentimentRun writes MOSI labels with the given valences and one run of
// checkpoints, each mapping clips to their predicted sentiment (a clip left
// out has no prediction), in the released layout: labels/ and
// outputs/results-cmumosi/run/.
func sentimentRun(t *testing.T, val map[string]float64, checkpoints map[string]map[string]string) (labelsDir, outputsDir string) {
	t.Helper()
	dir := t.TempDir()
	labelsDir, outputsDir = filepath.Join(dir, "labels"), filepath.Join(dir, "outputs")
	writeNpz(t, filepath.Join(labelsDir, "cmumosi-process_label.npz"),
		map[string][]byte{"test_corpus": npyFile("|O", "()", pickleValence(val))})
	for name, pred := range checkpoints {
		names := slices.Sorted(maps.Keys(pred))
		items := make([]string, len(names))
		for i, n := range names {
			items[i] = pred[n]
		}
		writeNpz(t, filepath.Join(outputsDir, "results-cmumosi", "run", name+"-openset-sentiment.npz"),
			map[string][]byte{"filenames": unicodeNpy(names), "fileitems": unicodeNpy(items)})
	}
	return labelsDir, outputsDir
}

// stderrLines splits stderr into lines.
func stderrLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// Warnings are grouped by kind over a dataset's checkpoints: the count, the
// checkpoints with the kind, the commonest values (most frequent first,
// long ones cut, the rest counted) and the first example. --verbose lists
// every checkpoint's lines, which are the JSON's.
func TestScoreUnibenchWarningsGrouped(t *testing.T) {
	const (
		c30  = "checkpoint_000030_loss_0.602"
		c35  = "checkpoint_000035_loss_0.597"
		c40  = "checkpoint_000040_loss_0.569"
		long = "neither clearly positive nor clearly negative overall" // 53 runes
	)
	labelsDir, outputsDir := sentimentRun(t, map[string]float64{"a": 1, "b": -1, "c": 2, "d": -2}, map[string]map[string]string{
		c30: {"a": "mixed", "b": "mixed", "c": "positive", "d": long},
		c35: {"a": "mixed", "b": "unsure", "d": "negative", "z": "positive"}, // c missing, z unknown
		c40: {"a": "positive", "b": "negative", "d": "negative"},             // c missing
	})
	other := "sentiment predictions other than positive, negative or neutral, counted as not positive"
	grouped := []string{
		// "" is the missing prediction of c, twice; 7 = 3 (c30) + 3 (c35) + 1 (c40).
		`7 ` + other + `, in 3 of 3 checkpoints: 3 "mixed", 2 "", 1 "neither clearly positive nor clearly neg"... and 1 other value (e.g. ` + c30 + `: a: "mixed")`,
		`2 samples without a prediction, scored as empty predictions, in 2 of 3 checkpoints: 2 "c" (e.g. ` + c35 + `: c)`,
		// z is one value seen once: no list of values.
		`1 predicted samples not in the ground truth, ignored, in 1 of 3 checkpoints (e.g. ` + c35 + `: z)`,
	}
	verbose := []string{
		c30 + `: 3 ` + other + ` (e.g. a: "mixed"; b: "mixed"; d: "` + long + `")`,
		c35 + `: 1 samples without a prediction, scored as empty predictions (e.g. c)`,
		c35 + `: 1 predicted samples not in the ground truth, ignored (e.g. z)`,
		c35 + `: 3 ` + other + ` (e.g. a: "mixed"; b: "unsure"; c: "")`,
		c40 + `: 1 samples without a prediction, scored as empty predictions (e.g. c)`,
		c40 + `: 1 ` + other + ` (e.g. c: "")`,
	}
	note := "note: warnings grouped by kind; --verbose lists the 6 warning lines one by one, as the JSON keeps them"
	one := []string{"score", "unibench", "--dataset", "mosi", "--labels", filepath.Join(labelsDir, "cmumosi-process_label.npz"), "--pred", filepath.Join(outputsDir, "results-cmumosi")}
	all := []string{"score", "unibench", "--all", "--labels-dir", labelsDir, "--outputs-dir", outputsDir}
	prefixed := func(prefix string, lines []string) []string {
		var out []string
		for _, l := range lines {
			out = append(out, "warning: "+prefix+l)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"one dataset", one, append(prefixed("", grouped), note)},
		{"one dataset --verbose", append(one, "--verbose"), prefixed("", verbose)},
		{"--all", all, append(prefixed("mosi: ", grouped), note)},
		{"--all --verbose", append(all, "--verbose"), prefixed("mosi: ", verbose)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if diff := cmp.Diff(tc.want, stderrLines(errOut)); diff != "" {
				t.Errorf("stderr (-want +got)\n%s", diff)
			}
		})
	}
	// The JSON keeps every line, grouped or not.
	for _, args := range [][]string{one, append(one, "--verbose")} {
		code, out, errOut := run(t, append(args, "--json")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got struct{ Warnings []string }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if diff := cmp.Diff(verbose, got.Warnings); diff != "" {
			t.Errorf("%v: JSON warnings (-want +got)\n%s", args, diff)
		}
	}
}

// On the released AffectGPT outputs, --all prints one warning line per
// sentiment set instead of one per checkpoint (26 lines), and --verbose
// prints the 26, which are the JSON's. The counts and values were checked
// against the prediction files read on their own: MOSI has 32 "mixed", 1
// "contradictory" and 1 "dramatic" over its 7 checkpoints, MOSEI 154
// "mixed" and one each of "anxious", "excitement" and "uncertain".
func TestScoreUnibenchWarningsReleased(t *testing.T) {
	data := sharedData(t)
	args := []string{"score", "unibench", "--all", "--labels-dir", filepath.Join(data, "merbench-labels"),
		"--outputs-dir", filepath.Join(data, "affectgpt-outputs", "AffectGPT", "output"),
		"--wheels", filepath.Join(data, "emotion-wheel", "affectgpt2025")}
	other := "sentiment predictions other than positive, negative or neutral, counted as not positive"
	want := []string{
		`warning: mosi: 34 ` + other + `, in 7 of 7 checkpoints: 32 "mixed", 1 "contradictory", 1 "dramatic" (e.g. checkpoint_000030_loss_0.602: d6hH302o4v8_32: "mixed")`,
		`warning: mosei: 157 ` + other + `, in 7 of 7 checkpoints: 154 "mixed", 1 "anxious", 1 "excitement" and 1 other value (e.g. checkpoint_000030_loss_0.602: 206585_4: "mixed")`,
		`warning: sims: 8 ` + other + `, in 5 of 7 checkpoints: 8 "mixed" (e.g. checkpoint_000030_loss_0.602: video_0011_0020: "mixed")`,
		`warning: simsv2: 34 ` + other + `, in 7 of 7 checkpoints: 34 "mixed" (e.g. checkpoint_000030_loss_0.602: aqgy5_0027_00031: "mixed")`,
		"note: warnings grouped by kind; --verbose lists the 26 warning lines one by one, as the JSON keeps them",
	}
	code, _, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if diff := cmp.Diff(want, stderrLines(errOut)); diff != "" {
		t.Errorf("stderr (-want +got)\n%s", diff)
	}

	code, out, errOut := run(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errOut)
	}
	var got struct {
		Datasets map[string]struct{ Warnings []string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var fromJSON []string
	for _, d := range []string{"mosi", "mosei", "sims", "simsv2"} { // the table's order
		for _, w := range got.Datasets[d].Warnings {
			fromJSON = append(fromJSON, "warning: "+d+": "+w)
		}
	}
	if len(fromJSON) != 26 {
		t.Errorf("%d warnings in the JSON, want 26", len(fromJSON))
	}
	code, _, errOut = run(t, append(args, "--verbose")...)
	if code != 0 {
		t.Fatalf("--verbose: exit %d: %s", code, errOut)
	}
	if diff := cmp.Diff(fromJSON, stderrLines(errOut)); diff != "" {
		t.Errorf("--verbose stderr against the JSON (-want +got)\n%s", diff)
	}
}
