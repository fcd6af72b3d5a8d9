package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"emer/internal/dataset"
	"emer/internal/media"
	"emer/internal/study"
	"emer/internal/table"
)

// ReviewStore is where the review of descriptions keeps its state: the
// reviews and their history (shared with emer build review), the
// reviewers invited by link and the grounding checks loaded. The
// project's store implements it; its methods are safe for concurrent
// use, and a change is committed when its method returns.
type ReviewStore interface {
	dataset.ReviewStore
	// Review returns the review of clip, or an error wrapping
	// dataset.ErrNoReview.
	Review(ctx context.Context, clip string) (dataset.Review, error)
	// InviteReviewer gives the reviewer called name (a new one, or the
	// one of that name, whose old link stops working: replaced) the link
	// whose token hashes to hash.
	InviteReviewer(ctx context.Context, name string, hash [32]byte, at time.Time) (r dataset.Reviewer, replaced bool, err error)
	// Reviewer returns the reviewer of a token's hash, or an error
	// wrapping dataset.ErrUnknownReviewer.
	Reviewer(ctx context.Context, hash [32]byte) (dataset.Reviewer, error)
	Reviewers(ctx context.Context) ([]dataset.Reviewer, error)
	// PutChecks stores checks, each replacing its clip's, all at once.
	PutChecks(ctx context.Context, checks []dataset.ClipCheck) error
	// Check returns the check of clip; ok is false when it has none.
	Check(ctx context.Context, clip string) (c dataset.ClipCheck, ok bool, err error)
	Checks(ctx context.Context) ([]dataset.ClipCheck, error)
}

// ReviewOptions turn on the review of descriptions.
type ReviewOptions struct {
	Store ReviewStore
	// Name is what the organizer's pages call the review: its store's
	// file.
	Name string
	// Clips is a folder of media files named after the clips, as a
	// study's (NAME.mp4, with NAME.srt or NAME.vtt or a subtitle track
	// for the subtitles); empty: no video is shown.
	Clips string
	// Dataset is an EMER CSV of names and subtitles (a subtitles,
	// subtitle, engsubs or chisubs column), shown as each clip's
	// subtitle text; empty: none.
	Dataset string
	Now     func() time.Time // nil: time.Now
}

// reviewMode is the review of a Server.
type reviewMode struct {
	store ReviewStore
	name  string
	dir   string
	media map[string]string // clip -> media file
	text  map[string]string // clip -> subtitle text of the dataset
	now   func() time.Time

	mu   sync.Mutex
	subs map[string]study.Subtitles // clip -> its sidecar or track, once read
}

func newReviewMode(o *ReviewOptions) (*reviewMode, error) {
	if o.Store == nil {
		return nil, errors.New("web: review without a store")
	}
	m := &reviewMode{store: o.Store, name: o.Name, dir: o.Clips, now: o.Now, subs: map[string]study.Subtitles{}, text: map[string]string{}}
	if m.now == nil {
		m.now = time.Now
	}
	if o.Clips != "" {
		files, err := clipFiles(o.Clips)
		if err != nil {
			return nil, err
		}
		m.media = files
	}
	if o.Dataset != "" {
		t, err := table.ReadFile(o.Dataset)
		if err != nil {
			return nil, err
		}
		col := ""
		for _, c := range subtitleColumns {
			if t.Has(c) {
				col = c
				break
			}
		}
		if col == "" {
			return nil, fmt.Errorf("%s has no subtitle column (%s)", o.Dataset, strings.Join(subtitleColumns, ", "))
		}
		for _, row := range t.Rows {
			if s := strings.TrimSpace(row.Get(col)); s != "" {
				m.text[row.Name()] = s
			}
		}
	}
	return m, nil
}

// subtitles returns the timed subtitles of clip's media file, read once.
func (m *reviewMode) subtitles(ctx context.Context, clip string) study.Subtitles {
	m.mu.Lock()
	st, ok := m.subs[clip]
	m.mu.Unlock()
	if ok {
		return st
	}
	if path, ok := m.media[clip]; ok {
		if subs, err := media.FindSubtitles(ctx, path); err == nil {
			for _, q := range subs.Cues {
				st.Cues = append(st.Cues, study.Cue{Start: q.Start, End: q.End, Text: q.Text})
			}
			st.Text = subs.Text()
		} else if ctx.Err() != nil {
			return st
		}
	}
	m.mu.Lock()
	m.subs[clip] = st
	m.mu.Unlock()
	return st
}

// reviewerTokenBytes is the size of a reviewer's token: 128 random bits.
const reviewerTokenBytes = 16

// newReviewerToken returns a new random token for a reviewer's link and
// its hash, which is all the store keeps.
func newReviewerToken() (string, [32]byte) {
	b := make([]byte, reviewerTokenBytes)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashReviewerToken(tok)
}

// hashReviewerToken is the hash a reviewer is stored under; it differs
// from a rater's hash of the same token.
func hashReviewerToken(tok string) [32]byte { return sha256.Sum256([]byte("emer reviewer\x00" + tok)) }

// reviewerOf returns the reviewer of the request's {token}; false after
// writing a 404 that says nothing of why.
func (s *Server) reviewerOf(w http.ResponseWriter, r *http.Request) (dataset.Reviewer, bool) {
	tok := r.PathValue("token")
	if s.rev == nil || !study.WellFormedToken(tok) {
		s.fail(w, r, http.StatusNotFound, "This link is not valid. Please use the link you were sent, as it was sent.")
		return dataset.Reviewer{}, false
	}
	rv, err := s.rev.store.Reviewer(r.Context(), hashReviewerToken(tok))
	if errors.Is(err, dataset.ErrUnknownReviewer) {
		s.fail(w, r, http.StatusNotFound, "This link is not valid. Please use the link you were sent, as it was sent; a newer link makes an older one invalid.")
		return rv, false
	}
	if err != nil {
		s.internal(w, r, err)
		return rv, false
	}
	return rv, true
}

// statusRank orders reviews for the list: pending first.
func statusRank(st dataset.ReviewStatus) int {
	if st == dataset.Pending {
		return 0
	}
	return 1
}

// sortForReview sorts reviews pending first, then by clip.
func sortForReview(rs []dataset.Review) {
	slices.SortStableFunc(rs, func(a, b dataset.Review) int {
		if d := statusRank(a.Status) - statusRank(b.Status); d != 0 {
			return d
		}
		return strings.Compare(a.Clip, b.Clip)
	})
}

// claimCounts counts a check's claims by verdict.
type claimCounts struct {
	Claims, Supported, Contradicted, Unverifiable int
}

func countClaims(cs []dataset.Claim) claimCounts {
	var n claimCounts
	for _, c := range cs {
		n.Claims++
		switch c.Verdict {
		case dataset.Supported:
			n.Supported++
		case dataset.Contradicted:
			n.Contradicted++
		case dataset.Unverifiable:
			n.Unverifiable++
		}
	}
	return n
}

func (n *claimCounts) add(o claimCounts) {
	n.Claims += o.Claims
	n.Supported += o.Supported
	n.Contradicted += o.Contradicted
	n.Unverifiable += o.Unverifiable
}

// reviewFilter is what the list shows, from its query.
type reviewFilter struct {
	Status  string // a status, or "" for every one
	Marked  bool   // only drafts marked for review
	Verdict string // only descriptions with a claim of this verdict
	Query   string // only clips whose name or text holds it
	Page    int    // from 1
}

func readFilter(q url.Values) reviewFilter {
	f := reviewFilter{Marked: q.Get("marked") == "1", Query: strings.TrimSpace(q.Get("q")), Page: 1}
	if st, ok := dataset.ParseReviewStatus(q.Get("status")); ok {
		f.Status = string(st)
	}
	if v := q.Get("verdict"); slices.Contains(dataset.Verdicts, v) {
		f.Verdict = v
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 {
		f.Page = p
	}
	if r := []rune(f.Query); len(r) > 100 {
		f.Query = string(r[:100])
	}
	return f
}

// query returns the list's query string for f at page.
func (f reviewFilter) query(page int) string {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Marked {
		q.Set("marked", "1")
	}
	if f.Verdict != "" {
		q.Set("verdict", f.Verdict)
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (f reviewFilter) keep(r dataset.Review, n claimCounts) bool {
	switch {
	case f.Status != "" && string(r.Status) != f.Status:
		return false
	case f.Marked && len(r.Flags) == 0:
		return false
	case f.Verdict == dataset.Supported && n.Supported == 0,
		f.Verdict == dataset.Contradicted && n.Contradicted == 0,
		f.Verdict == dataset.Unverifiable && n.Unverifiable == 0:
		return false
	case f.Query != "":
		q := strings.ToLower(f.Query)
		return strings.Contains(strings.ToLower(r.Clip), q) || strings.Contains(strings.ToLower(r.Description()), q)
	}
	return true
}

// listPageSize is how many descriptions a page of the list shows.
const listPageSize = 50

type reviewListPage struct {
	Base     string
	Reviewer string
	Counts   []statusCount
	Total    int
	Filter   reviewFilter
	Verdicts []string
	Statuses []dataset.ReviewStatus
	Checked  bool
	Rows     []reviewRow
	Matching int
	Page     int
	Pages    int
	Prev     string // query of the page before, if any
	Next     string
}

type statusCount struct {
	Status dataset.ReviewStatus
	N      int
}

type reviewRow struct {
	Clip, Path string
	Status     dataset.ReviewStatus
	Excerpt    string
	Flags      []string
	Reviewer   string
	At         time.Time
	Check      *claimCounts
}

// countStatuses counts reviews by status, in the order of the statuses.
func countStatuses(rs []dataset.Review) []statusCount {
	n := map[dataset.ReviewStatus]int{}
	for _, r := range rs {
		n[r.Status]++
	}
	out := make([]statusCount, len(dataset.ReviewStatuses))
	for i, st := range dataset.ReviewStatuses {
		out[i] = statusCount{st, n[st]}
	}
	return out
}

// checksByClip loads the checks, by clip.
func (s *Server) checksByClip(ctx context.Context) (map[string]dataset.ClipCheck, error) {
	cs, err := s.rev.store.Checks(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]dataset.ClipCheck, len(cs))
	for _, c := range cs {
		out[c.Clip] = c
	}
	return out, nil
}

func excerptText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (s *Server) reviewList(w http.ResponseWriter, r *http.Request) {
	rv, ok := s.reviewerOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	rs, err := s.rev.store.Reviews(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	checks, err := s.checksByClip(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	sortForReview(rs)
	f := readFilter(r.URL.Query())
	p := reviewListPage{Base: "/review/" + r.PathValue("token"), Reviewer: rv.Name, Counts: countStatuses(rs), Total: len(rs),
		Filter: f, Verdicts: dataset.Verdicts, Statuses: dataset.ReviewStatuses, Checked: len(checks) > 0}
	var keep []reviewRow
	for _, x := range rs {
		var n *claimCounts
		if c, ok := checks[x.Clip]; ok {
			cc := countClaims(c.Claims)
			n = &cc
		}
		var nn claimCounts
		if n != nil {
			nn = *n
		}
		if !f.keep(x, nn) {
			continue
		}
		keep = append(keep, reviewRow{Clip: x.Clip, Path: url.PathEscape(x.Clip), Status: x.Status, Excerpt: excerptText(x.Description(), 160),
			Flags: x.Flags, Reviewer: x.Reviewer, At: x.At, Check: n})
	}
	p.Matching = len(keep)
	p.Pages = max(1, (len(keep)+listPageSize-1)/listPageSize)
	p.Page = min(f.Page, p.Pages)
	lo := (p.Page - 1) * listPageSize
	p.Rows = keep[lo:min(lo+listPageSize, len(keep))]
	if p.Page > 1 {
		p.Prev = f.query(p.Page - 1)
		if p.Prev == "" {
			p.Prev = "?"
		}
	}
	if p.Page < p.Pages {
		p.Next = f.query(p.Page + 1)
	}
	s.render(w, r, http.StatusOK, "review_list", p)
}

// reviewPage is the page of one description.
type reviewPage struct {
	Base, Reviewer string
	Review         dataset.Review
	Path           string // the clip, escaped for a URL path
	Version        string
	Text, Note     string // the form's fields
	Error          string
	Media, Track   bool
	Subtitle       string
	Check          *checkView
	History        []historyRow
	Pending        int    // descriptions pending, this one included
	NextPending    string // the page of the next pending one, if any
}

type checkView struct {
	Claims []claimView
	Counts claimCounts
	Source string
	At     time.Time
	Stale  bool // the description is no longer the text checked
}

type claimView struct {
	Text, Aspect, Verdict, Evidence string
}

type historyRow struct {
	By         string
	At         time.Time
	From, To   dataset.ReviewStatus // From is empty when the change made the review
	Before     string
	After      string
	TextChange bool
	Note       string
	NoteChange bool
}

// reviewVersion names a state of a review: a form made from one state
// cannot change another.
func reviewVersion(r dataset.Review) string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// descriptionPage makes the page of cur; text and note are the form's.
func (s *Server) descriptionPage(ctx context.Context, token string, rv dataset.Reviewer, cur dataset.Review, text, note string) (reviewPage, error) {
	p := reviewPage{Base: "/review/" + token, Reviewer: rv.Name, Review: cur, Path: url.PathEscape(cur.Clip), Version: reviewVersion(cur), Text: text, Note: note}
	rs, err := s.rev.store.Reviews(ctx)
	if err != nil {
		return p, err
	}
	if next := nextPending(rs, cur.Clip); next != "" {
		p.NextPending = p.Base + "/d/" + url.PathEscape(next)
	}
	for _, x := range rs {
		if x.Status == dataset.Pending {
			p.Pending++
		}
	}
	_, p.Media = s.rev.media[cur.Clip]
	subs := s.rev.subtitles(ctx, cur.Clip)
	p.Track = p.Media && len(subs.Cues) > 0
	p.Subtitle = s.rev.text[cur.Clip]
	if p.Subtitle == "" {
		p.Subtitle = subs.Text
	}
	c, ok, err := s.rev.store.Check(ctx, cur.Clip)
	if err != nil {
		return p, err
	}
	if ok {
		v := &checkView{Counts: countClaims(c.Claims), Source: c.Source, At: c.At, Stale: cleanText(c.Description) != cleanText(cur.Description())}
		for _, cl := range c.Claims {
			v.Claims = append(v.Claims, claimView{Text: cl.Text, Aspect: cl.Aspect, Verdict: cl.Verdict, Evidence: evidenceText(cl.Evidence)})
		}
		p.Check = v
	}
	h, err := s.rev.store.History(ctx, cur.Clip)
	if err != nil {
		return p, err
	}
	for i := len(h) - 1; i >= 0; i-- {
		c := h[i]
		row := historyRow{By: c.By, At: c.At, To: c.After.Status, After: c.After.Description(), Note: c.After.Note}
		if c.Before != nil {
			row.From, row.Before = c.Before.Status, c.Before.Description()
			row.NoteChange = c.Before.Note != c.After.Note
		} else {
			row.NoteChange = c.After.Note != ""
		}
		row.TextChange = c.Before == nil || row.Before != row.After
		p.History = append(p.History, row)
	}
	return p, nil
}

// nextPending returns the first pending clip after clip in name order,
// going round to the start; "" when clip is the only one or there are
// none.
func nextPending(rs []dataset.Review, clip string) string {
	var first string
	for _, x := range rs { // sorted by clip
		if x.Status != dataset.Pending || x.Clip == clip {
			continue
		}
		if x.Clip > clip {
			return x.Clip
		}
		if first == "" {
			first = x.Clip
		}
	}
	return first
}

// reviewOfRequest returns the review of the request's {clip}; false after
// writing a 404.
func (s *Server) reviewOfRequest(w http.ResponseWriter, r *http.Request) (dataset.Review, bool) {
	cur, err := s.rev.store.Review(r.Context(), r.PathValue("clip"))
	if errors.Is(err, dataset.ErrNoReview) {
		s.fail(w, r, http.StatusNotFound, "No description of that clip is in review.")
		return cur, false
	}
	if err != nil {
		s.internal(w, r, err)
		return cur, false
	}
	return cur, true
}

func (s *Server) reviewDescription(w http.ResponseWriter, r *http.Request) {
	rv, ok := s.reviewerOf(w, r)
	if !ok {
		return
	}
	cur, ok := s.reviewOfRequest(w, r)
	if !ok {
		return
	}
	p, err := s.descriptionPage(r.Context(), r.PathValue("token"), rv, cur, cur.Description(), cur.Note)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "review", p)
}

// Bounds of what a reviewer writes.
const (
	maxText = 20000 // characters of a description
	maxNote = 2000  // characters of a note
)

// changeError is a change a reviewer asked for that cannot be made, with
// what to do instead.
type changeError struct{ msg string }

func (e *changeError) Error() string { return e.msg }

func refuse(format string, args ...any) error { return &changeError{fmt.Sprintf(format, args...)} }

// The actions of the review form.
const (
	actAccept = "accept"
	actEdit   = "edit"
	actReject = "reject"
	actReopen = "reopen"
)

// planChange returns the change that action of the review form makes to
// cur, by who at at, with the form's text and note; ok is false when it
// changes nothing. The rules are those of the review CSV's import: accept
// takes the draft as made; a new text is saved only as edited, and must
// be neither empty nor the draft; a rejection needs a note saying why.
func planChange(cur dataset.Review, action, text, note, who string, at time.Time) (c dataset.Change, ok bool, err error) {
	text, note = cleanText(text), strings.Join(strings.Fields(cleanText(note)), " ")
	switch {
	case len([]rune(text)) > maxText:
		return c, false, refuse("The description has %d characters: at most %d, please.", len([]rune(text)), maxText)
	case len([]rune(note)) > maxNote:
		return c, false, refuse("The note has %d characters: at most %d, please.", len([]rune(note)), maxNote)
	}
	shown, draft := cleanText(cur.Description()), cleanText(cur.Draft)
	changed := text != shown
	after := dataset.Review{Clip: cur.Clip, Draft: cur.Draft, Flags: slices.Clone(cur.Flags), Reviewer: who, Note: note, At: dataset.StampTime(at)}
	switch action {
	case actAccept:
		switch {
		case draft == "":
			return c, false, refuse("There is no draft to accept: write a description and save it as edited, or reject the clip.")
		case changed:
			return c, false, refuse("You changed the text: save it as edited, or undo your change to accept the draft.")
		}
		after.Status = dataset.Accepted
	case actEdit:
		switch text {
		case "":
			return c, false, refuse("The description is empty: write one, or reject the clip with a note.")
		case draft:
			return c, false, refuse("This text is the draft as made: accept it instead.")
		}
		after.Status, after.Text = dataset.Edited, text
	case actReject, actReopen:
		if changed {
			return c, false, refuse("You changed the text, which this would not keep: save it as edited, or undo your change.")
		}
		after.Status = dataset.Pending
		if action == actReject {
			if note == "" {
				return c, false, refuse("Say in the note why the description is rejected.")
			}
			after.Status = dataset.Rejected
		}
	default:
		return c, false, refuse("Unknown action %s.", quote(action, 20))
	}
	if after.Status == cur.Status && after.Text == cur.Text && after.Note == cur.Note {
		return c, false, nil
	}
	if err := after.Check(); err != nil {
		return c, false, refuse("%v", err)
	}
	before := cur
	before.Flags = slices.Clone(cur.Flags)
	return dataset.Change{Clip: cur.Clip, By: who, At: after.At, Before: &before, After: after}, true, nil
}

func (s *Server) reviewChange(w http.ResponseWriter, r *http.Request) {
	rv, ok := s.reviewerOf(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	cur, ok := s.reviewOfRequest(w, r)
	if !ok {
		return
	}
	ctx, token := r.Context(), r.PathValue("token")
	text, note := r.PostFormValue("text"), r.PostFormValue("note")
	again := func(status int, cur dataset.Review, msg string) {
		p, err := s.descriptionPage(ctx, token, rv, cur, text, note)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		p.Error = msg
		s.render(w, r, status, "review", p)
	}
	changedMeanwhile := func(cur dataset.Review) {
		by := "someone"
		if cur.Reviewer != "" {
			by = cur.Reviewer
		}
		again(http.StatusConflict, cur, fmt.Sprintf("This description was changed (it is now %s, by %s at %s) after you opened it, so your change was not saved. Here it is as it stands now, with your text and note in the form: send again to make your change over it.",
			cur.Status, by, cur.At.UTC().Format("2006-01-02 15:04:05 UTC")))
	}
	if r.PostFormValue("v") != reviewVersion(cur) {
		changedMeanwhile(cur)
		return
	}
	c, ok, err := planChange(cur, r.PostFormValue("action"), text, note, rv.Name, s.rev.now())
	var ce *changeError
	switch {
	case errors.As(err, &ce):
		again(http.StatusUnprocessableEntity, cur, ce.msg)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	case ok:
		err := s.rev.store.ApplyReviews(ctx, []dataset.Change{c})
		if errors.Is(err, dataset.ErrReviewConflict) {
			now, err := s.rev.store.Review(ctx, cur.Clip)
			if err != nil {
				s.internal(w, r, err)
				return
			}
			changedMeanwhile(now)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		s.log.Info("review changed", "clip", cur.Clip, "by", rv.Name, "from", cur.Status, "to", c.After.Status)
	}
	rs, err := s.rev.store.Reviews(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	to := "/review/" + token
	if next := nextPending(rs, cur.Clip); next != "" {
		to += "/d/" + url.PathEscape(next)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// reviewClipMedia returns the media file of the request's {clip}; false
// after writing a 404.
func (s *Server) reviewClipMedia(w http.ResponseWriter, r *http.Request) (string, bool) {
	if _, ok := s.reviewerOf(w, r); !ok {
		return "", false
	}
	clip := r.PathValue("clip")
	if _, ok := s.rev.media[clip]; !ok {
		s.fail(w, r, http.StatusNotFound, "No video of that clip.")
		return "", false
	}
	return clip, true
}

func (s *Server) reviewMedia(w http.ResponseWriter, r *http.Request) {
	clip, ok := s.reviewClipMedia(w, r)
	if !ok {
		return
	}
	s.serveMedia(w, r, clip, s.rev.media[clip])
}

func (s *Server) reviewSubtitles(w http.ResponseWriter, r *http.Request) {
	clip, ok := s.reviewClipMedia(w, r)
	if !ok {
		return
	}
	writeVTT(w, s.rev.subtitles(r.Context(), clip).Cues)
}
