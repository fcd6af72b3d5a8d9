package report

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"

	"emer/internal/agreement"
	"emer/internal/judge"
)

// Report is a report ready to render: every number computed, every plot
// drawn.
type Report struct {
	Title     string
	Generated string // empty when the page carries no time
	Evals     []EvalInfo
	Study     *StudyInfo
	Checks    []*CheckRow

	// The leaderboard: a column per eval folder and metric, then the
	// human score and the grounded-claim rate where there are any.
	Columns   []Column
	Human     bool
	Grounding bool
	Rows      []Row
	Reference *Row // the ground truth's human score; nil without a study

	Charts    []Figure
	Agreement *Agreement
	Scatters  []Scatter
	Clips     []ClipView
	Notes     []string
}

// EvalInfo describes an eval folder.
type EvalInfo struct {
	Label, Judge, Protocol string
	Short                  string // the folder's base name, or Label when two share it
	Systems                int
	Scale                  string
	Columns                int // the leaderboard columns it has
}

// StudyInfo describes the rating study.
type StudyInfo struct {
	Name, Source      string
	Raters, Clips, N  int
	Bootstrap         agreement.Bootstrap
	Systems           int
	GroundTruthRating bool
}

// Column is a judge score column of the leaderboard.
type Column struct {
	Eval   int // index in Report.Evals
	Metric judge.Metric
	Title  string
}

// Row is a system's line of the leaderboard.
type Row struct {
	System    string
	Reference bool
	Judge     []Cell // by Report.Columns
	HumanCell Human
	Grounded  *CheckRow // nil without a check of the system
}

// Cell is a system's score on one judge column.
type Cell struct {
	Metric  judge.Metric
	Summary *judge.MetricSummary // nil: the folder did not judge the system
}

// Human is a system's human score.
type Human struct {
	Interval *agreement.MeanInterval // nil when there is none (see Why)
	Mean     *float64                // mean of the clips' means; nil without ratings
	Clips    int
	Ratings  int
	Why      string // why there is no interval
}

// CheckRow is a system's grounding check.
type CheckRow struct {
	System string
	File   string
	ClaimCounts
	Rate *float64
}

// Figure is a plot with its title, legend and caption.
type Figure struct {
	ID, Title, Caption string
	SVG                template.HTML
	Legend             []LegendItem
}

// Agreement is how far the raters agree, over every (clip, candidate)
// rated.
type Agreement struct {
	Units    int // (clip, candidate) pairs with a rating
	Alpha    *agreement.Alpha
	AlphaErr string
	Kappa    *agreement.Kappa
	KappaErr string
}

// Scatter is the judge against the human score of one eval folder and
// metric: a point per clip and system, and the correlations.
type Scatter struct {
	Figure
	Eval      string
	Metric    judge.Metric
	Pairs     int
	Rho, Tau  *agreement.Correlation
	RhoErr    string
	TauErr    string
	Systems   int // systems with both a judge mean and a human mean
	SysRho    *agreement.Correlation
	SysTau    *agreement.Correlation
	SysRhoErr string
	SysTauErr string
}

// ClipView is a clip of the qualitative section.
type ClipView struct {
	Name, Subtitle, GroundTruth string
	HumanGT                     string // the ground truth's human score on the clip; empty without one
	Frames                      []FrameView
	Systems                     []ClipSystem
	Notes                       []string
}

// FrameView is a frame as an image of the page.
type FrameView struct {
	URI           template.URL
	Alt           string
	Width, Height int
}

// ClipSystem is a system's reasoning for a clip with its scores there.
type ClipSystem struct {
	Name   string
	Text   string
	Scores []string // one per eval folder that judged it
	Human  string   // empty without ratings
	Claims *ClaimCounts
}

var metricTitle = map[judge.Metric]string{
	judge.MetricClue:     "Clue overlap",
	judge.MetricEmotion:  "Emotion overlap",
	judge.MetricModality: "Modality",
}

// correlated are the metrics compared with the human score: clue and
// emotion overlap judge how right a reasoning is, as raters do; modality
// counts what it covers.
var correlated = []judge.Metric{judge.MetricClue, judge.MetricEmotion}

// Build computes the report of in.
func Build(in Input) (*Report, error) {
	if len(in.Evals) == 0 && in.Study == nil && len(in.Checks) == 0 {
		return nil, errors.New("report: nothing to report: no eval folder, study or check")
	}
	boot := in.Bootstrap
	if boot == (agreement.Bootstrap{}) {
		boot = agreement.DefaultBootstrap
	}
	r := &Report{Title: in.Title, Notes: slices.Clone(in.Notes)}
	if r.Title == "" {
		r.Title = "EMER evaluation report"
	}
	if !in.Generated.IsZero() {
		r.Generated = in.Generated.UTC().Format(time.RFC3339)
	}

	// Systems: those of any folder, study or check.
	set := map[string]bool{}
	bases := map[string]int{}
	for _, e := range in.Evals {
		bases[filepath.Base(e.Label)]++
	}
	for i, e := range in.Evals {
		short := filepath.Base(e.Label)
		if bases[short] > 1 {
			short = e.Label
		}
		r.Evals = append(r.Evals, EvalInfo{Label: e.Label, Short: short, Judge: e.Judge, Protocol: e.Protocol, Systems: len(e.Systems),
			Scale: fmt.Sprintf("%g–%g", e.Lo, e.Hi), Columns: len(e.Metrics)})
		for _, m := range e.Metrics {
			r.Columns = append(r.Columns, Column{Eval: i, Metric: m, Title: metricTitle[m]})
		}
		for s := range e.Systems {
			set[s] = true
		}
	}
	hs := newHumanScores(in.Study)
	for s := range hs.bySystem {
		set[s] = true
	}
	checks := map[string]*CheckRow{}
	for _, c := range in.Checks {
		if _, dup := checks[c.System]; dup {
			return nil, fmt.Errorf("report: two grounding checks of system %s (%s and %s)", c.System, checks[c.System].File, c.File)
		}
		row := &CheckRow{System: c.System, File: c.File, ClaimCounts: c.Totals, Rate: c.GroundedRate}
		checks[c.System] = row
		set[c.System] = true
	}
	systems := slices.Sorted(maps.Keys(set))

	// Leaderboard rows.
	r.Human, r.Grounding = in.Study != nil, len(in.Checks) > 0
	rows := make([]Row, 0, len(systems))
	for _, s := range systems {
		row := Row{System: s, Grounded: checks[s]}
		for _, c := range r.Columns {
			cell := Cell{Metric: c.Metric}
			if ms, ok := in.Evals[c.Eval].Systems[s][c.Metric]; ok {
				cell.Summary = &ms
			}
			row.Judge = append(row.Judge, cell)
		}
		if in.Study != nil {
			row.HumanCell = hs.human(hs.bySystem[s], boot)
		}
		rows = append(rows, row)
	}
	key := func(row Row) float64 {
		switch {
		case len(row.Judge) > 0:
			if sm := row.Judge[0].Summary; sm != nil && sm.Mean != nil {
				return *sm.Mean
			}
		case row.HumanCell.Mean != nil:
			return *row.HumanCell.Mean
		}
		return math.Inf(-1)
	}
	// As in the paper's tables (and summary.md): by the first score,
	// best last.
	slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Or(cmp.Compare(key(a), key(b)), strings.Compare(a.System, b.System)) })
	r.Rows = rows
	for _, row := range rows {
		if row.Grounded != nil {
			r.Checks = append(r.Checks, row.Grounded)
		}
	}
	if in.Study != nil {
		ref := Row{System: "ground truth", Reference: true, HumanCell: hs.human(hs.groundTruth, boot)}
		for _, c := range r.Columns {
			ref.Judge = append(ref.Judge, Cell{Metric: c.Metric})
		}
		r.Reference = &ref
		r.Study = &StudyInfo{Name: in.Study.Name, Source: in.Study.Source, Raters: len(hs.raters), Clips: len(hs.clips),
			N: len(in.Study.Ratings), Bootstrap: boot, Systems: len(hs.bySystem), GroundTruthRating: len(hs.groundTruth) > 0}
		r.Agreement = hs.agreement()
	}

	var err error
	if r.Charts, err = charts(r, in); err != nil {
		return nil, err
	}
	if in.Study != nil {
		if r.Scatters, err = scatters(r, in, hs); err != nil {
			return nil, err
		}
	}
	r.Clips = clipViews(r, in, hs)
	return r, nil
}

// humanScores holds a study's ratings by system and clip.
type humanScores struct {
	bySystem    map[string]map[string][]float64 // system -> clip -> scores
	groundTruth map[string][]float64            // clip -> scores
	clips       []string                        // every clip rated, sorted
	raters      map[int64]bool
	units       map[[2]string][]float64 // (clip, system or "" for the ground truth) -> scores
}

func newHumanScores(st *Study) *humanScores {
	h := &humanScores{bySystem: map[string]map[string][]float64{}, groundTruth: map[string][]float64{},
		raters: map[int64]bool{}, units: map[[2]string][]float64{}}
	if st == nil {
		return h
	}
	clips := map[string]bool{}
	for _, rt := range st.Ratings {
		clips[rt.Clip] = true
		h.raters[rt.Rater] = true
		if rt.GroundTruth {
			h.groundTruth[rt.Clip] = append(h.groundTruth[rt.Clip], rt.Score)
			h.units[[2]string{rt.Clip, ""}] = append(h.units[[2]string{rt.Clip, ""}], rt.Score)
			continue
		}
		if h.bySystem[rt.System] == nil {
			h.bySystem[rt.System] = map[string][]float64{}
		}
		h.bySystem[rt.System][rt.Clip] = append(h.bySystem[rt.System][rt.Clip], rt.Score)
		h.units[[2]string{rt.Clip, rt.System}] = append(h.units[[2]string{rt.Clip, rt.System}], rt.Score)
	}
	h.clips = slices.Sorted(maps.Keys(clips))
	return h
}

// human is the human score of one candidate from its ratings by clip,
// resampled over the study's clips in name order so that the systems'
// intervals are paired.
func (h *humanScores) human(byClip map[string][]float64, boot agreement.Bootstrap) Human {
	var out Human
	var clips [][]float64
	var sum float64
	for _, c := range h.clips {
		v := byClip[c]
		clips = append(clips, v)
		if len(v) > 0 {
			out.Clips++
			out.Ratings += len(v)
			sum += mean(v)
		}
	}
	if out.Clips == 0 {
		out.Why = "no ratings"
		return out
	}
	m := sum / float64(out.Clips)
	out.Mean = &m
	iv, err := agreement.SystemMean(clips, boot)
	if err != nil {
		out.Why = err.Error()
		return out
	}
	out.Interval = iv
	return out
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// agreement computes Krippendorff's α (ordinal: the four levels are
// ordered) and, where every candidate has as many ratings, Fleiss' κ, over
// the (clip, candidate) units in a fixed order.
func (h *humanScores) agreement() *Agreement {
	keys := slices.SortedFunc(maps.Keys(h.units), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	units := make([][]float64, len(keys))
	for i, k := range keys {
		units[i] = h.units[k]
	}
	a := &Agreement{Units: len(units)}
	var err error
	if a.Alpha, err = agreement.KrippendorffAlpha(units, agreement.Ordinal); err != nil {
		a.AlphaErr = err.Error()
	}
	_, counts, err := agreement.Tally(units)
	if err == nil {
		a.Kappa, err = agreement.FleissKappa(counts)
	}
	if err != nil {
		a.KappaErr = err.Error()
	}
	return a
}

// charts draws a bar chart per judge metric, one for the human score and
// one for the grounded-claim rate, each over the leaderboard's systems in
// its order.
func charts(r *Report, in Input) ([]Figure, error) {
	var out []Figure
	for _, m := range []judge.Metric{judge.MetricClue, judge.MetricEmotion, judge.MetricModality} {
		var groups []barGroup
		hi := 0.0
		var cats []string
		has := map[string]bool{}
		for _, e := range in.Evals {
			if !slices.Contains(e.Metrics, m) {
				continue
			}
			hi = math.Max(hi, e.Hi)
			if m == judge.MetricModality {
				hi = 3
			}
			for s, per := range e.Systems {
				if per[m].Mean != nil {
					has[s] = true
				}
			}
		}
		for _, row := range r.Rows {
			if has[row.System] {
				cats = append(cats, row.System)
			}
		}
		if len(cats) == 0 {
			continue
		}
		for i, e := range in.Evals {
			if !slices.Contains(e.Metrics, m) {
				continue
			}
			g := barGroup{Label: r.Evals[i].Judge + " · " + r.Evals[i].Short}
			for _, s := range cats {
				v := math.NaN()
				if mean := e.Systems[s][m].Mean; mean != nil {
					v = *mean
				}
				g.Values = append(g.Values, v)
			}
			groups = append(groups, g)
		}
		title := metricTitle[m] + " (LLM judge)"
		svg, legend, err := barChart(title, "mean score", cats, groups, 0, hi)
		if err != nil {
			return nil, err
		}
		caption := "Mean judge score per system"
		if len(groups) > 1 {
			caption += ", one bar per eval folder"
		}
		out = append(out, Figure{ID: "chart-" + string(m), Title: title, Caption: caption + ".", SVG: svg, Legend: legend})
	}
	if r.Study != nil {
		var cats []string
		g := barGroup{Label: "human"}
		add := func(name string, h Human) {
			if h.Mean == nil {
				return
			}
			cats = append(cats, name)
			g.Values = append(g.Values, *h.Mean)
			lo, hi := math.NaN(), math.NaN()
			if h.Interval != nil {
				lo, hi = h.Interval.Low, h.Interval.High
			}
			g.Low, g.High = append(g.Low, lo), append(g.High, hi)
		}
		for _, row := range r.Rows {
			add(row.System, row.HumanCell)
		}
		add(r.Reference.System, r.Reference.HumanCell)
		if len(cats) > 0 {
			title := "Human score"
			svg, _, err := barChart(title, "mean rating (1–4)", cats, []barGroup{g}, 0, 4)
			if err != nil {
				return nil, err
			}
			out = append(out, Figure{ID: "chart-human", Title: title,
				Caption: fmt.Sprintf("Mean rating per system (1 completely wrong, 4 completely correct) with its %g %% bootstrap interval.", 100*r.Study.Bootstrap.Level), SVG: svg})
		}
	}
	if len(r.Checks) > 0 {
		var cats []string
		g := barGroup{Label: "grounded"}
		for _, c := range r.Checks {
			if c.Rate != nil {
				cats = append(cats, c.System)
				g.Values = append(g.Values, *c.Rate)
			}
		}
		if len(cats) > 0 {
			title := "Grounded-claim rate"
			svg, _, err := barChart(title, "rate", cats, []barGroup{g}, 0, 1)
			if err != nil {
				return nil, err
			}
			out = append(out, Figure{ID: "chart-grounded", Title: title, Caption: "Grounded-claim rate per system, as the grounding check defines it.", SVG: svg})
		}
	}
	return out, nil
}

// scatters draws, per eval folder and correlated metric, each (system,
// clip) as its judge score against the clip's mean rating, and computes
// the rank correlations of those pairs and of the systems' means.
func scatters(r *Report, in Input, hs *humanScores) ([]Scatter, error) {
	var out []Scatter
	human := map[string]*float64{}
	for _, row := range r.Rows {
		human[row.System] = row.HumanCell.Mean
	}
	for ei, e := range in.Evals {
		for _, m := range correlated {
			if !slices.Contains(e.Metrics, m) {
				continue
			}
			sc := Scatter{Eval: e.Label, Metric: m}
			var xs, ys, sx, sy []float64
			var ss []series
			for _, s := range slices.Sorted(maps.Keys(e.Systems)) {
				byClip := hs.bySystem[s]
				judged := e.Samples[s][m]
				pts := series{Label: s}
				for _, c := range hs.clips {
					v, ok := judged[c]
					if !ok || len(byClip[c]) == 0 {
						continue
					}
					hm := mean(byClip[c])
					pts.XYs = append(pts.XYs, plotter.XY{X: v, Y: hm})
					xs, ys = append(xs, v), append(ys, hm)
				}
				if len(pts.XYs) > 0 {
					ss = append(ss, pts)
				}
				if jm := e.Systems[s][m].Mean; jm != nil && human[s] != nil {
					sx, sy = append(sx, *jm), append(sy, *human[s])
				}
			}
			sc.Pairs, sc.Systems = len(xs), len(sx)
			if sc.Pairs == 0 {
				r.Notes = append(r.Notes, fmt.Sprintf("%s, %s: no clip is both judged in the folder and rated in the study (are the study's clips the folder's samples?)", e.Label, m))
				continue
			}
			var err error
			if sc.Rho, err = agreement.Spearman(xs, ys); err != nil {
				sc.RhoErr = err.Error()
			}
			if sc.Tau, err = agreement.KendallTauB(xs, ys); err != nil {
				sc.TauErr = err.Error()
			}
			if sc.SysRho, err = agreement.Spearman(sx, sy); err != nil {
				sc.SysRhoErr = err.Error()
			}
			if sc.SysTau, err = agreement.KendallTauB(sx, sy); err != nil {
				sc.SysTauErr = err.Error()
			}
			sc.Title = fmt.Sprintf("%s of %s against the raters (%s)", metricTitle[m], e.Judge, r.Evals[ei].Short)
			sc.ID = fmt.Sprintf("scatter-%d-%s", len(out), m)
			sc.Caption = "Each point is a system on a clip: the judge's score against the clip's mean rating."
			if sc.SVG, sc.Legend, err = scatter(sc.Title, "judge score", "mean rating (1–4)", ss, e.Lo, e.Hi, 1, 4); err != nil {
				return nil, err
			}
			out = append(out, sc)
		}
	}
	return out, nil
}

// clipViews lays out the qualitative section.
func clipViews(r *Report, in Input, hs *humanScores) []ClipView {
	checks := map[string]Check{}
	for _, c := range in.Checks {
		checks[c.System] = c
	}
	var out []ClipView
	for _, c := range in.Clips {
		v := ClipView{Name: c.Name, Subtitle: c.Subtitle, GroundTruth: c.GroundTruth, Notes: c.Notes}
		if g := hs.groundTruth[c.Name]; len(g) > 0 {
			v.HumanGT = ratingText(g)
		}
		for _, f := range c.Frames {
			v.Frames = append(v.Frames, FrameView{
				URI: template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(f.JPEG)),
				Alt: fmt.Sprintf("%s at %.1f s", c.Name, f.Time), Width: f.Width, Height: f.Height,
			})
		}
		for _, s := range slices.Sorted(maps.Keys(c.Reasonings)) {
			cs := ClipSystem{Name: s, Text: c.Reasonings[s]}
			for ei, e := range in.Evals {
				var parts []string
				for _, m := range e.Metrics {
					if x, ok := e.Samples[s][m][c.Name]; ok {
						parts = append(parts, fmt.Sprintf("%s %g", m, x))
					} else if _, judged := e.Systems[s]; judged {
						parts = append(parts, fmt.Sprintf("%s —", m))
					}
				}
				if len(parts) > 0 {
					cs.Scores = append(cs.Scores, strings.Join(parts, " · ")+" ("+e.Judge+", "+r.Evals[ei].Short+")")
				}
			}
			if g := hs.bySystem[s][c.Name]; len(g) > 0 {
				cs.Human = ratingText(g)
			}
			if ch, ok := checks[s]; ok {
				if cc, ok := ch.Clips[c.Name]; ok {
					cs.Claims = &cc
				}
			}
			v.Systems = append(v.Systems, cs)
		}
		out = append(out, v)
	}
	return out
}

func ratingText(v []float64) string {
	w := "ratings"
	if len(v) == 1 {
		w = "rating"
	}
	return fmt.Sprintf("%.2f (%d %s)", mean(v), len(v), w)
}
