package infer_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/infer"
)

func testSettings() infer.Settings {
	return infer.Settings{Backend: "local", Mode: "end2end", Prompt: "emer", Frames: 8, Lang: "en", FPS: 2, Detector: "auto", Landmarks: "net"}.WithVersions()
}

// writeMedia writes a media file and returns its absolute path.
func writeMedia(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestItemDecodesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	path := writeMedia(t, dir, "c01.mp4", "some video")
	c := infer.Clip{Name: "c01", Path: path, Subtitle: "I am <so> happy & glad."}
	bi, err := infer.NewItem(c, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	it, err := infer.DecodeItem(bi)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, it.Clip()); diff != "" {
		t.Fatalf("decoded clip (-queued +decoded):\n%s", diff)
	}
	if it.Settings != testSettings() {
		t.Fatalf("decoded settings %+v, want %+v", it.Settings, testSettings())
	}
	if err := it.CheckMedia(); err != nil {
		t.Fatalf("the media is here as queued: %v", err)
	}
	// A store may give the payload back with its keys reordered and its
	// characters unescaped (PostgreSQL's jsonb does): the digest stands.
	var m map[string]any
	if err := json.Unmarshal(bi.Payload, &m); err != nil {
		t.Fatal(err)
	}
	re, _ := json.Marshal(m)
	if _, err := infer.DecodeItem(batch.Item{Key: bi.Key, Input: bi.Input, Payload: []byte(strings.ReplaceAll(string(re), `\u003c`, "<"))}); err != nil {
		t.Fatalf("the payload re-encoded: %v", err)
	}

	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(bi.Payload, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		item    batch.Item
		want    string
		version bool
	}{
		{"not JSON", batch.Item{Key: "c01", Input: bi.Input, Payload: []byte("{")}, "unexpected EOF", false},
		{"another clip's payload", batch.Item{Key: "c02", Input: bi.Input, Payload: bi.Payload}, `its payload is of clip "c01"`, false},
		{"another subtitle", batch.Item{Key: "c01", Input: bi.Input, Payload: edit(func(m map[string]any) { m["subtitle"] = "no" })}, "not that of its input digest", false},
		{"other settings", batch.Item{Key: "c01", Input: bi.Input, Payload: edit(func(m map[string]any) { m["settings"].(map[string]any)["fps"] = 1 })}, "not that of its input digest", false},
		{"a relative path", batch.Item{Key: "c01", Input: bi.Input, Payload: edit(func(m map[string]any) { m["path"] = "media/c01.mp4" })}, "is not absolute", false},
		{"bad settings", batch.Item{Key: "c01", Input: bi.Input, Payload: edit(func(m map[string]any) { m["settings"].(map[string]any)["backend"] = "gpu" })}, "backend must be local or llm", false},
		{"a newer emer's field", batch.Item{Key: "c01", Input: bi.Input, Payload: edit(func(m map[string]any) { m["settings"].(map[string]any)["temperature"] = 0.5 })}, `unknown field "temperature"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := infer.DecodeItem(tc.item)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if got := errors.Is(err, infer.ErrOtherVersion); got != tc.version {
				t.Fatalf("err = %v: of another version %v, want %v", err, got, tc.version)
			}
		})
	}
}

func TestItemCheckMedia(t *testing.T) {
	dir := t.TempDir()
	path := writeMedia(t, dir, "c01.mp4", "some video")
	bi, err := infer.NewItem(infer.Clip{Name: "c01", Path: path}, testSettings())
	if err != nil {
		t.Fatal(err)
	}
	it, err := infer.DecodeItem(bi)
	if err != nil {
		t.Fatal(err)
	}
	// Another file at the path: other bytes, another time.
	writeMedia(t, dir, "c01.mp4", "another, longer video")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	err = it.CheckMedia()
	if !errors.Is(err, infer.ErrMediaChanged) || !strings.Contains(err.Error(), path+" is 21 bytes modified") ||
		!strings.Contains(err.Error(), "the run queued it as 10 bytes") || !strings.Contains(err.Error(), "at the same path") {
		t.Fatalf("changed media: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	err = it.CheckMedia()
	if !errors.Is(err, infer.ErrMediaChanged) || !strings.Contains(err.Error(), path+" is missing on this machine") {
		t.Fatalf("missing media: %v", err)
	}
	// The whole folder missing: this machine does not see the run's media.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	err = it.CheckMedia()
	if !errors.Is(err, infer.ErrMediaNotHere) || errors.Is(err, infer.ErrMediaChanged) ||
		!strings.Contains(err.Error(), "its folder "+dir+" is not on this machine") {
		t.Fatalf("missing folder: %v", err)
	}
	if _, err := infer.NewItem(infer.Clip{Name: "c01", Path: "c01.mp4"}, testSettings()); err == nil {
		t.Fatal("a relative media path was queued")
	}
}

func TestCheckVersions(t *testing.T) {
	s := testSettings()
	if err := s.CheckVersions(); err != nil {
		t.Fatal(err)
	}
	s.Rules = "emer-rules/1"
	if err := s.CheckVersions(); !errors.Is(err, infer.ErrOtherVersion) || !strings.Contains(err.Error(), `"emer-rules/1" there`) {
		t.Fatalf("other rules: %v", err)
	}
	s = testSettings()
	s.Backend, s.Model = "llm", "m"
	if err := s.CheckVersions(); !errors.Is(err, infer.ErrOtherVersion) {
		t.Fatalf("an llm run stamped as local: %v", err)
	}
	if err := s.WithVersions().CheckVersions(); err != nil {
		t.Fatal(err)
	}
}

// workingQueue stands for workers: it explains the items it is given at
// once, as a worker would from the item alone, and records them.
type workingQueue struct {
	t      *testing.T
	l      batch.Ledger
	ex     infer.Explainer
	queued []string
}

func (q *workingQueue) Enqueue(ctx context.Context, run, kind string, items []batch.Item) error {
	for _, bi := range items {
		q.queued = append(q.queued, bi.Key)
		it, err := infer.DecodeItem(bi)
		if err != nil {
			q.t.Errorf("queued %s: %v", bi.Key, err)
			continue
		}
		if !filepath.IsAbs(it.Path) {
			q.t.Errorf("queued %s with media path %s", bi.Key, it.Path)
		}
		o := infer.ExplainClip(ctx, q.ex, it.Clip())
		if err := q.l.Put(ctx, batch.Record{Run: run, Kind: kind, Key: bi.Key, Input: bi.Input, Class: o.Class, Status: o.Status, Payload: o.Payload}); err != nil {
			return err
		}
	}
	return nil
}

func (q *workingQueue) Outstanding(context.Context, string, string) (int, error) { return 0, nil }

// TestRunDatasetQueued: a queued run writes the files of a run on one
// machine, from the clips' items alone; a rerun queues nothing.
func TestRunDatasetQueued(t *testing.T) {
	dir := t.TempDir()
	media := filepath.Join(dir, "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"s01", "s02", "s03", "s04"}
	for _, n := range names[:3] { // s04 has no media
		writeMedia(t, media, n+".mp4", n)
	}
	ds := writeDataset(t, dir, names...)
	fail := map[string]error{"s02": errors.New("clip.mp4 is damaged")}
	run := func(sub string, queued bool) (*infer.Report, *workingQueue) {
		t.Helper()
		out := filepath.Join(dir, sub)
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		opts := infer.DatasetOptions{
			Dataset: ds, Media: media, Out: filepath.Join(out, "out.csv"), Openset: filepath.Join(out, "openset.csv"),
			Journal: filepath.Join(out, "out.jsonl"), Workers: 2, Settings: testSettings(), Run: "infer:" + sub,
		}
		l := batch.NewMemory()
		ex := &fakeExplainer{fail: fail}
		var q *workingQueue
		if queued {
			// The media folder as given, relative: the items' paths are
			// absolute all the same.
			wd, _ := os.Getwd()
			rel, err := filepath.Rel(wd, media)
			if err != nil {
				t.Fatal(err)
			}
			q = &workingQueue{t: t, l: l, ex: ex}
			opts.Media, opts.Queue = rel, q
		}
		rep, err := infer.RunDataset(context.Background(), l, opts, ex)
		if err != nil {
			t.Fatal(err)
		}
		if queued {
			// Again: nothing is queued.
			q2 := &workingQueue{t: t, l: l, ex: ex}
			opts.Queue = q2
			rep2, err := infer.RunDataset(context.Background(), l, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(q2.queued) != 0 || rep2.Ran != 0 || rep2.Skipped != 3 {
				t.Fatalf("rerun queued %v, report %+v", q2.queued, rep2)
			}
		}
		return rep, q
	}
	want, _ := run("local", false)
	got, q := run("queued", true)
	if diff := cmp.Diff([]string{"s01", "s02", "s03"}, q.queued); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	if got.Ran != want.Ran || len(got.Failed) != 1 || len(got.Missing) != 1 || got.ByStatus[infer.StatusOK] != 2 {
		t.Errorf("queued report %+v, on one machine %+v", got, want)
	}
	for _, f := range []string{"out.csv", "openset.csv", "out.jsonl"} {
		w, err := os.ReadFile(filepath.Join(dir, "local", f))
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(filepath.Join(dir, "queued", f))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(w), string(g)); diff != "" {
			t.Errorf("%s (-one machine +queued):\n%s", f, diff)
		}
	}
}
