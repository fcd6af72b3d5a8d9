package infer

import (
	"context"
	"errors"
	"math"

	"emer/internal/explain"
	"emer/internal/vocal"
)

// VoiceModel is the fitted voice-emotion model (internal/vocal) as the
// local reasoner's voice classifier. It reads the features the cue
// extraction measured (cues.Config.VoiceFeatures); the evidence it gives
// is the named features that raised its top emotion most.
type VoiceModel struct {
	Model *vocal.Model
	// Evidence is how many features are cited (3 when 0).
	Evidence int
}

var _ explain.VoiceClassifier = VoiceModel{}

// ErrNoFeatures is returned for a clip whose voice features were not
// measured (too little voiced speech).
var ErrNoFeatures = errors.New("no voice-emotion features were measured")

// ClassifyVoice predicts the emotion of the voice of v.
func (m VoiceModel) ClassifyVoice(ctx context.Context, v explain.VoiceInput) (explain.VoicePrediction, error) {
	if err := ctx.Err(); err != nil {
		return explain.VoicePrediction{}, err
	}
	if len(v.Features) == 0 {
		return explain.VoicePrediction{}, ErrNoFeatures
	}
	p := m.Model.Predict(vocal.Features(v.Features))
	out := explain.VoicePrediction{Model: modelName(m.Model), Probs: map[string]float64{}, Contributions: map[string]float64{}}
	for _, s := range p.Ranked {
		out.Probs[string(s.Emotion)] = s.Prob
	}
	n := m.Evidence
	if n == 0 {
		n = 3
	}
	for _, c := range p.Evidence(p.Top(), n, vocal.GroupCepstrum) {
		out.Contributions[c.Feature] = math.Round(c.Effect*1000) / 1000
	}
	return out, nil
}

// modelName names a fitted model by its data and the digest of its
// recordings: "vocal/ravdess-calib@a6cd1274".
func modelName(m *vocal.Model) string {
	if m.Provenance == nil {
		return "vocal"
	}
	name := "vocal/" + m.Provenance.Data
	if d := m.Provenance.AudioSHA256; len(d) >= 8 {
		name += "@" + d[:8]
	}
	return name
}
