package vocal

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
)

// ModelFile is the name of the committed model file.
const ModelFile = "model.json"

//go:embed model.json
var defaultModel []byte

var loadDefault = sync.OnceValues(func() (*Model, error) { return ParseModel(defaultModel) })

// Default returns the fitted model committed with the package (see
// internal/vocal/gen for how it is made). The model is shared: callers
// must not modify it.
func Default() *Model {
	m, err := loadDefault()
	if err != nil {
		// The file is embedded at build time and checked by the tests.
		panic(fmt.Sprintf("vocal: embedded %s: %v", ModelFile, err))
	}
	return m
}

// Scale is a feature of the model with the fitting population's mean and
// standard deviation, and, in a model that normalizes per gender, the
// men's and the women's.
type Scale struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Mean   float64 `json:"mean"`
	SD     float64 `json:"sd"`
	Male   *Stat   `json:"male,omitempty"`
	Female *Stat   `json:"female,omitempty"`
}

// Stat is a mean and a standard deviation.
type Stat struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// GenderModel is a logistic regression estimating from the population
// z-scores of the features whether a voice is female: the log-odds are
// Intercept plus the sum of Weights times the z-scores.
type GenderModel struct {
	Intercept float64   `json:"intercept"`
	Weights   []float64 `json:"weights"`
}

// Model reads an emotion from standardized features with a multinomial
// logistic regression: the log-odds of class c are Intercepts[c] plus the
// sum over features k of Weights[c][k] times the feature's z-score. The
// weights of each feature sum to zero over the classes (the L2 penalty
// centres them), so a weight reads as how much a feature above its
// reference favours a class over the average class.
//
// With a Gender stage, the reference of each feature is that of women or
// men: the gender model's probability pf that the voice is female mixes
// them as pf·Female + (1−pf)·Male (means and standard deviations alike).
// Without one, it is the whole population (Mean, SD).
type Model struct {
	Provenance *Provenance  `json:"provenance,omitempty"`
	Classes    []Emotion    `json:"classes"`
	Features   []Scale      `json:"features"`
	ZClamp     float64      `json:"z_clamp"`
	Gender     *GenderModel `json:"gender,omitempty"`
	Intercepts []float64    `json:"intercepts"`
	Weights    [][]float64  `json:"weights"`
}

// Provenance records where a model comes from: the data, the settings and
// the cross-validated figures of the procedure that fitted it.
type Provenance struct {
	Generator string `json:"generator"`
	Data      string `json:"data"` // the corpus folder's name
	Licence   string `json:"licence"`
	// LabelsSHA256 is the SHA-256 of labels.csv, AudioSHA256 that of the
	// audio files concatenated in the order labels.csv lists them.
	LabelsSHA256 string    `json:"labels_sha256"`
	AudioSHA256  string    `json:"audio_sha256"`
	Clips        int       `json:"clips"`
	Actors       []string  `json:"actors"`
	Settings     Settings  `json:"settings"`
	Selection    string    `json:"selection"`
	Lambda       float64   `json:"lambda"` // the penalty chosen for the final fit
	CV           *CVReport `json:"cross_validation"`
}

func newModel(f fitted, s Settings) *Model {
	k, d := f.sm.k, f.sm.d
	m := &Model{
		Classes:    slices.Clone(Emotions),
		Features:   make([]Scale, d),
		ZClamp:     s.ZClamp,
		Intercepts: make([]float64, k),
		Weights:    make([][]float64, k),
	}
	n := f.norm
	for j, name := range s.Features {
		info, _ := Info(name)
		m.Features[j] = Scale{Name: name, Unit: info.Unit, Mean: n.pooled.mean[j], SD: n.pooled.sd[j]}
		if n.gender != nil {
			m.Features[j].Male = &Stat{Mean: n.male.mean[j], SD: n.male.sd[j]}
			m.Features[j].Female = &Stat{Mean: n.female.mean[j], SD: n.female.sd[j]}
		}
	}
	if n.gender != nil {
		// Two-class softmax as one logistic regression: female minus male.
		male, female := n.gender.row(0), n.gender.row(1)
		g := &GenderModel{Intercept: female[0] - male[0], Weights: make([]float64, d)}
		for j := range g.Weights {
			g.Weights[j] = female[j+1] - male[j+1]
		}
		m.Gender = g
	}
	for c := 0; c < k; c++ {
		row := f.sm.row(c)
		m.Intercepts[c] = row[0]
		m.Weights[c] = slices.Clone(row[1:])
	}
	return m
}

// ParseModel reads a model file, strictly: unknown fields and inconsistent
// shapes are errors.
func ParseModel(data []byte) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("model: data after the model at byte %d", dec.InputOffset())
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return &m, nil
}

func (m *Model) check() error {
	k, d := len(m.Classes), len(m.Features)
	if k < 2 {
		return fmt.Errorf("%d classes, need at least 2", k)
	}
	for i, c := range m.Classes {
		if _, err := ParseEmotion(string(c)); err != nil {
			return err
		}
		if slices.Contains(m.Classes[:i], c) {
			return fmt.Errorf("class %s listed twice", c)
		}
	}
	if len(m.Intercepts) != k || len(m.Weights) != k {
		return fmt.Errorf("%d classes but %d intercepts and %d weight rows", k, len(m.Intercepts), len(m.Weights))
	}
	for c, w := range m.Weights {
		if len(w) != d {
			return fmt.Errorf("class %s has %d weights for %d features", m.Classes[c], len(w), d)
		}
	}
	for _, f := range m.Features {
		if !(f.SD > 0) {
			return fmt.Errorf("feature %s: standard deviation %g is not positive", f.Name, f.SD)
		}
		if m.Gender != nil {
			if f.Male == nil || f.Female == nil {
				return fmt.Errorf("feature %s: the model normalizes per gender but the feature has no male and female statistics", f.Name)
			}
			if !(f.Male.SD > 0) || !(f.Female.SD > 0) {
				return fmt.Errorf("feature %s: a gender's standard deviation is not positive", f.Name)
			}
		}
	}
	if m.Gender != nil && len(m.Gender.Weights) != d {
		return fmt.Errorf("the gender model has %d weights for %d features", len(m.Gender.Weights), d)
	}
	return nil
}

// Marshal encodes m as the model file: indented JSON with a final
// newline. Numbers are written in their shortest exact form, so a model
// read back with ParseModel is the same model.
func (m *Model) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Score is an emotion with its probability.
type Score struct {
	Emotion Emotion `json:"emotion"`
	Prob    float64 `json:"prob"`
}

// Contribution is what one feature adds to the log-odds of one emotion:
// Effect = Weight × Z, with Z = (Value − Mean) / SD bounded to the model's
// z clamp. Mean and SD are the reference the value is read against: that
// of voices of the estimated gender in a model with a gender stage, of the
// whole population otherwise. A feature that was not measured has Measured
// false, the reference mean as its Value and Z 0.
type Contribution struct {
	Feature  string  `json:"feature"`
	Group    string  `json:"group"`
	Unit     string  `json:"unit"`
	Value    float64 `json:"value"`
	Mean     float64 `json:"mean"`
	SD       float64 `json:"sd"`
	Z        float64 `json:"z"`
	Weight   float64 `json:"weight"`
	Effect   float64 `json:"effect"`
	Measured bool    `json:"measured"`
}

// Prediction is the model's reading of one clip.
type Prediction struct {
	// Ranked lists every emotion, the most probable first.
	Ranked []Score `json:"ranked"`
	// Probs is the same as a map.
	Probs map[Emotion]float64 `json:"probs"`
	// Female is the gender stage's probability that the voice is a
	// woman's, nil in a model without one. The contributions' references
	// follow it.
	Female *float64 `json:"female,omitempty"`
	// Contributions holds, for each emotion, every feature's contribution
	// ordered by effect, the strongest support first.
	Contributions map[Emotion][]Contribution `json:"contributions"`
	// Missing lists the model's features that f did not have (or had as
	// NaN or infinite); they count as their reference mean.
	Missing []string `json:"missing,omitempty"`
}

// Top returns the most probable emotion.
func (p Prediction) Top() Emotion { return p.Ranked[0].Emotion }

// Evidence returns up to n measured features that most raise the log-odds
// of e, strongest first, leaving out the groups in skip (GroupCepstrum,
// say, to cite only what has a plain name): the clues to cite for e.
func (p Prediction) Evidence(e Emotion, n int, skip ...string) []Contribution {
	var out []Contribution
	for _, c := range p.Contributions[e] {
		if len(out) == n || c.Effect <= 0 {
			break
		}
		if c.Measured && !slices.Contains(skip, c.Group) {
			out = append(out, c)
		}
	}
	return out
}

// clampZ bounds z to ±m.ZClamp.
func (m *Model) clampZ(z float64) float64 { return clampZ(z, m.ZClamp) }

// Predict reads the emotion from f. Features the model does not use are
// ignored.
func (m *Model) Predict(f Features) Prediction {
	k, d := len(m.Classes), len(m.Features)
	v := make([]float64, d)
	measured := make([]bool, d)
	var missing []string
	for j, s := range m.Features {
		x, ok := f[s.Name]
		if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
			missing = append(missing, s.Name)
			continue
		}
		v[j], measured[j] = x, true
	}
	var pf float64
	if m.Gender != nil {
		g := m.Gender.Intercept
		for j, s := range m.Features {
			if measured[j] {
				g += m.Gender.Weights[j] * m.clampZ((v[j]-s.Mean)/s.SD)
			}
		}
		pf = 1 / (1 + math.Exp(-g))
	}
	mean, sd := make([]float64, d), make([]float64, d)
	z := make([]float64, d)
	for j, s := range m.Features {
		mean[j], sd[j] = s.Mean, s.SD
		if m.Gender != nil {
			mean[j] = pf*s.Female.Mean + (1-pf)*s.Male.Mean
			sd[j] = pf*s.Female.SD + (1-pf)*s.Male.SD
		}
		if measured[j] {
			z[j] = m.clampZ((v[j] - mean[j]) / sd[j])
		}
	}
	logit := make([]float64, k)
	for c := range logit {
		x := m.Intercepts[c]
		for j, zj := range z {
			x += m.Weights[c][j] * zj
		}
		logit[c] = x
	}
	softmaxInPlace(logit)
	p := Prediction{
		Probs:         make(map[Emotion]float64, k),
		Contributions: make(map[Emotion][]Contribution, k),
		Missing:       missing,
	}
	if m.Gender != nil {
		p.Female = &pf
	}
	for c, e := range m.Classes {
		p.Probs[e] = logit[c]
		p.Ranked = append(p.Ranked, Score{Emotion: e, Prob: logit[c]})
		cs := make([]Contribution, d)
		for j, s := range m.Features {
			cs[j] = Contribution{
				Feature: s.Name, Group: groupOf(s.Name), Unit: s.Unit, Value: mean[j], Mean: mean[j], SD: sd[j],
				Z: z[j], Weight: m.Weights[c][j], Effect: m.Weights[c][j] * z[j], Measured: measured[j],
			}
			if measured[j] {
				cs[j].Value = v[j]
			}
		}
		slices.SortStableFunc(cs, func(a, b Contribution) int { return cmpDesc(a.Effect, b.Effect) })
		p.Contributions[e] = cs
	}
	slices.SortStableFunc(p.Ranked, func(a, b Score) int { return cmpDesc(a.Prob, b.Prob) })
	return p
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
