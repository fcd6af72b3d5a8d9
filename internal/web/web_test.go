package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/study/studytest"
	"emer/internal/web"
	"emer/internal/web/webtest"
)

const adminToken = "test-admin-token-0123456789"

// fixture is a server with one study made through the organizer's form.
type fixture struct {
	srv    *httptest.Server
	c      *http.Client
	files  webtest.Study
	study  string   // the study page's URL
	links  []string // invite links
	svc    *study.Service
	clock  *studytest.Clock
	name   string // of the study
	studID int64
}

// systems of the fixtures: names unlike any word of the pages.
var systems = []string{"ZetaSysQ", "omega-modelX"}

func newFixture(t *testing.T, clips, target, raters int) *fixture {
	t.Helper()
	dir := t.TempDir()
	files := webtest.Files(t, dir, clips, systems...)
	return serveFiles(t, dir, files, target, raters)
}

func serveFiles(t *testing.T, dir string, files webtest.Study, target, raters int) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	studies := store.NewStudies(db)
	t.Cleanup(func() { studies.Close(); db.Close() })
	clock := studytest.NewClock()
	svc := study.NewService(studies, 30*time.Minute, clock.Now)
	h, err := web.New(web.Options{Service: svc, AdminToken: adminToken})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, c: webtest.Client(), files: files, svc: svc, clock: clock, name: "ZetaSysQ against omega-modelX"}
	f.study, f.links = webtest.Make(t, f.c, srv.URL, adminToken, f.name, files, target, raters)
	fmt.Sscanf(f.study[strings.LastIndex(f.study, "/")+1:], "%d", &f.studID)
	return f
}

// path returns the path of an invite link.
func path(link string) string {
	u, _ := url.Parse(link)
	return u.Path
}

var (
	mediaRE = regexp.MustCompile(`/r/[A-Za-z0-9_-]{22}/m/([0-9a-f]{16})`)
	formRE  = regexp.MustCompile(`action="(/r/[A-Za-z0-9_-]{22}/c/[0-9a-f]{16})"`)
	textRE  = regexp.MustCompile(`<p class="text">([^<]*)</p>`)
)

// task is the rating page of a rater as a test reads it.
type task struct {
	clip, action string
	texts        []string
}

func readTask(t *testing.T, body string) task {
	t.Helper()
	m, a := mediaRE.FindStringSubmatch(body), formRE.FindStringSubmatch(body)
	if m == nil || a == nil {
		t.Fatalf("no clip on the page:\n%s", body)
	}
	tk := task{clip: m[1], action: a[1]}
	for _, x := range textRE.FindAllStringSubmatch(body, -1) {
		tk.texts = append(tk.texts, x[1])
	}
	return tk
}

func allScores(n int, s int) url.Values {
	v := url.Values{}
	for i := range n {
		v.Set(fmt.Sprintf("p%d", i), fmt.Sprint(s))
	}
	return v
}

// TestRating goes through a rater's whole study: clips in turn, a form
// sent incomplete, the end, and the scores in the ratings CSV by source.
func TestRating(t *testing.T) {
	f := newFixture(t, 3, 1, 1)
	base := f.srv.URL + path(f.links[0])
	want := map[string]string{} // "clip,system" -> score, from the texts
	texts := map[string]string{}
	for _, c := range f.files.Clips {
		texts[webtest.GroundTruthText(c)] = c + ",ground_truth"
		for _, s := range systems {
			texts[webtest.PredictionText(s, c)] = c + "," + s
		}
	}
	for i := range 3 {
		resp, body := webtest.Do(t, f.c, "GET", base, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("clip %d: %s\n%s", i, resp.Status, body)
		}
		tk := readTask(t, body)
		if len(tk.texts) != 3 {
			t.Fatalf("clip %d shows %d reasonings, want 3", i, len(tk.texts))
		}
		if !strings.Contains(body, fmt.Sprintf("You have rated %d clip", i)) {
			t.Errorf("clip %d: the page does not say %d rated", i, i)
		}
		form := url.Values{"p0": {"4"}, "p2": {"1"}}
		resp, body = webtest.Do(t, f.c, "POST", f.srv.URL+tk.action, "", form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "reasoning 2 has no rating yet") {
			t.Errorf("incomplete form: %s, want 422 naming reasoning 2\n%s", resp.Status, body)
		}
		if !strings.Contains(body, `name="p0" value="4" required checked`) {
			t.Error("the incomplete form lost the choices made")
		}
		form.Set("p1", "3")
		resp, _ = webtest.Do(t, f.c, "POST", f.srv.URL+tk.action, "", form)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path(f.links[0]) {
			t.Fatalf("sending: %s to %q, want 303 to the rater's page", resp.Status, resp.Header.Get("Location"))
		}
		for j, s := range []string{"4", "3", "1"} {
			key, ok := texts[tk.texts[j]]
			if !ok {
				t.Fatalf("unknown text %q", tk.texts[j])
			}
			want[key] = s
		}
		// Sending again keeps the first scores.
		resp, _ = webtest.Do(t, f.c, "POST", f.srv.URL+tk.action, "", allScores(3, 2))
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("sending a clip again: %s, want 303", resp.Status)
		}
	}
	resp, body := webtest.Do(t, f.c, "GET", base, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Nothing left to rate") || !strings.Contains(body, "You have rated 3 clips") {
		t.Errorf("after the last clip: %s\n%s", resp.Status, body)
	}
	resp, body = webtest.Do(t, f.c, "GET", f.study+"/ratings.csv", adminToken, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("ratings.csv: %s", resp.Status)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n")[1:] {
		fs := strings.Split(line, ",")
		got[fs[2]+","+fs[3]] = fs[5]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scores by clip and system (-sent +CSV):\n%s", diff)
	}
	resp, body = webtest.Do(t, f.c, "GET", f.study, adminToken, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "3 of 3 ratings (100%)") {
		t.Errorf("study page: %s, want 3 of 3 ratings\n%s", resp.Status, body)
	}
}

// TestOrganizerRoutesNeedToken sends every organizer route without the
// admin token, with wrong ones and with a rater's, and then with it.
func TestOrganizerRoutesNeedToken(t *testing.T) {
	f := newFixture(t, 2, 1, 1)
	raterTok := strings.TrimPrefix(path(f.links[0]), "/r/")
	routes := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/admin/", nil},
		{"GET", "/admin/studies/new", nil},
		{"POST", "/admin/studies", url.Values{"name": {"x"}, "clips": {f.files.Dir}, "gt": {f.files.GroundTruth}, "predictions": {"a=" + f.files.Predictions[systems[0]]}, "target": {"1"}, "seed": {"1"}}},
		{"GET", fmt.Sprintf("/admin/studies/%d", f.studID), nil},
		{"POST", fmt.Sprintf("/admin/studies/%d/raters", f.studID), url.Values{"count": {"3"}}},
		{"GET", fmt.Sprintf("/admin/studies/%d/ratings.csv", f.studID), nil},
		{"POST", "/admin/logout", nil},
		{"GET", "/admin/studies/999", nil},
		{"DELETE", "/admin/studies/1", nil},
	}
	for _, who := range []struct {
		name   string
		header func(r *http.Request)
	}{
		{"no token", func(*http.Request) {}},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminToken+"x") }},
		{"rater's token as bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+raterTok) }},
		{"basic auth", func(r *http.Request) { r.SetBasicAuth("admin", adminToken) }},
		{"token as cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "emer_admin", Value: adminToken}) }},
		{"forged cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "emer_admin", Value: strings.Repeat("0", 64)}) }},
		{"token in the query", nil},
	} {
		for _, rt := range routes {
			t.Run(who.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				u := f.srv.URL + rt.path
				if who.header == nil {
					u += "?token=" + adminToken
				}
				var body io.Reader
				if rt.form != nil {
					body = strings.NewReader(rt.form.Encode())
				}
				req, _ := http.NewRequest(rt.method, u, body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if who.header != nil {
					who.header(req)
				}
				resp, err := f.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s, want 401", resp.Status)
				}
				for _, leak := range append([]string{f.name, "clip000", raterTok}, systems...) {
					if strings.Contains(string(b), leak) {
						t.Errorf("the refusal shows %q", leak)
					}
				}
			})
		}
	}
	// Nothing was made or changed by the refused requests.
	p, err := f.svc.Progress(context.Background(), f.studID)
	if err != nil {
		t.Fatal(err)
	}
	if sts, _ := f.svc.Studies(context.Background()); len(sts) != 1 || len(p.Raters) != 1 {
		t.Errorf("after refused requests: %d studies, %d raters; want 1 and 1", len(sts), len(p.Raters))
	}

	// The login form's cookie opens the pages; a wrong token sets none.
	resp, _ := webtest.Do(t, f.c, "POST", f.srv.URL+"/admin/login", "", url.Values{"token": {"wrong-token-wrong-token"}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %s, cookies %v", resp.Status, resp.Cookies())
	}
	resp, _ = webtest.Do(t, f.c, "POST", f.srv.URL+"/admin/login", "", url.Values{"token": {adminToken}})
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("login: %s, cookies %v", resp.Status, cookies)
	}
	ck := cookies[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/admin" || strings.Contains(ck.Value, adminToken) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/admin, not the token itself", ck)
	}
	for _, rt := range routes[:6] {
		var body io.Reader
		if rt.form != nil {
			body = strings.NewReader(rt.form.Encode())
		}
		req, _ := http.NewRequest(rt.method, f.srv.URL+rt.path, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(ck)
		resp, err := f.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("logged in, %s %s: %s, want 200", rt.method, rt.path, resp.Status)
		}
	}
}

// TestRaterSeesOwnWorkOnly checks that a rater's link opens their work
// and nothing of another rater's.
func TestRaterSeesOwnWorkOnly(t *testing.T) {
	f := newFixture(t, 3, 1, 2)
	a, b := f.srv.URL+path(f.links[0]), f.srv.URL+path(f.links[1])
	_, body := webtest.Do(t, f.c, "GET", a, "", nil)
	ta := readTask(t, body)
	_, body = webtest.Do(t, f.c, "GET", b, "", nil)
	tb := readTask(t, body)
	if ta.clip == tb.clip {
		t.Fatal("two raters hold one clip of a study with one rater per clip")
	}
	for _, tc := range []struct {
		name, method, url string
		form              url.Values
		status            int
	}{
		{"own media", "GET", a + "/m/" + ta.clip, nil, 200},
		{"other's media", "GET", a + "/m/" + tb.clip, nil, 404},
		{"other's subtitles", "GET", a + "/s/" + tb.clip, nil, 404},
		{"unheld clip's media", "GET", a + "/m/0123456789abcdef", nil, 404},
		{"other's clip sent", "POST", a + "/c/" + tb.clip, allScores(3, 4), 409},
		{"unknown token", "GET", f.srv.URL + "/r/AAAAAAAAAAAAAAAAAAAAAA", nil, 404},
		{"unknown token's media", "GET", f.srv.URL + "/r/AAAAAAAAAAAAAAAAAAAAAA/m/" + ta.clip, nil, 404},
		{"unknown token sends", "POST", f.srv.URL + "/r/AAAAAAAAAAAAAAAAAAAAAA/c/" + ta.clip, allScores(3, 4), 404},
		{"token cut short", "GET", a[:len(a)-1], nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := webtest.Do(t, f.c, tc.method, tc.url, "", tc.form)
			if resp.StatusCode != tc.status {
				t.Errorf("%s, want %d", resp.Status, tc.status)
			}
		})
	}
	rs, err := f.svc.Ratings(context.Background(), f.studID)
	if err != nil || len(rs) != 0 {
		t.Errorf("%d ratings after the refused ones (%v), want 0", len(rs), err)
	}
	// Rater b's clip, once rated by b, is still not a's.
	if resp, _ := webtest.Do(t, f.c, "POST", f.srv.URL+tb.action, "", allScores(3, 2)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("b sends: %s", resp.Status)
	}
	if resp, _ := webtest.Do(t, f.c, "GET", a+"/m/"+tb.clip, "", nil); resp.StatusCode != 404 {
		t.Errorf("a plays b's rated clip: %s, want 404", resp.Status)
	}
}

// recorder keeps every response a client receives.
type recorder struct {
	mu        sync.Mutex
	responses []string // status line, headers and body
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s -> %s\n", req.Method, req.URL.Path, resp.Status)
	resp.Header.Write(&sb)
	for _, c := range resp.Cookies() {
		sb.WriteString(c.String() + "\n")
	}
	sb.Write(b)
	r.mu.Lock()
	r.responses = append(r.responses, sb.String())
	r.mu.Unlock()
	return resp, nil
}

// TestRaterResponsesNameNoSource goes everywhere a rater can and checks
// that no response (headers or body) names a system, a file, a clip or
// the study.
func TestRaterResponsesNameNoSource(t *testing.T) {
	f := newFixture(t, 3, 2, 2)
	rec := &recorder{}
	c := &http.Client{Transport: rec, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	a, b := f.srv.URL+path(f.links[0]), f.srv.URL+path(f.links[1])
	get := func(u string, hdr ...string) {
		req, _ := http.NewRequest("GET", u, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, s := range []string{"/", "/static/style.css", "/static/keys.js", "/static/", "/static/nothing.js", "/r/", "/r/AAAAAAAAAAAAAAAAAAAAAA"} {
		get(f.srv.URL + s)
	}
	_, body := webtest.Do(t, c, "GET", b, "", nil)
	other := readTask(t, body)
	for range 3 {
		_, body := webtest.Do(t, c, "GET", a, "", nil)
		tk := readTask(t, body)
		for _, u := range []string{a + "/m/" + tk.clip, a + "/s/" + tk.clip, a + "/m/" + other.clip, a + "/m/" + tk.clip + "x"} {
			get(u)
		}
		get(a+"/m/"+tk.clip, "Range", "bytes=0-99")
		get(a+"/m/"+tk.clip, "Range", "bytes=100-50")
		req, _ := http.NewRequest("HEAD", a+"/m/"+tk.clip, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
		webtest.Do(t, c, "POST", f.srv.URL+tk.action, "", url.Values{"p1": {"2"}, "p7": {"9"}})
		webtest.Do(t, c, "POST", a+"/c/"+other.clip, "", allScores(3, 1))
		webtest.Do(t, c, "POST", f.srv.URL+tk.action, "", allScores(3, 3))
		webtest.Do(t, c, "POST", f.srv.URL+tk.action, "", allScores(3, 4))
	}
	webtest.Do(t, c, "GET", a, "", nil) // nothing left
	// A hold run out and taken by a new rater: b's late form is refused.
	_, body = webtest.Do(t, c, "GET", b, "", nil)
	late := readTask(t, body)
	f.clock.Advance(31 * time.Minute)
	_, invited := webtest.Do(t, f.c, "POST", f.study+"/raters", adminToken, url.Values{"count": {"1"}})
	third := regexp.MustCompile(`/r/[A-Za-z0-9_-]{22}`).FindString(invited)
	for range 3 {
		_, body := webtest.Do(t, c, "GET", f.srv.URL+third, "", nil)
		if tk := readTask(t, body); tk.clip != late.clip {
			webtest.Do(t, c, "POST", f.srv.URL+tk.action, "", allScores(3, 2))
			continue
		}
		break
	}
	if resp, _ := webtest.Do(t, c, "POST", f.srv.URL+late.action, "", allScores(3, 1)); resp.StatusCode != http.StatusConflict {
		t.Errorf("a form sent after the hold ran out and the clip went to another rater: %s, want 409", resp.Status)
	}

	forbidden := []string{f.name, f.files.Dir, f.files.GroundTruth, filepath.Base(f.files.GroundTruth), "ground truth", "ground_truth"}
	forbidden = append(forbidden, systems...)
	for sys, p := range f.files.Predictions {
		forbidden = append(forbidden, p, filepath.Base(p), strings.ToLower(sys))
	}
	for _, c := range f.files.Clips {
		forbidden = append(forbidden, c, c+".mp4", c+".srt")
	}
	if len(rec.responses) < 30 {
		t.Fatalf("only %d responses recorded", len(rec.responses))
	}
	for _, r := range rec.responses {
		low := strings.ToLower(r)
		for _, s := range forbidden {
			if strings.Contains(low, strings.ToLower(s)) {
				first, _, _ := strings.Cut(r, "\n")
				t.Errorf("%s: the response contains %q", first, s)
			}
		}
	}
}

// TestPredictionHTMLIsText checks that markup in a prediction is shown as
// text, not run or rendered.
func TestPredictionHTMLIsText(t *testing.T) {
	dir := t.TempDir()
	files := webtest.Files(t, dir, 1, systems...)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)><b>bold</b> & "quoted" {{.Token}}`
	webtest.WriteCSV(t, files.Predictions[systems[0]], []string{"names", "reasons"}, [][]string{{files.Clips[0], evil}})
	f := serveFiles(t, dir, files, 1, 1)
	resp, body := webtest.Do(t, f.c, "GET", f.srv.URL+path(f.links[0]), "", nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	want := `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34; {{.Token}}`
	if !strings.Contains(body, want) {
		t.Errorf("the prediction is not shown as escaped text; page:\n%s", body)
	}
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>bold"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page contains %q as markup", bad)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q: want script-src 'self' and no unsafe-inline", csp)
	}
}

// TestMediaPathTraversal sends media and subtitle paths that try to leave
// the clip ids for files.
func TestMediaPathTraversal(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	a := f.srv.URL + path(f.links[0])
	_, body := webtest.Do(t, f.c, "GET", a, "", nil)
	tk := readTask(t, body)
	secret := filepath.Join(f.files.Dir, "..", "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET-CONTENT"), 0o644); err != nil {
		t.Fatal(err)
	}
	clipFile := filepath.Join(f.files.Dir, f.files.Clips[0]+".mp4")
	for _, p := range []string{
		"/m/../../../../etc/passwd",
		"/m/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
		"/m/%2e%2e%2f%2e%2e%2fsecret.txt",
		"/m/" + tk.clip + "/../../secret.txt",
		"/m/" + tk.clip + "%2F..%2F..%2Fsecret.txt",
		"/m/" + url.PathEscape(secret),
		"/m/" + url.PathEscape(clipFile),
		"/m/" + f.files.Clips[0] + ".mp4",
		"/m/" + f.files.Clips[0],
		"/m/..",
		"/m/" + strings.ToUpper(tk.clip),
		"/s/..%2F..%2Fgt.csv",
		"/s/" + url.PathEscape(f.files.GroundTruth),
		"/m/%00" + tk.clip,
	} {
		t.Run(p, func(t *testing.T) {
			req, err := http.NewRequest("GET", a+p, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.RawPath = req.URL.EscapedPath()
			resp, err := f.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s, want 404 (or a redirect to a cleaned path, or 400)", resp.Status)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				if r2, body2 := webtest.Do(t, f.c, "GET", f.srv.URL+loc, "", nil); r2.StatusCode == 200 && !strings.Contains(body2, "<!doctype html>") {
					t.Errorf("the redirect to %s serves a file", loc)
				}
			}
			if bytes.Contains(b, []byte("TOP-SECRET")) || bytes.Contains(b, []byte("root:")) || bytes.Contains(b, []byte("ftyp")) || bytes.Contains(b, []byte("names,")) {
				t.Errorf("a file's content was served:\n%.200s", b)
			}
		})
	}
}

// TestCrossSiteFormsRefused sends the state-changing forms as another
// site would make a browser send them.
func TestCrossSiteFormsRefused(t *testing.T) {
	f := newFixture(t, 2, 1, 1)
	a := f.srv.URL + path(f.links[0])
	_, body := webtest.Do(t, f.c, "GET", a, "", nil)
	tk := readTask(t, body)
	posts := []struct {
		name, url string
		form      url.Values
		admin     bool
	}{
		{"rating", f.srv.URL + tk.action, allScores(3, 4), false},
		{"invite", f.study + "/raters", url.Values{"count": {"2"}}, true},
		{"new study", f.srv.URL + "/admin/studies", url.Values{"name": {"x"}}, true},
		{"login", f.srv.URL + "/admin/login", url.Values{"token": {adminToken}}, false},
		{"logout", f.srv.URL + "/admin/logout", url.Values{}, true},
	}
	for _, p := range posts {
		for _, h := range []struct{ name, key, value string }{
			{"Sec-Fetch-Site cross-site", "Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site same-site", "Sec-Fetch-Site", "same-site"},
			{"Origin elsewhere", "Origin", "http://evil.example"},
		} {
			t.Run(p.name+" "+h.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", p.url, strings.NewReader(p.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(h.key, h.value)
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
				if len(resp.Cookies()) != 0 {
					t.Errorf("a refused request set cookies %v", resp.Cookies())
				}
			})
		}
	}
	ctx := context.Background()
	if rs, _ := f.svc.Ratings(ctx, f.studID); len(rs) != 0 {
		t.Errorf("%d ratings recorded from other sites", len(rs))
	}
	if p, _ := f.svc.Progress(ctx, f.studID); len(p.Raters) != 1 {
		t.Errorf("%d raters after invitations from other sites, want 1", len(p.Raters))
	}
	// The same form from the page itself goes through.
	req, _ := http.NewRequest("POST", f.srv.URL+tk.action, strings.NewReader(allScores(3, 4).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", f.srv.URL)
	resp, err := f.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin rating: %s, want 303", resp.Status)
	}
}

// TestMediaRanges checks that clips are served with range requests, under
// their own type and no name.
func TestMediaRanges(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	a := f.srv.URL + path(f.links[0])
	_, body := webtest.Do(t, f.c, "GET", a, "", nil)
	tk := readTask(t, body)
	whole, err := os.ReadFile(filepath.Join(f.files.Dir, f.files.Clips[0]+".mp4"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a+"/m/"+tk.clip, nil)
	req.Header.Set("Range", "bytes=100-299")
	resp, err := f.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, whole[100:300]) {
		t.Errorf("range 100-299: %s, %d bytes, equal %v", resp.Status, len(b), bytes.Equal(b, whole[100:min(300, len(whole))]))
	}
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 100-299/%d", len(whole)) {
		t.Errorf("Content-Range %q", cr)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/mp4" {
		t.Errorf("Content-Type %q, want video/mp4", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		t.Errorf("Content-Disposition %q", cd)
	}
	if resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges %q", resp.Header.Get("Accept-Ranges"))
	}
	resp, got := webtest.Do(t, f.c, "GET", a+"/m/"+tk.clip, "", nil)
	if resp.StatusCode != 200 || got != string(whole) {
		t.Errorf("whole clip: %s, %d bytes of %d", resp.Status, len(got), len(whole))
	}
	// The first clip has a sidecar .srt: its cues come as WebVTT, escaped.
	resp, vtt := webtest.Do(t, f.c, "GET", a+"/s/"+tk.clip, "", nil)
	want := "WEBVTT\n\n00:00:00.000 --> 00:00:00.900\nTom &amp; Jerry say 2 &lt; 3\n"
	if resp.StatusCode != 200 || vtt != want || resp.Header.Get("Content-Type") != "text/vtt; charset=utf-8" {
		t.Errorf("subtitles: %s %q\n%q, want\n%q", resp.Status, resp.Header.Get("Content-Type"), vtt, want)
	}
	if !strings.Contains(body, `<track kind="subtitles"`) {
		t.Error("the page has no subtitle track for a clip with cues")
	}
}
