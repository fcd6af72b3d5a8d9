package unibench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
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
// not be scored has Error set and no score.
type CheckpointScore struct {
	Name     string   `json:"name"`
	Score    *float64 `json:"score,omitempty"`
	Accuracy *float64 `json:"accuracy,omitempty"`
	Samples  int      `json:"samples"`
	Error    string   `json:"error,omitempty"`
}

// Best names the best-scoring checkpoint.
type Best struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// Result is one dataset's scores over a model's checkpoints.
type Result struct {
	Dataset     string            `json:"dataset"`
	Metric      string            `json:"metric"`
	Checkpoints []CheckpointScore `json:"checkpoints"`
	Best        *Best             `json:"best"`
	Warnings    []string          `json:"warnings,omitempty"`
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
	res := &Result{Dataset: d.Name, Metric: d.Metric(), Checkpoints: make([]CheckpointScore, len(cps))}
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
		if c.Error == "" && (res.Best == nil || *c.Score > res.Best.Score) {
			res.Best = &Best{Name: c.Name, Score: *c.Score}
		}
		for _, m := range warns[i].Messages() {
			res.Warnings = append(res.Warnings, c.Name+": "+m)
		}
	}
	return res, nil
}

func scoreOne(d Dataset, lab *Labels, x *wheel.Lexicon, cp Checkpoint, w *openset.Warnings) CheckpointScore {
	out := CheckpointScore{Name: cp.Name}
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
		s, n := HitRate(x, lab, texts, w)
		out.Score, out.Samples = &s, n
	} else {
		f1, acc, n := SentimentScores(lab, texts, w)
		out.Score, out.Accuracy, out.Samples = &f1, &acc, n
	}
	return out
}

// predictions aligns predictions with the label names, one text per name;
// a clip without a prediction gets "" (no labels) and is counted.
func predictions(lab *Labels, pred *openset.Set, w *openset.Warnings) []string {
	out := make([]string, len(lab.Names))
	for i, n := range lab.Names {
		t, ok := pred.Text[n]
		if !ok {
			w.Add(openset.WarnMissingPred, n)
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
		w.Add(openset.WarnExtraPred, n)
	}
	return out
}

// HitRate is the emotion-set score: for each wheel at level 1, over clips
// whose mapped ground truth is not empty, the mean of |G∩P|; then the mean
// over the five wheels. A clip whose emotion is on no wheel (neutral, for
// one) is not compared; samples counts the clips compared on at least one
// wheel.
// texts holds the prediction of each clip of lab.Names, in that order.
func HitRate(x *wheel.Lexicon, lab *Labels, texts []string, w *openset.Warnings) (score float64, samples int) {
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
		rates[k], _ = metric.HitRate(g, p)
	}
	return metric.Mean(rates), samples
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
// weighted F1 and the accuracy of (valence > 0) against (prediction > 0).
// texts holds the prediction of each clip of lab.Names, in that order.
func SentimentScores(lab *Labels, texts []string, w *openset.Warnings) (wf1, acc float64, samples int) {
	var truth, guess []bool
	for i, n := range lab.Names {
		v := lab.Valence[n]
		if v == 0 {
			continue
		}
		truth = append(truth, v > 0)
		guess = append(guess, SentimentSign(texts[i]) > 0)
		if t := texts[i]; t != "positive" && t != "negative" && t != "neutral" {
			w.Add(WarnOtherSentiment, fmt.Sprintf("%s: %q", n, t))
		}
	}
	return metric.WeightedF1(truth, guess), metric.Accuracy(truth, guess), len(truth)
}
