package vocal

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"golang.org/x/sync/errgroup"
)

// Settings are the fitting settings, recorded in the model file.
type Settings struct {
	// Features are the feature names the model reads, in order.
	Features []string `json:"features"`
	// Lambdas is the grid of L2 penalties searched, strongest first. The
	// objective is the mean negative log-likelihood plus lambda/2 times
	// the sum of squared weights of standardized features.
	Lambdas []float64 `json:"lambdas"`
	// ZClamp bounds standardized values to ±ZClamp, so that a single wild
	// measure cannot decide.
	ZClamp float64 `json:"z_clamp"`
	// GenderNorm standardizes each feature against the men's or the
	// women's distribution, weighted by a per-clip estimate of the
	// speaker's gender (a logistic regression on the same features with
	// penalty GenderLambda, fitted on the fitting set's gender labels).
	GenderNorm   bool    `json:"gender_norm"`
	GenderLambda float64 `json:"gender_lambda"`
	// MaxIter and GradTol bound L-BFGS.
	MaxIter int     `json:"max_iter"`
	GradTol float64 `json:"grad_tol"`
}

// DefaultSettings returns the settings of the committed model.
func DefaultSettings() Settings {
	var names []string
	for _, f := range catalog {
		if !f.GainDependent {
			names = append(names, f.Name)
		}
	}
	return Settings{
		Features:     names,
		Lambdas:      []float64{3, 1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001},
		ZClamp:       6,
		GenderNorm:   true,
		GenderLambda: 0.1,
		MaxIter:      defaultFitOptions.maxIter,
		GradTol:      defaultFitOptions.gradTol,
	}
}

func (s Settings) fitOptions() fitOptions { return fitOptions{maxIter: s.MaxIter, gradTol: s.GradTol} }

// check reports settings the fitting cannot use.
func (s Settings) check() error {
	if len(s.Features) == 0 {
		return errors.New("settings: no features")
	}
	seen := map[string]bool{}
	for _, f := range s.Features {
		if _, ok := Info(f); !ok {
			return fmt.Errorf("settings: unknown feature %q", f)
		}
		if seen[f] {
			return fmt.Errorf("settings: feature %q listed twice", f)
		}
		seen[f] = true
	}
	if len(s.Lambdas) == 0 {
		return errors.New("settings: no penalties to choose from")
	}
	for i, l := range s.Lambdas {
		if !(l > 0) || i > 0 && l >= s.Lambdas[i-1] {
			return fmt.Errorf("settings: penalties %v must be positive and decreasing", s.Lambdas)
		}
	}
	if s.GenderNorm && !(s.GenderLambda > 0) {
		return fmt.Errorf("settings: gender penalty %g is not positive", s.GenderLambda)
	}
	if s.MaxIter <= 0 || !(s.GradTol > 0) {
		return fmt.Errorf("settings: iteration limit %d and gradient tolerance %g must be positive", s.MaxIter, s.GradTol)
	}
	return nil
}

// Selection says how the penalty is chosen.
const Selection = "L2 penalty with the least pooled log-loss over leave-one-actor-out folds of the fitting actors (ties to the stronger penalty)"

// ClassResult is one emotion's cross-validated result.
type ClassResult struct {
	Emotion   Emotion `json:"emotion"`
	Clips     int     `json:"clips"`
	Correct   int     `json:"correct"`
	Recall    float64 `json:"recall"`
	Predicted int     `json:"predicted"`
	Precision float64 `json:"precision"`
}

// Fold is one outer fold: the held-out actors, the penalty chosen without
// them, and how many of their clips were right.
type Fold struct {
	Held    []string `json:"held_out"`
	Lambda  float64  `json:"lambda"`
	Clips   int      `json:"clips"`
	Correct int      `json:"correct"`
}

// CVReport is a speaker-independent cross-validation: each actor's clips
// are predicted by a model fitted, standardization and penalty choice
// included, on the other actors only.
type CVReport struct {
	Scheme           string  `json:"scheme"`
	Clips            int     `json:"clips"`
	Correct          int     `json:"correct"`
	Accuracy         float64 `json:"accuracy"`
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	LogLoss          float64 `json:"log_loss"`
	// GenderCorrect counts the clips whose speaker's gender the gender
	// stage got right (0 without one).
	GenderCorrect int           `json:"gender_correct"`
	Classes       []ClassResult `json:"classes"`
	// Confusion[i][j] counts clips of Emotions[i] predicted as Emotions[j].
	Confusion [][]int `json:"confusion"`
	Folds     []Fold  `json:"folds"`
}

// Scheme describes the cross-validation CrossValidate runs.
const Scheme = "leave-one-actor-out (one fold per actor); inside each fold the standardization, the gender stage and the penalty are fitted on the other actors only, the penalty by inner leave-one-actor-out"

// dataset is samples as matrix rows with class indices and actors.
type dataset struct {
	x      [][]float64
	y      []int
	actors []string
	female []bool
}

func newDataset(samples []Sample, features []string) (dataset, error) {
	ds := dataset{x: make([][]float64, len(samples)), y: make([]int, len(samples)),
		actors: make([]string, len(samples)), female: make([]bool, len(samples))}
	for i, s := range samples {
		ds.y[i] = slices.Index(Emotions, s.Emotion)
		if ds.y[i] < 0 {
			return dataset{}, fmt.Errorf("clip %s: unknown emotion %q", s.Name, s.Emotion)
		}
		ds.actors[i] = s.Actor
		switch s.Gender {
		case "female":
			ds.female[i] = true
		case "male":
		default:
			return dataset{}, fmt.Errorf("clip %s: gender %q is neither male nor female", s.Name, s.Gender)
		}
		ds.x[i] = s.Features.vector(features)
	}
	return ds, nil
}

func (f Features) vector(names []string) []float64 {
	v := make([]float64, len(names))
	for j, n := range names {
		x, ok := f[n]
		if !ok || math.IsInf(x, 0) {
			x = math.NaN()
		}
		v[j] = x
	}
	return v
}

// subset returns the rows whose actor is not in held (fit) and those whose
// actor is (test).
func (ds dataset) split(held []string) (fit, test dataset) {
	for i, a := range ds.actors {
		t := &fit
		if slices.Contains(held, a) {
			t = &test
		}
		t.x = append(t.x, ds.x[i])
		t.y = append(t.y, ds.y[i])
		t.actors = append(t.actors, a)
		t.female = append(t.female, ds.female[i])
	}
	return fit, test
}

func (ds dataset) actorList() []string {
	a := slices.Clone(ds.actors)
	slices.Sort(a)
	return slices.Compact(a)
}

// fitted is a normalizer and the emotion regression on its output.
type fitted struct {
	norm normalizer
	sm   softmaxFit
}

func fitAt(fit dataset, lambda float64, s Settings, init []float64) fitted {
	norm := fitNormalizer(fit, s)
	sm := fitSoftmax(norm.applyAll(fit.x), fit.y, len(Emotions), lambda, init, s.fitOptions())
	return fitted{norm: norm, sm: sm}
}

func (f fitted) probs(row []float64) []float64 { return f.sm.probs(f.norm.apply(row)) }

// pathLoss fits fit along the penalty grid (strongest first, each fit
// starting from the previous one) and returns the summed negative
// log-likelihood of test at each penalty.
func pathLoss(fit, test dataset, s Settings) []float64 {
	norm := fitNormalizer(fit, s)
	zf, zt := norm.applyAll(fit.x), norm.applyAll(test.x)
	loss := make([]float64, len(s.Lambdas))
	var init []float64
	for l, lambda := range s.Lambdas {
		sm := fitSoftmax(zf, fit.y, len(Emotions), lambda, init, s.fitOptions())
		init = sm.params
		for i, z := range zt {
			loss[l] -= math.Log(math.Max(sm.probs(z)[test.y[i]], 1e-300))
		}
	}
	return loss
}

// chooseLambda returns the penalty with the least pooled loss, the
// stronger one on ties.
func chooseLambda(lambdas, loss []float64) float64 {
	best := 0
	for l := range loss {
		if loss[l] < loss[best] {
			best = l
		}
	}
	return lambdas[best]
}

// CrossValidate runs the leave-one-actor-out cross-validation of Scheme
// on samples, workers fits at a time. The result does not depend on
// workers.
func CrossValidate(ctx context.Context, samples []Sample, s Settings, workers int) (*CVReport, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ds, err := newDataset(samples, s.Features)
	if err != nil {
		return nil, err
	}
	actors := ds.actorList()
	if len(actors) < 3 {
		return nil, fmt.Errorf("cross-validation needs at least 3 actors, have %d", len(actors))
	}
	// Inner path losses for every outer fold.
	losses := make([][][]float64, len(actors)) // [outer][inner actor][lambda]
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for o, out := range actors {
		fitO, _ := ds.split([]string{out})
		inner := fitO.actorList()
		losses[o] = make([][]float64, len(inner))
		for k, in := range inner {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				f, t := fitO.split([]string{in})
				losses[o][k] = pathLoss(f, t, s)
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	rep := &CVReport{Scheme: Scheme, Confusion: make([][]int, len(Emotions))}
	for i := range rep.Confusion {
		rep.Confusion[i] = make([]int, len(Emotions))
	}
	rep.Folds = make([]Fold, len(actors))
	preds := make([][][]float64, len(actors))
	genderOK := make([]int, len(actors))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for o, out := range actors {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			lambda := chooseLambda(s.Lambdas, sumLosses(losses[o], len(s.Lambdas)))
			fit, test := ds.split([]string{out})
			m := fitAt(fit, lambda, s, nil)
			preds[o] = make([][]float64, len(test.x))
			for i, row := range test.x {
				preds[o][i] = m.probs(row)
				if pf := m.norm.femaleProb(row); pf > 0.5 == test.female[i] && !math.IsNaN(pf) {
					genderOK[o]++
				}
			}
			rep.Folds[o] = Fold{Held: []string{out}, Lambda: lambda, Clips: len(test.x)}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var ll float64
	for o, out := range actors {
		rep.GenderCorrect += genderOK[o]
		_, test := ds.split([]string{out})
		for i, p := range preds[o] {
			top := argmax(p)
			rep.Confusion[test.y[i]][top]++
			if top == test.y[i] {
				rep.Folds[o].Correct++
			}
			ll -= math.Log(math.Max(p[test.y[i]], 1e-300))
		}
	}
	rep.fill(ll)
	return rep, nil
}

func sumLosses(l [][]float64, n int) []float64 {
	s := make([]float64, n)
	for _, v := range l {
		for j := range s {
			s[j] += v[j]
		}
	}
	return s
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// fill derives the totals and per-class figures from the confusion matrix.
func (r *CVReport) fill(logLoss float64) {
	r.Classes = make([]ClassResult, len(Emotions))
	var recallSum float64
	var present int
	for i, e := range Emotions {
		c := ClassResult{Emotion: e}
		for j := range Emotions {
			c.Clips += r.Confusion[i][j]
			c.Predicted += r.Confusion[j][i]
		}
		c.Correct = r.Confusion[i][i]
		if c.Clips > 0 {
			c.Recall = float64(c.Correct) / float64(c.Clips)
			recallSum += c.Recall
			present++
		}
		if c.Predicted > 0 {
			c.Precision = float64(c.Correct) / float64(c.Predicted)
		}
		r.Clips += c.Clips
		r.Correct += c.Correct
		r.Classes[i] = c
	}
	if r.Clips > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.Clips)
		r.LogLoss = logLoss / float64(r.Clips)
	}
	if present > 0 {
		r.BalancedAccuracy = recallSum / float64(present)
	}
}

// Train fits the model on all samples, the penalty chosen by
// leave-one-actor-out over them, workers fits at a time. It returns the
// model (without provenance) and the chosen penalty.
func Train(ctx context.Context, samples []Sample, s Settings, workers int) (*Model, float64, error) {
	if err := s.check(); err != nil {
		return nil, 0, err
	}
	ds, err := newDataset(samples, s.Features)
	if err != nil {
		return nil, 0, err
	}
	actors := ds.actorList()
	if len(actors) < 2 {
		return nil, 0, fmt.Errorf("fitting needs at least 2 actors, have %d", len(actors))
	}
	losses := make([][]float64, len(actors))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for k, a := range actors {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			f, t := ds.split([]string{a})
			losses[k] = pathLoss(f, t, s)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	lambda := chooseLambda(s.Lambdas, sumLosses(losses, len(s.Lambdas)))
	return newModel(fitAt(ds, lambda, s, nil), s), lambda, nil
}
