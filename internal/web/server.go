package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"emer/internal/study"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Server.
type Options struct {
	Service *study.Service
	// AdminToken opens the organizer pages; it must be at least
	// MinAdminToken characters.
	AdminToken string
	Log        *slog.Logger // nil: discard
	// Review, when set, turns on the review of descriptions: the
	// organizer's /admin/review and the reviewers' links.
	Review *ReviewOptions
}

// MinAdminToken is the shortest admin token a Server takes.
const MinAdminToken = 16

// maxForm bounds the body of a form: a study's form names files, it does
// not upload them.
const maxForm = 1 << 20

// Server serves the organizer's and the raters' pages.
type Server struct {
	svc     *study.Service
	admin   [32]byte // SHA-256 of the admin token
	session string   // the admin cookie's value, derived from the token
	pages   map[string]*template.Template
	log     *slog.Logger
	handler http.Handler
	rev     *reviewMode // nil: no review
}

// New returns a Server.
func New(o Options) (*Server, error) {
	if o.Service == nil {
		return nil, errors.New("web: no study service")
	}
	if len(o.AdminToken) < MinAdminToken {
		return nil, fmt.Errorf("admin token of %d characters: want at least %d", len(o.AdminToken), MinAdminToken)
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mac := hmac.New(sha256.New, []byte(o.AdminToken))
	mac.Write([]byte("emer admin session"))
	s := &Server{
		svc:     o.Service,
		admin:   sha256.Sum256([]byte(o.AdminToken)),
		session: hex.EncodeToString(mac.Sum(nil)),
		pages:   map[string]*template.Template{},
		log:     log,
	}
	if o.Review != nil {
		rev, err := newReviewMode(o.Review)
		if err != nil {
			return nil, err
		}
		s.rev = rev
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.home)

	mux.HandleFunc("GET /admin/login", s.loginForm)
	mux.HandleFunc("POST /admin/login", s.login)
	admin := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.adminOnly(h)) }
	admin("POST /admin/logout", s.logout)
	admin("GET /admin/{$}", s.studies)
	admin("GET /admin/studies/new", s.newStudy)
	admin("POST /admin/studies", s.createStudy)
	admin("GET /admin/studies/{id}", s.study)
	admin("POST /admin/studies/{id}/raters", s.invite)
	admin("GET /admin/studies/{id}/ratings.csv", s.ratingsCSV)
	admin("GET /admin/review", s.reviewAdmin)
	admin("POST /admin/review/reviewers", s.inviteReviewers)
	admin("POST /admin/review/check", s.uploadCheck)
	admin("GET /admin/review/review.csv", s.reviewCSV)
	admin("/admin/", func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, http.StatusNotFound, "No such page.") })

	mux.HandleFunc("GET /r/{token}", s.rate)
	mux.HandleFunc("POST /r/{token}/c/{clip}", s.submit)
	mux.HandleFunc("GET /r/{token}/m/{clip}", s.media)
	mux.HandleFunc("GET /r/{token}/s/{clip}", s.subtitles)

	mux.HandleFunc("GET /review/{token}", s.reviewList)
	mux.HandleFunc("GET /review/{token}/d/{clip}", s.reviewDescription)
	mux.HandleFunc("POST /review/{token}/d/{clip}", s.reviewChange)
	mux.HandleFunc("GET /review/{token}/m/{clip}", s.reviewMedia)
	mux.HandleFunc("GET /review/{token}/s/{clip}", s.reviewSubtitles)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "This form was sent from another site, and refused.")
	}))
	return s.secure(cop.Handler(mux))
}

// secure sets the headers every response carries, bounds request bodies
// and logs each request with rater tokens left out.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.Body != nil {
			limit := int64(maxForm)
			if r.URL.Path == checkUploadPath {
				limit = maxCheck + maxForm
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Debug("request", "method", r.Method, "path", redact(r.URL.Path), "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

// redact hides a rater's or reviewer's token in a path for the log.
func redact(path string) string {
	for _, prefix := range []string{"/r/", "/review/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			if _, after, ok := strings.Cut(rest, "/"); ok {
				return prefix + "…/" + after
			}
			return prefix + "…"
		}
	}
	return path
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// pageFuncs are the template functions.
var pageFuncs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"pct": func(a, b int) int {
		if b == 0 {
			return 0
		}
		return 100 * a / b
	},
	"join": strings.Join,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}

func (s *Server) parseTemplates() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == "templates/base.html" {
			continue
		}
		t, err := template.New("base").Funcs(pageFuncs).ParseFS(templateFS, "templates/base.html", n)
		if err != nil {
			return fmt.Errorf("web: %w", err)
		}
		s.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return nil
}

// render writes page with data and status; pages are never cached.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	t, ok := s.pages[page]
	if !ok {
		panic("web: no page " + page)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "base", data); err != nil {
		s.log.Error("render", "page", page, "err", err)
		http.Error(w, "The page could not be made.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// message is the data of the message page.
type message struct {
	Title, Text string
	Link, Label string // a link onwards, if any
}

// fail writes a message page with status.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, text string) {
	s.render(w, r, status, "message", message{Title: http.StatusText(status), Text: text})
}

// internal reports an unexpected error: logged in full, not shown.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", redact(r.URL.Path), "err", err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong on the server; it is in the server's log. Please try again.")
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", nil)
}
