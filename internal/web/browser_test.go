package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	"emer/internal/browsertest"
	"emer/internal/dataset"
	"emer/internal/study"
	"emer/internal/web/webtest"
)

// browser opens a rating or review page's window in headless Chromium.
func browser(t *testing.T) context.Context { return browsertest.Open(t, 1000, 1400) }

// artifact returns where a test writes a file for people to look at:
// under $EMER_ARTIFACTS, or the temporary folder.
func artifact(t *testing.T, name string) string {
	dir := os.Getenv("EMER_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "emer-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// pageState is what the browser shows of a rating page.
type pageState struct {
	media string
	texts []string
}

func readPage(t *testing.T, ctx context.Context) pageState {
	t.Helper()
	var p pageState
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#rating"))); err != nil {
		t.Fatalf("waiting for the rating page: %v", err)
	}
	src, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("video"), "src"))
	if err != nil || !src.Exists {
		t.Fatalf("the rating page's video: %+v, %v", src, err)
	}
	p.media = src.Value
	p.texts, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("p.text")).map(e => e.textContent)`))
	if err != nil {
		t.Fatalf("reading the reasonings: %v", err)
	}
	return p
}

// TestBrowserRating has a rater open their invitation in Chromium and
// rate three clips, the first with the mouse, the second with the keys
// and the third with both; the scores are then read from the store.
func TestBrowserRating(t *testing.T) {
	ctx := browser(t)
	f := newFixture(t, 4, 1, 1)
	source := map[string]string{}
	for _, c := range f.files.Clips {
		source[webtest.GroundTruthText(c)] = c + "/" + study.GroundTruth
		for _, s := range systems {
			source[webtest.PredictionText(s, c)] = c + "/" + s
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(f.links[0])); err != nil {
		t.Fatal(err)
	}
	want := map[string]study.Score{} // clip/source -> score
	note := func(p pageState, scores []study.Score) {
		for i, text := range p.texts {
			want[source[text]] = scores[i]
		}
	}
	// next sends the form and waits for the next clip's page.
	next := func(p pageState, send ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, append(send, chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`video[src=%q]`, p.media))))...); err != nil {
			html, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML`))
			t.Fatalf("sending the form: %v; the page:\n%s", err, html)
		}
	}
	submit := chromedp.Click(chromedp.CSS(`#rating button[type="submit"]`))

	// Clip 1, with the mouse; the page with its choices is the artifact.
	p := readPage(t, ctx)
	if len(p.texts) != 3 {
		t.Fatalf("%d reasonings on the page, want 3", len(p.texts))
	}
	scores := []study.Score{2, 4, 1}
	for i, s := range scores {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="p%d"][value="%d"]`, i, s)))); err != nil {
			t.Fatal(err)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	png := artifact(t, "rating-page.png")
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the rating page: %s", png)
	note(p, scores)
	next(p, submit)

	// Clip 2, with the keys: 3, 2 and 4 rate the reasonings in turn;
	// Enter sends.
	p = readPage(t, ctx)
	note(p, []study.Score{3, 2, 4})
	next(p, chromedp.KeyEvent("3"), chromedp.KeyEvent("2"), chromedp.KeyEvent("4"), chromedp.KeyEvent(kb.Enter))

	// Clip 3: 4 and 1, k back up to the second, 3 over its 1, then 2 for
	// the third; the mouse sends.
	p = readPage(t, ctx)
	note(p, []study.Score{4, 3, 2})
	next(p, chromedp.KeyEvent("4"), chromedp.KeyEvent("1"), chromedp.KeyEvent("k"), chromedp.KeyEvent("3"), chromedp.KeyEvent("2"), submit)

	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("header.progress")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "You have rated 3 clips") {
		t.Errorf("the fourth page says %q", page)
	}
	ratings, err := f.svc.Ratings(context.Background(), f.studID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]study.Score{}
	for _, r := range ratings {
		got[r.Clip.Name+"/"+r.Source] = r.Score
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scores in the store by clip and source (-rated in the browser +stored):\n%s", diff)
	}
	if len(want) != 9 {
		t.Errorf("%d reasonings rated, want 9", len(want))
	}
}

// TestBrowserReview has a reviewer open their link in Chromium, accept
// one description with the mouse, edit another with the keys and accept
// a third with its key; the changes are then read from the store, and
// the edited description's page, with its check and history, is the
// artifact.
func TestBrowserReview(t *testing.T) {
	ctx := browser(t)
	f := newReviewFixture(t, reviewDrafts)
	webtest.Clips(t, f.dir, "c01", "c02", "c03") // real video over the fixture's bytes
	if resp, body := upload(t, f, "check.json", `{"clips":[{"name":"c02","claims":[
		{"text":"he frowns","aspect":"face","verdict":"supported","evidence":{"expression":"angry","share":0.64}},
		{"text":"his emotional state is angry","aspect":"emotion","verdict":"unverifiable"},
		{"text":"he shouts","aspect":"voice","verdict":"contradicted","evidence":{"level_db":{"clip":58.2,"speaker":66.9}}}]}]}`); resp.StatusCode != 200 {
		t.Fatalf("upload: %s\n%s", resp.Status, body)
	}
	on := func(clip string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form#review[action$="/d/%s"]`, clip)))
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			html, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML`))
			t.Fatalf("%s: %v; the page:\n%s", what, err, html)
		}
	}
	ctrl := chromedp.KeyModifiers(chromedp.ModifierCtrl)
	edited := "In the video, he frowns and looks away. Therefore, it is inferred that his emotional state is annoyed."

	// The list, pending first; the mouse opens c01 and accepts it, which
	// goes on to c02.
	do("the list", chromedp.Navigate(f.links["ann"]), chromedp.WaitVisible(chromedp.CSS("table.reviews")))
	do("opening c01", chromedp.Click(chromedp.CSS(`a.clip-link[href$="/d/c01"]`)), on("c01"))
	do("accepting c01", chromedp.Click(chromedp.CSS("#accept")), on("c02"))

	// c02 with the keys: e to the text, select it all, type, Ctrl+Enter
	// saves it as edited and goes on to c03, which a accepts.
	do("editing c02", chromedp.KeyEvent("e"), chromedp.KeyEvent("a", ctrl), chromedp.KeyEvent(edited), chromedp.KeyEvent(kb.Enter, ctrl), on("c03"))
	do("accepting c03", chromedp.KeyEvent("a"), on("c04"))

	// Back to c02 by mouse: its page shows the edit, the check and the
	// history.
	do("the list again", chromedp.Click(chromedp.CSS(`nav a[href$="`+path(f.links["ann"])+`"]`)), chromedp.WaitVisible(chromedp.CSS("table.reviews")))
	do("opening c02", chromedp.Click(chromedp.CSS(`a.clip-link[href$="/d/c02"]`)), on("c02"), chromedp.WaitVisible(chromedp.CSS("table.history")))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#description")))
	if err != nil || text != edited {
		t.Errorf("c02's page shows %q (%v), want the edited text", text, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	png := artifact(t, "review-page.png")
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of a description's review page: %s", png)

	type got struct {
		Status   dataset.ReviewStatus
		Text     string
		Reviewer string
	}
	want := map[string]got{
		"c01": {dataset.Accepted, "", "ann"},
		"c02": {dataset.Edited, edited, "ann"},
		"c03": {dataset.Accepted, "", "ann"},
		"c04": {dataset.Pending, "", ""},
		"c05": {dataset.Pending, "", ""},
	}
	rs, err := f.store.Reviews(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]got{}
	for _, r := range rs {
		have[r.Clip] = got{r.Status, r.Text, r.Reviewer}
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("reviews in the store (-want +got):\n%s", diff)
	}
}
