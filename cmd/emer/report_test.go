package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"emer/internal/agreement"
	"emer/internal/browsertest"
	"emer/internal/judge"
	"emer/internal/llm/llmtest"
	"emer/internal/store"
	"emer/internal/study"
)

// The report's fixture: five clips, three systems whose every prediction
// carries its quality q (0..10), judged by two fake judges whose scores
// are known functions of q, and rated by three raters whose scores are
// known functions of q and of the rater.
var (
	reportClipNames = []string{"c1", "c2", "c3", "c4", "c5"}
	reportQuality   = map[string][]int{
		"x": {2, 5, 8, 3, 6},
		"y": {7, 4, 9, 1, 5},
		"z": {3, 8, 2, 6, 10},
	}
)

var qualityMark = regexp.MustCompile(`\(q=(\d+)\)`)

// quality reads the q=N mark of a prediction; the ground truth has none
// and is of quality 10.
func quality(text string) int {
	m := qualityMark.FindStringSubmatch(text)
	if m == nil {
		return 10
	}
	q, _ := strconv.Atoi(m[1])
	return q
}

// judgeScores are the fake judges' scores of a prediction of quality q:
// judge-a scores clues q and emotions q-2 (at least 0); judge-b clues
// q/2+5 and emotions 10-q.
func judgeScores(model string, q int) (clue, emotion int) {
	if model == "judge-a" {
		return q, max(q-2, 0)
	}
	return q/2 + 5, 10 - q
}

// humanScore is rater r's score (0-based) of a reasoning of quality q.
func humanScore(r, q int) study.Score {
	s := 1 + (q*3+5)/10 // 1..4
	if r == 2 && q%2 == 0 {
		s--
	}
	if r == 1 && q == 5 {
		s++
	}
	return study.Score(min(max(s, 1), 4))
}

// reportJudge answers the paper protocol's prompts from the quality marks.
func reportJudge(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	switch {
	case strings.HasPrefix(p, "Please summarize how many modalities"):
		in := textBetween(p, "Input: ", "\nOutput:")
		return llmtest.Step{Text: []string{"visual", "visual, audio", "visual, audio, content"}[quality(in)%3]}
	case strings.HasSuffix(p, "Score:"):
		if strings.Contains(p, "Predicted clues: ") {
			clue, _ := judgeScores(c.Model, quality(textBetween(p, "Predicted clues: ", "\nScore:")))
			return llmtest.Step{Text: fmt.Sprintf("Score: %d", clue)}
		}
		_, emo := judgeScores(c.Model, quality(textBetween(p, "Predicted emotion: ", "\nScore:")))
		return llmtest.Step{Text: fmt.Sprintf("Score: %d", emo)}
	case strings.HasPrefix(p, "Please extract"):
		return llmtest.Step{Text: "clues of " + textBetween(p, "Input: ", " Output:")}
	}
	return llmtest.Step{Text: "emotion of " + textBetween(p, "Input: ", "\nOutput:")}
}

// reportText is system s's prediction for clip i.
func reportText(s string, i int) string {
	return fmt.Sprintf("In %s the man speaks (%s's reading). (q=%d)", reportClipNames[i], s, reportQuality[s][i])
}

// reportFixture holds the inputs of a report.
type reportFixture struct {
	dir          string
	evalA, evalB string // judge-a judged x and y; judge-b y and z
	db           string
	check        string // a check of x
	media        string
}

// newReportFixture judges the fixture with the fake judges into two eval
// folders, runs a rating study through internal/study into a store, writes
// a grounding check of x and, with ffmpeg, a clip per sample.
func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	clearConfigEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	f := &reportFixture{dir: dir, evalA: filepath.Join(dir, "eval-a"), evalB: filepath.Join(dir, "eval-b"),
		db: filepath.Join(dir, "study.db"), check: filepath.Join(dir, "x-check.json"), media: filepath.Join(dir, "media")}

	gt := filepath.Join(dir, "gt.csv")
	var gtRows bytes.Buffer
	gtRows.WriteString("names,subtitles,reasons\n")
	for i, c := range reportClipNames {
		fmt.Fprintf(&gtRows, "%s,\"Words of %s, <i>said</i> & meant.\",\"In %s he frowns; the text holds <script>alert(1)</script> as words.\"\n", c, c, reportClipNames[i])
	}
	if err := os.WriteFile(gt, gtRows.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	preds := map[string]string{}
	for s := range reportQuality {
		var texts []string
		for i := range reportClipNames {
			texts = append(texts, reportText(s, i))
		}
		if s == "x" {
			texts[0] += ` <img src=x onerror="document.title='pwned'">`
		}
		preds[s] = filepath.Join(dir, s+".csv")
		writeReasonsCSV(t, preds[s], "reasons", reportClipNames, texts)
	}
	srv := llmtest.NewServer(reportJudge)
	t.Cleanup(srv.Close)
	for _, run := range []struct {
		model, out string
		systems    []string
	}{{"judge-a", f.evalA, []string{"x", "y"}}, {"judge-b", f.evalB, []string{"y", "z"}}} {
		args := []string{"eval", "--gt", gt, "--protocol", "paper", "--model", run.model, "--base-url", srv.BaseURL(), "--out", run.out, "--concurrency", "4"}
		for _, s := range run.systems {
			args = append(args, "--pred", s+"="+preds[s])
		}
		var stdout, stderr bytes.Buffer
		if code := execute(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("emer eval into %s: exit %d: %s", run.out, code, stderr.String())
		}
	}

	// The study: every clip with the ground truth and the three systems,
	// rated by three raters.
	s, err := store.Open(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	studies := store.NewStudies(s)
	svc := study.NewService(studies, 0, nil)
	d := study.Draft{Name: "pilot", Target: 3, Seed: 1}
	texts := map[string]int{} // text -> quality
	for i, c := range reportClipNames {
		dc := study.DraftClip{Name: c, Media: filepath.Join(f.media, c+".mp4"), Subtitles: study.Subtitles{Text: "words of " + c}}
		dc.Candidates = append(dc.Candidates, study.DraftCandidate{Source: study.GroundTruth, Text: "truth of " + c})
		texts["truth of "+c] = 10
		for _, sys := range []string{"x", "y", "z"} {
			dc.Candidates = append(dc.Candidates, study.DraftCandidate{Source: sys, Text: reportText(sys, i)})
			texts[reportText(sys, i)] = reportQuality[sys][i]
		}
		d.Clips = append(d.Clips, dc)
	}
	st, err := svc.Create(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	invites, err := svc.Invite(ctx, st.ID, []string{"ann", "bob", "cy"})
	if err != nil {
		t.Fatal(err)
	}
	for r, inv := range invites {
		for {
			status, err := svc.Next(ctx, inv.Rater)
			if err != nil {
				t.Fatal(err)
			}
			if status.Task == nil {
				break
			}
			var scores []study.Score
			for _, text := range status.Task.Texts {
				q, ok := texts[text]
				if !ok {
					t.Fatalf("rater %d was shown %q, which is no candidate", r, text)
				}
				scores = append(scores, humanScore(r, q))
			}
			if err := svc.Submit(ctx, inv.Rater, status.Task.Clip, scores); err != nil {
				t.Fatal(err)
			}
		}
	}
	studies.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	check := `{"clips":[
  {"name":"c1","claims":[{"text":"he frowns","aspect":"face","verdict":"supported","evidence":{}},{"text":"he shouts","aspect":"voice","verdict":"contradicted","evidence":{}}]},
  {"name":"c2","claims":[{"text":"he smiles","aspect":"face","verdict":"supported","evidence":{}},{"text":"in an office","aspect":"context","verdict":"unverifiable","evidence":{}}]}
],"totals":{"claims":4,"supported":2,"contradicted":1,"unverifiable":1,"grounded_rate":0.6666666666666666}}
`
	if err := os.WriteFile(f.check, []byte(check), 0o644); err != nil {
		t.Fatal(err)
	}

	if ff, err := exec.LookPath("ffmpeg"); err == nil {
		if err := os.Mkdir(f.media, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, c := range reportClipNames {
			out := filepath.Join(f.media, c+".mp4")
			cmd := exec.Command(ff, "-nostdin", "-v", "error", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=480x270:rate=10:duration=%d", 2+i),
				"-pix_fmt", "yuv420p", out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("making %s: %v: %s", out, err, b)
			}
		}
	} else {
		f.media = ""
	}
	return f
}

// args returns the command line of a report of the whole fixture.
func (f *reportFixture) args(out string, more ...string) []string {
	a := []string{"report", "--eval", f.evalA, "--eval", f.evalB, "--db", f.db, "--check", "x=" + f.check, "--clips", "2", "--frames", "3", "--out", out}
	if f.media != "" {
		a = append(a, "--media", f.media)
	}
	return append(a, more...)
}

// expectedCorrelation computes, from the fixture's definitions, the
// caption of the scatter of a judge's scores against the human means.
func expectedCorrelation(t *testing.T, model string, systems []string, emotion bool) string {
	t.Helper()
	var xs, ys []float64
	for _, s := range systems { // sorted
		for i := range reportClipNames {
			q := reportQuality[s][i]
			clue, emo := judgeScores(model, q)
			x := clue
			if emotion {
				x = emo
			}
			var sum float64
			for r := range 3 {
				sum += float64(humanScore(r, q))
			}
			xs, ys = append(xs, float64(x)), append(ys, sum/3)
		}
	}
	rho, err := agreement.Spearman(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	tau, err := agreement.KendallTauB(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("Spearman ρ = %.3f, Kendall τ-b = %.3f over %d clip × system pairs", rho.Coef, tau.Coef, len(xs))
}

// reportBrowser opens a report's window in headless Chromium.
func reportBrowser(t *testing.T) context.Context { return browsertest.Open(t, 1280, 1000) }

// reportArtifact returns where a test writes a file for people to look
// at: under $EMER_ARTIFACTS, or the temporary folder.
func reportArtifact(t *testing.T, name string) string {
	dir := os.Getenv("EMER_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "emer-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// TestReportBrowser writes the report of two eval folders, a study, a
// check and media, opens it in headless Chromium and reads its tables,
// plots and correlations from the DOM; a screenshot is kept.
func TestReportBrowser(t *testing.T) {
	f := newReportFixture(t)
	out := filepath.Join(f.dir, "report.html")
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), f.args(out), &stdout, &stderr); code != 0 {
		t.Fatalf("emer report: exit %d: %s", code, stderr.String())
	}
	ctx := reportBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+out), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Rows       []string   `json:"rows"`
		Reference  string     `json:"reference"`
		Header     []string   `json:"header"`
		Cells      [][]string `json:"cells"`
		SVGs       []string   `json:"svgs"`
		Shapes     int        `json:"shapes"`
		Scatters   []string   `json:"scatters"`
		Alpha      string     `json:"alpha"`
		Grounding  []string   `json:"grounding"`
		Clips      []string   `json:"clips"`
		Frames     []int      `json:"frames"`
		XText      string     `json:"xText"`
		GTText     string     `json:"gtText"`
		Subtitle   string     `json:"subtitle"`
		Title      string     `json:"title"`
		Scripts    int        `json:"scripts"`
		Fetched    int        `json:"fetched"`
		Unexpected int        `json:"unexpected"`
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[page](`(() => {
		const all = (sel, f) => Array.from(document.querySelectorAll(sel)).map(f);
		return {
			rows: all("table.leaderboard tbody tr", r => r.dataset.system),
			reference: document.querySelector("table.leaderboard tfoot tr").dataset.system,
			header: all("table.leaderboard thead tr:nth-child(2) th", h => h.dataset.metric),
			cells: all("table.leaderboard tbody tr", r => Array.from(r.querySelectorAll("td")).map(c => c.childNodes[0].textContent.trim())),
			svgs: all("svg.plot", s => s.closest("figure").id),
			shapes: document.querySelectorAll("svg.plot path").length,
			scatters: all("figure.scatter .correlation", e => e.textContent),
			alpha: document.querySelector("td.alpha").textContent,
			grounding: all("table.grounding tbody tr td", c => c.textContent),
			clips: all("article.clip", a => a.dataset.clip),
			frames: all("article.clip", a => Array.from(a.querySelectorAll(".frames img")).filter(i => i.complete && i.naturalWidth > 0).length),
			xText: document.querySelector('article.clip[data-clip="c1"] .reasoning[data-system="x"] .text').textContent,
			gtText: document.querySelector('article.clip[data-clip="c1"] dd.ground-truth').textContent,
			subtitle: document.querySelector('article.clip[data-clip="c1"] dd.subtitle').textContent,
			title: document.title,
			scripts: document.querySelectorAll("script").length,
			fetched: performance.getEntriesByType("resource").length,
			unexpected: document.querySelectorAll("img:not(.frames img)").length,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}

	// Leaderboard: one row per system, ordered by judge-a's clue score
	// (x and y only: z, which judge-a did not judge, first), the ground
	// truth's human score below.
	if diff := cmp.Diff([]string{"z", "x", "y"}, p.Rows); diff != "" {
		t.Errorf("leaderboard rows (-want +got):\n%s", diff)
	}
	if p.Reference != "ground truth" {
		t.Errorf("reference row %q", p.Reference)
	}
	metrics := []string{"clue", "emotion", "modality"}
	if diff := cmp.Diff(append(slices.Clone(metrics), metrics...), p.Header); diff != "" {
		t.Errorf("leaderboard columns (-want +got):\n%s", diff)
	}
	wantCells := map[string][]string{}
	for _, s := range []string{"x", "y", "z"} {
		var row []string
		for _, dir := range []string{f.evalA, f.evalB} {
			sum := readSummaryJSON(t, dir)
			for _, m := range metrics {
				ms, ok := sum.Systems[s][judge.Metric(m)]
				switch {
				case !ok:
					row = append(row, "—")
				default:
					row = append(row, fmt.Sprintf("%.2f ± %.2f", *ms.Mean, *ms.Stderr))
				}
			}
		}
		wantCells[s] = row
	}
	for i, s := range p.Rows {
		got := p.Cells[i]
		if len(got) != 8 {
			t.Errorf("row %s has %d cells: %q", s, len(got), got)
			continue
		}
		if diff := cmp.Diff(wantCells[s], got[:6]); diff != "" {
			t.Errorf("row %s judge cells (-want +got):\n%s", s, diff)
		}
		if !strings.HasPrefix(got[6], fmt.Sprintf("%.2f [", humanMean(s))) {
			t.Errorf("row %s human score %q, want a mean of %.2f", s, got[6], humanMean(s))
		}
		wantRate := "—"
		if s == "x" {
			wantRate = "66.7 %"
		}
		if got[7] != wantRate {
			t.Errorf("row %s grounded rate %q, want %q", s, got[7], wantRate)
		}
	}

	// Plots: a bar chart per metric, human score and grounding, and a
	// scatter per folder and metric, each with its correlations.
	wantSVGs := []string{"chart-clue", "chart-emotion", "chart-modality", "chart-human", "chart-grounded",
		"scatter-0-clue", "scatter-1-emotion", "scatter-2-clue", "scatter-3-emotion"}
	if diff := cmp.Diff(wantSVGs, p.SVGs); diff != "" {
		t.Errorf("plots (-want +got):\n%s", diff)
	}
	if p.Shapes < 100 {
		t.Errorf("the plots draw %d paths", p.Shapes)
	}
	wantScatters := []string{
		expectedCorrelation(t, "judge-a", []string{"x", "y"}, false),
		expectedCorrelation(t, "judge-a", []string{"x", "y"}, true),
		expectedCorrelation(t, "judge-b", []string{"y", "z"}, false),
		expectedCorrelation(t, "judge-b", []string{"y", "z"}, true),
	}
	if diff := cmp.Diff(wantScatters, p.Scatters); diff != "" {
		t.Errorf("correlations (-want +got):\n%s", diff)
	}
	if alpha := expectedAlpha(t); p.Alpha != alpha {
		t.Errorf("Krippendorff's alpha %q, want %q", p.Alpha, alpha)
	}
	if diff := cmp.Diff([]string{"4", "2", "1", "1", "66.7 %"}, p.Grounding); diff != "" {
		t.Errorf("grounding row (-want +got):\n%s", diff)
	}

	// Side by side: the first two clips, with their frames, texts shown
	// as text.
	if diff := cmp.Diff([]string{"c1", "c2"}, p.Clips); diff != "" {
		t.Errorf("clips (-want +got):\n%s", diff)
	}
	if f.media != "" {
		if diff := cmp.Diff([]int{3, 3}, p.Frames); diff != "" {
			t.Errorf("decoded frames per clip (-want +got):\n%s", diff)
		}
	} else {
		t.Log("no ffmpeg: the report has no frames")
	}
	if !strings.Contains(p.XText, `<img src=x onerror="document.title='pwned'">`) {
		t.Errorf("x's reasoning on c1 reads %q", p.XText)
	}
	if !strings.Contains(p.GTText, "<script>alert(1)</script>") {
		t.Errorf("the ground truth of c1 reads %q", p.GTText)
	}
	if p.Subtitle != "Words of c1, <i>said</i> & meant." {
		t.Errorf("subtitle %q", p.Subtitle)
	}
	if p.Title != "EMER evaluation report" || p.Scripts != 0 || p.Unexpected != 0 {
		t.Errorf("title %q, %d scripts, %d images outside the frames: the inputs' HTML was not escaped", p.Title, p.Scripts, p.Unexpected)
	}
	if p.Fetched != 0 {
		t.Errorf("the page fetched %d resources", p.Fetched)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := reportArtifact(t, "report.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	html := reportArtifact(t, "report.html")
	if b, err := os.ReadFile(out); err == nil {
		_ = os.WriteFile(html, b, 0o644)
	}
	t.Logf("screenshot of the report: %s (the page: %s)", path, html)
}

// humanMean is the human score of system s: the mean over clips of the
// clip's mean rating.
func humanMean(s string) float64 {
	var sum float64
	for i := range reportClipNames {
		var c float64
		for r := range 3 {
			c += float64(humanScore(r, reportQuality[s][i]))
		}
		sum += c / 3
	}
	return sum / float64(len(reportClipNames))
}

// expectedAlpha is Krippendorff's α of the fixture's ratings, by clip and
// candidate.
func expectedAlpha(t *testing.T) string {
	var units [][]float64
	for i := range reportClipNames {
		for _, q := range []int{10, reportQuality["x"][i], reportQuality["y"][i], reportQuality["z"][i]} {
			var u []float64
			for r := range 3 {
				u = append(u, float64(humanScore(r, q)))
			}
			units = append(units, u)
		}
	}
	a, err := agreement.KrippendorffAlpha(units, agreement.Ordinal)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%.3f", a.Alpha)
}

// TestReportDeterministic writes the report twice from the same inputs
// and gets the same bytes; --timestamp adds the time.
func TestReportDeterministic(t *testing.T) {
	f := newReportFixture(t)
	var outs [][]byte
	for i := range 2 {
		out := filepath.Join(f.dir, fmt.Sprintf("report%d.html", i))
		var stdout, stderr bytes.Buffer
		if code := execute(context.Background(), f.args(out), &stdout, &stderr); code != 0 {
			t.Fatalf("emer report: exit %d: %s", code, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatalf("two reports of the same inputs differ (%d and %d bytes)", len(outs[0]), len(outs[1]))
	}
	if bytes.Contains(outs[0], []byte("Generated ")) {
		t.Error("the report holds a time without --timestamp")
	}
	// Nothing to fetch: no link, script, remote source or style import.
	for _, ref := range []string{`src="http`, `href=`, "<script", "<link", "url(", "@import"} {
		if n := bytes.Count(outs[0], []byte(ref)); n > 0 {
			t.Errorf("the report holds %d %q", n, ref)
		}
	}

	at := time.Date(2026, 4, 1, 12, 30, 0, 0, time.UTC)
	opts := reportOptions{Evals: []string{f.evalA}, Clips: 0, Seed: 1, Timestamp: true, Out: filepath.Join(f.dir, "stamped.html"),
		Stderr: new(bytes.Buffer), now: func() time.Time { return at }}
	if err := runReport(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(opts.Out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("Generated 2026-04-01T12:30:00Z")) {
		t.Error("--timestamp: the report does not hold the time of writing")
	}
}

// writeEvalFolder writes what emer eval leaves in dir for the summary
// alone (no store): summary.json and run.json, with the ground truth and
// the predictions of systems in files beside it.
func writeEvalFolder(t *testing.T, dir, protocol string, systems ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"c1", "c2"}
	gt := filepath.Join(dir, "gt.csv")
	writeReasonsCSV(t, gt, "reasons", names, []string{"He frowns.", "He smiles."})
	sum := evalSummary{Systems: map[string]map[judge.Metric]judge.MetricSummary{}, Judge: judgeInfo{Model: "m", Protocol: protocol}}
	info := evalRunInfo{GT: gt, Systems: map[string]string{}, Protocol: protocol, Repeats: 1}
	for i, s := range systems {
		m := float64(i + 3)
		sum.Systems[s] = map[judge.Metric]judge.MetricSummary{judge.MetricClue: {Mean: &m, NScored: 2}, judge.MetricEmotion: {Mean: &m, NScored: 2}}
		info.Systems[s] = filepath.Join(dir, s+".csv")
		writeReasonsCSV(t, info.Systems[s], "reasons", names, []string{s + " on c1", s + " on c2"})
	}
	for name, v := range map[string]any{"summary.json": sum, "run.json": info} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeStudies makes a store holding a study of c1 and c2 per name.
func writeStudies(t *testing.T, path string, names ...string) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	studies := store.NewStudies(s)
	defer studies.Close()
	svc := study.NewService(studies, 0, nil)
	for _, n := range names {
		d := study.Draft{Name: n, Target: 1, Seed: 1}
		for _, c := range []string{"c1", "c2"} {
			d.Clips = append(d.Clips, study.DraftClip{Name: c, Candidates: []study.DraftCandidate{
				{Source: study.GroundTruth, Text: "truth of " + c}, {Source: "x", Text: "x on " + c}}})
		}
		if _, err := svc.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReportBadInputs runs emer report on inputs it must refuse, each
// error naming what is wrong and where.
func TestReportBadInputs(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeEvalFolder(t, good, "release", "x", "y")
	unknownProto := filepath.Join(dir, "unknown-protocol")
	writeEvalFolder(t, unknownProto, "mystery", "x")
	broken := filepath.Join(dir, "broken")
	writeEvalFolder(t, broken, "release", "x")
	if err := os.WriteFile(filepath.Join(broken, "summary.json"), []byte("{\n  \"systems\": {\n    \"x\": 7\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	none, one, two := filepath.Join(dir, "none.db"), filepath.Join(dir, "one.db"), filepath.Join(dir, "two.db")
	writeStudies(t, none)
	writeStudies(t, one, "pilot")
	writeStudies(t, two, "pilot", "main")
	bad := func(name string) string { return filepath.Join("testdata", "report", name) }
	out := filepath.Join(dir, "report.html")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no eval", []string{"--out", out}, 2, "at least one --eval DIR is required"},
		{"no out", []string{"--eval", good}, 2, "--out is required"},
		{"eval twice", []string{"--eval", good, "--eval", good + "/", "--out", out}, 2, "--eval " + good + "/ is given twice"},
		{"frames", []string{"--eval", good, "--frames", "17", "--out", out}, 2, "--frames 17: want 0 to 16"},
		{"study without db", []string{"--eval", good, "--study", "pilot", "--out", out}, 2, "--study needs --db"},
		{"eval missing", []string{"--eval", filepath.Join(dir, "gone"), "--out", out}, 1, "--eval " + filepath.Join(dir, "gone") + ": stat"},
		{"eval unfinished", []string{"--eval", empty, "--out", out}, 1, empty + " is not a finished emer eval output folder: it has no summary.json"},
		{"summary malformed", []string{"--eval", broken, "--out", out}, 1, filepath.Join(broken, "summary.json") + ": line 3, column 10: json: cannot unmarshal number"},
		{"protocol unknown", []string{"--eval", unknownProto, "--out", out}, 1, `unknown protocol "mystery"`},
		{"check totals", []string{"--eval", good, "--check", "x=" + bad("totals.bad.json"), "--out", out}, 1,
			bad("totals.bad.json") + ":\n  the totals (2 claims: 2 supported, 0 contradicted, 0 unverifiable) are not those of its clips (1: 1, 0, 0)"},
		{"check verdict", []string{"--eval", good, "--check", "x=" + bad("verdict.bad.json"), "--out", out}, 1,
			`clip 1 ("c1"), claim 1: verdict "maybe" is none of supported, contradicted, unverifiable`},
		{"check syntax", []string{"--eval", good, "--check", bad("syntax.bad.json"), "--out", out}, 1, bad("syntax.bad.json") + ": line 3, column 16: invalid character"},
		{"check type", []string{"--eval", good, "--check", bad("type.bad.json"), "--out", out}, 1, bad("type.bad.json") + ": line 2, column 26: json: cannot unmarshal string"},
		{"check no totals", []string{"--eval", good, "--check", bad("nototals.bad.json"), "--out", out}, 1, `no "totals": is it the output of emer build check --json?`},
		{"check rate", []string{"--eval", good, "--check", bad("rate.bad.json"), "--out", out}, 1, "grounded_rate 1.5 is not between 0 and 1"},
		{"check clip twice", []string{"--eval", good, "--check", bad("twice.bad.json"), "--out", out}, 1, `clip 2: "c1" is there twice`},
		{"check missing", []string{"--eval", good, "--check", "x=" + filepath.Join(dir, "gone.json"), "--out", out}, 1, "--check: open " + filepath.Join(dir, "gone.json")},
		{"check twice", []string{"--eval", good, "--check", bad("x.json"), "--check", "x=" + bad("x.json"), "--out", out}, 1,
			"two grounding checks of system x (" + bad("x.json") + " and " + bad("x.json") + ")"},
		{"check name", []string{"--eval", good, "--check", "=" + bad("x.json"), "--out", out}, 2, `--check "=` + bad("x.json") + `": want NAME=FILE or FILE`},
		{"db missing", []string{"--eval", good, "--db", filepath.Join(dir, "gone.db"), "--out", out}, 1, "--db: stat " + filepath.Join(dir, "gone.db")},
		{"no study", []string{"--eval", good, "--db", none, "--out", out}, 1, none + " holds no rating study"},
		{"two studies", []string{"--eval", good, "--db", two, "--out", out}, 1, two + ` holds 2 rating studies (1 "pilot", 2 "main"): pick one with --study ID or NAME`},
		{"study unknown", []string{"--eval", good, "--db", one, "--study", "main", "--out", out}, 1, one + ` holds no study "main" (it holds 1 "pilot")`},
		{"clip unknown", []string{"--eval", good, "--clip", "c9", "--clip", "c1", "--out", out}, 2, "--clip: c9: no such sample in the ground truth of " + good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), append([]string{"report"}, tc.args...), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to hold %q", code, tc.code, stderr.String(), tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
				os.Remove(out)
			}
		})
	}
}

// TestReportStudyChoice picks a study by name and by ID, and reports a
// folder judged on no clip of the study.
func TestReportStudyChoice(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeEvalFolder(t, good, "release", "x")
	two := filepath.Join(dir, "two.db")
	writeStudies(t, two, "pilot", "main")
	for _, which := range []string{"main", "2"} {
		t.Run(which, func(t *testing.T) {
			out := filepath.Join(dir, "report-"+which+".html")
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), []string{"report", "--eval", good, "--db", two, "--study", which, "--clips", "0", "--out", out}, &stdout, &stderr)
			// Without a store the folder's samples cannot meet the raters.
			want := good + ": stat " + filepath.Join(good, "emer.db")
			if code != 1 || !strings.Contains(stderr.String(), want) {
				t.Fatalf("exit %d; stderr:\n%s\nwant it to hold %q", code, stderr.String(), want)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte("Rating study <strong>main</strong>")) {
				t.Error("the report is not of study main")
			}
		})
	}
}

// TestReportMissingMedia writes the report when a clip's media cannot be
// found, says so in it and on stderr, and exits 1.
func TestReportMissingMedia(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeEvalFolder(t, good, "release", "x", "y")
	mediaDir := filepath.Join(dir, "media")
	if err := os.Mkdir(mediaDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.html")
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), []string{"report", "--eval", good, "--media", mediaDir, "--clips", "1", "--out", out}, &stdout, &stderr)
	want := `clip c1: no media file for "c1" in ` + mediaDir
	if code != 1 || !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "1 parts of the report are missing") {
		t.Fatalf("exit %d; stderr:\n%s\nwant it to hold %q", code, stderr.String(), want)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`<section id="notes">`, "no media file for &#34;c1&#34;", `data-clip="c1"`, "x on c1", "y on c1", "He frowns."} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("the report lacks %q", s)
		}
	}
}
