package infer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"emer/internal/explain"
	"emer/internal/infer"
	"emer/internal/vocal"
)

func TestVoiceModel(t *testing.T) {
	m := infer.VoiceModel{Model: vocal.Default()}
	if _, err := m.ClassifyVoice(context.Background(), explain.VoiceInput{}); !errors.Is(err, infer.ErrNoFeatures) {
		t.Fatalf("no features: err %v, want ErrNoFeatures", err)
	}
	// The fitting population's mean voice: every feature at its mean.
	f := map[string]float64{}
	for _, s := range vocal.Default().Features {
		f[s.Name] = s.Mean
	}
	p, err := m.ClassifyVoice(context.Background(), explain.VoiceInput{Features: f})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, v := range p.Probs {
		sum += v
	}
	if len(p.Probs) != 8 || sum < 0.999 || sum > 1.001 {
		t.Fatalf("probs %v (sum %g): want the eight RAVDESS emotions summing to 1", p.Probs, sum)
	}
	if !strings.HasPrefix(p.Model, "vocal/ravdess-calib@") {
		t.Errorf("model %q", p.Model)
	}
	for name := range p.Contributions {
		if info, ok := vocal.Info(name); !ok || info.Group == vocal.GroupCepstrum {
			t.Errorf("cited feature %q is unknown or has no plain name", name)
		}
	}
}
