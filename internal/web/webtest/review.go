package webtest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	reviewLink    = regexp.MustCompile(`https?://[^/<"]+/review/[A-Za-z0-9_-]{22}`)
	reviewVersion = regexp.MustCompile(`<input type="hidden" name="v" value="([0-9a-f]+)">`)
	reviewAction  = regexp.MustCompile(`<form id="review" method="post" action="([^"]+)"`)
)

// InviteReviewers invites reviewers by name through the organizer's
// review page and returns their links, in the order of names.
func InviteReviewers(t testing.TB, c *http.Client, base, token string, names ...string) []string {
	t.Helper()
	resp, body := Do(t, c, "POST", base+"/admin/review/reviewers", token, url.Values{"names": {strings.Join(names, "\n")}})
	links := reviewLink.FindAllString(body, -1)
	if resp.StatusCode != http.StatusOK || len(links) != len(names) {
		t.Fatalf("inviting %d reviewers: %s, %d links\n%s", len(names), resp.Status, len(links), body)
	}
	return links
}

// ReviewForm is the review form of a description's page.
type ReviewForm struct {
	Action  string // the path it is sent to
	Version string // the state of the description it was made from
}

// ReadReviewForm reads the review form of a description's page.
func ReadReviewForm(t testing.TB, body string) ReviewForm {
	t.Helper()
	a, v := reviewAction.FindStringSubmatch(body), reviewVersion.FindStringSubmatch(body)
	if a == nil || v == nil {
		t.Fatalf("no review form on the page:\n%s", body)
	}
	return ReviewForm{Action: a[1], Version: v[1]}
}

// Values returns the form's fields for action with text and note.
func (f ReviewForm) Values(action, text, note string) url.Values {
	return url.Values{"v": {f.Version}, "action": {action}, "text": {text}, "note": {note}}
}
