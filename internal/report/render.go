package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"emer/internal/agreement"
)

//go:embed templates/report.html.tmpl assets/report.css
var files embed.FS

var page = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"paragraphs": paragraphs,
	"rowCtx":     rowCtx,
}).ParseFS(files, "templates/report.html.tmpl"))

// pageData is what the page template is executed with.
type pageData struct {
	*Report
	CSS template.CSS
}

// rowCtx pairs a leaderboard row with its report for the row template.
func rowCtx(row any, p pageData) (any, error) {
	var r Row
	switch v := row.(type) {
	case Row:
		r = v
	case *Row:
		r = *v
	default:
		return nil, fmt.Errorf("rowCtx: %T is not a row", row)
	}
	return struct {
		Row    Row
		Report *Report
	}{r, p.Report}, nil
}

// css is the page's style sheet, inlined in its head.
var css = func() template.CSS {
	b, err := files.ReadFile("assets/report.css")
	if err != nil {
		panic(err)
	}
	return template.CSS(b)
}()

// WriteHTML renders the report as one HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	var buf bytes.Buffer
	if err := page.Execute(&buf, pageData{r, css}); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// LevelPercent is the intervals' confidence level in per cent.
func (s *StudyInfo) LevelPercent() string { return fmt.Sprintf("%g %%", 100*s.Bootstrap.Level) }

// Text is the cell as the paper prints it: mean ± standard error.
func (c Cell) Text() string {
	switch {
	case c.Summary == nil:
		return "—"
	case c.Summary.Mean == nil:
		return "no score"
	case c.Summary.Stderr == nil:
		return fmt.Sprintf("%.2f", *c.Summary.Mean)
	}
	return fmt.Sprintf("%.2f ± %.2f", *c.Summary.Mean, *c.Summary.Stderr)
}

// Note is the cell's sample count, with the failed ones.
func (c Cell) Note() string {
	if c.Summary == nil {
		return ""
	}
	s := fmt.Sprintf("n = %d", c.Summary.NScored)
	if c.Summary.NFailed > 0 {
		s += fmt.Sprintf(", %d failed", c.Summary.NFailed)
	}
	return s
}

// Text is the human score with its interval.
func (h Human) Text() string {
	switch {
	case h.Mean == nil:
		return "—"
	case h.Interval == nil:
		return fmt.Sprintf("%.2f", *h.Mean)
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", h.Interval.Mean, h.Interval.Low, h.Interval.High)
}

// Note counts the clips and ratings, and says why there is no interval.
func (h Human) Note() string {
	if h.Mean == nil {
		return ""
	}
	s := fmt.Sprintf("%d clips, %d ratings", h.Clips, h.Ratings)
	if h.Interval == nil {
		s += "; no interval: " + h.Why
	}
	return s
}

// RateText is the grounded-claim rate in per cent.
func (c *CheckRow) RateText() string {
	if c == nil || c.Rate == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", 100**c.Rate)
}

// Note counts the claims behind the rate.
func (c *CheckRow) Note() string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%d supported, %d contradicted, %d unverifiable of %d claims", c.Supported, c.Contradicted, c.Unverifiable, c.Claims)
}

// Correlation states the rank correlations of the scatter's points.
func (s Scatter) Correlation() string {
	return fmt.Sprintf("%s, %s over %d clip × system pairs", corrPart("Spearman ρ", s.Rho, s.RhoErr), corrPart("Kendall τ-b", s.Tau, s.TauErr), s.Pairs)
}

// SystemCorrelation states the rank correlations of the systems' means.
func (s Scatter) SystemCorrelation() string {
	return fmt.Sprintf("%s, %s over %d systems", corrPart("Spearman ρ", s.SysRho, s.SysRhoErr), corrPart("Kendall τ-b", s.SysTau, s.SysTauErr), s.Systems)
}

func corrPart(name string, c *agreement.Correlation, why string) string {
	if c == nil {
		return name + " undefined (" + why + ")"
	}
	return fmt.Sprintf("%s = %.3f", name, c.Coef)
}

// AlphaText states Krippendorff's α.
func (a *Agreement) AlphaText() string {
	if a.Alpha == nil {
		return "undefined (" + a.AlphaErr + ")"
	}
	return fmt.Sprintf("%.3f", a.Alpha.Alpha)
}

// KappaText states Fleiss' κ.
func (a *Agreement) KappaText() string {
	if a.Kappa == nil {
		return "not computed (" + a.KappaErr + ")"
	}
	return fmt.Sprintf("%.3f", a.Kappa.Kappa)
}

// paragraphs splits a text at its blank lines, for reasonings written in
// several paragraphs.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
