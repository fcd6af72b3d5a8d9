package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/study/studytest"
	"emer/internal/web"
	"emer/internal/web/webtest"
)

// draft is a description put into review for a fixture.
type draft struct {
	clip, text string
	flags      []string
}

func draftText(what, emotion string) string {
	return "In the video, he " + what + ". Therefore, it is inferred that his emotional state is " + emotion + "."
}

// reviewDrafts are the descriptions of most review tests: c04 has no
// draft, its replies having been unusable.
var reviewDrafts = []draft{
	{"c01", draftText("smiles", "happy"), nil},
	{"c02", draftText("frowns", "angry"), nil},
	{"c03", draftText("cries", "sad"), nil},
	{"c04", "", []string{"emotion: empty reply"}},
	{"c05", draftText("shrugs", "neutral"), []string{"labels: no emotion word in the reply"}},
}

// reviewFixture is a server reviewing drafts, with reviewers ann and bo.
type reviewFixture struct {
	srv   *httptest.Server
	c     *http.Client
	store *store.Reviews
	clock *studytest.Clock
	dir   string            // the clips folder
	links map[string]string // reviewer -> link
	path  string            // of the store
}

// sqlReviews is store.Reviews under a name that does not hide its
// Reviews method when embedded.
type sqlReviews = store.Reviews

// reviewStore lets a test act between a page's read and its change.
type reviewStore struct {
	*sqlReviews
	mu     sync.Mutex
	before func() // run once before the next ApplyReviews
	fail   error  // returned by ApplyReviews instead of applying
}

func (s *reviewStore) ApplyReviews(ctx context.Context, cs []dataset.Change) error {
	s.mu.Lock()
	f, fail := s.before, s.fail
	s.before = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	if fail != nil {
		return fail
	}
	return s.sqlReviews.ApplyReviews(ctx, cs)
}

func newReviewFixture(t *testing.T, drafts []draft, opts ...func(*web.ReviewOptions, *reviewStore)) *reviewFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := &reviewFixture{c: webtest.Client(), clock: studytest.NewClock(), dir: filepath.Join(dir, "clips"), path: filepath.Join(dir, "emer.db"), links: map[string]string{}}
	db, err := store.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	studies := store.NewStudies(db)
	t.Cleanup(func() { studies.Close(); db.Close() })
	f.store = store.NewReviews(db)
	var cs []dataset.Change
	for _, d := range drafts {
		c, _ := dataset.DraftChange(nil, d.clip, d.text, d.flags, "emer build summarize", f.clock.Now().Add(-time.Hour))
		cs = append(cs, c)
	}
	if err := f.store.ApplyReviews(ctx, cs); err != nil {
		t.Fatal(err)
	}
	// Media files of c01 to c03 (bytes, not video: they are served, not
	// played), a sidecar subtitle for c01.
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"c01", "c02", "c03"} {
		if err := os.WriteFile(filepath.Join(f.dir, c+".mp4"), []byte(strings.Repeat("media of "+c+" ", 100)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(f.dir, "c01.srt"), []byte("1\n00:00:00,000 --> 00:00:01,500\nI am <b>so</b> happy & well\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := &reviewStore{sqlReviews: f.store}
	ro := &web.ReviewOptions{Store: rs, Name: f.path, Clips: f.dir, Now: f.clock.Now}
	for _, o := range opts {
		o(ro, rs)
	}
	h, err := web.New(web.Options{Service: study.NewService(studies, time.Hour, f.clock.Now), AdminToken: adminToken, Review: ro})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	for i, l := range webtest.InviteReviewers(t, f.c, f.srv.URL, adminToken, "ann", "bo") {
		f.links[[]string{"ann", "bo"}[i]] = f.srv.URL + path(l)
	}
	return f
}

// get fetches a reviewer's page: "" for the list, else a clip's.
func (f *reviewFixture) get(t *testing.T, who, clip string) (*http.Response, string) {
	t.Helper()
	u := f.links[who]
	if clip != "" {
		u += "/d/" + url.PathEscape(clip)
	}
	return webtest.Do(t, f.c, "GET", u, "", nil)
}

// form reads the review form of who's page of clip.
func (f *reviewFixture) form(t *testing.T, who, clip string) webtest.ReviewForm {
	t.Helper()
	resp, body := f.get(t, who, clip)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page of %s: %s\n%s", clip, resp.Status, body)
	}
	return webtest.ReadReviewForm(t, body)
}

func (f *reviewFixture) send(t *testing.T, form webtest.ReviewForm, action, text, note string) (*http.Response, string) {
	t.Helper()
	return webtest.Do(t, f.c, "POST", f.srv.URL+form.Action, "", form.Values(action, text, note))
}

func (f *reviewFixture) review(t *testing.T, clip string) dataset.Review {
	t.Helper()
	r, err := f.store.Review(context.Background(), clip)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *reviewFixture) history(t *testing.T, clip string) []dataset.Change {
	t.Helper()
	h, err := f.store.History(context.Background(), clip)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// keep stands for the text the page shows, sent back as it is.
const keep = "\x00keep"

// TestReviewActions sends each action of the review form, the right way
// and the wrong ones, and reads the store after each.
func TestReviewActions(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	edited := "In the video, he frowns and clenches his fists.\nTherefore, it is inferred that his emotional state is angry."
	written := "In the video, he hides his face. Therefore, it is inferred that his emotional state is shy."
	type state struct {
		Status   dataset.ReviewStatus
		Text     string
		Reviewer string
		Note     string
		Changes  int // in the history, the draft's included
	}
	for _, step := range []struct {
		name, who, clip, action, text, note string
		status                              int
		next                                string // where a change goes on to: a clip, or "" for the list
		problem                             string // in the page of a refused change
		want                                state
	}{
		{name: "accept", who: "ann", clip: "c01", action: "accept", text: keep, status: 303, next: "c02",
			want: state{dataset.Accepted, "", "ann", "", 2}},
		{name: "edit, the text as a browser sends it", who: "bo", clip: "c02", action: "edit", text: "  " + strings.ReplaceAll(edited, "\n", "\r\n") + "\r\n", note: " fists  seen ", status: 303, next: "c03",
			want: state{dataset.Edited, edited, "bo", "fists seen", 2}},
		{name: "reject without a note", who: "ann", clip: "c03", action: "reject", text: keep, status: 422, problem: "Say in the note why the description is rejected.",
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "reject", who: "ann", clip: "c03", action: "reject", text: keep, note: "the clues are of another person", status: 303, next: "c04",
			want: state{dataset.Rejected, "", "ann", "the clues are of another person", 2}},
		{name: "reject with a changed text", who: "ann", clip: "c05", action: "reject", text: "something else", note: "no", status: 422, problem: "You changed the text, which this would not keep",
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "edit to nothing", who: "ann", clip: "c04", action: "edit", text: " \r\n ", status: 422, problem: "The description is empty",
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "accept no draft", who: "ann", clip: "c04", action: "accept", text: "", status: 422, problem: "There is no draft to accept",
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "edit to the draft", who: "ann", clip: "c05", action: "edit", text: keep, status: 422, problem: "This text is the draft as made: accept it instead.",
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "accept a changed text", who: "ann", clip: "c05", action: "accept", text: reviewDrafts[4].text + " And tired.", status: 422, problem: "You changed the text: save it as edited",
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "unknown action", who: "ann", clip: "c05", action: "delete", text: keep, status: 422, problem: `Unknown action "delete".`,
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "note too long", who: "ann", clip: "c05", action: "reject", text: keep, note: strings.Repeat("x", 2001), status: 422, problem: "The note has 2001 characters: at most 2000",
			want: state{dataset.Pending, "", "", "", 1}},
		{name: "write the one with no draft", who: "ann", clip: "c04", action: "edit", text: written, note: "written from the video", status: 303, next: "c05",
			want: state{dataset.Edited, written, "ann", "written from the video", 2}},
		{name: "the same edit again changes nothing", who: "ann", clip: "c02", action: "edit", text: keep, note: "fists seen", status: 303, next: "c05",
			want: state{dataset.Edited, edited, "bo", "fists seen", 2}},
		{name: "back to pending", who: "ann", clip: "c01", action: "reopen", text: keep, status: 303, next: "c05",
			want: state{dataset.Pending, "", "ann", "", 3}},
		{name: "accept an edited one takes the draft", who: "ann", clip: "c02", action: "accept", text: keep, note: "fists seen", status: 303, next: "c05",
			want: state{dataset.Accepted, "", "ann", "fists seen", 3}},
		{name: "accept the last pending but one", who: "bo", clip: "c05", action: "accept", text: keep, status: 303, next: "c01",
			want: state{dataset.Accepted, "", "bo", "", 2}},
		{name: "accept the last pending", who: "bo", clip: "c01", action: "accept", text: keep, status: 303, next: "",
			want: state{dataset.Accepted, "", "bo", "", 4}},
	} {
		t.Run(step.name, func(t *testing.T) {
			f.clock.Advance(time.Minute)
			form := f.form(t, step.who, step.clip)
			text := step.text
			if text == keep {
				text = f.review(t, step.clip).Description()
			}
			resp, body := f.send(t, form, step.action, text, step.note)
			if resp.StatusCode != step.status {
				t.Fatalf("%s, want %d\n%s", resp.Status, step.status, body)
			}
			if step.status == 303 {
				want := path(f.links[step.who])
				if step.next != "" {
					want += "/d/" + step.next
				}
				if loc := resp.Header.Get("Location"); loc != want {
					t.Errorf("goes on to %s, want %s", loc, want)
				}
			} else {
				if !strings.Contains(html.UnescapeString(body), step.problem) {
					t.Errorf("the page does not say %q:\n%s", step.problem, body)
				}
				// What was typed is still in the form.
				if !strings.Contains(body, html.EscapeString(strings.TrimSpace(text))) || !strings.Contains(body, `value="`+html.EscapeString(step.note)+`"`) {
					t.Errorf("the refused form lost what was typed")
				}
			}
			r := f.review(t, step.clip)
			got := state{r.Status, r.Text, r.Reviewer, r.Note, len(f.history(t, step.clip))}
			if diff := cmp.Diff(step.want, got); diff != "" {
				t.Errorf("state of %s (-want +got):\n%s", step.clip, diff)
			}
			if step.status == 303 && got.Changes > 1 && step.want.Reviewer == step.who {
				h := f.history(t, step.clip)
				last := h[len(h)-1]
				if last.By != step.who || !last.At.Equal(f.clock.Now()) || !r.At.Equal(f.clock.Now()) {
					t.Errorf("the last change is by %s at %v (the review at %v), want %s at %v", last.By, last.At, r.At, step.who, f.clock.Now())
				}
			}
		})
	}
}

var (
	rowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagRE  = regexp.MustCompile(`<[^>]+>`)
)

// tableRows returns the cells of the body rows of the first table of
// class in body, as text.
func tableRows(t *testing.T, body, class string) [][]string {
	t.Helper()
	start := `<table class="` + class + `">`
	if class == "" {
		start = "<table>"
	}
	i := strings.Index(body, start)
	if i < 0 {
		t.Fatalf("no table %s on the page:\n%s", class, body)
	}
	tbl := body[i:]
	tbl = tbl[:strings.Index(tbl, "</table>")]
	var out [][]string
	for _, r := range rowRE.FindAllStringSubmatch(tbl, -1) {
		var row []string
		for _, c := range cellRE.FindAllStringSubmatch(r[1], -1) {
			row = append(row, strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(c[1], " "))), " "))
		}
		if row != nil {
			out = append(out, row)
		}
	}
	return out
}

// TestReviewHistory shows the changes of a description on its page,
// newest first: who, when, the status, the text before and after, the
// note.
func TestReviewHistory(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	edited := draftText("frowns and shouts", "angry")
	f.clock.Advance(time.Minute)
	if resp, body := f.send(t, f.form(t, "bo", "c02"), "edit", edited, "he shouts"); resp.StatusCode != 303 {
		t.Fatalf("edit: %s\n%s", resp.Status, body)
	}
	f.clock.Advance(time.Hour)
	if resp, body := f.send(t, f.form(t, "ann", "c02"), "reject", edited, "not him"); resp.StatusCode != 303 {
		t.Fatalf("reject: %s\n%s", resp.Status, body)
	}
	_, body := f.get(t, "ann", "c02")
	draft := reviewDrafts[1].text
	want := [][]string{
		{"2026-03-01 10:01 UTC", "ann", "edited → rejected", "before: " + edited + " after: " + draft, "not him"},
		{"2026-03-01 09:01 UTC", "bo", "pending → edited", "before: " + draft + " after: " + edited, "he shouts"},
		{"2026-03-01 08:00 UTC", "emer build summarize", "pending", "after: " + draft, ""},
	}
	if diff := cmp.Diff(want, tableRows(t, body, "history")); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, `<span class="status status-rejected" id="status">rejected</span>`) || !strings.Contains(body, "rejected by ann, 2026-03-01 10:01 UTC: “not him”") {
		t.Errorf("the page does not show the state:\n%s", body)
	}
}

// TestReviewConflict sends a change from a page made before the
// description changed: it is refused, nothing is saved, and the page
// shows the description as it now is with what was typed; sent again
// from there it goes through.
func TestReviewConflict(t *testing.T) {
	var rs *reviewStore
	f := newReviewFixture(t, reviewDrafts, func(_ *web.ReviewOptions, s *reviewStore) { rs = s })
	old := f.form(t, "ann", "c01")
	f.clock.Advance(time.Minute)
	if resp, _ := f.send(t, f.form(t, "bo", "c01"), "accept", reviewDrafts[0].text, ""); resp.StatusCode != 303 {
		t.Fatalf("bo accepts: %s", resp.Status)
	}
	mine := draftText("smiles broadly", "happy")
	resp, body := f.send(t, old, "edit", mine, "broadly")
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("a change from an old page: %s, want 409\n%s", resp.Status, body)
	}
	for _, s := range []string{"This description was changed (it is now accepted, by bo at 2026-03-01 09:01:00 UTC) after you opened it", ">" + mine + "</textarea>", `value="broadly"`} {
		if !strings.Contains(html.UnescapeString(body), html.UnescapeString(s)) {
			t.Errorf("the refusal does not show %q:\n%s", s, body)
		}
	}
	if r := f.review(t, "c01"); r.Status != dataset.Accepted || r.Reviewer != "bo" || len(f.history(t, "c01")) != 2 {
		t.Errorf("after the refused change: %+v, %d changes", r, len(f.history(t, "c01")))
	}
	again := webtest.ReadReviewForm(t, body)
	if resp, _ := f.send(t, again, "edit", mine, "broadly"); resp.StatusCode != 303 {
		t.Fatalf("sent again: %s", resp.Status)
	}
	if r := f.review(t, "c01"); r.Status != dataset.Edited || r.Text != mine || r.Reviewer != "ann" {
		t.Errorf("after sending again: %+v", r)
	}

	// A change that comes between the page's check and the store's: the
	// store refuses it in its transaction, and the page says so.
	form := f.form(t, "ann", "c03")
	rs.mu.Lock()
	rs.before = func() {
		cur := f.review(t, "c03")
		c, _ := dataset.DraftChange(&cur, "c03", draftText("sobs", "sad"), nil, "emer build summarize", f.clock.Now())
		if err := f.store.ApplyReviews(context.Background(), []dataset.Change{c}); err != nil {
			t.Error(err)
		}
	}
	rs.mu.Unlock()
	resp, body = f.send(t, form, "accept", reviewDrafts[2].text, "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "by someone") || !strings.Contains(body, draftText("sobs", "sad")) {
		t.Errorf("a change racing the store's: %s, want 409 with the new draft\n%s", resp.Status, body)
	}
	if r := f.review(t, "c03"); r.Status != dataset.Pending || r.Draft != draftText("sobs", "sad") {
		t.Errorf("c03 after the race: %+v", r)
	}
}

// TestReviewList lists the descriptions pending first, with filters.
func TestReviewList(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	if resp, _ := f.send(t, f.form(t, "ann", "c01"), "accept", reviewDrafts[0].text, ""); resp.StatusCode != 303 {
		t.Fatal(resp.Status)
	}
	upload(t, f, "check.json", `{"clips":[{"name":"c02","claims":[{"text":"he frowns","verdict":"contradicted","evidence":{}},{"text":"angry","verdict":"supported"}]},
		{"name":"c03","claims":[{"text":"he cries","verdict":"unverifiable"}]}]}`)
	clips := func(query string) []string {
		t.Helper()
		resp, body := webtest.Do(t, f.c, "GET", f.links["bo"]+query, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list %s: %s", query, resp.Status)
		}
		if !strings.Contains(body, `<table class="reviews">`) {
			return nil
		}
		var out []string
		for _, r := range tableRows(t, body, "reviews") {
			out = append(out, r[0]+" "+r[1]+" "+r[3])
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"c02 pending 1✓ 1✗ 0?", "c03 pending 0✓ 0✗ 1?", "c04 pending marked -", "c05 pending marked -", "c01 accepted -"}},
		{"?status=accepted", []string{"c01 accepted -"}},
		{"?status=PENDING&marked=1", []string{"c04 pending marked -", "c05 pending marked -"}},
		{"?verdict=contradicted", []string{"c02 pending 1✓ 1✗ 0?"}},
		{"?verdict=unverifiable&status=pending", []string{"c03 pending 0✓ 0✗ 1?"}},
		{"?q=CRIES", []string{"c03 pending 0✓ 0✗ 1?"}},
		{"?q=c0&status=edited", nil},
		{"?status=nonsense&verdict=x&page=-3", []string{"c02 pending 1✓ 1✗ 0?", "c03 pending 0✓ 0✗ 1?", "c04 pending marked -", "c05 pending marked -", "c01 accepted -"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, clips(tc.query)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReviewListPages pages a long list.
func TestReviewListPages(t *testing.T) {
	var drafts []draft
	for i := range 60 {
		drafts = append(drafts, draft{fmt.Sprintf("clip%02d", i), draftText("nods", "calm"), nil})
	}
	f := newReviewFixture(t, drafts)
	_, body := f.get(t, "ann", "")
	rows := tableRows(t, body, "reviews")
	if len(rows) != 50 || rows[0][0] != "clip00" || !strings.Contains(body, "60 descriptions, pending first; page 1 of 2") || !strings.Contains(body, `href="`+path(f.links["ann"])+`?page=2"`) {
		t.Fatalf("first page: %d rows from %v\n%s", len(rows), rows[0], body)
	}
	_, body = webtest.Do(t, f.c, "GET", f.links["ann"]+"?page=2", "", nil)
	rows = tableRows(t, body, "reviews")
	if len(rows) != 10 || rows[0][0] != "clip50" || strings.Contains(body, "next →") || !strings.Contains(body, "← previous") {
		t.Errorf("second page: %d rows from %v\n%s", len(rows), rows[0], body)
	}
	_, body = webtest.Do(t, f.c, "GET", f.links["ann"]+"?page=9", "", nil)
	if rows := tableRows(t, body, "reviews"); len(rows) != 10 {
		t.Errorf("a page past the end shows %d rows, want the last page's 10", len(rows))
	}
}

// upload sends a check file through the organizer's form and returns the
// page.
func upload(t *testing.T, f *reviewFixture, name, content string) (*http.Response, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("check", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/admin/review/check", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := f.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestReviewCheck loads a grounding check through the organizer's form
// and finds its verdicts and evidence beside the claims of a
// description's page; a later check replaces a clip's, and an edited
// description says that the check judged an earlier text.
func TestReviewCheck(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	check := `{"clips":[
  {"name":"c02","claims":[
    {"text":"he frowns","aspect":"face","verdict":"supported","evidence":{"expression":"angry","share":0.8125,"frames":[3,4,5]}},
    {"text":"his voice is loud","aspect":"voice","verdict":"contradicted","evidence":{"level_db":{"clip":61.27,"speaker":70.04}}},
    {"text":"at the office","aspect":"context","verdict":"unverifiable","evidence":null}]},
  {"name":"zz9","claims":[]},
  {"name":"c03","claims":[{"text":"he cries","verdict":"supported","evidence":"tears seen in 12 frames"}]}
],"totals":{"claims":4,"supported":2,"contradicted":1,"unverifiable":1,"grounded_rate":0.6667}}`
	resp, body := upload(t, f, "x-check.json", check)
	want := "The check of 2 clips from x-check.json is loaded: 4 claims, 2 supported, 1 contradicted, 1 unverifiable. 1 clips of the file have no description in review and were left out: zz9."
	if resp.StatusCode != 200 || !strings.Contains(body, want) {
		t.Fatalf("upload: %s, want %q\n%s", resp.Status, want, body)
	}
	if !strings.Contains(body, "2 clips checked, 4 claims: 2 supported, 1 contradicted, 1 unverifiable; from x-check.json") {
		t.Errorf("the organizer's page does not count the check:\n%s", body)
	}
	claims := func(clip string) []string {
		t.Helper()
		_, body := f.get(t, "ann", clip)
		var out []string
		for _, m := range regexp.MustCompile(`(?s)<li class="claim v-([a-z]+)">(.*?)</li>`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1]+": "+strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(m[2], " "))), " "))
		}
		return out
	}
	wantClaims := []string{
		"supported: supported face he frowns expression: angry; share: 0.8125; frames: [3, 4, 5]",
		"contradicted: contradicted voice his voice is loud level_db: (clip: 61.27; speaker: 70.04)",
		"unverifiable: unverifiable context at the office",
	}
	if diff := cmp.Diff(wantClaims, claims("c02")); diff != "" {
		t.Errorf("claims of c02 (-want +got):\n%s", diff)
	}
	_, body = f.get(t, "ann", "c02")
	if strings.Contains(body, "earlier text") {
		t.Error("the check of the text under review is said to be of an earlier one")
	}
	if resp, _ := f.send(t, f.form(t, "ann", "c02"), "edit", draftText("frowns", "calm"), ""); resp.StatusCode != 303 {
		t.Fatal(resp.Status)
	}
	if _, body = f.get(t, "ann", "c02"); !strings.Contains(body, "The check judged an earlier text of this description.") {
		t.Errorf("an edited description's page does not say its check is of the earlier text:\n%s", body)
	}
	if _, body = f.get(t, "ann", "c01"); strings.Contains(body, `class="check"`) {
		t.Error("a clip with no check shows one")
	}

	// A second check, of the edited text, replaces c02's and leaves c03's.
	resp, body = upload(t, f, "again.json", `{"clips":[{"name":"c02","description":"`+draftText("frowns", "calm")+`","claims":[{"text":"calm","verdict":"contradicted"}]}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("second upload: %s\n%s", resp.Status, body)
	}
	if diff := cmp.Diff([]string{"contradicted: contradicted calm"}, claims("c02")); diff != "" {
		t.Errorf("claims of c02 after the second check (-want +got):\n%s", diff)
	}
	if _, body = f.get(t, "ann", "c02"); strings.Contains(body, "earlier text") {
		t.Error("the check of the edited text is said to be of an earlier one")
	}
	if diff := cmp.Diff([]string{"supported: supported he cries tears seen in 12 frames"}, claims("c03")); diff != "" {
		t.Errorf("claims of c03 (-want +got):\n%s", diff)
	}
}

// TestReviewCheckBad uploads files that are not a usable check: each is
// refused with its problems, and no check is stored.
func TestReviewCheckBad(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	td := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "check", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"syntax.bad.json", []string{"syntax.bad.json: line 3, column 48: invalid character"}},
		{"type.bad.json", []string{"type.bad.json: line 2, column 12: json: cannot unmarshal number"}},
		{"noclips.bad.json", []string{`noclips.bad.json: no "clips": is it the output of emer build check --json?`}},
		{"claims.bad.json", []string{
			`clip 1 ("c01"), claim 1: verdict "true" is none of supported, contradicted, unverifiable`,
			`clip 1 ("c01"), claim 2: no text`,
			`clip 2: no name`,
			`clip 3 ("c01"): given twice (first as clip 1)`,
		}},
		{"totals.bad.json", []string{"the totals (3 claims: 1 supported, 1 contradicted, 1 unverifiable) are not those of its clips (2: 1, 1, 0)"}},
		{"unknown.bad.json", []string{"unknown.bad.json: none of its 2 clips has a description in review (x1, x2): is it the check of these descriptions?"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			resp, body := upload(t, f, tc.file, td(tc.file))
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s, want 422", resp.Status)
			}
			body = html.UnescapeString(body)
			for _, w := range append(tc.want, "The check was not loaded:") {
				if !strings.Contains(body, w) {
					t.Errorf("the page does not say %q:\n%s", w, body)
				}
			}
		})
	}
	if cs, err := f.store.Checks(context.Background()); err != nil || len(cs) != 0 {
		t.Errorf("%d checks stored from bad files (%v)", len(cs), err)
	}
	if resp, _ := webtest.Do(t, f.c, "POST", f.srv.URL+"/admin/review/check", adminToken, url.Values{"check": {"{}"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a form that is not an upload: %s, want 400", resp.Status)
	}
}

// TestReviewInvite invites reviewers by name; a name given again gets a
// new link and its old one stops working; bad names are refused.
func TestReviewInvite(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	oldAnn := f.links["ann"]
	resp, body := webtest.Do(t, f.c, "POST", f.srv.URL+"/admin/review/reviewers", adminToken, url.Values{"names": {"  Ann \n\ncy  de\nCY DE\n"}})
	if resp.StatusCode != 200 {
		t.Fatalf("invite: %s\n%s", resp.Status, body)
	}
	links := regexp.MustCompile(`<tr><td>([^<]*)( <span class="small">\(new link; the old one no longer works\)</span>)?</td><td><code class="link">([^<]+)</code>`).FindAllStringSubmatch(body, -1)
	if len(links) != 2 || links[0][1] != "ann" || links[0][2] == "" || links[1][1] != "cy de" || links[1][2] != "" {
		t.Fatalf("invited: %q\n%s", links, body)
	}
	if resp, _ := webtest.Do(t, f.c, "GET", oldAnn, "", nil); resp.StatusCode != 404 {
		t.Errorf("ann's old link: %s, want 404", resp.Status)
	}
	for _, l := range links {
		resp, body := webtest.Do(t, f.c, "GET", f.srv.URL+path(l[3]), "", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "Reviewing as <b>"+l[1]+"</b>") {
			t.Errorf("%s's link: %s\n%s", l[1], resp.Status, body)
		}
	}
	_, body = webtest.Do(t, f.c, "GET", f.srv.URL+"/admin/review", adminToken, nil)
	var names []string
	for _, r := range tableRows(t, body, "") {
		names = append(names, r[0])
	}
	if diff := cmp.Diff([]string{"ann", "bo", "cy de"}, names); diff != "" {
		t.Errorf("reviewers on the organizer's page (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ names, want string }{
		{"", "Give the reviewers' names, one a line"},
		{strings.Repeat("n", 65), "at most 64 characters"},
		{"ok\nbad\x07bell", `name "bad\abell": letters, digits, spaces and punctuation only`},
	} {
		resp, body := webtest.Do(t, f.c, "POST", f.srv.URL+"/admin/review/reviewers", adminToken, url.Values{"names": {tc.names}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), tc.want) {
			t.Errorf("names %q: %s, want 422 saying %q\n%s", tc.names, resp.Status, tc.want, body)
		}
	}
	if rs, _ := f.store.Reviewers(context.Background()); len(rs) != 3 {
		t.Errorf("%d reviewers after refused invitations, want 3", len(rs))
	}
}

// TestReviewAccess sends every review route without the right token:
// the organizer's need the admin token, a reviewer's a valid link.
func TestReviewAccess(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	ann := f.links["ann"]
	tok := strings.TrimPrefix(path(ann), "/review/")
	form := f.form(t, "ann", "c01")
	for _, rt := range []struct{ method, path string }{
		{"GET", "/admin/review"},
		{"POST", "/admin/review/reviewers"},
		{"POST", "/admin/review/check"},
		{"GET", "/admin/review/review.csv"},
	} {
		for _, who := range []struct {
			name string
			set  func(*http.Request)
		}{
			{"no token", func(*http.Request) {}},
			{"a reviewer's token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }},
			{"wrong token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminToken+"0") }},
		} {
			t.Run(who.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				req, _ := http.NewRequest(rt.method, f.srv.URL+rt.path, strings.NewReader("names=eve"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				who.set(req)
				resp, err := f.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s, want 401", resp.Status)
				}
				if strings.Contains(string(b), "c01") || strings.Contains(string(b), f.path) {
					t.Error("the refusal shows the review")
				}
			})
		}
	}
	bad := []string{
		"/review/AAAAAAAAAAAAAAAAAAAAAA",
		"/review/" + tok[:21],
		"/review/" + tok + "x",
		"/review/" + flipCase(tok),
	}
	for _, p := range bad {
		for _, sub := range []string{"", "/d/c01", "/m/c01", "/s/c01"} {
			t.Run("GET "+p+sub, func(t *testing.T) {
				resp, body := webtest.Do(t, f.c, "GET", f.srv.URL+p+sub, "", nil)
				if resp.StatusCode != 404 || strings.Contains(body, "c01") {
					t.Errorf("%s, want 404 naming nothing", resp.Status)
				}
			})
		}
		t.Run("POST "+p, func(t *testing.T) {
			resp, _ := webtest.Do(t, f.c, "POST", f.srv.URL+p+"/d/c01", "", form.Values("accept", reviewDrafts[0].text, ""))
			if resp.StatusCode != 404 {
				t.Errorf("%s, want 404", resp.Status)
			}
		})
	}
	if r := f.review(t, "c01"); r.Status != dataset.Pending || len(f.history(t, "c01")) != 1 {
		t.Errorf("c01 changed by refused requests: %+v", r)
	}
	for _, p := range []string{"/d/zz", "/d/" + url.PathEscape("../c01"), "/d/c01%2F..%2Fc02"} {
		if resp, _ := webtest.Do(t, f.c, "GET", ann+p, "", nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
}

// TestReviewOff checks that a server without review has none of its
// pages.
func TestReviewOff(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	resp, body := webtest.Do(t, f.c, "GET", f.srv.URL+"/admin/review", adminToken, nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "start emer serve with --review DIR/emer.db") {
		t.Errorf("/admin/review without review: %s\n%s", resp.Status, body)
	}
	if resp, _ := webtest.Do(t, f.c, "POST", f.srv.URL+"/admin/review/reviewers", adminToken, url.Values{"names": {"ann"}}); resp.StatusCode != 404 {
		t.Errorf("inviting a reviewer without review: %s, want 404", resp.Status)
	}
	if resp, _ := webtest.Do(t, f.c, "GET", f.srv.URL+"/review/AAAAAAAAAAAAAAAAAAAAAA", "", nil); resp.StatusCode != 404 {
		t.Errorf("a review link without review: %s, want 404", resp.Status)
	}
	if _, body := webtest.Do(t, f.c, "GET", f.srv.URL+"/admin/", adminToken, nil); strings.Contains(body, "/admin/review") {
		t.Error("the studies page links to a review there is not")
	}
}

// TestReviewCrossSite sends the review's forms as another site would
// make a browser send them.
func TestReviewCrossSite(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	form := f.form(t, "ann", "c01")
	for _, p := range []struct {
		name, url string
		body      string
		admin     bool
	}{
		{"accept", f.srv.URL + form.Action, form.Values("accept", reviewDrafts[0].text, "").Encode(), false},
		{"invite", f.srv.URL + "/admin/review/reviewers", "names=eve", true},
		{"check", f.srv.URL + "/admin/review/check", "", true},
	} {
		for _, h := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}, {"Origin", "http://evil.example"}} {
			t.Run(p.name+" "+h[0]+" "+h[1], func(t *testing.T) {
				req, _ := http.NewRequest("POST", p.url, strings.NewReader(p.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(h[0], h[1])
				if p.admin {
					req.Header.Set("Authorization", "Bearer "+adminToken)
				}
				resp, err := f.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s, want 403", resp.Status)
				}
			})
		}
	}
	if r := f.review(t, "c01"); r.Status != dataset.Pending {
		t.Errorf("c01 is %s after cross-site forms", r.Status)
	}
	if rs, _ := f.store.Reviewers(context.Background()); len(rs) != 2 {
		t.Errorf("%d reviewers after a cross-site invitation, want 2", len(rs))
	}
}

// TestReviewHTMLIsText puts markup in every text a review page shows:
// the draft, the flags, a reviewer's name, an edited text, a note, the
// claims and their evidence. It is shown as text.
func TestReviewHTMLIsText(t *testing.T) {
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	f := newReviewFixture(t, []draft{{"c01", "He smiles " + evil, []string{"emotion: " + evil}}, {"c02", "x", nil}})
	who := "<b>mal</b>"
	links := webtest.InviteReviewers(t, f.c, f.srv.URL, adminToken, who)
	f.links[who] = f.srv.URL + path(links[0])
	form := f.form(t, who, "c01")
	if resp, body := f.send(t, form, "edit", "He laughs "+evil, "note "+evil); resp.StatusCode != 303 {
		t.Fatalf("edit: %s\n%s", resp.Status, body)
	}
	ev := strings.ReplaceAll(evil, `"`, `\"`)
	if resp, body := upload(t, f, "c.json", `{"clips":[{"name":"c01","claims":[{"text":"claim `+ev+`","aspect":"`+ev+`","verdict":"supported","evidence":{"`+ev+`":"`+ev+`"}}]}]}`); resp.StatusCode != 200 {
		t.Fatalf("upload: %s\n%s", resp.Status, body)
	}
	for _, u := range []string{f.links[who] + "/d/c01", f.links[who], f.srv.URL + "/admin/review"} {
		var body string
		if strings.Contains(u, "/admin/") {
			_, body = webtest.Do(t, f.c, "GET", u, adminToken, nil)
		} else {
			_, body = webtest.Do(t, f.c, "GET", u, "", nil)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<b>mal"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s has %q as markup", u, bad)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(body, "&lt;b&gt;mal&lt;/b&gt;") {
			t.Errorf("%s does not show the markup as text:\n%s", u, body)
		}
	}
	_, body := f.get(t, who, "c01")
	for _, want := range []string{
		"<p class=\"text\" id=\"description\">He laughs &lt;script&gt;",
		"Marked for review when it was made: emotion: &lt;script&gt;",
		"reviewing as <b>&lt;b&gt;mal&lt;/b&gt;</b>",
		"<span class=\"claim-text\">claim &lt;script&gt;",
		"<span class=\"evidence\">&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;: &lt;script&gt;",
		"<td>&lt;b&gt;mal&lt;/b&gt;</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not contain %q:\n%s", want, body)
		}
	}
}

// TestReviewMedia serves a clip's video with ranges and its sidecar
// subtitles as WebVTT, and nothing for paths that try to leave the clips.
func TestReviewMedia(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	ann := f.links["ann"]
	_, body := f.get(t, "ann", "c01")
	for _, want := range []string{`<video id="clip" controls preload="metadata" playsinline src="` + path(ann) + `/m/c01">`,
		`<track kind="subtitles" srclang="und" label="Subtitles" default src="` + path(ann) + `/s/c01">`,
		`<span class="label">Subtitle:</span> I am so happy &amp; well`} {
		if !strings.Contains(body, want) {
			t.Errorf("c01's page lacks %q:\n%s", want, body)
		}
	}
	if _, body := f.get(t, "ann", "c04"); !strings.Contains(body, "No video of this clip and no subtitle.") || strings.Contains(body, "<video") {
		t.Errorf("c04 (no media) page:\n%s", body)
	}
	whole, _ := os.ReadFile(filepath.Join(f.dir, "c02.mp4"))
	req, _ := http.NewRequest("GET", ann+"/m/c02", nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := f.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, whole[10:20]) || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("range of c02: %s %q %q", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	resp, vtt := webtest.Do(t, f.c, "GET", ann+"/s/c01", "", nil)
	if want := "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nI am so happy &amp; well\n"; resp.StatusCode != 200 || vtt != want {
		t.Errorf("subtitles of c01: %s %q, want %q", resp.Status, vtt, want)
	}
	secret := filepath.Join(f.dir, "..", "secret.txt")
	os.WriteFile(secret, []byte("TOP-SECRET"), 0o644)
	for _, p := range []string{"/m/c04", "/m/../../secret.txt", "/m/..%2Fsecret.txt", "/m/c01.mp4", "/m/" + url.PathEscape(filepath.Join(f.dir, "c01.mp4")), "/s/..%2F..%2Femer.db", "/m/%2e%2e", "/m/c01%00"} {
		t.Run(p, func(t *testing.T) {
			req, _ := http.NewRequest("GET", ann+p, nil)
			req.URL.RawPath = req.URL.EscapedPath()
			resp, err := f.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 || bytes.Contains(b, []byte("TOP-SECRET")) || bytes.Contains(b, []byte("media of")) || bytes.Contains(b, []byte("SQLite")) {
				t.Errorf("%s served %.80q", resp.Status, b)
			}
		})
	}
}

// TestReviewCSV downloads the review as the CSV emer build review writes.
func TestReviewCSV(t *testing.T) {
	f := newReviewFixture(t, reviewDrafts)
	if resp, _ := f.send(t, f.form(t, "bo", "c03"), "reject", reviewDrafts[2].text, "not him"); resp.StatusCode != 303 {
		t.Fatal(resp.Status)
	}
	resp, body := webtest.Do(t, f.c, "GET", f.srv.URL+"/admin/review/review.csv", adminToken, nil)
	rs, err := f.store.Reviews(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := dataset.WriteReviewCSV(&want, rs); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body != want.String() || !strings.Contains(body, `c03,rejected,"`+reviewDrafts[2].text+`",bo,not him`) {
		t.Errorf("review.csv: %s\n%s\nwant\n%s", resp.Status, body, want.String())
	}
}

// TestReviewStoreFails shows an error page, not a change, when the store
// fails.
func TestReviewStoreFails(t *testing.T) {
	var rs *reviewStore
	f := newReviewFixture(t, reviewDrafts, func(_ *web.ReviewOptions, s *reviewStore) { rs = s })
	form := f.form(t, "ann", "c01")
	rs.mu.Lock()
	rs.fail = errors.New("disk full")
	rs.mu.Unlock()
	resp, body := f.send(t, form, "accept", reviewDrafts[0].text, "")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "Something went wrong on the server") || strings.Contains(body, "disk full") {
		t.Errorf("a change the store could not make: %s\n%s", resp.Status, body)
	}
	if r := f.review(t, "c01"); r.Status != dataset.Pending {
		t.Errorf("c01 is %s", r.Status)
	}
}

// flipCase changes the case of the first letter of s.
func flipCase(s string) string {
	for i, r := range s {
		if u := strings.ToUpper(string(r)); u != string(r) {
			return s[:i] + u + s[i+1:]
		}
		if l := strings.ToLower(string(r)); l != string(r) {
			return s[:i] + l + s[i+1:]
		}
	}
	return s
}
