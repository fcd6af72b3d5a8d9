package vocal

import (
	"context"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"emer/internal/sharedtest"
	"emer/internal/wheel"
)

// TestModelNotStale checks that the committed model was fitted on the
// calibration data as it is now.
func TestModelNotStale(t *testing.T) {
	c, err := LoadCorpus(sharedtest.Data(t, "ravdess-calib"))
	if err != nil {
		t.Fatal(err)
	}
	p := Default().Provenance
	if p.LabelsSHA256 != c.LabelsSHA256 || p.AudioSHA256 != c.AudioSHA256 {
		t.Errorf("%s was fitted on other data (labels %s, audio %s; now %s, %s); run go generate ./internal/vocal",
			ModelFile, p.LabelsSHA256, p.AudioSHA256, c.LabelsSHA256, c.AudioSHA256)
	}
	if p.Clips != len(c.Clips) {
		t.Errorf("%d clips in the model's provenance, %d in the data", p.Clips, len(c.Clips))
	}
}

// TestCrossValidationReproduced measures ravdess-calib again, re-runs the
// leave-one-actor-out cross-validation and the final fit, and checks that
// they give the figures recorded in the model file exactly, and the same
// model.
func TestCrossValidationReproduced(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 360 clips and fits some 150 models")
	}
	c, err := LoadCorpus(sharedtest.Data(t, "ravdess-calib"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	workers := runtime.GOMAXPROCS(0)
	samples, err := c.Measure(ctx, workers)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Generate(ctx, c, samples, DefaultSettings(), workers)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if diff := cmp.Diff(want.Provenance, m.Provenance); diff != "" {
		t.Errorf("cross-validation or provenance differ from %s (-file +now):\n%s", ModelFile, diff)
	}
	// The same arithmetic gives the same bits; allow for another CPU's
	// rounding in the last digits, not for another model.
	if diff := cmp.Diff(want, m, cmpopts.IgnoreFields(Model{}, "Provenance"), cmpopts.EquateApprox(1e-9, 1e-12)); diff != "" {
		t.Errorf("refitted model differs from %s (-file +now):\n%s", ModelFile, diff)
	}
	cv := m.Provenance.CV
	t.Logf("leave-one-actor-out accuracy %.4f (%d/%d), balanced %.4f", cv.Accuracy, cv.Correct, cv.Clips, cv.BalancedAccuracy)
}

// TestVocabularyOnWheels checks that the EMER words of every emotion are
// emotion-wheel word forms that a wheel places, except neutral, which no
// wheel has.
func TestVocabularyOnWheels(t *testing.T) {
	lex, err := wheel.Load(sharedtest.Data(t, "emotion-wheel", "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Emotions {
		words := e.Vocabulary()
		if len(words) == 0 {
			t.Errorf("%s has no vocabulary", e)
			continue
		}
		if e == Neutral {
			if lex.Has("neutral") {
				t.Error("the wheels know neutral; map it")
			}
			continue
		}
		for _, w := range words {
			if !lex.Has(w) {
				t.Errorf("%s: %q is not a wheel word form", e, w)
			}
		}
		// Not every wheel has every emotion (wheel 3 has no disgust), but
		// each must be on some wheel.
		var on int
		for i := range wheel.NumWheels {
			if _, ok := lex.M3(words[0], i, wheel.Level1); ok {
				on++
			}
		}
		if on == 0 {
			t.Errorf("%s: %q is on no wheel", e, words[0])
		}
	}
}

func TestParseEmotion(t *testing.T) {
	for _, e := range Emotions {
		if got, err := ParseEmotion(string(e)); err != nil || got != e {
			t.Errorf("ParseEmotion(%q) = %q, %v", e, got, err)
		}
	}
	if _, err := ParseEmotion("fear"); err == nil {
		t.Error("ParseEmotion accepted a word that is not a RAVDESS emotion name")
	}
}
