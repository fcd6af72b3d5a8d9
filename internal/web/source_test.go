package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/study"
	"emer/internal/web"
	"emer/internal/web/webtest"
)

func TestLoadDraft(t *testing.T) {
	dir := t.TempDir()
	files := webtest.Files(t, dir, 3, "alpha", "beta")
	// A media file no row names, and a row without media.
	if err := os.WriteFile(filepath.Join(files.Dir, "stray.webm"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(files.Dir, files.Clips[2]+".mp4")); err != nil {
		t.Fatal(err)
	}
	good := func() web.Spec {
		return web.Spec{Name: "s", Clips: files.Dir, GroundTruth: files.GroundTruth, Target: 5, Seed: 1,
			Predictions: []study.NamedFile{{Name: "alpha", Path: files.Predictions["alpha"]}, {Name: "beta", Path: files.Predictions["beta"]}}}
	}
	d, warns, err := web.LoadDraft(context.Background(), good())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clips) != 2 || len(d.Clips[0].Candidates) != 3 || d.Clips[0].Candidates[0].Source != study.GroundTruth {
		t.Errorf("draft: %d clips, first with %+v", len(d.Clips), d.Clips[0].Candidates)
	}
	if got := d.Clips[0].Subtitles; len(got.Cues) != 1 || got.Text != "He says hello, number 0." {
		t.Errorf("first clip's subtitles %+v: want the .srt's cue and the CSV's text", got)
	}
	wantWarns := []string{
		"1 clips of " + files.GroundTruth + " have no media file in " + files.Dir + " and are left out: clip002",
		"1 media files of " + files.Dir + " are not in the ground truth and are left out: stray",
	}
	if strings.Join(warns, "\n") != strings.Join(wantWarns, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warns, "\n"), strings.Join(wantWarns, "\n"))
	}

	for _, tc := range []struct {
		name string
		edit func(s *web.Spec)
		want []string
	}{
		{"no reasons column", func(s *web.Spec) { s.GroundTruth = filepath.Join("testdata", "no-reasons.bad.csv") },
			[]string{"testdata/no-reasons.bad.csv:1: missing column: need one of reasons, chi_reasons (the columns are names, emotions)"}},
		{"predictions missing", func(s *web.Spec) { s.Predictions[1].Path = filepath.Join("testdata", "missing-predictions.bad.csv") },
			[]string{"testdata/missing-predictions.bad.csv: no prediction (or an empty one) for 1 clips of the study: clip001"}},
		{"bad and doubled names", func(s *web.Spec) {
			s.Predictions = append(s.Predictions, study.NamedFile{Name: "<b>", Path: "x"}, study.NamedFile{Name: "alpha", Path: "y"}, study.NamedFile{Name: "Ground_Truth", Path: "z"})
		}, []string{`system name "<b>": use letters`, "system alpha is given twice", "system name ground_truth is taken"}},
		{"no predictions", func(s *web.Spec) { s.Predictions = nil }, []string{"give at least one system's predictions"}},
		{"no clips folder", func(s *web.Spec) { s.Clips = filepath.Join(dir, "nowhere") }, []string{"clips folder: open " + filepath.Join(dir, "nowhere")}},
		{"empty clips folder", func(s *web.Spec) { s.Clips = t.TempDir() }, []string{"holds no media files (.m4v .mkv .mov .mp4 .ogv .webm)"}},
		{"no raters", func(s *web.Spec) { s.Target = 0 }, []string{"raters per clip 0: want 1 to 1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.edit(&s)
			_, _, err := web.LoadDraft(context.Background(), s)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// TestNewStudyFormErrors checks that the form shows every problem and
// keeps what was typed.
func TestNewStudyFormErrors(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	resp, body := webtest.Do(t, f.c, "POST", f.srv.URL+"/admin/studies", adminToken, url.Values{
		"name": {"typed name"}, "clips": {f.files.Dir}, "gt": {f.files.GroundTruth},
		"predictions": {"alpha\nbeta=" + filepath.Join("testdata", "missing-predictions.bad.csv")}, "target": {"five"}, "seed": {"7"},
	})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("%s, want 422", resp.Status)
	}
	for _, want := range []string{`raters per clip &#34;five&#34;: want a whole number`, `predictions, line 1: want NAME=FILE, got &#34;alpha&#34;`, `value="typed name"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
}
