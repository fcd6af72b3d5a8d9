package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Backends, as Explanation.Backend names them.
const (
	BackendLocal = "local"
	BackendLLM   = "llm"
)

// Aspects of a clue, as EMER names the four sources of clues.
const (
	AspectVisual  = "visual"  // facial expressions and body movements
	AspectAudio   = "audio"   // tone and intonation of the voice
	AspectContent = "content" // what is said (subtitle)
	AspectContext = "context" // the scene, environment and other context
)

// Modalities are the channels an explanation can rest on, in the order
// Explanation.Modalities lists them.
var Modalities = []string{AspectVisual, AspectAudio, AspectContent}

// Explanation is the EMER explanation of one clip. Its JSON field names
// are fixed; slices are never null.
type Explanation struct {
	Clip string `json:"clip"`
	// Emotions are ranked, best first. The local backend's scores are its
	// fused weights (rules.go), which sum to 1 over all labels before the
	// weakest are left out; the llm backend gives none (its labels, which
	// have no scores, are in OVLabels).
	Emotions []Emotion `json:"emotions"`
	// OVLabels are the open-vocabulary labels: for the llm backend, the
	// AffectGPT 2025 extraction from the reasoning; for the local backend,
	// the labels its reasoning states (Stated in rules.go).
	OVLabels []string `json:"ov_labels"`
	Clues    []Clue   `json:"clues"`
	// Reasoning is the explanation in prose, in the EMER form.
	Reasoning string `json:"reasoning"`
	// Modalities are the channels the explanation rests on: a subset of
	// visual, audio, content, in that order.
	Modalities []string `json:"modalities"`
	Backend    string   `json:"backend"` // local or llm
	Model      string   `json:"model"`   // the rules' version, or the reasoning model
	Warnings   []string `json:"warnings"`
}

// Emotion is one emotion label and its score.
type Emotion struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Clue is one piece of evidence: what was seen, heard or said, when, and
// the measured values it rests on.
type Clue struct {
	Aspect   string         `json:"aspect"` // visual, audio, content or context
	Text     string         `json:"text"`
	Start    float64        `json:"start_s"`
	End      float64        `json:"end_s"`
	Evidence map[string]any `json:"evidence"`
}

// MarshalJSON writes the clue with an empty evidence object rather than
// null.
func (c Clue) MarshalJSON() ([]byte, error) {
	type plain Clue
	if c.Evidence == nil {
		c.Evidence = map[string]any{}
	}
	return json.Marshal(plain(c))
}

// MarshalJSON writes the explanation with empty lists rather than null.
func (e Explanation) MarshalJSON() ([]byte, error) {
	type plain Explanation
	p := plain(e)
	p.Emotions = nonNil(p.Emotions)
	p.OVLabels = nonNil(p.OVLabels)
	p.Clues = nonNil(p.Clues)
	p.Modalities = nonNil(p.Modalities)
	p.Warnings = nonNil(p.Warnings)
	return json.Marshal(p)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteText writes the explanation for people to read: the emotions, the
// clues with their times, the reasoning and the warnings.
func (e *Explanation) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s", e.Clip, e.Backend)
	if e.Model != "" {
		fmt.Fprintf(&b, ", %s", e.Model)
	}
	b.WriteString(")\n")
	if len(e.Emotions) > 0 {
		parts := make([]string, len(e.Emotions))
		for i, em := range e.Emotions {
			parts[i] = fmt.Sprintf("%s %.2f", em.Label, em.Score)
		}
		fmt.Fprintf(&b, "emotions:   %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "labels:     %s\n", orNone(strings.Join(e.OVLabels, ", ")))
	fmt.Fprintf(&b, "modalities: %s\n", orNone(strings.Join(e.Modalities, ", ")))
	if len(e.Clues) > 0 {
		b.WriteString("clues:\n")
		for _, c := range e.Clues {
			fmt.Fprintf(&b, "  %-7s %-12s %s\n", c.Aspect, fmt.Sprintf("%.1f-%.1f s", c.Start, c.End), c.Text)
		}
	}
	if e.Reasoning != "" {
		fmt.Fprintf(&b, "reasoning:\n  %s\n", e.Reasoning)
	}
	for _, w := range e.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String returns the text WriteText writes.
func (e *Explanation) String() string {
	var b strings.Builder
	_ = e.WriteText(&b)
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
