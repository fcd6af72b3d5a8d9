package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"emer/internal/dataset"
	"emer/internal/table"
)

// checkUploadPath is where the organizer's form sends a check file; its
// body may be larger than a form's.
const checkUploadPath = "/admin/review/check"

// reviewAdminPage is the organizer's page of the review.
type reviewAdminPage struct {
	Name      string
	Clips     string // the media folder, if any
	Media     int    // media files in it
	Total     int
	Counts    []statusCount
	Checked   int // clips with a check
	Claims    claimCounts
	Sources   []string // the files the checks came from
	LastCheck time.Time
	Reviewers []dataset.Reviewer
	Notice    string
	Errors    []string
}

// noReview answers an organizer's review page when review is off.
func (s *Server) noReview(w http.ResponseWriter, r *http.Request) bool {
	if s.rev != nil {
		return false
	}
	s.render(w, r, http.StatusNotFound, "message", message{Title: "No descriptions in review",
		Text: "This server reviews no descriptions: start emer serve with --review DIR/emer.db, the store of emer build summarize.",
		Link: "/admin/", Label: "Back to the studies"})
	return true
}

func (s *Server) adminReviewPage(ctx context.Context) (reviewAdminPage, error) {
	p := reviewAdminPage{Name: s.rev.name, Clips: s.rev.dir, Media: len(s.rev.media)}
	rs, err := s.rev.store.Reviews(ctx)
	if err != nil {
		return p, err
	}
	p.Total, p.Counts = len(rs), countStatuses(rs)
	cs, err := s.rev.store.Checks(ctx)
	if err != nil {
		return p, err
	}
	seen := map[string]bool{}
	for _, c := range cs {
		p.Checked++
		p.Claims.add(countClaims(c.Claims))
		if !seen[c.Source] {
			seen[c.Source] = true
			p.Sources = append(p.Sources, c.Source)
		}
		if c.At.After(p.LastCheck) {
			p.LastCheck = c.At
		}
	}
	p.Reviewers, err = s.rev.store.Reviewers(ctx)
	return p, err
}

func (s *Server) reviewAdmin(w http.ResponseWriter, r *http.Request) {
	if s.noReview(w, r) {
		return
	}
	p, err := s.adminReviewPage(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "review_admin", p)
}

// maxReviewerName bounds a reviewer's name.
const maxReviewerName = 64

// reviewerName checks a name typed for a reviewer.
func reviewerName(s string) (string, error) {
	name := strings.Join(strings.Fields(s), " ")
	switch {
	case len([]rune(name)) > maxReviewerName:
		return "", fmt.Errorf("name %s: at most %d characters, please", quote(name, 40), maxReviewerName)
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return "", fmt.Errorf("name %s: letters, digits, spaces and punctuation only", quote(name, 40))
	}
	return name, nil
}

type reviewInvitedPage struct {
	Invites []reviewInvite
}

type reviewInvite struct {
	Name, Link string
	Replaced   bool
}

func (s *Server) inviteReviewers(w http.ResponseWriter, r *http.Request) {
	if s.noReview(w, r) {
		return
	}
	var names, errs []string
	seen := map[string]bool{}
	for _, line := range strings.Split(r.PostFormValue("names"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, err := reviewerName(line)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if key := strings.ToLower(name); !seen[key] {
			seen[key] = true
			names = append(names, name)
		}
	}
	if len(names) == 0 && len(errs) == 0 {
		errs = append(errs, "Give the reviewers' names, one a line: each name is recorded with the changes its reviewer makes.")
	}
	if len(names) > maxInvites {
		errs = append(errs, fmt.Sprintf("At most %d reviewers at once.", maxInvites))
	}
	if len(errs) > 0 {
		p, err := s.adminReviewPage(r.Context())
		if err != nil {
			s.internal(w, r, err)
			return
		}
		p.Errors = append([]string{"No reviewer was invited:"}, errs...)
		s.render(w, r, http.StatusUnprocessableEntity, "review_admin", p)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	var p reviewInvitedPage
	for _, name := range names {
		tok, hash := newReviewerToken()
		rv, replaced, err := s.rev.store.InviteReviewer(r.Context(), name, hash, s.rev.now())
		if err != nil {
			s.internal(w, r, err)
			return
		}
		p.Invites = append(p.Invites, reviewInvite{Name: rv.Name, Link: fmt.Sprintf("%s://%s/review/%s", scheme, r.Host, tok), Replaced: replaced})
	}
	s.log.Info("reviewers invited", "reviewers", len(p.Invites))
	s.render(w, r, http.StatusOK, "review_invited", p)
}

// LoadCheckFile loads the grounding check in the file at path (the output
// of emer build check --json) into the review, as the organizer's upload
// does, and says what it loaded.
func (s *Server) LoadCheckFile(ctx context.Context, path string) (string, error) {
	if s.rev == nil {
		return "", errors.New("web: a check without descriptions in review")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return s.loadCheck(ctx, f, path)
}

// loadCheck reads a check from r (name names it) and stores the checks of
// the clips in review, each replacing the one its clip had. A check none
// of whose clips is in review is refused.
func (s *Server) loadCheck(ctx context.Context, r io.Reader, name string) (string, error) {
	checks, err := ReadCheck(r, name)
	if err != nil {
		return "", err
	}
	rs, err := s.rev.store.Reviews(ctx)
	if err != nil {
		return "", err
	}
	byClip := make(map[string]dataset.Review, len(rs))
	for _, x := range rs {
		byClip[x.Clip] = x
	}
	now := s.rev.now()
	var keep []dataset.ClipCheck
	var unknown []string
	var n claimCounts
	for _, c := range checks {
		cur, ok := byClip[c.Clip]
		if !ok {
			unknown = append(unknown, c.Clip)
			continue
		}
		if c.Description == "" {
			c.Description = cur.Description()
		}
		c.Source, c.At = filepath.Base(name), now
		keep = append(keep, c)
		n.add(countClaims(c.Claims))
	}
	if len(keep) == 0 {
		return "", fmt.Errorf("%s: none of its %d clips has a description in review (%s): is it the check of these descriptions?", name, len(checks), table.ListNames(unknown, maxListed))
	}
	if err := s.rev.store.PutChecks(ctx, keep); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("The check of %d clips from %s is loaded: %d claims, %d supported, %d contradicted, %d unverifiable.",
		len(keep), filepath.Base(name), n.Claims, n.Supported, n.Contradicted, n.Unverifiable)
	if len(unknown) > 0 {
		msg += fmt.Sprintf(" %d clips of the file have no description in review and were left out: %s.", len(unknown), table.ListNames(unknown, maxListed))
	}
	s.log.Info("check loaded", "file", filepath.Base(name), "clips", len(keep), "claims", n.Claims, "left_out", len(unknown))
	return msg, nil
}

func (s *Server) uploadCheck(w http.ResponseWriter, r *http.Request) {
	if s.noReview(w, r) {
		return
	}
	ctx := r.Context()
	fail := func(status int, errs ...string) {
		p, err := s.adminReviewPage(ctx)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		p.Errors = errs
		s.render(w, r, status, "review_admin", p)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		fail(http.StatusBadRequest, "The upload could not be read: send the form's file field.")
		return
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(http.StatusBadRequest, "The upload could not be read to its end.")
			return
		}
		if part.FormName() != "check" {
			part.Close()
			continue
		}
		name := filepath.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "." || name == "/" || name == "" {
			name = "the uploaded file"
		}
		msg, err := s.loadCheck(ctx, part, excerpt(name))
		part.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MiB.", maxCheck>>20))
				return
			}
			fail(http.StatusUnprocessableEntity, append([]string{"The check was not loaded:"}, splitErrors(err)...)...)
			return
		}
		p, err := s.adminReviewPage(ctx)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		p.Notice = msg
		s.render(w, r, http.StatusOK, "review_admin", p)
		return
	}
	fail(http.StatusUnprocessableEntity, "Choose the file emer build check --json wrote.")
}

// reviewCSV writes the review as the CSV emer build review --export
// writes.
func (s *Server) reviewCSV(w http.ResponseWriter, r *http.Request) {
	if s.noReview(w, r) {
		return
	}
	rs, err := s.rev.store.Reviews(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="review.csv"`)
	h.Set("Cache-Control", "no-store")
	if err := dataset.WriteReviewCSV(w, rs); err != nil {
		s.log.Warn("review CSV cut off", "err", err)
	}
}
