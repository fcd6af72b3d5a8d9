package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/agreement"
	"emer/internal/judge"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func f64(v float64) *float64 { return &v }

func summary(mean, stderr float64, n, failed int) judge.MetricSummary {
	return judge.MetricSummary{Mean: f64(mean), Stderr: f64(stderr), NScored: n, NFailed: failed}
}

// smallInput is a report of one eval folder of two systems (one of them
// named with HTML), a study of three clips rated by two raters, a check
// and one clip side by side.
func smallInput() Input {
	const odd = `b<i>&"'`
	return Input{
		Evals: []Eval{{
			Label: "runs/a", Judge: "judge-a", Protocol: "release", Metrics: []judge.Metric{judge.MetricClue, judge.MetricEmotion}, Lo: 1, Hi: 10,
			Systems: map[string]map[judge.Metric]judge.MetricSummary{
				"a": {judge.MetricClue: summary(6, 0.5, 3, 0), judge.MetricEmotion: summary(5, 1, 3, 0)},
				odd: {judge.MetricClue: summary(4, 0.25, 2, 1), judge.MetricEmotion: summary(7, 0.5, 3, 0)},
			},
			Samples: map[string]map[judge.Metric]map[string]float64{
				"a": {judge.MetricClue: {"k1": 5, "k2": 6, "k3": 7}, judge.MetricEmotion: {"k1": 4, "k2": 5, "k3": 6}},
				odd: {judge.MetricClue: {"k1": 3, "k3": 5}, judge.MetricEmotion: {"k1": 7, "k2": 6, "k3": 8}},
			},
		}},
		Study: &Study{Name: "pilot <1>", Source: "study.db", Ratings: []Rating{
			{Rater: 1, Clip: "k1", System: "a", Score: 2}, {Rater: 2, Clip: "k1", System: "a", Score: 3},
			{Rater: 1, Clip: "k2", System: "a", Score: 3}, {Rater: 2, Clip: "k2", System: "a", Score: 3},
			{Rater: 1, Clip: "k3", System: "a", Score: 4}, {Rater: 2, Clip: "k3", System: "a", Score: 4},
			{Rater: 1, Clip: "k1", System: odd, Score: 1}, {Rater: 2, Clip: "k1", System: odd, Score: 2},
			{Rater: 1, Clip: "k2", System: odd, Score: 2}, {Rater: 2, Clip: "k2", System: odd, Score: 1},
			{Rater: 1, Clip: "k3", System: odd, Score: 3}, {Rater: 2, Clip: "k3", System: odd, Score: 3},
			{Rater: 1, Clip: "k1", GroundTruth: true, Score: 4}, {Rater: 2, Clip: "k1", GroundTruth: true, Score: 4},
			{Rater: 1, Clip: "k2", GroundTruth: true, Score: 4}, {Rater: 2, Clip: "k2", GroundTruth: true, Score: 3},
			{Rater: 1, Clip: "k3", GroundTruth: true, Score: 4}, {Rater: 2, Clip: "k3", GroundTruth: true, Score: 4},
		}},
		Checks: []Check{{System: "a", File: "a.json", Totals: ClaimCounts{Claims: 3, Supported: 1, Contradicted: 1, Unverifiable: 1}, GroundedRate: f64(0.5),
			Clips: map[string]ClaimCounts{"k1": {Claims: 3, Supported: 1, Contradicted: 1, Unverifiable: 1}}}},
		Clips: []Clip{{
			Name: "k1", Subtitle: "I <b>never</b> said that", GroundTruth: "He frowns.\n\nHe is <angry>.",
			Reasonings: map[string]string{"a": "He frowns & shouts.", odd: "<script>alert(1)</script>"},
			Frames:     []Frame{{Time: 0.5, JPEG: []byte{0xff, 0xd8, 0xff, 0xd9}, Width: 4, Height: 3}},
			Notes:      []string{"a note with <html>"},
		}},
		Notes: []string{"runs/b: <gone>"},
	}
}

// TestBuildNumbers checks the human scores, agreement and correlations
// against the statistics computed here on the same data.
func TestBuildNumbers(t *testing.T) {
	in := smallInput()
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	// Rows by clue, best last.
	var order []string
	for _, row := range r.Rows {
		order = append(order, row.System)
	}
	if diff := cmp.Diff([]string{`b<i>&"'`, "a"}, order); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// a: clips k1 k2 k3 with ratings (2,3) (3,3) (4,4).
	want, err := agreement.SystemMean([][]float64{{2, 3}, {3, 3}, {4, 4}}, agreement.DefaultBootstrap)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Rows[1].HumanCell
	if diff := cmp.Diff(want, got.Interval); diff != "" {
		t.Errorf("human score of a (-want +got):\n%s", diff)
	}
	if got.Clips != 3 || got.Ratings != 6 || math.Abs(*got.Mean-want.Mean) > 1e-12 {
		t.Errorf("human score of a: %d clips, %d ratings, mean %v", got.Clips, got.Ratings, *got.Mean)
	}
	if m := r.Reference.HumanCell.Mean; m == nil || math.Abs(*m-(4+3.5+4)/3) > 1e-12 {
		t.Errorf("ground truth's human mean %v", m)
	}
	// Units by clip, then candidate: the ground truth ("") first.
	alpha, err := agreement.KrippendorffAlpha([][]float64{{4, 4}, {2, 3}, {1, 2}, {4, 3}, {3, 3}, {2, 1}, {4, 4}, {4, 4}, {3, 3}}, agreement.Ordinal)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(alpha, r.Agreement.Alpha); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
	if r.Agreement.Kappa == nil || r.Agreement.Units != 9 {
		t.Errorf("agreement %+v", r.Agreement)
	}
	// The clue scatter pairs b<i>'s k1, k3 and a's k1..k3 (systems by name).
	if len(r.Scatters) != 2 {
		t.Fatalf("%d scatters", len(r.Scatters))
	}
	x := []float64{5, 6, 7, 3, 5}
	y := []float64{2.5, 3, 4, 1.5, 3}
	rho, _ := agreement.Spearman(x, y)
	tau, _ := agreement.KendallTauB(x, y)
	sc := r.Scatters[0]
	if diff := cmp.Diff([]*agreement.Correlation{rho, tau}, []*agreement.Correlation{sc.Rho, sc.Tau}); diff != "" {
		t.Errorf("clue correlations (-want +got):\n%s", diff)
	}
	// Two systems: their means correlate perfectly, by rank.
	if sc.SysRho == nil || sc.SysRho.Coef != 1 || sc.Systems != 2 {
		t.Errorf("system-level rho %+v over %d", sc.SysRho, sc.Systems)
	}
}

// TestWriteHTML renders the small report against its golden file and
// checks that no text of the inputs reaches the page as markup.
func TestWriteHTML(t *testing.T) {
	r, err := Build(smallInput())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, raw := range []string{"<script>", "<i>", "<b>", "<angry>", "<html>", "<gone>", "<1>"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	for _, esc := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "b&lt;i&gt;&amp;&#34;&#39;", "I &lt;b&gt;never&lt;/b&gt; said that", "src=\"data:image/jpeg;base64,/9j/2Q==\""} {
		if !strings.Contains(page, esc) {
			t.Errorf("the page lacks %q", esc)
		}
	}
	golden := filepath.Join("testdata", "small.html")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), page); diff != "" {
		t.Errorf("page differs from %s (-want +got; go test -update rewrites it):\n%s", golden, diff)
	}
}

// TestBuildSameBytes renders the same input twice and with a time.
func TestBuildSameBytes(t *testing.T) {
	render := func(in Input) string {
		t.Helper()
		r, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := r.WriteHTML(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	a, b := render(smallInput()), render(smallInput())
	if a != b {
		t.Fatal("two renders of the same input differ")
	}
	in := smallInput()
	in.Generated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	if c := render(in); !strings.Contains(c, "Generated 2026-01-02T02:04:05Z") {
		t.Error("the time of writing is not in the page")
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"nothing", Input{}, "nothing to report"},
		{"two checks of a system", Input{Checks: []Check{{System: "a", File: "1.json"}, {System: "a", File: "2.json"}}}, "two grounding checks of system a (1.json and 2.json)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestBuildUndefined shows why a statistic is missing instead of a
// number: one clip gives no interval, constant ratings no α.
func TestBuildUndefined(t *testing.T) {
	in := Input{Study: &Study{Name: "s", Ratings: []Rating{
		{Rater: 1, Clip: "k1", System: "a", Score: 3}, {Rater: 2, Clip: "k1", System: "a", Score: 3},
		{Rater: 1, Clip: "k1", GroundTruth: true, Score: 3}, {Rater: 2, Clip: "k1", GroundTruth: true, Score: 3},
	}}}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Rows[0].HumanCell
	if h.Interval != nil || h.Mean == nil || *h.Mean != 3 || !strings.Contains(h.Note(), "no interval: system mean: 1 clips with ratings") {
		t.Errorf("human score %+v: %q", h, h.Note())
	}
	if r.Agreement.Alpha != nil || !strings.Contains(r.Agreement.AlphaText(), "undefined") {
		t.Errorf("alpha %q", r.Agreement.AlphaText())
	}
}
