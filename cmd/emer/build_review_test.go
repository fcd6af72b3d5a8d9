package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/llm/llmtest"
	"emer/internal/store"
)

// summarizedFolder runs emer build summarize on the fixture into a new
// folder and returns it and the fake server.
func summarizedFolder(t *testing.T) (string, *llmtest.Server) {
	t.Helper()
	srv := llmtest.NewServer(summarizeModel)
	t.Cleanup(srv.Close)
	out := t.TempDir()
	if err := runBuildSummarize(context.Background(), summarizeOpts(out, srv.BaseURL(), io.Discard)); err != nil {
		t.Fatal(err)
	}
	return out, srv
}

// readCSVRows reads a CSV whole: the header and the rows keyed by their
// first field.
func readCSVRows(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range recs {
		out[r[0]] = r
	}
	return out
}

// writeCSVRows writes a CSV of rows.
func writeCSVRows(t *testing.T, path string, rows ...[]string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func reviewOpts(out string, stderr io.Writer) buildReviewOptions {
	return buildReviewOptions{DB: filepath.Join(out, "emer.db"), Stdout: io.Discard, Stderr: stderr,
		now: func() time.Time { return time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC) }}
}

// An export, reviewed and imported, changes the rows changed and no
// other; the history keeps who changed what; summarize run again keeps
// the reviews.
func TestBuildReviewRoundTrip(t *testing.T) {
	out, srv := summarizedFolder(t)
	dir := t.TempDir()
	exported := filepath.Join(dir, "review.csv")
	opts := reviewOpts(out, io.Discard)
	opts.Export = exported
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	rows := readCSVRows(t, exported)
	if len(rows) != 31 {
		t.Fatalf("export has %d rows, want a header and 30", len(rows))
	}
	if want := []string{"sample_s023", "pending", "", "", "marked for review: emotion: empty reply"}; !cmp.Equal(rows["sample_s023"], want) {
		t.Errorf("flagged row = %q, want %q", rows["sample_s023"], want)
	}
	edited := "In the video, he smiles and laughs with his friends. Therefore, it is inferred that his emotional state is happy and grateful."
	written := "In the video, he covers the camera with his hand. Therefore, it is inferred that his emotional state is shy."
	accept, edit, reject, fill := rows["sample_s001"], rows["sample_s002"], rows["sample_s003"], rows["sample_s011"]
	accept[1] = "accepted"
	edit[1], edit[2], edit[3] = "edited", edited, "bo"
	reject[1], reject[4] = "rejected", "the clues are about another person"
	fill[1], fill[2], fill[4] = "edited", written, "written from the video"
	reviewed := filepath.Join(dir, "reviewed.csv")
	writeCSVRows(t, reviewed, rows["name"], accept, edit, reject, fill, rows["sample_s004"])

	var stderr bytes.Buffer
	opts = reviewOpts(out, &stderr)
	opts.Import, opts.Reviewer = reviewed, "ann"
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if want := "5 rows, 4 changes applied: 1 accepted, 2 edited, 1 rejected\n"; !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("stderr %q, want it to end %q", stderr.String(), want)
	}

	after := filepath.Join(dir, "after.csv")
	opts = reviewOpts(out, io.Discard)
	opts.Export = after
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	got := readCSVRows(t, after)
	want := readCSVRows(t, exported)
	want["sample_s001"] = []string{"sample_s001", "accepted", accept[2], "ann", ""}
	want["sample_s002"] = []string{"sample_s002", "edited", edited, "bo", ""}
	want["sample_s003"] = []string{"sample_s003", "rejected", reject[2], "ann", "the clues are about another person"}
	want["sample_s011"] = []string{"sample_s011", "edited", written, "ann", "written from the video"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("export after the import (-want +got):\n%s", diff)
	}

	db, err := store.OpenReadOnly(context.Background(), filepath.Join(out, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.NewReviews(db).History(context.Background(), "sample_s002")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].By != "emer build summarize" || h[0].Before != nil || h[1].By != "bo" ||
		h[1].Before.Status != dataset.Pending || h[1].After.Text != edited || !h[1].At.Equal(time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("history of sample_s002: %+v", h)
	}

	// The same file again changes nothing.
	stderr.Reset()
	opts = reviewOpts(out, &stderr)
	opts.Import, opts.Reviewer = after, "ann"
	if err := runBuildReview(context.Background(), opts); err != nil || !strings.Contains(stderr.String(), "30 rows, no change") {
		t.Errorf("import of the new export: %v, %s", err, stderr.String())
	}

	// summarize again: nothing asked, the reviews stand.
	sent := srv.Count()
	if err := runBuildSummarize(context.Background(), summarizeOpts(out, srv.BaseURL(), io.Discard)); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != sent {
		t.Errorf("the rerun sent %d requests", srv.Count()-sent)
	}
	opts = reviewOpts(out, io.Discard)
	opts.Export = filepath.Join(dir, "again.csv")
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, readCSVRows(t, opts.Export)); diff != "" {
		t.Errorf("reviews after summarize ran again (-before +after):\n%s", diff)
	}
}

// A file with problems applies nothing and names every problem's line;
// so does a row that accepts a draft replaced since the export.
func TestBuildReviewImportBad(t *testing.T) {
	out, _ := summarizedFolder(t)
	dir := t.TempDir()
	exported := filepath.Join(dir, "review.csv")
	opts := reviewOpts(out, io.Discard)
	opts.Export = exported
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSVRows(t, exported)
	ok := rows["sample_s001"]
	ok[1], ok[3] = "accepted", "ann"
	bad := filepath.Join(dir, "bad.csv")
	writeCSVRows(t, bad, rows["name"], ok,
		[]string{"sample_s002", "approved", rows["sample_s002"][2], "ann", ""},
		[]string{"sample_s999", "accepted", "x", "ann", ""},
		[]string{"sample_s017", "accepted", "", "ann", ""},
		[]string{"sample_s004", "accepted", "In the video, he is fine.", "", ""})
	opts = reviewOpts(out, io.Discard)
	opts.Import = bad
	err = runBuildReview(context.Background(), opts)
	want := []string{
		"nothing imported:",
		bad + `:3: unknown status "approved" (want pending, accepted, edited or rejected)`,
		bad + `:4: clip "sample_s999" has no description in the store`,
		bad + `:5: clip "sample_s017" has no draft to accept (marked for review: clues: reply cut off at the token limit (finish_reason length): He talks for a long time and): write a description and set the status to edited`,
		bad + `:6: the reasons of clip "sample_s004" differ from the draft: set the status to edited to keep them`,
		bad + `:6: the change of clip "sample_s004" names no reviewer: fill the reviewer column or give one for the whole file`,
	}
	if err == nil {
		t.Fatal("imported")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	opts = reviewOpts(out, io.Discard)
	opts.Export = filepath.Join(dir, "after.csv")
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(opts.Export); !bytes.Equal(before, after) {
		t.Errorf("a failed import changed the reviews:\n%s", after)
	}

	// A new draft of sample_s001 since the export: accepting the old one
	// is refused.
	db, err := store.Open(context.Background(), filepath.Join(out, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	rv := store.NewReviews(db)
	cur, err := rv.Reviews(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := dataset.DraftChange(&cur[0], "sample_s001", "In the video, he frowns. Therefore, it is inferred that his emotional state is sad.", nil, "emer build summarize", time.Now())
	err = rv.ApplyReviews(context.Background(), []dataset.Change{c})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "stale.csv")
	writeCSVRows(t, stale, rows["name"], ok)
	opts = reviewOpts(out, io.Discard)
	opts.Import = stale
	if err := runBuildReview(context.Background(), opts); err == nil || !strings.Contains(err.Error(), stale+`:2: the reasons of clip "sample_s001" differ from the draft`) {
		t.Errorf("import of a stale acceptance: %v", err)
	}
}

func TestBuildReviewErrors(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	db, err := store.Open(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, tc := range []struct {
		name  string
		opts  buildReviewOptions
		want  string
		usage bool
	}{
		{"neither", buildReviewOptions{DB: "x.db"}, "give --export FILE or --import FILE", true},
		{"both", buildReviewOptions{DB: "x.db", Export: "a", Import: "b"}, "--export and --import exclude each other", true},
		{"reviewer for export", buildReviewOptions{DB: "x.db", Export: "a", Reviewer: "ann"}, "--reviewer is for --import", true},
		{"no store", buildReviewOptions{DB: filepath.Join(dir, "none.db"), Export: "a"}, "--db: stat " + filepath.Join(dir, "none.db") + ": no such file or directory", false},
		{"no reviews", buildReviewOptions{DB: old, Export: filepath.Join(dir, "a.csv")}, old + " holds no descriptions in review: emer build summarize puts them there", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Stdout, tc.opts.Stderr = io.Discard, io.Discard
			err := runBuildReview(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, errUsage) != tc.usage {
				t.Errorf("err = %v, want %q (usage %v)", err, tc.want, tc.usage)
			}
		})
	}
}
