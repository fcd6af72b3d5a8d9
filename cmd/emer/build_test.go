package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/media"
)

// splitManifest is the part of manifest.json the tests read.
type splitManifest struct {
	Seed   uint64 `json:"seed"`
	Counts struct {
		Clips, Train, Test, RemovedShort, Mix int
	} `json:"counts"`
	Tolerance struct {
		Low, High int
		Within    bool
	} `json:"test_tolerance"`
	LeaksTest    bool     `json:"leaks_test"`
	Train        []string `json:"train"`
	Test         []string `json:"test"`
	RemovedShort []struct {
		Clip     string  `json:"clip"`
		Duration float64 `json:"duration_s"`
	} `json:"removed_short"`
	MixLeftOut map[string]int `json:"mix_left_out"`
	Files      []struct {
		Name  string `json:"name"`
		Items int    `json:"items"`
	} `json:"files"`
	Skipped []dataset.Skipped `json:"skipped"`
	Inputs  []dataset.InputDigest
}

func readManifest(t *testing.T, dir string) splitManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m splitManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m splitManifest) items(name string) int {
	for _, f := range m.Files {
		if f.Name == name {
			return f.Items
		}
	}
	return -1
}

// readTree returns every file under dir by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkExports(t *testing.T, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if name == "manifest.json" {
			continue
		}
		if err := dataset.CheckExport(name, b); err != nil {
			t.Errorf("layout: %v", err)
		}
	}
}

// TestBuildSplitEMERV1 splits the released EMER-V1 ground truth with a
// fixed seed: 78 train and 22 test clips, inside the binomial range 8..32
// of a 20% split of 100 clips, the same bytes on a second run, and every
// export in its trainer's layout.
func TestBuildSplitEMERV1(t *testing.T) {
	gt := sharedData(t, "emer-v1", "gt-eng.csv")
	var trees []map[string][]byte
	for i := range 2 {
		out := filepath.Join(t.TempDir(), fmt.Sprint("run", i))
		code, stdout, stderr := run(t, "build", "split", "--dataset", gt, "--seed", "1", "--out", out)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.HasPrefix(stdout, "100 clips: 78 train, 22 test (seed 1, test 0.2; expected 20.0, binomial range 8..32)\n") {
			t.Errorf("stdout %q", stdout)
		}
		trees = append(trees, readTree(t, out))
	}
	if diff := cmp.Diff(trees[0], trees[1]); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
	checkExports(t, trees[0])
	var m splitManifest
	if err := json.Unmarshal(trees[0]["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Counts.Clips != 100 || m.Counts.Train != 78 || m.Counts.Test != 22 || !m.Tolerance.Within || m.LeaksTest {
		t.Errorf("manifest %+v", m)
	}
	all := append(slices.Clone(m.Train), m.Test...)
	slices.Sort(all)
	if len(slices.Compact(all)) != 100 {
		t.Errorf("train and test overlap or miss clips: %d distinct", len(slices.Compact(all)))
	}
	for _, name := range []string{"affectgpt/train.json", "llava/train.json", "sharegpt/train.json", "merr/train_fine.json"} {
		if n := m.items(name); n != 78 {
			t.Errorf("%s: %d items", name, n)
		}
	}
	if len(m.Skipped) != 2 { // MERR coarse lists need frame counts, from --media
		t.Errorf("skipped %v", m.Skipped)
	}
}

// TestBuildSplitAddedClips: a copy of EMER-V1 with 10 more rows moves no
// old clip between train and test.
func TestBuildSplitAddedClips(t *testing.T) {
	gt := sharedData(t, "emer-v1", "gt-eng.csv")
	b, err := os.ReadFile(gt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	grown := filepath.Join(dir, "gt-eng-plus10.csv")
	var extra strings.Builder
	for i := range 10 {
		fmt.Fprintf(&extra, "sample_9%07d,happy,Hello there.,\"In the video, he smiles. Therefore, it is inferred that his emotional state is happy.\"\n", i)
	}
	if err := os.WriteFile(grown, append(b, extra.String()...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{{gt, "before"}, {grown, "after"}} {
		if code, _, stderr := run(t, "build", "split", "--dataset", c[0], "--seed", "1", "--out", filepath.Join(dir, c[1])); code != 0 {
			t.Fatalf("%s: exit %d: %s", c[1], code, stderr)
		}
	}
	before, after := readManifest(t, filepath.Join(dir, "before")), readManifest(t, filepath.Join(dir, "after"))
	if after.Counts.Clips != 110 {
		t.Fatalf("%d clips after", after.Counts.Clips)
	}
	inAfterTest := map[string]bool{}
	for _, c := range after.Test {
		inAfterTest[c] = true
	}
	for _, c := range before.Test {
		if !inAfterTest[c] {
			t.Errorf("%s moved from test to train", c)
		}
	}
	for _, c := range before.Train {
		if inAfterTest[c] {
			t.Errorf("%s moved from train to test", c)
		}
	}
	if moved := len(after.Test) - len(before.Test); moved < 0 || moved > 10 {
		t.Errorf("test grew by %d", moved)
	}
}

func TestBuildSplitGTEng(t *testing.T) {
	gt := sharedData(t, "emer-v1", "gt-eng.csv")
	out := t.TempDir()
	code, stdout, stderr := run(t, "build", "split", "--dataset", gt, "--seed", "1", "--gt-eng", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	if !m.LeaksTest || m.Counts.Train != 100 || m.Counts.Test != 22 || len(m.Train) != 100 {
		t.Errorf("manifest %+v", m)
	}
	if !strings.Contains(stdout, "gt-eng: the 22 test clips are trained on too") {
		t.Errorf("stdout %q", stdout)
	}
	if n := m.items("sharegpt/train.json"); n != 100 {
		t.Errorf("sharegpt/train.json: %d items", n)
	}
	checkExports(t, readTree(t, out))
}

// fakeMedia makes empty media files for the fixture's clips (FindMedia
// only looks for them) and a probe that reports set durations at 25
// frames a second.
func fakeMedia(t *testing.T, durations map[string]float64) (string, func(context.Context, string) (*media.Info, error)) {
	t.Helper()
	dir := t.TempDir()
	for clip := range durations {
		ext := ".mp4"
		if clip == "sample_b" {
			ext = ".AVI" // found with any common extension, in either case
		}
		if err := os.WriteFile(filepath.Join(dir, clip+ext), []byte(clip), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	probe := func(_ context.Context, path string) (*media.Info, error) {
		clip := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		d, ok := durations[clip]
		if !ok {
			return nil, fmt.Errorf("unexpected probe of %s", path)
		}
		return &media.Info{Path: path, Duration: d, HasVideo: true,
			Streams: []media.Stream{{Type: "video", FrameRate: 25, Duration: d}}}, nil
	}
	return dir, probe
}

func splitOpts(dataset, out string) buildSplitOptions {
	return buildSplitOptions{Dataset: dataset, Seed: 11, Test: 0.34, Ext: ".mp4", Out: out,
		Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer), probe: media.Probe}
}

var fixtureDurations = map[string]float64{"sample_a": 2.5, "sample_b": 3, "sample_c": 1.5, "sample_d": 4.04, "sample_e": 1.25, "sample_f": 6}

// TestBuildSplitRemoveShort: clips under --remove-short leave the
// training set; the test set stays whole; durations, frame counts and
// media names come from the files found in --media.
func TestBuildSplitRemoveShort(t *testing.T) {
	ctx := context.Background()
	mediaDir, probe := fakeMedia(t, fixtureDurations)
	ds := filepath.Join("testdata", "build", "dataset.csv")

	plainOut := t.TempDir()
	if err := runBuildSplit(ctx, splitOpts(ds, plainOut)); err != nil {
		t.Fatal(err)
	}
	opts := splitOpts(ds, t.TempDir())
	opts.Media, opts.RemoveShort, opts.probe = mediaDir, 2*time.Second, probe
	if err := runBuildSplit(ctx, opts); err != nil {
		t.Fatal(err)
	}
	plain, short := readManifest(t, plainOut), readManifest(t, opts.Out)
	if diff := cmp.Diff([]string{"sample_b", "sample_c"}, short.Test); diff != "" {
		t.Errorf("test (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(plain.Test, short.Test); diff != "" {
		t.Errorf("remove-short changed the test set:\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sample_a", "sample_d", "sample_f"}, short.Train); diff != "" {
		t.Errorf("train (-want +got):\n%s", diff)
	}
	if len(short.RemovedShort) != 1 || short.RemovedShort[0].Clip != "sample_e" || short.RemovedShort[0].Duration != 1.25 {
		t.Errorf("removed %+v", short.RemovedShort)
	}
	files := readTree(t, opts.Out)
	checkExports(t, files)
	// sample_c (1.5 s) is a test clip and stays; frames are duration × 25.
	if got := string(files["merr/test_coarse.txt"]); got != "sample_b 75 angry\nsample_c 38 worried\n" {
		t.Errorf("merr/test_coarse.txt:\n%s", got)
	}
	if got := string(files["merr/train_coarse.txt"]); got != "sample_a 63 happy\nsample_d 101 sad\nsample_f 150 happy\n" {
		t.Errorf("merr/train_coarse.txt:\n%s", got)
	}
	var test []dataset.VideoChatItem
	if err := json.Unmarshal(files["affectgpt/test.json"], &test); err != nil {
		t.Fatal(err)
	}
	if test[0].Video != "sample_b.AVI" || test[1].Video != "sample_c.mp4" {
		t.Errorf("media names %q, %q", test[0].Video, test[1].Video)
	}
	probed := 0
	for _, in := range short.Inputs {
		if in.Role == "media" {
			probed++
		}
	}
	if probed != 6 || len(short.Skipped) != 0 {
		t.Errorf("%d media inputs, skipped %v", probed, short.Skipped)
	}
	if got := opts.Stdout.(*bytes.Buffer).String(); !strings.Contains(got, "1 training clips shorter than 2s removed") {
		t.Errorf("stdout %q", got)
	}

	// A later split into the same folder without media leaves no stale
	// coarse list behind.
	again := splitOpts(ds, opts.Out)
	if err := runBuildSplit(ctx, again); err != nil {
		t.Fatal(err)
	}
	files = readTree(t, opts.Out)
	for _, name := range []string{"merr/train_coarse.txt", "merr/test_coarse.txt"} {
		if _, ok := files[name]; ok {
			t.Errorf("stale %s kept", name)
		}
	}
}

func TestBuildSplitMediaProblems(t *testing.T) {
	ctx := context.Background()
	ds := filepath.Join("testdata", "build", "dataset.csv")
	durations := map[string]float64{"sample_a": 2.5, "sample_b": 3, "sample_c": 0, "sample_d": 4}
	mediaDir, probe := fakeMedia(t, durations)
	opts := splitOpts(ds, t.TempDir())
	opts.Media, opts.probe = mediaDir, probe
	err := runBuildSplit(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "no media file for 2 clips") || !strings.Contains(err.Error(), "sample_e, sample_f") {
		t.Errorf("missing media: %v", err)
	}
	for _, clip := range []string{"sample_e", "sample_f"} {
		if err := os.WriteFile(filepath.Join(mediaDir, clip+".wav"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		durations[clip] = 3
	}
	err = runBuildSplit(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "sample_c.mp4: ffprobe gives no duration") {
		t.Errorf("unmeasured: %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(opts.Out, "manifest.json")); statErr == nil {
		t.Error("a failed split wrote its manifest")
	}
}

// TestBuildSplitFFprobe measures real clips with ffprobe.
func TestBuildSplitFFprobe(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not found: make setup installs it")
	}
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not found: make setup installs it")
	}
	dir := t.TempDir()
	mediaDir := filepath.Join(dir, "media")
	if err := os.Mkdir(mediaDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for clip, secs := range map[string]string{"short": "1", "long": "3"} {
		cmd := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=32x32:r=10:d="+secs,
			"-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", secs, "-shortest", filepath.Join(mediaDir, clip+".mp4"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v: %s", err, out)
		}
	}
	ds := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(ds, []byte("names,reasons\nshort,He smiles.\nlong,He frowns.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, stderr := run(t, "build", "split", "--dataset", ds, "--seed", "1", "--test", "0", "--remove-short", "2s", "--media", mediaDir, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	if diff := cmp.Diff([]string{"long"}, m.Train); diff != "" {
		t.Errorf("train (-want +got):\n%s", diff)
	}
	if len(m.RemovedShort) != 1 || m.RemovedShort[0].Clip != "short" || m.RemovedShort[0].Duration < 0.9 || m.RemovedShort[0].Duration > 1.1 {
		t.Errorf("removed %+v", m.RemovedShort)
	}
}

func TestBuildSplitMix(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, "build", "split", "--dataset", filepath.Join("testdata", "build", "dataset.csv"),
		"--seed", "11", "--test", "0.34", "--mix", filepath.Join("testdata", "build", "mix.jsonl"), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	// 4 training clips; the AffectGPT layout takes only the mixed item
	// with a video.
	for name, want := range map[string]int{"affectgpt/train.json": 5, "llava/train.json": 6, "sharegpt/train.json": 6, "merr/train_fine.json": 4, "llava/test.json": 2} {
		if got := m.items(name); got != want {
			t.Errorf("%s: %d items, want %d", name, got, want)
		}
	}
	if m.Counts.Mix != 2 || m.MixLeftOut["affectgpt/train.json"] != 1 {
		t.Errorf("manifest %+v", m)
	}
	if !strings.Contains(stdout, "2 instruction items mixed into train") || !strings.Contains(stderr, "affectgpt/train.json: 1 mixed items without a video left out") {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	checkExports(t, readTree(t, out))
}

func TestBuildSplitErrors(t *testing.T) {
	ds := filepath.Join("testdata", "build", "dataset.csv")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no seed", []string{"--dataset", ds, "--out", "x"}, 2, `required flag(s) "seed" not set`},
		{"test fraction", []string{"--dataset", ds, "--seed", "1", "--test", "1.5", "--out", "x"}, 2, "--test: test fraction 1.5 is not in [0, 1]"},
		{"remove-short without media", []string{"--dataset", ds, "--seed", "1", "--remove-short", "2s", "--out", "x"}, 2, "--remove-short measures durations in --media, which is missing"},
		{"bad seed", []string{"--dataset", ds, "--seed", "-1", "--out", "x"}, 2, "invalid argument"},
		{"media folder", []string{"--dataset", ds, "--seed", "1", "--media", filepath.Join(t.TempDir(), "none"), "--out", t.TempDir()}, 1, "--media: stat"},
		{"bad mix", []string{"--dataset", ds, "--seed", "1", "--mix", filepath.Join("testdata", "build", "mix.bad.jsonl"), "--out", t.TempDir()}, 1, `testdata/build/mix.bad.jsonl:1: not a JSON object of the expected fields: json: unknown field "image"`},
		{"out is a file", []string{"--dataset", ds, "--seed", "1", "--out", file}, 1, "is a file, not a folder"},
		{"dataset", []string{"--dataset", filepath.Join("testdata", "build", "drafts.csv"), "--seed", "1", "--out", t.TempDir()}, 1, "missing column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"build", "split"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

func f64(f float64) *float64 { return &f }

// TestBuildCost checks the kept fractions of the fixture against values
// counted by hand (tokens in brackets):
//
//	c1 visual  [He frowns and looks down] -> [He frowns deeply and looks at the floor]:
//	           4 of 5 kept; 4 edits (insert deeply, down -> at, insert the, floor)
//	c2 visual  他皱着眉头 -> 他紧皱眉头: 4 of 5 kept; 2 edits
//	c1 audio   unchanged, 6 tokens
//	c1 content [He says he is fine and thanks her] -> [He thanks her]: 3 of 8 kept; 5 deletions
//	c2 context, c3 visual, c4 audio: no counterpart (c2's context has annotator a2 in the final file)
func TestBuildCost(t *testing.T) {
	want := dataset.CostReport{
		ByAnnotator: true,
		Aspects: []dataset.AspectCost{
			{Aspect: dataset.Visual, CostCounts: dataset.CostCounts{Pairs: 2, DraftTokens: 10, FinalTokens: 13, Kept: 8, Edits: 6, KeptFraction: f64(0.8), EditRate: f64(6.0 / 13)}},
			{Aspect: dataset.Audio, CostCounts: dataset.CostCounts{Pairs: 1, DraftTokens: 6, FinalTokens: 6, Kept: 6, Edits: 0, KeptFraction: f64(1), EditRate: f64(0)}},
			{Aspect: dataset.Content, CostCounts: dataset.CostCounts{Pairs: 1, DraftTokens: 8, FinalTokens: 3, Kept: 3, Edits: 5, KeptFraction: f64(0.375), EditRate: f64(5.0 / 3)}},
			{Aspect: dataset.Context, CostCounts: dataset.CostCounts{}},
		},
		Overall:            dataset.CostCounts{Pairs: 4, DraftTokens: 24, FinalTokens: 22, Kept: 17, Edits: 11, KeptFraction: f64(17.0 / 24), EditRate: f64(0.5)},
		DraftsWithoutFinal: []string{"c2 × context × a1", "c3 × visual × a1"},
		FinalsWithoutDraft: []string{"c2 × context × a2", "c4 × audio × a1"},
	}
	for _, final := range []string{"final.csv", "final.jsonl"} {
		t.Run(final, func(t *testing.T) {
			code, stdout, stderr := run(t, "build", "cost", "--drafts", filepath.Join("testdata", "build", "drafts.csv"),
				"--final", filepath.Join("testdata", "build", final), "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got dataset.CostReport
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !strings.Contains(stderr, "2 drafts have no final text and are not counted") || !strings.Contains(stderr, "2 final texts have no draft") {
				t.Errorf("stderr %q", stderr)
			}
		})
	}
}

func TestBuildCostTable(t *testing.T) {
	code, stdout, stderr := run(t, "build", "cost", "--drafts", filepath.Join("testdata", "build", "drafts.csv"),
		"--final", filepath.Join("testdata", "build", "final.csv"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `aspect   pairs  draft tokens  final tokens  kept  kept fraction  edits  edit rate
visual   2      10            13            8     0.8000         6      0.4615
audio    1      6             6             6     1.0000         0      0.0000
content  1      8             3             3     0.3750         5      1.6667
context  0      0             0             0     n/a            0      n/a
overall  4      24            22            17    0.7083         11     0.5000
`
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBuildCostBadInput(t *testing.T) {
	code, _, stderr := run(t, "build", "cost", "--drafts", filepath.Join("testdata", "build", "drafts.bad.csv"),
		"--final", filepath.Join("testdata", "build", "final.csv"))
	want := "emer: testdata/build/drafts.bad.csv:2: unknown aspect \"face\" (want visual, audio, content or context)\ntestdata/build/drafts.bad.csv:3: empty text\n"
	if code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestBuildCommand(t *testing.T) {
	code, stdout, _ := run(t, "build")
	if code != 0 || !strings.Contains(stdout, "split") || !strings.Contains(stdout, "cost") {
		t.Errorf("exit %d: %s", code, stdout)
	}
	if code, _, stderr := run(t, "build", "splt"); code != 2 || !strings.Contains(stderr, `did you mean "split"?`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
