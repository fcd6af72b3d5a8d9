package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/textenc"
)

// readDrafts reads the drafts CSV as rows keyed by column name.
func readDrafts(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(draftColumns, rows[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, c := range rows[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// measured are evidence keys that hold a measurement, one of which every
// sentence must cite.
var measured = []string{"mean_prob", "events", "f0_mean_hz", "speech_rate", "shimmer_local", "probs", "valence", "words", "magnitude", "change", "t"}

// TestBuildDraft drafts two clips of known content, a clip whose media is
// missing and one whose media is broken: every sentence of a draft cites
// a measurement, the drafts are annotation records emer build cost reads,
// and the two failed clips make the command exit 1 after writing the
// others.
func TestBuildDraft(t *testing.T) {
	dir := t.TempDir()
	groundClips(t, dir,
		clipSpec{name: "plain", face: "happy", speech: true},
		clipSpec{name: "louder", face: "neutral", speech: true, afilter: "volume=0.25,volume=volume=4:enable='between(t,3.2,4.4)'"},
	)
	if err := os.WriteFile(filepath.Join(dir, "broken.mp4"), []byte("not a video at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds := filepath.Join(dir, "ds.csv")
	writeCSV(t, ds, []string{"names", "subtitles"}, []string{"plain", groundSpeech}, []string{"broken", groundSpeech},
		[]string{"louder", groundSpeech}, []string{"ghost", "Nobody is here."})

	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			out := filepath.Join(dir, "drafts-"+lang+".csv")
			code, stdout, errOut := run(t, "build", "draft", "--dataset", ds, "--media", dir, "--out", out, "--lang", lang, "--json")
			if code != 1 || !strings.Contains(errOut, "ghost") || !strings.Contains(errOut, "broken") {
				t.Fatalf("exit %d, want 1 naming ghost and broken: %s", code, errOut)
			}
			var sum draftSummary
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			var failed []string
			for _, f := range sum.Failed {
				failed = append(failed, f.Name)
			}
			if sum.Clips != 4 || sum.Drafted != 2 || !cmp.Equal(failed, []string{"ghost", "broken"}) {
				t.Errorf("summary %+v, want 4 clips, 2 drafted, ghost and broken failed", sum)
			}

			rows := readDrafts(t, out)
			aspects := map[string][]string{}
			for _, r := range rows {
				aspects[r["clip"]] = append(aspects[r["clip"]], r["aspect"])
				if r["annotator"] != DraftAnnotator || r["lang"] != lang {
					t.Errorf("%s %s: annotator %q, lang %q", r["clip"], r["aspect"], r["annotator"], r["lang"])
				}
				var ev []draftEvidence
				if err := json.Unmarshal([]byte(r["evidence"]), &ev); err != nil {
					t.Fatalf("%s %s: evidence %v: %s", r["clip"], r["aspect"], err, r["evidence"])
				}
				sep := " "
				if lang == "zh" {
					sep = ""
				}
				var sentences []string
				for _, e := range ev {
					sentences = append(sentences, e.Sentence)
					if e.Evidence["rule"] == nil {
						t.Errorf("%s %s: %q cites no rule: %v", r["clip"], r["aspect"], e.Sentence, e.Evidence)
					}
					cites := false
					for _, k := range measured {
						if e.Evidence[k] != nil {
							cites = true
						}
					}
					if !cites {
						t.Errorf("%s %s: %q cites no measured value: %v", r["clip"], r["aspect"], e.Sentence, e.Evidence)
					}
					end := "."
					if lang == "zh" {
						end = "。"
					}
					if !strings.HasSuffix(e.Sentence, end) {
						t.Errorf("%q does not end a sentence", e.Sentence)
					}
				}
				if got := strings.Join(sentences, sep); got != r["text"] {
					t.Errorf("%s %s: text %q is not its sentences %q", r["clip"], r["aspect"], r["text"], got)
				}
			}
			// The happy face gives a facial clue, the speech a voice
			// clue, the subtitle ("glad") a content clue; the louder
			// stretch is a voice clue of its own.
			want := map[string][]string{"plain": {"visual", "audio", "content"}, "louder": {"visual", "audio", "content"}}
			if diff := cmp.Diff(want, aspects); diff != "" {
				t.Errorf("aspects drafted (-want +got):\n%s", diff)
			}
			if lang == "en" && !strings.Contains(rowText(rows, "plain", "visual"), "happy") {
				t.Errorf("the happy face's draft does not say it looked happy: %q", rowText(rows, "plain", "visual"))
			}
			if lang == "en" && !strings.Contains(rowText(rows, "louder", "audio"), "raised his voice") {
				t.Errorf("the louder stretch's draft does not say he raised his voice: %q", rowText(rows, "louder", "audio"))
			}

			// emer build cost reads the drafts as they are.
			af, err := dataset.ReadAnnotationsFile(out, dataset.ReadOptions{Encoding: textenc.Default(), RequireAnnotator: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(af.Records) != len(rows) {
				t.Errorf("build cost reads %d records, the file holds %d", len(af.Records), len(rows))
			}
			if code, _, errOut := run(t, "build", "cost", "--drafts", out, "--final", out, "--json"); code != 0 {
				t.Errorf("build cost on the drafts: exit %d: %s", code, errOut)
			}
		})
	}
}

func rowText(rows []map[string]string, clip, aspect string) string {
	for _, r := range rows {
		if r["clip"] == clip && r["aspect"] == aspect {
			return r["text"]
		}
	}
	return ""
}

func TestBuildDraftUsage(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds.csv")
	writeCSV(t, ds, []string{"names", "subtitles"}, []string{"a", "Hello."})
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no flags", nil, 2, "required"},
		{"jsonl out", []string{"--dataset", ds, "--media", dir, "--out", filepath.Join(dir, "d.jsonl")}, 2, "drafts are written as .csv"},
		{"bad lang", []string{"--dataset", ds, "--media", dir, "--out", filepath.Join(dir, "d.csv"), "--lang", "fr"}, 2, `--lang "fr"`},
		{"media not a folder", []string{"--dataset", ds, "--media", ds, "--out", filepath.Join(dir, "d.csv")}, 1, "is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"build", "draft"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}
