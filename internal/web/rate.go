package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"emer/internal/study"
)

// rater returns the rater of the request's {token}; false after writing a
// 404 that says nothing of why.
func (s *Server) rater(w http.ResponseWriter, r *http.Request) (study.Rater, bool) {
	rt, err := s.svc.Rater(r.Context(), r.PathValue("token"))
	if errors.Is(err, study.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "This link is not valid. Please use the link you were sent, as it was sent.")
		return rt, false
	}
	if err != nil {
		s.internal(w, r, err)
		return rt, false
	}
	return rt, true
}

// ratePage is the rating page: a task, or why there is none.
type ratePage struct {
	Base   string // the rater's URL, /r/TOKEN
	Task   *study.Task
	Items  []rateItem
	Levels []study.Level
	Rated  int
	Open   int
	Busy   bool
	Error  string
	Hold   string // how long a clip is kept
	Track  bool   // the clip has timed subtitles
}

// rateItem is one reasoning as shown: its position and text, and the
// score chosen in a form sent back.
type rateItem struct {
	Pos     int
	Text    string
	Chosen  study.Score
	Missing bool
}

func (s *Server) page(token string, st study.Status) ratePage {
	p := ratePage{Base: "/r/" + token, Task: st.Task, Levels: study.Levels, Rated: st.Rated, Open: st.Open, Busy: st.None.Busy, Hold: holdText(s.svc.HoldFor())}
	if st.Task != nil {
		for i, t := range st.Task.Texts {
			p.Items = append(p.Items, rateItem{Pos: i, Text: t})
		}
		p.Track = len(st.Task.Subtitles.Cues) > 0
	}
	return p
}

func holdText(d time.Duration) string {
	if d%time.Hour == 0 {
		return plural(int(d/time.Hour), "hour")
	}
	if d%time.Minute == 0 {
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func (s *Server) rate(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.rater(w, r)
	if !ok {
		return
	}
	st, err := s.svc.Next(r.Context(), rt)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := s.page(r.PathValue("token"), st)
	if st.Task == nil {
		s.render(w, r, http.StatusOK, "nowork", p)
		return
	}
	s.render(w, r, http.StatusOK, "rate", p)
}

// scoresOf reads the form's p0, p1, ... fields: scores by position, 0
// where a field is missing or not a level.
func scoresOf(r *http.Request) []study.Score {
	var out []study.Score
	for i := range study.MaxCandidates + 1 {
		v, ok := r.PostForm["p"+strconv.Itoa(i)]
		if !ok {
			continue
		}
		for len(out) <= i {
			out = append(out, 0)
		}
		if n, err := strconv.Atoi(v[0]); err == nil && study.Score(n).Valid() {
			out[i] = study.Score(n)
		}
	}
	return out
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.rater(w, r)
	if !ok {
		return
	}
	token, clip := r.PathValue("token"), r.PathValue("clip")
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	scores := scoresOf(r)
	err := s.svc.Submit(r.Context(), rt, clip, scores)
	var inc *study.IncompleteError
	switch {
	case err == nil, errors.Is(err, study.ErrAlreadyDone):
		http.Redirect(w, r, "/r/"+token, http.StatusSeeOther)
	case errors.As(err, &inc):
		st, err := s.svc.Next(r.Context(), rt)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if st.Task == nil || st.Task.Clip != clip {
			http.Redirect(w, r, "/r/"+token, http.StatusSeeOther)
			return
		}
		p := s.page(token, st)
		missing := map[int]bool{}
		for _, m := range inc.Missing {
			missing[m] = true
		}
		var nums []string
		for i := range p.Items {
			if i < len(scores) {
				p.Items[i].Chosen = scores[i]
			}
			if missing[i] {
				p.Items[i].Missing = true
				nums = append(nums, strconv.Itoa(i+1))
			}
		}
		p.Error = "Please rate every reasoning before sending."
		if len(nums) > 0 {
			p.Error = fmt.Sprintf("Please rate every reasoning before sending: %s %s no rating yet.", listWords(nums), isAre(len(nums)))
		}
		s.render(w, r, http.StatusUnprocessableEntity, "rate", p)
	case errors.Is(err, study.ErrTaken):
		s.render(w, r, http.StatusConflict, "message", message{Title: "This clip went to someone else",
			Text: "You had this clip for longer than " + holdText(s.svc.HoldFor()) + ", and it was given to another rater, so these ratings were not recorded. Thank you all the same.",
			Link: "/r/" + token, Label: "Go on to the next clip"})
	case errors.Is(err, study.ErrNotAssigned):
		s.render(w, r, http.StatusConflict, "message", message{Title: "Not your clip now",
			Text: "These ratings are for a clip that is not assigned to you, so they were not recorded.",
			Link: "/r/" + token, Label: "Go to your clip"})
	default:
		s.internal(w, r, err)
	}
}

func listWords(ws []string) string {
	if len(ws) == 1 {
		return "reasoning " + ws[0]
	}
	return "reasonings " + strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

func isAre(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

// clipOf returns the clip of the request's {clip} that the rater may
// play; false after writing a 404.
func (s *Server) clipOf(w http.ResponseWriter, r *http.Request) (study.Clip, bool) {
	rt, ok := s.rater(w, r)
	if !ok {
		return study.Clip{}, false
	}
	id := r.PathValue("clip")
	if !study.WellFormedClipID(id) {
		s.fail(w, r, http.StatusNotFound, "No such clip.")
		return study.Clip{}, false
	}
	c, err := s.svc.MediaClip(r.Context(), rt, id)
	if errors.Is(err, study.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No such clip.")
		return c, false
	}
	if err != nil {
		s.internal(w, r, err)
		return c, false
	}
	return c, true
}

// media serves a clip's video by its opaque id, with range requests.
func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	c, ok := s.clipOf(w, r)
	if !ok {
		return
	}
	s.serveMedia(w, r, c.ID, c.Media)
}

// serveMedia serves the media file at path (of the clip called id in
// errors), with range requests and no name.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, id, path string) {
	f, err := os.Open(path)
	if err != nil {
		s.internal(w, r, fmt.Errorf("clip %s: %w", id, err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		s.internal(w, r, fmt.Errorf("clip %s: %s is not a regular file (%v)", id, path, err))
		return
	}
	ct, ok := mediaTypes[strings.ToLower(filepath.Ext(path))]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "private, max-age=3600")
	// The name is empty so that nothing of the file's name is sent.
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// subtitles serves a clip's timed subtitles as WebVTT.
func (s *Server) subtitles(w http.ResponseWriter, r *http.Request) {
	c, ok := s.clipOf(w, r)
	if !ok {
		return
	}
	writeVTT(w, c.Subtitles.Cues)
}

// writeVTT writes cues as a WebVTT file.
func writeVTT(w http.ResponseWriter, cues []study.Cue) {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	for _, q := range cues {
		fmt.Fprintf(&b, "\n%s --> %s\n%s\n", vttTime(q.Start), vttTime(q.End), vttText(q.Text))
	}
	h := w.Header()
	h.Set("Content-Type", "text/vtt; charset=utf-8")
	h.Set("Cache-Control", "private, max-age=3600")
	w.Write([]byte(b.String()))
}

func vttTime(sec float64) string {
	ms := int64(math.Round(max(sec, 0) * 1000))
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// vttText escapes cue text for WebVTT: markup characters, and blank lines
// and arrows that would end or start a cue.
var vttEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "-->", "--&gt;")

func vttText(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, vttEscaper.Replace(l))
		}
	}
	return strings.Join(lines, "\n")
}
