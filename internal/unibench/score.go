package unibench

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"emer/internal/labels"
	"emer/internal/metric"
	"emer/internal/openset"
	"emer/internal/wheel"
)

// Checkpoint is one prediction file of a model.
type Checkpoint struct {
	Name string // file name without the dataset suffix
	Path string
}

// FindCheckpoints returns the prediction files for d at path: the file
// itself, or every file under the folder path whose name ends with the
// dataset's suffix, sorted by name. The files must belong to one run: a
// folder whose checkpoints sit in several subfolders is refused, since the
// best of two models' checkpoints is not a result of either.
func FindCheckpoints(d Dataset, path string) ([]Checkpoint, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if !strings.HasSuffix(path, d.Suffix()) {
			return nil, fmt.Errorf("%s: not a %s prediction file: %s is scored from *%s files", path, d.Title, d.Title, d.Suffix())
		}
		return []Checkpoint{{Name: strings.TrimSuffix(filepath.Base(path), d.Suffix()), Path: path}}, nil
	}
	var out []Checkpoint
	err = filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(e.Name(), d.Suffix()) {
			out = append(out, Checkpoint{Name: strings.TrimSuffix(e.Name(), d.Suffix()), Path: p})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no %s prediction files (*%s)", path, d.Title, d.Suffix())
	}
	dirs := map[string]bool{}
	for _, c := range out {
		rel, _ := filepath.Rel(path, filepath.Dir(c.Path))
		dirs[filepath.ToSlash(rel)] = true
	}
	if len(dirs) > 1 {
		names := make([]string, 0, len(dirs))
		for d := range dirs {
			names = append(names, d)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%s: checkpoints of %d runs (%s): give one run's folder", path, len(dirs), strings.Join(names, ", "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CheckpointScore is one checkpoint's result. Score is the hit rate or the
// weighted F1; Accuracy is set for sentiment sets. A checkpoint that could
// not be read has Error set and no score; one read but with no clip to
// compare (see Result.Undefined) has no score and no error. In JSON a
// missing score is null, never 0, and accuracy appears for sentiment sets
// only.
type CheckpointScore struct {
	Name     string   `json:"name"`
	Score    *float64 `json:"score"`
	Accuracy *float64 `json:"accuracy"`
	Samples  int      `json:"samples"`
	Error    string   `json:"error,omitempty"`

	sentiment bool // Accuracy is part of the result, null or not
}

// MarshalJSON writes the fields above; accuracy only for sentiment sets.
func (c CheckpointScore) MarshalJSON() ([]byte, error) {
	type plain CheckpointScore
	if c.sentiment {
		return json.Marshal(plain(c))
	}
	return json.Marshal(struct {
		plain
		Accuracy *float64 `json:"accuracy,omitempty"`
	}{plain: plain(c)})
}

// Best names the best-scoring checkpoint.
type Best struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// Result is one dataset's scores over a model's checkpoints. Which clips
// the metric compares depends on the labels only (and the wheels), so
// Clips, Scored and SkippedClips hold for every checkpoint.
type Result struct {
	Dataset      string            `json:"dataset"`
	Metric       string            `json:"metric"`
	Clips        int               `json:"clips"`  // clips in the labels
	Scored       int               `json:"scored"` // clips the metric compares
	SkippedClips []Skip            `json:"skipped_clips,omitempty"`
	Undefined    string            `json:"undefined,omitempty"` // why no checkpoint has a score, if none has
	Checkpoints  []CheckpointScore `json:"checkpoints"`
	Best         *Best             `json:"best"`
	Warnings     []string          `json:"warnings,omitempty"`
	// CheckpointWarnings holds each checkpoint's warnings, in the order
	// of Checkpoints; Warnings renders them.
	CheckpointWarnings []openset.Warnings `json:"-"`
}

// Skip counts the clips a metric leaves out for one reason.
type Skip struct {
	Reason string `json:"reason"`
	Clips  int    `json:"clips"`
}

// Coverage says how many clips were scored and why the others were not:
// "686 clips, 650 scored: 36 with valence 0".
func (r *Result) Coverage() string {
	s := fmt.Sprintf("%d clips, %d scored", r.Clips, r.Scored)
	var why []string
	for _, k := range r.SkippedClips {
		why = append(why, fmt.Sprintf("%d %s", k.Clips, k.Reason))
	}
	if len(why) > 0 {
		s += ": " + strings.Join(why, ", ")
	}
	if r.Undefined != "" {
		s += "; " + r.Undefined
	}
	return s
}

// Failed counts checkpoints that could not be scored.
func (r *Result) Failed() int {
	n := 0
	for _, c := range r.Checkpoints {
		if c.Error != "" {
			n++
		}
	}
	return n
}

// Score scores every checkpoint of d against its labels, in parallel. The
// lexicon is needed for emotion sets only. A checkpoint that cannot be
// read is reported in its entry and does not stop the others.
func Score(ctx context.Context, d Dataset, lab *Labels, x *wheel.Lexicon, cps []Checkpoint) (*Result, error) {
	if d.Kind == Emotion && x == nil {
		return nil, fmt.Errorf("%s is scored through the emotion wheels: give the wheels folder (--wheels)", d.Title)
	}
	res := &Result{Dataset: d.Name, Metric: d.Metric(), Clips: len(lab.Names), Checkpoints: make([]CheckpointScore, len(cps))}
	res.Scored, res.SkippedClips, res.Undefined = coverage(d, lab, x)
	warns := make([]openset.Warnings, len(cps))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, cp := range cps {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			res.Checkpoints[i] = scoreOne(d, lab, x, cp, &warns[i])
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, c := range res.Checkpoints {
		if c.Score != nil && (res.Best == nil || *c.Score > res.Best.Score) {
			res.Best = &Best{Name: c.Name, Score: *c.Score}
		}
		for _, m := range warns[i].Messages() {
			res.Warnings = append(res.Warnings, c.Name+": "+m)
		}
	}
	res.CheckpointWarnings = warns
	return res, nil
}

func scoreOne(d Dataset, lab *Labels, x *wheel.Lexicon, cp Checkpoint, w *openset.Warnings) CheckpointScore {
	out := CheckpointScore{Name: cp.Name, sentiment: d.Kind == Sentiment}
	pred, err := openset.Read(cp.Path)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	texts := predictions(lab, pred, w)
	if w.Count(openset.WarnMissingPred) == len(lab.Names) {
		*w = openset.Warnings{} // the error says it all
		out.Error = fmt.Sprintf("%s: none of the %d %s clips has a prediction here (a file of another dataset?)", cp.Path, len(lab.Names), d.Title)
		return out
	}
	if d.Kind == Emotion {
		out.Score, out.Samples = HitRate(x, lab, texts, w)
	} else {
		out.Score, out.Accuracy, out.Samples = SentimentScores(lab, texts, w)
	}
	return out
}

// coverage counts the clips d's metric compares and, by reason, those it
// leaves out; undefined says why the metric has no value, when it has none.
func coverage(d Dataset, lab *Labels, x *wheel.Lexicon) (scored int, skips []Skip, undefined string) {
	if d.Kind == Sentiment {
		zero := 0
		for _, n := range lab.Names {
			if lab.Valence[n] == 0 {
				zero++
			}
		}
		scored = len(lab.Names) - zero
		if zero > 0 {
			skips = append(skips, Skip{Reason: "with valence 0", Clips: zero})
		}
		if scored == 0 {
			undefined = "the weighted F1 and accuracy are undefined"
		}
		return scored, skips, undefined
	}
	var (
		onNone  int
		noneEx  []string
		missing [wheel.NumWheels]int
		ex      [wheel.NumWheels][]string
	)
	example := func(list []string, word string) []string {
		if len(list) < 3 && !slices.Contains(list, word) {
			list = append(list, word)
		}
		return list
	}
	for _, n := range lab.Names {
		emo := lab.Emotion[n]
		var on [wheel.NumWheels]bool
		for k := range on {
			_, on[k] = x.M3(emo, k, wheel.Level1)
		}
		if on == ([wheel.NumWheels]bool{}) {
			onNone++
			noneEx = example(noneEx, strconv.Quote(emo))
			continue
		}
		scored++
		for k := range on {
			if !on[k] {
				missing[k]++
				ex[k] = example(ex[k], strconv.Quote(emo))
			}
		}
	}
	if onNone > 0 {
		skips = append(skips, Skip{Reason: fmt.Sprintf("with an emotion on no wheel (e.g. %s)", strings.Join(noneEx, ", ")), Clips: onNone})
	}
	for k, m := range missing {
		if m > 0 {
			skips = append(skips, Skip{Reason: fmt.Sprintf("with an emotion not on wheel %d, compared on the others (e.g. %s)", k+1, strings.Join(ex[k], ", ")), Clips: m})
		}
	}
	switch {
	case scored == 0:
		undefined = "the hit rate is undefined"
	default:
		for k, m := range missing {
			if m == scored {
				undefined = fmt.Sprintf("no clip's emotion is on wheel %d, so the hit rate (a mean over the wheels) is undefined", k+1)
				break
			}
		}
	}
	return scored, skips, undefined
}

// predictions aligns predictions with the label names, one text per name;
// a clip without a prediction gets "" (no labels) and is counted.
func predictions(lab *Labels, pred *openset.Set, w *openset.Warnings) []string {
	out := make([]string, len(lab.Names))
	for i, n := range lab.Names {
		t, ok := pred.Text[n]
		if !ok {
			w.AddValue(openset.WarnMissingPred, n, n)
		}
		out[i] = t
	}
	for _, n := range pred.Names {
		if _, ok := lab.Emotion[n]; ok {
			continue
		}
		if _, ok := lab.Valence[n]; ok {
			continue
		}
		w.AddValue(openset.WarnExtraPred, n, n)
	}
	return out
}

// HitRate is the emotion-set score: for each wheel at level 1, over clips
// whose mapped ground truth is not empty, the mean of |G∩P|; then the mean
// over the five wheels. A clip whose emotion is on no wheel (neutral, for
// one) is not compared; samples counts the clips compared on at least one
// wheel. The score is nil when a wheel has no clip to compare, as the
// reference's mean over no clips is not a number.
// texts holds the prediction of each clip of lab.Names, in that order.
func HitRate(x *wheel.Lexicon, lab *Labels, texts []string, w *openset.Warnings) (score *float64, samples int) {
	// Predictions repeat the same few hundred words: map each distinct
	// word onto the five wheels once.
	memo := map[string]*[wheel.NumWheels]string{}
	mapped := func(label string) *[wheel.NumWheels]string {
		if v, ok := memo[label]; ok {
			return v
		}
		var v [wheel.NumWheels]string
		for k := range v {
			v[k], _ = x.M3(label, k, wheel.Level1)
		}
		memo[label] = &v
		return &v
	}
	gt := make([][wheel.NumWheels]string, len(texts))
	pr := make([][]*[wheel.NumWheels]string, len(texts))
	for i, n := range lab.Names {
		gt[i] = *mapped(lab.Emotion[n])
		if gt[i] != ([wheel.NumWheels]string{}) {
			samples++
		}
		l, err := labels.Parse(texts[i])
		if err != nil {
			w.Add(openset.WarnMalformed, fmt.Sprintf("%s: %v", n, err))
		}
		for _, label := range l {
			pr[i] = append(pr[i], mapped(label))
		}
	}
	rates := make([]float64, wheel.NumWheels)
	g := make([][]string, len(texts))
	p := make([][]string, len(texts))
	for k := range rates {
		for i := range texts {
			g[i] = g[i][:0]
			if gt[i][k] != "" {
				g[i] = append(g[i], gt[i][k])
			}
			p[i] = p[i][:0]
			for _, m := range pr[i] {
				if v := m[k]; v != "" && !slices.Contains(p[i], v) {
					p[i] = append(p[i], v)
				}
			}
		}
		var n int
		if rates[k], n = metric.HitRate(g, p); n == 0 {
			return nil, samples
		}
	}
	m := metric.Mean(rates)
	return &m, samples
}

// SentimentSign maps a sentiment prediction to its sign as the reference
// does, by exact match: "positive" 1, "negative" -1, anything else 0.
func SentimentSign(text string) int {
	switch text {
	case "positive":
		return 1
	case "negative":
		return -1
	}
	return 0
}

// WarnOtherSentiment counts sentiment predictions that are none of
// positive, negative and neutral.
const WarnOtherSentiment = "sentiment predictions other than positive, negative or neutral, counted as not positive"

// SentimentScores compares the sign of the predicted sentiment with the
// sign of the labelled valence, dropping clips whose valence is 0: the
// weighted F1 and the accuracy of (valence > 0) against (prediction > 0),
// both nil when every clip has valence 0.
// texts holds the prediction of each clip of lab.Names, in that order.
func SentimentScores(lab *Labels, texts []string, w *openset.Warnings) (wf1, acc *float64, samples int) {
	positive := func(b bool) int { // the classes 0 and 1, in scikit-learn's order
		if b {
			return 1
		}
		return 0
	}
	var truth, guess []int
	for i, n := range lab.Names {
		v := lab.Valence[n]
		if v == 0 {
			continue
		}
		truth = append(truth, positive(v > 0))
		guess = append(guess, positive(SentimentSign(texts[i]) > 0))
		if t := texts[i]; t != "positive" && t != "negative" && t != "neutral" {
			w.AddValue(WarnOtherSentiment, fmt.Sprintf("%s: %q", n, t), t)
		}
	}
	if len(truth) == 0 {
		return nil, nil, 0
	}
	f1, a := metric.WeightedF1(truth, guess), metric.Accuracy(truth, guess)
	return &f1, &a, len(truth)
}
