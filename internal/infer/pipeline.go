package infer

import (
	"context"
	"path/filepath"
	"strings"

	"emer/internal/cues"
	"emer/internal/explain"
)

// CueAnalyzer measures a clip's cues; *cues.Extractor is one, built once
// per process and shared by every clip.
type CueAnalyzer interface {
	Analyze(ctx context.Context, clip string, opts cues.ClipOptions) (*cues.Cues, error)
}

var _ CueAnalyzer = (*cues.Extractor)(nil)

// Pipeline explains clips: it measures a clip's cues and hands them, with
// the clip, to an explainer (the local reasoner, or a model behind a
// server, which may use the cues or only the clip).
type Pipeline struct {
	Cues      CueAnalyzer
	Explainer explain.Explainer
	// SubtitleFile, when set, is the subtitle file of every clip (for a
	// single clip given with --subtitle-file).
	SubtitleFile string
}

var _ Explainer = (*Pipeline)(nil)

// Explain measures c's cues and explains them. The explanation's clip is
// c's name when it has one, its path otherwise.
func (p *Pipeline) Explain(ctx context.Context, c Clip) (*explain.Explanation, error) {
	cs, err := p.Cues.Analyze(ctx, c.Path, cues.ClipOptions{Subtitle: c.Subtitle, SubtitleFile: p.SubtitleFile})
	if err != nil {
		return nil, err
	}
	e, err := p.Explainer.Explain(ctx, explain.Input{Clip: c.Path, Cues: cs, Subtitle: c.Subtitle})
	if err != nil {
		return nil, err
	}
	e.Clip = c.Path
	if c.Name != "" {
		e.Clip = c.Name
	}
	if cs.Text.Source == cues.SourceASR {
		e.Warnings = append(e.Warnings, "content: the words are a transcript of the speech (speech to text), not a subtitle")
	}
	// What the cue extraction could not measure is said once, with the
	// explainer's own warnings.
	seen := map[string]bool{}
	for _, w := range e.Warnings {
		seen[w] = true
	}
	for _, w := range cs.Warnings {
		if !seen[w] && !coveredBy(w, e.Warnings) {
			e.Warnings = append(e.Warnings, w)
			seen[w] = true
		}
	}
	return e, nil
}

// coveredBy reports whether a cue warning ("audio: the clip has no audio
// stream") is already said by one of the explainer's warnings.
func coveredBy(w string, ws []string) bool {
	_, rest, ok := strings.Cut(w, ": ")
	if !ok {
		return false
	}
	for _, x := range ws {
		if strings.Contains(x, rest) {
			return true
		}
	}
	return false
}

// ClipName is the name a clip given by path goes by: its base name
// without the extension, as dataset CSVs name clips.
func ClipName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}
