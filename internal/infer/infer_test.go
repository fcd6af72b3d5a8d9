package infer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/explain"
	"emer/internal/infer"
	"emer/internal/llm"
	"emer/internal/reply"
	"emer/internal/table"
)

// fakeExplainer explains every clip by its name, fails the clips named in
// fail, and counts what it was asked.
type fakeExplainer struct {
	mu    sync.Mutex
	calls map[string]int
	fail  map[string]error
}

func (f *fakeExplainer) Explain(_ context.Context, c infer.Clip) (*explain.Explanation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[c.Name]++
	if err := f.fail[c.Name]; err != nil {
		return nil, err
	}
	return &explain.Explanation{
		Clip: c.Name, Reasoning: "In the video, he smiled. " + c.Subtitle,
		Emotions: []explain.Emotion{{Label: "happy", Score: 1}}, OVLabels: []string{"happy", "excited"},
		Clues: []explain.Clue{}, Modalities: []string{"visual"}, Backend: "local", Warnings: []string{},
	}, nil
}

func writeDataset(t *testing.T, dir string, names ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("names,subtitles\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s,\"words of %s\"\n", n, n)
	}
	p := filepath.Join(dir, "dataset.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindMedia(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.mp4", "b.WAV", "c.mkv", "c.wav", "d.txt.mp4"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "e.mp4"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want, err string }{
		{"a", "a.mp4", ""},
		{"a.mp4", "a.mp4", ""},
		{"b", "b.WAV", ""},
		{"c", "c.mkv", ""}, // video before audio
		{"d.txt", "d.txt.mp4", ""},
		{"e", "", "no media file"}, // a folder is not a clip
		{"zz", "", "no media file"},
		{"../a", "", "not a file name inside"},
		{"", "", "not a file name inside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := infer.FindMedia(dir, tc.name)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("FindMedia(%q) = %q, %v; want an error with %q", tc.name, got, err, tc.err)
				}
				return
			}
			if err != nil || got != filepath.Join(dir, tc.want) {
				t.Fatalf("FindMedia(%q) = %q, %v; want %s", tc.name, got, err, tc.want)
			}
		})
	}
}

func TestRunDatasetResumesAndReports(t *testing.T) {
	dir := t.TempDir()
	media := filepath.Join(dir, "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"s01", "s02", "s03", "s04", "s05"}
	for _, n := range names[:4] { // s05 has no media
		if err := os.WriteFile(filepath.Join(media, n+".mp4"), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds := writeDataset(t, dir, names...)
	opts := infer.DatasetOptions{
		Dataset: ds, Media: media, Out: filepath.Join(dir, "out.csv"), Openset: filepath.Join(dir, "openset.csv"),
		Journal: filepath.Join(dir, "out.jsonl"), Workers: 2, Settings: infer.Settings{Backend: "local", Rules: "v1"}, Run: "infer:out.csv",
	}
	l := batch.NewMemory()
	ex := &fakeExplainer{fail: map[string]error{
		"s02": errors.New("clip.mp4 is damaged"),
		"s03": &explain.StepError{Step: explain.StepReasoning, Err: &llm.StatusError{Code: 503}},
		"s04": &explain.StepError{Step: explain.StepReasoning, Err: &reply.Failure{Kind: reply.Refused, Reason: "refused"}},
	}}
	rep, err := infer.RunDataset(context.Background(), l, opts, ex)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ran != 4 || rep.ByStatus[infer.StatusOK] != 1 || rep.ByStatus[infer.StatusError] != 2 || rep.ByStatus[infer.StatusRetry] != 1 || len(rep.Missing) != 1 || len(rep.Failed) != 3 {
		t.Fatalf("first run report: %+v", rep)
	}
	out, err := table.ReadFile(opts.Out, "reasons")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s01"}, out.Names()); diff != "" {
		t.Fatalf("out.csv names (-want +got):\n%s", diff)
	}
	if got := out.Map("reasons")["s01"]; got != "In the video, he smiled. words of s01" {
		t.Fatalf("s01 reasons = %q", got)
	}
	os1, err := table.ReadFile(opts.Openset, "openset")
	if err != nil {
		t.Fatal(err)
	}
	if got := os1.Map("openset")["s01"]; got != "['happy', 'excited']" {
		t.Fatalf("s04 openset = %q", got)
	}

	// The rerun explains only the clip whose server did not answer; the
	// broken clip and the refused reply stand until they change.
	ex.fail = nil
	rep, err = infer.RunDataset(context.Background(), l, opts, ex)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"s01": 1, "s02": 1, "s03": 2, "s04": 1}, ex.calls); diff != "" {
		t.Fatalf("calls after the rerun (-want +got):\n%s", diff)
	}
	if rep.Ran != 1 || rep.Skipped != 3 || rep.ByStatus[infer.StatusOK] != 2 || len(rep.Failed) != 2 {
		t.Fatalf("rerun report: %+v", rep)
	}
	lines, err := os.ReadFile(opts.Journal)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(lines), "\n"); n != 4 {
		t.Fatalf("journal has %d lines, want 4:\n%s", n, lines)
	}
	// Other settings explain everything again.
	opts.Settings = infer.Settings{Backend: "llm", Model: "model-x"}
	if _, err := infer.RunDataset(context.Background(), l, opts, ex); err != nil {
		t.Fatal(err)
	}
	if ex.calls["s01"] != 2 {
		t.Fatalf("s01 explained %d times after the settings changed, want 2", ex.calls["s01"])
	}
}

func TestReadDatasetColumns(t *testing.T) {
	dir := t.TempDir()
	media := t.TempDir()
	if err := os.WriteFile(filepath.Join(media, "a.wav"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(p, []byte("names,engsubs,chisubs\na,hello,你好\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"en": "hello", "zh": "你好"} {
		clips, missing, err := infer.ReadDataset(p, media, lang)
		if err != nil || len(missing) != 0 || len(clips) != 1 || clips[0].Subtitle != want {
			t.Fatalf("lang %s: %+v %v %v", lang, clips, missing, err)
		}
	}
	if err := os.WriteFile(p, []byte("names,reasons\na,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := infer.ReadDataset(p, media, "en"); err == nil || !strings.Contains(err.Error(), "no subtitle column") {
		t.Fatalf("err = %v, want no subtitle column", err)
	}
}
