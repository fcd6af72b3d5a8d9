package vocal

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// tinyModel reads two features into three classes with weights simple
// enough to check by hand.
func tinyModel() *Model {
	return &Model{
		Classes: []Emotion{Happy, Sad, Angry},
		Features: []Scale{
			{Name: "f0_median", Unit: "st re 100 Hz", Mean: 10, SD: 2},
			{Name: "intensity_sd", Unit: "dB", Mean: 5, SD: 1},
		},
		ZClamp:     3,
		Intercepts: []float64{0, 0.5, -0.5},
		Weights: [][]float64{
			{1, 0},
			{-1, -0.5},
			{0, 0.5},
		},
	}
}

func softmax3(a, b, c float64) [3]float64 {
	ea, eb, ec := math.Exp(a), math.Exp(b), math.Exp(c)
	s := ea + eb + ec
	return [3]float64{ea / s, eb / s, ec / s}
}

func TestPredictKnownVector(t *testing.T) {
	m := tinyModel()
	tests := []struct {
		name       string
		f          Features
		z          [2]float64
		wantTop    Emotion
		wantMiss   []string
		wantValues [2]float64
	}{
		// z = (14-10)/2 = 2 and (6-5)/1 = 1.
		{"measured", Features{"f0_median": 14, "intensity_sd": 6, "unused": 99}, [2]float64{2, 1}, Happy, nil, [2]float64{14, 6}},
		// z = -8 is clamped to -3.
		{"clamped", Features{"f0_median": -6, "intensity_sd": 5}, [2]float64{-3, 0}, Sad, nil, [2]float64{-6, 5}},
		// A missing or NaN feature reads as its mean.
		{"missing", Features{"intensity_sd": math.NaN()}, [2]float64{0, 0}, Sad,
			[]string{"f0_median", "intensity_sd"}, [2]float64{10, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := m.Predict(tt.f)
			var logit [3]float64
			for c := range logit {
				logit[c] = m.Intercepts[c] + m.Weights[c][0]*tt.z[0] + m.Weights[c][1]*tt.z[1]
			}
			want := softmax3(logit[0], logit[1], logit[2])
			for c, e := range m.Classes {
				if d := math.Abs(p.Probs[e] - want[c]); d > 1e-12 {
					t.Errorf("P(%s) = %.15f, want %.15f", e, p.Probs[e], want[c])
				}
			}
			if p.Top() != tt.wantTop {
				t.Errorf("top %s, want %s (ranked %v)", p.Top(), tt.wantTop, p.Ranked)
			}
			for i := 1; i < len(p.Ranked); i++ {
				if p.Ranked[i].Prob > p.Ranked[i-1].Prob {
					t.Errorf("ranked out of order: %v", p.Ranked)
				}
			}
			if diff := cmp.Diff(tt.wantMiss, p.Missing); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
			if p.Female != nil {
				t.Errorf("female %v from a model without a gender stage", *p.Female)
			}
			for c, e := range m.Classes {
				cs := p.Contributions[e]
				if len(cs) != 2 {
					t.Fatalf("%s: %d contributions", e, len(cs))
				}
				for _, ct := range cs {
					j := slices.IndexFunc(m.Features, func(s Scale) bool { return s.Name == ct.Feature })
					want := Contribution{
						Feature: ct.Feature, Group: []string{GroupPitch, GroupLoudness}[j], Unit: m.Features[j].Unit, Value: tt.wantValues[j],
						Mean: m.Features[j].Mean, SD: m.Features[j].SD, Z: tt.z[j],
						Weight: m.Weights[c][j], Effect: m.Weights[c][j] * tt.z[j],
						Measured: !slices.Contains(tt.wantMiss, ct.Feature),
					}
					if diff := cmp.Diff(want, ct); diff != "" {
						t.Errorf("%s %s (-want +got):\n%s", e, ct.Feature, diff)
					}
				}
				if cs[0].Effect < cs[1].Effect {
					t.Errorf("%s: contributions not strongest first: %+v", e, cs)
				}
			}
		})
	}
}

func TestPredictGenderStage(t *testing.T) {
	m := tinyModel()
	m.Features[0].Male = &Stat{Mean: 6, SD: 2}
	m.Features[0].Female = &Stat{Mean: 16, SD: 4}
	m.Features[1].Male = &Stat{Mean: 5, SD: 1}
	m.Features[1].Female = &Stat{Mean: 5, SD: 1}
	// Log-odds of a female voice: the population z of f0_median times 2.
	m.Gender = &GenderModel{Intercept: 0, Weights: []float64{2, 0}}

	p := m.Predict(Features{"f0_median": 12, "intensity_sd": 5})
	// Population z = (12-10)/2 = 1, so pf = 1/(1+e^-2); the reference mixes
	// the men's and the women's statistics with it.
	pf := 1 / (1 + math.Exp(-2))
	if p.Female == nil || math.Abs(*p.Female-pf) > 1e-15 {
		t.Fatalf("female %v, want %v", p.Female, pf)
	}
	mean, sd := pf*16+(1-pf)*6, pf*4+(1-pf)*2
	z := (12 - mean) / sd
	ct := p.Contributions[Happy][slices.IndexFunc(p.Contributions[Happy], func(c Contribution) bool { return c.Feature == "f0_median" })]
	want := Contribution{Feature: "f0_median", Group: GroupPitch, Unit: "st re 100 Hz", Value: 12, Mean: mean, SD: sd, Z: z, Weight: 1, Effect: z, Measured: true}
	if diff := cmp.Diff(want, ct, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("f0_median for happy (-want +got):\n%s", diff)
	}
	w := softmax3(z, 0.5-z, -0.5)
	if d := math.Abs(p.Probs[Happy] - w[0]); d > 1e-12 {
		t.Errorf("P(happy) = %v, want %v", p.Probs[Happy], w[0])
	}
}

func TestEvidence(t *testing.T) {
	m := tinyModel()
	p := m.Predict(Features{"f0_median": 14, "intensity_sd": 3})
	// For sad: f0 effect -1*2 = -2, intensity effect -0.5*-2 = +1.
	got := p.Evidence(Sad, 5)
	if len(got) != 1 || got[0].Feature != "intensity_sd" || got[0].Effect != 1 {
		t.Errorf("evidence for sad: %+v, want intensity_sd with effect 1 only", got)
	}
	if got := p.Evidence(Sad, 5, GroupLoudness); len(got) != 0 {
		t.Errorf("evidence for sad without loudness: %+v", got)
	}
	if got := p.Evidence(Happy, 0); len(got) != 0 {
		t.Errorf("evidence with n=0: %+v", got)
	}
	missing := m.Predict(Features{})
	if got := missing.Evidence(Happy, 5); len(got) != 0 {
		t.Errorf("evidence from nothing measured: %+v", got)
	}
}

func TestParseModelBad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.bad.json")
	}
	want := map[string]string{
		"unknown-field.bad.json":    `unknown field "bias"`,
		"weights-shape.bad.json":    "class sad has 1 weights for 2 features",
		"intercepts.bad.json":       "2 classes but 1 intercepts",
		"zero-sd.bad.json":          "feature intensity_sd: standard deviation 0 is not positive",
		"gender-stats.bad.json":     "feature f0_median: the model normalizes per gender but the feature has no male and female statistics",
		"gender-weights.bad.json":   "the gender model has 1 weights for 2 features",
		"one-class.bad.json":        "1 classes, need at least 2",
		"trailing-garbage.bad.json": "data after the model at byte",
		"unknown-class.bad.json":    `unknown emotion "joyful"`,
		"twice-class.bad.json":      "class sad listed twice",
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseModel(b)
			if err == nil {
				t.Fatal("parsed")
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected error for %s; got %v", name, err)
			}
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q, want it to contain %q", err, w)
			}
		})
	}
}

func TestParseModelGood(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "good.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Predict(Features{"f0_median": 16, "intensity_sd": 5})
	if p.Female == nil || p.Top() != Happy {
		t.Errorf("female %v, top %s", p.Female, p.Top())
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := tinyModel()
	m.Features[0].Male = &Stat{Mean: 6, SD: 2}
	m.Features[0].Female = &Stat{Mean: 16, SD: 4}
	m.Features[1].Male = &Stat{Mean: 5, SD: 1}
	m.Features[1].Female = &Stat{Mean: 5.5, SD: 1.25}
	m.Gender = &GenderModel{Intercept: 0.1, Weights: []float64{2, 1.0 / 3}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// TestDefaultModel checks the committed model against the code that reads
// it: the settings it was fitted with are today's defaults, its features
// are those Measure computes, and the file is what Marshal writes.
func TestDefaultModel(t *testing.T) {
	m := Default()
	if m.Provenance == nil || m.Provenance.CV == nil {
		t.Fatal("the committed model has no provenance or cross-validation")
	}
	if diff := cmp.Diff(DefaultSettings(), m.Provenance.Settings); diff != "" {
		t.Errorf("model fitted with other settings than DefaultSettings (-code +file); run go generate ./internal/vocal:\n%s", diff)
	}
	if diff := cmp.Diff(Emotions, m.Classes); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
	}
	var names []string
	for _, f := range m.Features {
		names = append(names, f.Name)
		info, ok := Info(f.Name)
		if !ok {
			t.Errorf("feature %s is not in the catalog", f.Name)
		} else if info.Unit != f.Unit {
			t.Errorf("feature %s: unit %q in the model, %q in the catalog", f.Name, f.Unit, info.Unit)
		}
	}
	if diff := cmp.Diff(m.Provenance.Settings.Features, names); diff != "" {
		t.Errorf("model features differ from its settings (-settings +features):\n%s", diff)
	}
	if m.Gender == nil {
		t.Error("the committed model has no gender stage although its settings ask for one")
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, defaultModel) {
		t.Errorf("%s is not what Marshal writes for it; run go generate ./internal/vocal", ModelFile)
	}
	cv := m.Provenance.CV
	if cv.Clips != m.Provenance.Clips || cv.Accuracy != float64(cv.Correct)/float64(cv.Clips) {
		t.Errorf("cross-validation figures inconsistent: %d/%d clips, accuracy %v", cv.Correct, cv.Clips, cv.Accuracy)
	}
}

func TestDefaultModelPredicts(t *testing.T) {
	m := Default()
	// A voice at the population means of every feature.
	f := Features{}
	for _, s := range m.Features {
		f[s.Name] = s.Mean
	}
	p := m.Predict(f)
	var sum float64
	for _, s := range p.Ranked {
		if !(s.Prob > 0 && s.Prob < 1) {
			t.Errorf("P(%s) = %v", s.Emotion, s.Prob)
		}
		sum += s.Prob
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("probabilities sum to %v", sum)
	}
	if len(p.Missing) != 0 || p.Female == nil {
		t.Errorf("missing %v, female %v", p.Missing, p.Female)
	}
}
