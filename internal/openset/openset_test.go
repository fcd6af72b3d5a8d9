package openset

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/sharedtest"
	"emer/internal/wheel"
)

var shared = sharedtest.Data

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The MER2024 example of the released toolkit: published figures.
func TestMER2024Synonyms(t *testing.T) {
	dir := shared(t, "ovmerd")
	gt, err := Read(filepath.Join(dir, "check-openset.csv"))
	if err != nil {
		t.Fatal(err)
	}
	pred, err := Read(filepath.Join(dir, "predict-openset.csv"))
	if err != nil {
		t.Fatal(err)
	}
	syn, err := ReadSynonyms(filepath.Join(dir, "openset-synonym.zip"))
	if err != nil {
		t.Fatal(err)
	}
	var w Warnings
	r := ScoreSynonyms(syn, Align(gt, pred, &w), &w)
	if r.Precision != 0.581777108433735 || r.Recall != 0.4977911646586345 || r.Mean != 0.5397841365461847 {
		t.Errorf("got %+v, want precision 0.581777108433735 recall 0.4977911646586345 mean 0.5397841365461847", r)
	}
	if w.Count("") != 0 {
		t.Errorf("warnings on the released example: %q", w.Messages())
	}
}

func TestOVTable(t *testing.T) {
	dir := shared(t, "ovmerd")
	x, err := wheel.Load(shared(t, "emotion-wheel", "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	gt, _ := Read(filepath.Join(dir, "check-openset.csv"))
	pred, _ := Read(filepath.Join(dir, "predict-openset.csv"))
	var w Warnings
	tab := Score(x, Align(gt, pred, &w))
	if tab.Samples != 332 {
		t.Errorf("samples = %d", tab.Samples)
	}
	// Self-consistency: a prediction equal to the ground truth scores 1
	// everywhere; the mean columns are the means of their parts.
	self := Score(x, Align(gt, gt, &w))
	if self.MAvg != 1 || self.M3Mean.Level1.F != 1 {
		t.Errorf("ground truth against itself: m_avg %v, m3 mean %v", self.MAvg, self.M3Mean)
	}
	golden := filepath.Join("testdata", "ovmerd-affectgpt2025.golden.json")
	got, err := json.MarshalIndent(tab, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.TrimSpace(string(want)), string(got)); d != "" {
		t.Errorf("OV-MERD table differs from %s (-want +got):\n%s", golden, d)
	}
	names, cols := tab.Columns()
	if len(names) != 12 || len(cols) != 12 {
		t.Fatalf("%d columns", len(cols))
	}
	sum := 0.0
	for _, c := range cols {
		if c.F <= 0 || c.F >= 1 {
			t.Errorf("column F %v outside (0,1)", c.F)
		}
		sum += c.F
	}
	if d := sum/12 - tab.MAvg; d > 1e-12 || d < -1e-12 {
		t.Errorf("m_avg %v, mean of columns %v", tab.MAvg, sum/12)
	}
}

func TestAlignWarnings(t *testing.T) {
	gt := &Set{Path: "gt.csv", Names: []string{"a", "b"}, Text: map[string]string{"a": "['happy']", "b": "['sad'"}}
	pred := &Set{Path: "p.csv", Names: []string{"a", "c"}, Text: map[string]string{"a": "[happy]", "c": "[x]"}}
	var w Warnings
	pairs := Align(gt, pred, &w)
	if len(pairs) != 2 || pairs[1].Pred != nil {
		t.Fatalf("pairs %+v", pairs)
	}
	for kind, n := range map[string]int{WarnMissingPred: 1, WarnExtraPred: 1, WarnMalformed: 1} {
		if w.Count(kind) != n {
			t.Errorf("%s: %d, want %d", kind, w.Count(kind), n)
		}
	}
	msgs := strings.Join(w.Messages(), "\n")
	for _, want := range []string{"(e.g. b: ground truth \"['sad'\": '[' without a closing ']')", "1 predicted samples not in the ground truth, ignored (e.g. c)"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("messages %q lack %q", msgs, want)
		}
	}
}

// Every OV-MER baseline output (10 models x 3 subtitle settings) reads and
// scores against the OV-MERD ground truth.
func TestOVMERBaselines(t *testing.T) {
	root := shared(t, "affectgpt-outputs", "OV-MER", "output", "results-ovmerd")
	x, err := wheel.Load(shared(t, "emotion-wheel", "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	gt, err := Read(filepath.Join(shared(t, "ovmerd"), "check-openset.csv"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "*", "*-openset.npz"))
	if len(files) != 30 {
		t.Errorf("%d baseline files, want 30", len(files))
	}
	for _, f := range files {
		pred, err := Read(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		var w Warnings
		tab := Score(x, Align(gt, pred, &w))
		if w.Count("") > 0 {
			t.Logf("%s: %q", filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), w.Messages())
		}
		if tab.MAvg <= 0 || tab.MAvg >= 1 || w.Count(WarnMissingPred) > 0 {
			t.Errorf("%s: m_avg %v, warnings %q", f, tab.MAvg, w.Messages())
		}
	}
}

// A malformed list is reported with its side, ground truth or prediction,
// and a sample with both sides malformed is named once.
func TestAlignMalformedSides(t *testing.T) {
	gt := &Set{Path: "data/openset.csv", Names: []string{"s1", "s2", "s3"}, Text: map[string]string{"s1": "[a, b", "s2": "[c]", "s3": "[d]"}}
	pred := &Set{Path: "run/openset.csv", Names: []string{"s1", "s2", "s3"}, Text: map[string]string{"s1": "[a, b", "s2": "c]", "s3": "[d]"}}
	var w Warnings
	Align(gt, pred, &w)
	want := []string{`3 malformed label lists, read leniently as the reference does (e.g. ` +
		`s1: ground truth "[a, b": '[' without a closing ']', and prediction "[a, b": '[' without a closing ']'; ` +
		`s2: prediction "c]": ']' without an opening '[')`}
	if d := cmp.Diff(want, w.Messages()); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
}

func writeSynonymZip(t *testing.T, members map[string][]byte) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range slices.Sorted(maps.Keys(members)) {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(members[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "syn.zip")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A synonym zip whose members inflate past the limit is refused before
// they are inflated.
func TestReadSynonymsLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members map[string][]byte
		want    string
	}{
		{"bomb member", map[string][]byte{"syn/s1.npy": make([]byte, 1<<20+1)},
			"member syn/s1.npy: not a readable .npz archive: member of 1048577 bytes uncompressed, more than the 1 MiB limit"},
		{"no npy", map[string][]byte{"a.txt": []byte("x"), "b.txt": []byte("y")},
			"syn.zip: no .npy members: not a zip of synonym groups (it holds 2 other files)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSynonyms(writeSynonymZip(t, tc.members))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n %v\nwant it to contain\n %s", err, tc.want)
			}
		})
	}
}
