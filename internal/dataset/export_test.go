package dataset

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/textenc"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func TestReadExamples(t *testing.T) {
	exs, col, err := ReadExamples(td("dataset.good.csv"), textenc.UTF8, "")
	if err != nil {
		t.Fatal(err)
	}
	if col != "reasons" || len(exs) != 6 {
		t.Fatalf("column %q, %d examples", col, len(exs))
	}
	want := Example{Clip: "sample_b", Label: "angry", Subtitle: "别再跟我说感觉。",
		Text: "In the video, he shouts and stares with wide eyes. Therefore, it is inferred that his emotional state is anger.",
		Pos:  Pos{File: td("dataset.good.csv"), Line: 3}}
	if diff := cmp.Diff(want, exs[1]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, _, err := ReadExamples(td("dataset.good.csv"), textenc.UTF8, "english"); err == nil || !strings.Contains(err.Error(), "missing column english") {
		t.Errorf("named column absent: %v", err)
	}
	_, _, err = ReadExamples(td("dataset.bad.csv"), textenc.UTF8, "")
	wantErr := []string{
		`testdata/dataset.bad.csv:2: clip "sample_a" has an empty reasons`,
		`testdata/dataset.bad.csv:3: the subtitles of clip "sample_b" holds <video>, a trainer's media placeholder`,
		`testdata/dataset.bad.csv:4: clip "sample_c" has an empty reasons`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff(wantErr, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadMix(t *testing.T) {
	items, err := ReadMixFile(td("mix.good.jsonl"), textenc.UTF8)
	if err != nil {
		t.Fatal(err)
	}
	want := []MixItem{
		{ID: "mix.good.jsonl:1", Instruction: "Describe what the person in the video is doing.", Response: "A man is cooking pasta in a small kitchen.", Video: "webvid/000123.mp4", Pos: Pos{td("mix.good.jsonl"), 1}},
		{ID: "alpaca-7", Instruction: "Give three tips for staying healthy.", Response: "Eat well, sleep enough and exercise.", Pos: Pos{td("mix.good.jsonl"), 2}},
	}
	if diff := cmp.Diff(want, items); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, err = ReadMixFile(td("mix.bad.jsonl"), textenc.UTF8)
	wantErr := []string{
		`testdata/mix.bad.jsonl:1: not a JSON object of the expected fields: json: unknown field "image"`,
		`testdata/mix.bad.jsonl:2: missing field response`,
		`testdata/mix.bad.jsonl:3: the text holds <video>; give the media in the video field and leave placeholders out`,
		`testdata/mix.bad.jsonl:4: empty id`,
		`testdata/mix.bad.jsonl:4: empty video`,
		`testdata/mix.bad.jsonl:5: not a JSON object of the expected fields: json: cannot unmarshal array into Go value of type dataset.jsonMix`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff(wantErr, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadActions(t *testing.T) {
	got, err := ReadActionsFile(td("actions.good.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*FacialActions{
		"sample_a": {PeakFrame: 12, Units: []string{"AU06", "AU12"}, Descriptions: []string{"cheek raiser", "lip corner puller"}},
		"sample_b": {PeakFrame: 0, Units: []string{"AU04"}},
		"sample_z": {PeakFrame: 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"actions.bad.json", []string{
			`testdata/actions.bad.json:2: clip "sample_a": peak_frame -1 is negative`,
			`testdata/actions.bad.json:2: clip "sample_a": action unit "smile" is not of the form AU12`,
			`testdata/actions.bad.json:3: clip "sample_b": missing peak_frame`,
			`testdata/actions.bad.json:3: clip "sample_b": 1 of 2 action units have a description; describe all or none`,
			`testdata/actions.bad.json:4: clip "sample_a": given twice (first on line 2)`,
		}},
		{"actions-field.bad.json", []string{
			`testdata/actions-field.bad.json:3: json: unknown field "intensity"`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := ReadActionsFile(td(tc.file))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// fixtureSplit is a split of testdata/dataset.good.csv with every input an
// export can carry: media names, durations, frames, facial actions and
// mixed items.
func fixtureSplit(t *testing.T) *Split {
	t.Helper()
	exs, _, err := ReadExamples(td("dataset.good.csv"), textenc.UTF8, "")
	if err != nil {
		t.Fatal(err)
	}
	actions, err := ReadActionsFile(td("actions.good.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range exs {
		exs[i].Media = exs[i].Clip + ".mp4"
		exs[i].Duration = 2.5 + float64(i)
		if exs[i].Clip == "sample_e" {
			exs[i].Duration = 1.25
		}
		exs[i].Frames = 25 * (i + 1)
		exs[i].Actions = actions[exs[i].Clip]
	}
	mix, err := ReadMixFile(td("mix.good.jsonl"), textenc.UTF8)
	if err != nil {
		t.Fatal(err)
	}
	s, err := MakeSplit(exs, SplitOptions{Rule: Rule{Seed: 11, Test: 0.34}, MinDuration: 2, Mix: mix})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestExportsGolden compares every export of the fixture split with its
// golden file (go test -update rewrites them) and checks it against its
// layout.
func TestExportsGolden(t *testing.T) {
	s := fixtureSplit(t)
	if got := names(s.Test); !cmp.Equal(got, []string{"sample_b", "sample_c"}) {
		t.Fatalf("test clips %v", got)
	}
	if got := names(s.Removed); !cmp.Equal(got, []string{"sample_e"}) {
		t.Fatalf("removed %v", got)
	}
	files, skipped, leftOut, err := s.Exports()
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped %v", skipped)
	}
	if diff := cmp.Diff(map[string]int{"affectgpt/train.json": 1}, leftOut); diff != "" {
		t.Errorf("left out (-want +got):\n%s", diff)
	}
	manifest, err := s.Manifest(files, skipped, leftOut, Settings{Dataset: "dataset.good.csv", TextColumn: "reasons", RemoveShort: 2, Mix: []string{"mix.good.jsonl"}},
		[]InputDigest{{Role: "mix", Path: "mix.good.jsonl", SHA256: "m"}, {Role: "dataset", Path: "dataset.good.csv", SHA256: "d"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range append(files, File{FileManifest, manifest}) {
		got = append(got, f.Name)
		if f.Name != FileManifest {
			if err := CheckExport(f.Name, f.Data); err != nil {
				t.Errorf("layout: %v", err)
			}
		}
		golden := filepath.Join("testdata", "golden", filepath.FromSlash(f.Name))
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if diff := cmp.Diff(string(want), string(f.Data)); diff != "" {
			t.Errorf("%s (-golden +got):\n%s", f.Name, diff)
		}
	}
	wantNames := append(ExportNames(), FileManifest)
	if diff := cmp.Diff(wantNames, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	// Equal inputs give equal bytes.
	again, _, _, err := fixtureSplit(t).Exports()
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if !bytes.Equal(files[i].Data, again[i].Data) {
			t.Errorf("%s differs between two builds", files[i].Name)
		}
	}
}

func TestExportsSkipCoarse(t *testing.T) {
	exs := examplesOf([]string{"a", "b", "c"})
	exs[0].Label, exs[1].Label, exs[2].Label = "happy", "joyful", ""
	for i := range exs {
		exs[i].Media = exs[i].Clip + ".mp4"
	}
	exs[0].Frames = 10
	s, err := MakeSplit(exs, SplitOptions{Rule: Rule{Seed: 1, Test: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	_, skipped, _, err := s.Exports()
	if err != nil {
		t.Fatal(err)
	}
	reason := `the dataset has no emotions label for every clip; the labels joyful are not among Emotion-LLaMA's classes (neutral, angry, happy, sad, worried, surprise, fear, contempt, doubt); the frame counts are not known (they are measured from the media given with --media)`
	want := []Skipped{{"merr/test_coarse.txt", reason}, {"merr/train_coarse.txt", reason}}
	if diff := cmp.Diff(want, skipped); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCheckExportRejects: the layout checks find what a loader would
// trip on.
func TestCheckExportRejects(t *testing.T) {
	for _, tc := range []struct {
		name, file, data, want string
	}{
		{"videochat unknown field", "affectgpt/train.json", `[{"video": "a.mp4", "QA": [{"i": "", "q": "x", "a": "y"}], "extra": 1}]`, `json: unknown field "extra"`},
		{"videochat no answer", "affectgpt/train.json", `[{"video": "a.mp4", "QA": [{"i": "", "q": "x"}]}]`, "item 1: a QA turn lacks i, q or a"},
		{"videochat no video", "affectgpt/test.json", `[{"QA": [{"i": "", "q": "x", "a": "y"}]}]`, "item 1: no video"},
		{"llava token count", "llava/train.json", `[{"id": "a", "video": "a.mp4", "conversations": [{"from": "human", "value": "x"}, {"from": "gpt", "value": "y"}]}]`, "item 1: 0 <image> tokens for 1 media files"},
		{"llava roles", "llava/train.json", `[{"id": "a", "conversations": [{"from": "gpt", "value": "x"}, {"from": "human", "value": "y"}]}]`, `item 1: turn 1 is from "gpt", want "human"`},
		{"sharegpt audio count", "sharegpt/train.json", `[{"conversations": [{"from": "human", "value": "<video>x"}, {"from": "gpt", "value": "y"}], "videos": ["a.mp4"], "audios": ["a.mp4"]}]`, "item 1: 0 <audio> tokens for 1 paths"},
		{"sharegpt no audios", "sharegpt/train.json", `[{"conversations": [{"from": "human", "value": "x"}, {"from": "gpt", "value": "y"}], "videos": []}]`, "item 1: no audios list"},
		{"dataset_info formatting", "sharegpt/dataset_info.json", `{"d": {"file_name": "t.json", "formatting": "alpaca", "columns": {"messages": "conversations", "videos": "videos", "audios": "audios"}}}`, "dataset d: formatting is not sharegpt"},
		{"merr fine caption", "merr/train_fine.json", `{"c": {"text": ""}}`, "clip c: no smp_reason_caption"},
		{"merr fine units", "merr/train_fine.json", `{"c": {"smp_reason_caption": "x", "text": "", "peak_AU_list": ["AU1"]}}`, "clip c: action units without a peak_index"},
		{"merr coarse fields", "merr/train_coarse.txt", "a 10 happy\nb happy\n", `line 2: not "name frames label"`},
		{"merr coarse label", "merr/train_coarse.txt", "a 10 joyful\n", `line 1: label "joyful" is not one of Emotion-LLaMA's classes`},
		{"merr coarse frames", "merr/train_coarse.txt", "a 0 happy\n", `line 1: frames "0" is not a positive integer`},
		{"null", "llava/train.json", `null`, "null instead of a list or object"},
		{"name", "other/x.json", `[]`, "not an export file name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckExport(tc.file, []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
