package main

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/config"
	"emer/internal/study"
	"emer/internal/web/webtest"
)

// TestServeReview reviews the descriptions of emer build summarize in
// the browser while emer build review works on the same store: what the
// pages change, --export writes; what --import changes, the pages show;
// a page made before an import cannot undo it.
func TestServeReview(t *testing.T) {
	out, _ := summarizedFolder(t)
	dir := t.TempDir()
	check := filepath.Join(dir, "check.json")
	if err := os.WriteFile(check, []byte(`{"clips":[{"name":"sample_s003","claims":[
		{"text":"he clenches his fists","aspect":"body","verdict":"unverifiable"},
		{"text":"he glares","aspect":"face","verdict":"contradicted","evidence":{"expression":"neutral","share":0.9}}]}],
		"totals":{"claims":2,"supported":0,"contradicted":1,"unverifiable":1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	const token = "serve-review-admin-token"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sv := serveInProcess(t, ctx, serveOptions{DB: filepath.Join(dir, "study.db"), Hold: study.DefaultHold,
		Config: config.Config{AdminToken: token}, Review: filepath.Join(out, "emer.db"), ReviewDataset: summarizeTD("dataset.csv"), ReviewCheck: check})
	base, stdout, stderr, done := sv.base, sv.stdout, sv.stderr, sv.done
	if want := "The check of 1 clips from check.json is loaded: 2 claims, 0 supported, 1 contradicted, 1 unverifiable."; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
	}
	if want := "reviewing the descriptions of " + filepath.Join(out, "emer.db") + " (organizer: " + base + "/admin/review)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout does not say %q:\n%s", want, stdout.String())
	}
	c := webtest.Client()
	link := webtest.InviteReviewers(t, c, base, token, "ann")[0]
	page, send := reviewerPages(t, c, base, link)
	body := page("sample_s001")
	if !strings.Contains(body, "<span class=\"label\">Subtitle:</span> Is my father going to be all right?") {
		t.Errorf("sample_s001's page lacks the dataset's subtitle:\n%s", body)
	}
	if body := page("sample_s003"); !strings.Contains(body, `<li class="claim v-contradicted"><span class="verdict">contradicted</span> <span class="aspect">face</span> <span class="claim-text">he glares</span><br><span class="evidence">expression: neutral; share: 0.9</span></li>`) {
		t.Errorf("sample_s003's page lacks the check:\n%s", body)
	}

	exported := filepath.Join(dir, "before.csv")
	opts := reviewOpts(out, io.Discard)
	opts.Export = exported
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	before := readCSVRows(t, exported)
	edited := "In the video, he smiles and raises a glass. Therefore, it is inferred that his emotional state is happy."
	send("sample_s001", "accept", before["sample_s001"][2], "", http.StatusSeeOther)
	send("sample_s002", "edit", edited, "a toast", http.StatusSeeOther)
	send("sample_s003", "reject", before["sample_s003"][2], "the clues are of another man", http.StatusSeeOther)

	// Exported while the server runs: the pages' changes are there.
	after := filepath.Join(dir, "after.csv")
	opts = reviewOpts(out, io.Discard)
	opts.Export = after
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := readCSVRows(t, exported)
	want["sample_s001"] = []string{"sample_s001", "accepted", before["sample_s001"][2], "ann", ""}
	want["sample_s002"] = []string{"sample_s002", "edited", edited, "ann", "a toast"}
	want["sample_s003"] = []string{"sample_s003", "rejected", before["sample_s003"][2], "ann", "the clues are of another man"}
	got := readCSVRows(t, after)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("export after the web's changes (-want +got):\n%s", diff)
	}

	// An import while the server runs: the page shows it, with its
	// history; a form made before it is refused.
	stale := webtest.ReadReviewForm(t, page("sample_s004"))
	row := got["sample_s004"]
	written := "In the video, he wipes tears away on a rainy platform. Therefore, it is inferred that his emotional state is sad and lonely."
	row[1], row[2], row[3] = "edited", written, "bo"
	reviewed := filepath.Join(dir, "reviewed.csv")
	writeCSVRows(t, reviewed, got["name"], row)
	opts = reviewOpts(out, io.Discard)
	opts.Import = reviewed
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	body = html.UnescapeString(page("sample_s004"))
	for _, s := range []string{`<p class="text" id="description">` + written + `</p>`, "<td>bo</td>", "pending → edited", "edited by bo, 2025-06-02 08:00 UTC"} {
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
	// After the server stops, the store holds the same.
	opts = reviewOpts(out, io.Discard)
	opts.Export = filepath.Join(dir, "last.csv")
	if err := runBuildReview(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want["sample_s004"] = row
	if diff := cmp.Diff(want, readCSVRows(t, opts.Export)); diff != "" {
		t.Errorf("export after the server stopped (-want +got):\n%s", diff)
	}
}

// TestServeReviewUsage checks the review flags' errors.
func TestServeReviewUsage(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"clips without review", []string{"serve", "--db", db, "--review-clips", dir}, 2, "--review-clips, --review-dataset and --review-check need --review (DIR/emer.db, or a run of a postgres:// store)"},
		{"check without review", []string{"serve", "--db", db, "--review-check", "c.json"}, 2, "need --review"},
		{"missing store", []string{"serve", "--db", db, "--review", filepath.Join(dir, "none", "emer.db")}, 1, "--review: stat " + filepath.Join(dir, "none", "emer.db")},
		{"clips folder without media", []string{"serve", "--db", db, "--review", db, "--review-clips", dir}, 1, "holds no media files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EMER_ADMIN_TOKEN", "")
			if tc.name == "clips folder without media" {
				os.WriteFile(db, nil, 0o644)
			}
			var stderr lockedBuffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := execute(ctx, append(tc.args, "--addr", "127.0.0.1:0"), io.Discard, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}

// reviewerPages returns, for the reviewer whose link is link on the server
// at base, the page of a clip (which must answer 200) and a sender of its
// review form with an action, a text and a note, which must answer status.
func reviewerPages(t *testing.T, c *http.Client, base, link string) (page func(clip string) string, send func(clip, action, text, note string, status int)) {
	page = func(clip string) string {
		t.Helper()
		resp, body := webtest.Do(t, c, "GET", link+"/d/"+clip, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("page of %s: %s\n%s", clip, resp.Status, body)
		}
		return body
	}
	send = func(clip, action, text, note string, status int) {
		t.Helper()
		f := webtest.ReadReviewForm(t, page(clip))
		if resp, body := webtest.Do(t, c, "POST", base+f.Action, "", f.Values(action, text, note)); resp.StatusCode != status {
			t.Fatalf("%s %s: %s, want %d\n%s", action, clip, resp.Status, status, body)
		}
	}
	return page, send
}
