package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/config"
	"emer/internal/dataset"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/web/webtest"
)

// stopServe stops a child emer serve with SIGTERM and waits for it.
func stopServe(t *testing.T, c *serveChild) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := <-c.done
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Errorf("emer serve after SIGTERM: %v, want exit status 143", err)
	}
}

var rateAction = regexp.MustCompile(`action="(/r/[A-Za-z0-9_-]{22}/c/([0-9a-f]{16}))"`)

// rateOnce rates the clip that the rater of link is given by the server
// at base with scores, by position, and returns the clip's ID.
func rateOnce(t *testing.T, c *http.Client, base, link string, scores ...int) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := webtest.Do(t, c, "GET", base+u.Path, "", nil)
	m := rateAction.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("rating page at %s: %s\n%s", base, resp.Status, body)
	}
	form := url.Values{}
	for i, s := range scores {
		form.Set(fmt.Sprintf("p%d", i), fmt.Sprint(s))
	}
	if resp, body := webtest.Do(t, c, "POST", base+m[1], "", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sending the ratings at %s: %s\n%s", base, resp.Status, body)
	}
	return m[2]
}

// ratingsCSV returns the rows of a study's ratings CSV as
// "rater|position|score", in the order written.
func ratingsCSV(t *testing.T, c *http.Client, studyURL string) []string {
	t.Helper()
	resp, body := webtest.Do(t, c, "GET", studyURL+"/ratings.csv", loadAdminToken, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ratings CSV: %s\n%s", resp.Status, body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[1]+"|"+r[4]+"|"+r[5])
	}
	return out
}

// TestServePostgres runs emer serve --store postgres://...: a study made
// and rated through one server is rated further through a second one on
// the same database at once, which hands out the clip the first has not
// rated; both servers' ratings are there after the first is restarted,
// which hands the first rater the clip they have not rated.
func TestServePostgres(t *testing.T) {
	dir := t.TempDir()
	files := webtest.Files(t, dir, 2, "alpha", "beta")
	db := pgtest.New(t).NewDatabase(t)
	a := startServe(t, "--store", db)
	c := webtest.Client()
	studyURL, links := webtest.Make(t, c, a.base, loadAdminToken, "shared", files, 2, 2)
	studyPath := strings.TrimPrefix(studyURL, a.base)
	first := rateOnce(t, c, a.base, links[0], 1, 2, 3)

	b := startServe(t, "--store", db)
	second := rateOnce(t, c, b.base, links[1], 4, 3, 2)
	if second == first {
		t.Errorf("the second rater was given clip %s, rated through the first server, not the other one, rated by nobody", first)
	}
	stopServe(t, a)
	a = startServe(t, "--store", db)
	want := []string{"rater 1|1|1", "rater 1|2|2", "rater 1|3|3", "rater 2|1|4", "rater 2|2|3", "rater 2|3|2"}
	for name, base := range map[string]string{"restarted": a.base, "second": b.base} {
		if diff := cmp.Diff(want, ratingsCSV(t, c, base+studyPath)); diff != "" {
			t.Errorf("ratings through the %s server (-want +got):\n%s", name, diff)
		}
	}
	if next := rateOnce(t, c, a.base, links[0], 2, 2, 2); next != second {
		t.Errorf("after the restart the first rater was given clip %s, want %s, the one they have not rated", next, second)
	}
	stopServe(t, a)
	stopServe(t, b)

	s, err := pgstore.Open(context.Background(), db, pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs, err := study.NewService(s.Studies(), 0, nil).Ratings(context.Background(), 1)
	if err != nil || len(rs) != 9 {
		t.Errorf("%d ratings in the database (%v), want 9", len(rs), err)
	}
}

// TestServeKilledPostgres is TestServeKilled with the studies in
// PostgreSQL: every submission acknowledged before the kill is in the
// database, and the restarted server lets the raters finish.
func TestServeKilledPostgres(t *testing.T) {
	loadRun(t, loadConfig{raters: 8, perRater: 5, killAfter: 15, postgres: true})
}

// pgReviewRun puts the review state of the summarize folder out into the
// PostgreSQL store at db as the run named run, its drafts as they are
// there, and returns the run's name.
func pgReviewRun(t *testing.T, db, out, run string) string {
	t.Helper()
	ctx := context.Background()
	local, err := store.OpenReadOnly(ctx, filepath.Join(out, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	rs, err := store.NewReviews(local).Reviews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cs []dataset.Change
	for _, r := range rs {
		c, _ := dataset.DraftChange(nil, r.Clip, r.Draft, r.Flags, "emer build summarize", r.At)
		cs = append(cs, c)
	}
	s, err := pgstore.Open(ctx, db, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Reviews(run).ApplyReviews(ctx, cs); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestServeReviewPostgres reviews the descriptions of a run of emer
// build summarize --store postgres://..., named by its folder, in the
// browser while emer build review --store --run works on the same run:
// the run's review state is that of the same run on one machine; what the
// pages change, --export writes; what --import changes, the pages show; a
// page made before an import cannot undo it. Another run in the database
// is left as it was.
func TestServeReviewPostgres(t *testing.T) {
	clearConfigEnv(t)
	local, srv := summarizedFolder(t)
	dir := t.TempDir()
	db := pgtest.New(t).NewDatabase(t)
	out := t.TempDir()
	if err := runBuildSummarize(context.Background(), sharedSummarizeOpts(out, srv.BaseURL(), db, io.Discard)); err != nil {
		t.Fatal(err)
	}
	run := "summarize:" + absPath(out)
	otherRun := pgReviewRun(t, db, local, "nightly")
	check := filepath.Join(dir, "check.json")
	if err := os.WriteFile(check, []byte(`{"clips":[{"name":"sample_s003","claims":[
		{"text":"he glares","aspect":"face","verdict":"contradicted","evidence":{"expression":"neutral","share":0.9}}]}],
		"totals":{"claims":1,"supported":0,"contradicted":1,"unverifiable":0}}`), 0o644); err != nil {
		t.Fatal(err)
	}

	const token = "serve-review-admin-token"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sv := serveInProcess(t, ctx, serveOptions{Hold: study.DefaultHold,
		Config: config.Config{AdminToken: token, Store: config.Store{Driver: config.DriverPostgres, URL: db}},
		Review: out, ReviewDataset: summarizeTD("dataset.csv"), ReviewCheck: check})
	base, stdout, stderr, done := sv.base, sv.stdout, sv.stderr, sv.done
	if want := "reviewing the descriptions of " + run + " in " + pgstore.Redact(db) + " (organizer: " + base + "/admin/review)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout does not say %q:\n%s", want, stdout.String())
	}
	c := webtest.Client()
	link := webtest.InviteReviewers(t, c, base, token, "ann")[0]
	page, send := reviewerPages(t, c, base, link)
	if body := page("sample_s003"); !strings.Contains(body, `<span class="claim-text">he glares</span><br><span class="evidence">expression: neutral; share: 0.9</span>`) {
		t.Errorf("sample_s003's page lacks the check loaded into the store:\n%s", body)
	}
	shared := func(run string) buildReviewOptions {
		return buildReviewOptions{Store: config.Store{Driver: config.DriverPostgres, URL: db}, Run: run, Stdout: io.Discard, Stderr: io.Discard,
			now: func() time.Time { return time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC) }}
	}
	export := func(run, path string) map[string][]string {
		t.Helper()
		opts := shared(run)
		opts.Export = path
		if err := runBuildReview(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		return readCSVRows(t, path)
	}
	before := export(run, filepath.Join(dir, "before.csv"))
	localCSV := filepath.Join(dir, "local.csv")
	if err := runBuildReview(context.Background(), buildReviewOptions{DB: filepath.Join(local, "emer.db"), Export: localCSV, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readCSVRows(t, localCSV), before); diff != "" {
		t.Errorf("the shared run's export is not that of the run on one machine (-one machine +shared):\n%s", diff)
	}
	edited := "In the video, he smiles and raises a glass. Therefore, it is inferred that his emotional state is happy."
	send("sample_s001", "accept", before["sample_s001"][2], "", http.StatusSeeOther)
	send("sample_s002", "edit", edited, "a toast", http.StatusSeeOther)

	// Exported while the server runs (by its folder): the pages' changes
	// are there.
	want := export(run, filepath.Join(dir, "before.csv"))
	want["sample_s001"] = []string{"sample_s001", "accepted", before["sample_s001"][2], "ann", ""}
	want["sample_s002"] = []string{"sample_s002", "edited", edited, "ann", "a toast"}
	got := export(out, filepath.Join(dir, "after.csv"))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("export after the web's changes (-want +got):\n%s", diff)
	}

	// An import while the server runs: the page shows it; a form made
	// before it is refused.
	stale := webtest.ReadReviewForm(t, page("sample_s004"))
	row := got["sample_s004"]
	written := "In the video, he wipes tears away on a rainy platform. Therefore, it is inferred that his emotional state is sad and lonely."
	row[1], row[2], row[3] = "edited", written, "bo"
	reviewed := filepath.Join(dir, "reviewed.csv")
	writeCSVRows(t, reviewed, got["name"], row)
	opts := shared(run)
	opts.Import = reviewed
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	body := html.UnescapeString(page("sample_s004"))
	for _, s := range []string{`<p class="text" id="description">` + written + `</p>`, "<td>bo</td>", "pending → edited"} {
		if !strings.Contains(body, s) {
			t.Errorf("sample_s004's page after the import lacks %q:\n%s", s, body)
		}
	}
	if resp, _ := webtest.Do(t, c, "POST", base+stale.Action, "", stale.Values("accept", before["sample_s004"][2], "")); resp.StatusCode != http.StatusConflict {
		t.Errorf("a form made before the import: %s, want 409", resp.Status)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("runServe after cancel: %v\n%s", err, stderr.String())
	}
	want["sample_s004"] = row
	if diff := cmp.Diff(want, export(run, filepath.Join(dir, "last.csv"))); diff != "" {
		t.Errorf("export after the server stopped (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, export(otherRun, filepath.Join(dir, "other.csv"))); diff != "" {
		t.Errorf("the other run changed (-before +after):\n%s", diff)
	}
}

// TestServePostgresUsage checks the errors of the store and review flags
// with a PostgreSQL store.
func TestServePostgresUsage(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	db := pgtest.New(t).NewDatabase(t)
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "emer.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := pgstore.Open(context.Background(), db, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := dataset.DraftChange(nil, "c1", "a draft", nil, "emer build summarize", time.Now())
	if err := s.Reviews("nightly").ApplyReviews(context.Background(), []dataset.Change{c}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, tc := range []struct {
		name string
		args []string
		env  string // EMER_STORE
		code int
		want string
	}{
		{"review of a file", []string{"--store", db, "--review", filepath.Join(out, "emer.db")}, "", 2,
			"--review " + filepath.Join(out, "emer.db") + " is a file: with a postgres:// store, --review names a run of emer build summarize in it"},
		{"review of an unknown run", []string{"--store", db, "--review", "summarize:/nowhere"}, "", 1,
			"--review summarize:/nowhere: no descriptions of that run are in review; " + pgstore.Redact(db) + " holds the review of nightly"},
		{"review of a folder of no run", []string{"--review", out}, db, 1, "--review " + out + ": no descriptions of that run are in review"},
		{"store and db", []string{"--store", db, "--db", filepath.Join(dir, "x.db")}, "", 2, "give --db FILE or --store, not both"},
		{"sqlite store of the environment", []string{"--hold", "2m"}, "sqlite:" + filepath.Join(dir, "none", "x.db"), 1, filepath.Join(dir, "none")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EMER_STORE", tc.env)
			var stderr lockedBuffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := execute(ctx, append(append([]string{"serve"}, tc.args...), "--addr", "127.0.0.1:0"), io.Discard, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}
