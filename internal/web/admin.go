package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"emer/internal/study"
)

// adminCookie carries the organizer's session.
const adminCookie = "emer_admin"

// isAdmin reports whether r carries the admin token (as a bearer token)
// or the session cookie of the login form.
func (s *Server) isAdmin(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		sum := sha256.Sum256([]byte(tok))
		return ok && subtle.ConstantTimeCompare(sum[:], s.admin[:]) == 1
	}
	c, err := r.Cookie(adminCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.session)) == 1
}

// adminOnly refuses requests without the admin token.
func (s *Server) adminOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.isAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="emer"`)
			s.render(w, r, http.StatusUnauthorized, "login", loginPage{Error: "Log in with the admin token to see this page."})
			return
		}
		h(w, r)
	})
}

type loginPage struct{ Error string }

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", loginPage{})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	sum := sha256.Sum256([]byte(strings.TrimSpace(r.PostFormValue("token"))))
	if subtle.ConstantTimeCompare(sum[:], s.admin[:]) != 1 {
		s.render(w, r, http.StatusUnauthorized, "login", loginPage{Error: "That is not the admin token."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: s.session, Path: "/admin", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

type studiesPage struct {
	Studies []study.Progress
	Review  bool // descriptions are in review
}

func (s *Server) studies(w http.ResponseWriter, r *http.Request) {
	sts, err := s.svc.Studies(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := studiesPage{Review: s.rev != nil}
	for _, st := range sts {
		pr, err := s.svc.Progress(r.Context(), st.ID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		p.Studies = append(p.Studies, pr)
	}
	s.render(w, r, http.StatusOK, "studies", p)
}

// newStudyPage is the form of a new study, with what was typed.
type newStudyPage struct {
	Name, Clips, GroundTruth, Predictions string
	Target                                string
	Seed                                  string
	Errors                                []string
}

func randomSeed() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

func (s *Server) newStudy(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "new", newStudyPage{Target: strconv.Itoa(study.DefaultTarget), Seed: strconv.FormatInt(randomSeed(), 10)})
}

type createdPage struct {
	Study    study.Study
	Clips    int
	Warnings []string
}

func (s *Server) createStudy(w http.ResponseWriter, r *http.Request) {
	f := newStudyPage{
		Name: r.PostFormValue("name"), Clips: strings.TrimSpace(r.PostFormValue("clips")),
		GroundTruth: strings.TrimSpace(r.PostFormValue("gt")), Predictions: r.PostFormValue("predictions"),
		Target: strings.TrimSpace(r.PostFormValue("target")), Seed: strings.TrimSpace(r.PostFormValue("seed")),
	}
	spec := Spec{Name: f.Name, Clips: f.Clips, GroundTruth: f.GroundTruth}
	var errs []string
	var err error
	if spec.Target, err = strconv.Atoi(f.Target); err != nil {
		errs = append(errs, fmt.Sprintf("raters per clip %q: want a whole number", excerpt(f.Target)))
	}
	if spec.Seed, err = strconv.ParseInt(f.Seed, 10, 64); err != nil {
		errs = append(errs, fmt.Sprintf("seed %q: want a whole number", excerpt(f.Seed)))
	}
	for i, line := range strings.Split(f.Predictions, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, path, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(path) == "" {
			errs = append(errs, fmt.Sprintf("predictions, line %d: want NAME=FILE, got %q", i+1, excerpt(line)))
			continue
		}
		spec.Predictions = append(spec.Predictions, study.NamedFile{Name: strings.TrimSpace(name), Path: strings.TrimSpace(path)})
	}
	if len(errs) > 0 {
		f.Errors = errs
		s.render(w, r, http.StatusUnprocessableEntity, "new", f)
		return
	}
	d, warns, err := LoadDraft(r.Context(), spec)
	if err != nil {
		f.Errors = splitErrors(err)
		s.render(w, r, http.StatusUnprocessableEntity, "new", f)
		return
	}
	st, err := s.svc.Create(r.Context(), d)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("study created", "study", st.ID, "name", st.Name, "clips", len(d.Clips), "raters_per_clip", st.Target)
	s.render(w, r, http.StatusOK, "created", createdPage{Study: st, Clips: len(d.Clips), Warnings: warns})
}

// splitErrors lists the problems of a joined error one by one.
func splitErrors(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// studyID reads the {id} of a study page; false after writing a 404.
func (s *Server) studyID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, http.StatusNotFound, "No such study.")
		return 0, false
	}
	return id, true
}

type studyPage struct {
	study.Progress
	ClipNames map[string]string // by id, for the raters' holds
	HoldFor   string
}

func (s *Server) study(w http.ResponseWriter, r *http.Request) {
	id, ok := s.studyID(w, r)
	if !ok {
		return
	}
	p, err := s.svc.Progress(r.Context(), id)
	if errors.Is(err, study.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No such study.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	names := map[string]string{}
	for _, c := range p.Clips {
		names[c.Clip.ID] = c.Clip.Name
	}
	s.render(w, r, http.StatusOK, "study", studyPage{Progress: p, ClipNames: names, HoldFor: s.svc.HoldFor().String()})
}

type invitedPage struct {
	Study   int64
	Invites []invited
}

type invited struct {
	Label, Link string
}

// maxInvites bounds the raters added at once.
const maxInvites = 1000

func (s *Server) invite(w http.ResponseWriter, r *http.Request) {
	id, ok := s.studyID(w, r)
	if !ok {
		return
	}
	var labels []string
	for _, l := range strings.Split(r.PostFormValue("labels"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, excerpt(l))
		}
	}
	if len(labels) == 0 {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("count")))
		if err != nil || n < 1 || n > maxInvites {
			s.fail(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("Give the raters' names, one a line, or how many raters to invite (1 to %d).", maxInvites))
			return
		}
		labels = make([]string, n)
	}
	if len(labels) > maxInvites {
		s.fail(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("At most %d raters at once.", maxInvites))
		return
	}
	inv, err := s.svc.Invite(r.Context(), id, labels)
	if errors.Is(err, study.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No such study.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	p := invitedPage{Study: id}
	for _, i := range inv {
		p.Invites = append(p.Invites, invited{Label: i.Rater.Label, Link: fmt.Sprintf("%s://%s/r/%s", scheme, r.Host, i.Token)})
	}
	s.log.Info("raters invited", "study", id, "raters", len(inv))
	s.render(w, r, http.StatusOK, "invited", p)
}

// ratingsCSV writes every score of a study, one a line.
func (s *Server) ratingsCSV(w http.ResponseWriter, r *http.Request) {
	id, ok := s.studyID(w, r)
	if !ok {
		return
	}
	rs, err := s.svc.Ratings(r.Context(), id)
	if errors.Is(err, study.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No such study.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="study-%d-ratings.csv"`, id))
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"rater_id", "rater", "names", "system", "position", "score", "submitted_at"})
	for _, x := range rs {
		system := x.Source
		if system == study.GroundTruth {
			system = "ground_truth"
		}
		cw.Write([]string{strconv.FormatInt(x.Rater.ID, 10), x.Rater.Label, x.Clip.Name, system,
			strconv.Itoa(x.Position + 1), strconv.Itoa(int(x.Score)), x.At.UTC().Format("2006-01-02T15:04:05.000000Z")})
	}
	cw.Flush()
}
