package infer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"emer/internal/cues"
	"emer/internal/explain"
	"emer/internal/llm"
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
	// RetryTranscripts makes a clip whose speech could not be transcribed
	// because the speech-to-text server did not answer (after its
	// retries) a failure to try again (see ErrNoTranscript) rather than
	// an explanation without the words: what dataset runs want, where
	// the explanation would stand. Clips given one by one are explained
	// without the words, with a warning.
	RetryTranscripts bool
}

// ErrNoTranscript marks the failure of a clip whose speech-to-text server
// did not answer; a dataset run tries the clip again on its next run.
var ErrNoTranscript = errors.New("speech to text got no reply")

var _ Explainer = (*Pipeline)(nil)

// Explain measures c's cues and explains them. The explanation's clip is
// c's name when it has one, its path otherwise.
func (p *Pipeline) Explain(ctx context.Context, c Clip) (*explain.Explanation, error) {
	cs, err := p.Cues.Analyze(ctx, c.Path, cues.ClipOptions{Subtitle: c.Subtitle, SubtitleFile: p.SubtitleFile})
	if err != nil {
		return nil, err
	}
	if p.RetryTranscripts && cs.TranscribeErr != nil && noTranscriptReply(cs.TranscribeErr) {
		return nil, fmt.Errorf("%w: %w", ErrNoTranscript, cs.TranscribeErr)
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

// noTranscriptReply reports whether a transcription failed for want of an
// answer (the server down, failing or timing out after the retries), not
// for an answer that stands (a rejected request, an empty transcript).
func noTranscriptReply(err error) bool {
	return errors.Is(err, llm.ErrUnreachable) || llm.Retryable(err)
}
