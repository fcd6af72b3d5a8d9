package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"emer/internal/cues"
	"emer/internal/explain"
	"emer/internal/infer"
	"emer/internal/vocal"
)

// labelOf reads RAVDESS's portrayed emotions as the local reasoner's
// labels (explain.Labels): fearful is worried, as in the MER label set and
// the reasoner's own reading of face-api's fearful; the others keep their
// names. Neutral and calm stay two classes here; merged folds them into
// one for the second reading of the figures.
var labelOf = map[vocal.Emotion]string{
	vocal.Neutral:   "neutral",
	vocal.Calm:      "calm",
	vocal.Happy:     "happy",
	vocal.Sad:       "sad",
	vocal.Angry:     "angry",
	vocal.Fearful:   "worried",
	vocal.Disgusted: "disgusted",
	vocal.Surprised: "surprised",
}

// classes are the portrayed emotions as reasoner labels, in RAVDESS order.
func classes() []string {
	out := make([]string, len(vocal.Emotions))
	for i, e := range vocal.Emotions {
		out[i] = labelOf[e]
	}
	return out
}

// neutralCalm is the class neutral and calm make when they are read as
// one.
const neutralCalm = "neutral+calm"

// merged reads neutral and calm as one class.
func merged(label string) string {
	if label == "neutral" || label == "calm" {
		return neutralCalm
	}
	return label
}

// noEmotion is the reasoner's answer when it ranks no emotion.
const noEmotion = "none"

// voiceModelRule is the rule a voice classifier's clue names in its
// evidence: the clue is there when the model's top emotion was likely
// enough to be said.
const voiceModelRule = "voice.model"

// clip is one recording of the corpus with its measured cues.
type clip struct {
	vocal.Clip
	Path     string
	Subtitle string // the words given with it, if any
	Cues     *cues.Cues
}

// measure extracts the cues of every clip of corpus as `emer infer`'s
// local backend does (voice features on), workers clips at a time; a clip
// named in subtitles has those words as its subtitle, as a dataset CSV
// gives them. Every clip must have voice features: without them the fold
// models would be fitted on fewer clips than the generator's.
func measure(ctx context.Context, corpus *vocal.Corpus, subtitles map[string]string, workers int) ([]clip, error) {
	workers = max(1, workers)
	ext, err := cues.NewExtractor(cues.Config{VoiceFeatures: true, CPUs: workers})
	if err != nil {
		return nil, err
	}
	out := make([]clip, len(corpus.Clips))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, c := range corpus.Clips {
		g.Go(func() error {
			path := filepath.Join(corpus.Dir, c.File)
			sub := subtitles[c.Name]
			cs, err := ext.Analyze(gctx, path, cues.ClipOptions{Subtitle: sub})
			if err != nil {
				return err
			}
			if len(cs.Audio.Features) == 0 {
				// The cue extraction's own word for it, when it has one.
				reason := vocal.ErrNoVoice.Error()
				for _, w := range cs.Warnings {
					if r, ok := strings.CutPrefix(w, "audio: "); ok {
						reason = r
						break
					}
				}
				return fmt.Errorf("%s: no voice-emotion features were measured: %s", path, reason)
			}
			out[i] = clip{Clip: c, Path: path, Subtitle: sub, Cues: cs}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// measuredCues hands out cues measured once, to the pipeline of every
// fold. It is safe for concurrent use: the cues are only read.
type measuredCues map[string]*cues.Cues

var _ infer.CueAnalyzer = measuredCues(nil)

func (m measuredCues) Analyze(ctx context.Context, path string, _ cues.ClipOptions) (*cues.Cues, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, ok := m[path]
	if !ok {
		return nil, fmt.Errorf("%s: cues not measured", path)
	}
	return c, nil
}

// outcome is what the reasoner and the voice model said of one held-out
// clip, as reasoner labels.
type outcome struct {
	Clip     string
	Actor    string
	Truth    string // the portrayed emotion
	Reasoner string // the reasoner's top emotion, noEmotion when it ranks none
	Voice    string // the fold's voice model's top emotion
	// ModelClue: the voice model's top emotion was likely enough to be a
	// clue of the explanation ("his voice sounded ...").
	ModelClue bool
	// Voiced: the explanation has a voice clue, the model's or a prosody
	// rule's, so that the voice channel, scored by the model, took part.
	Voiced bool
}

// fold is one held-out actor.
type fold struct {
	Actor  string
	Lambda float64 // the penalty the fold's fit chose
	Clips  int
	// VoiceCorrect and ReasonerCorrect count the clips each got right.
	VoiceCorrect, ReasonerCorrect int
}

// result is the cross-validation: every clip's outcome, in corpus order,
// and the folds, in actor order.
type result struct {
	Outcomes []outcome
	Folds    []fold
	Features int
	// Subtitled counts the clips that had a subtitle.
	Subtitled int
}

// crossValidate runs leave-one-actor-out over clips, workers folds at a
// time: each fold's voice model is fitted by vocal.Train on the other
// actors' features, as the generator fits the model, and the held-out
// actor's clips are explained by the local pipeline with that model. The
// result does not depend on workers.
func crossValidate(ctx context.Context, clips []clip, s vocal.Settings, workers int) (*result, error) {
	samples := make([]vocal.Sample, len(clips))
	known := measuredCues{}
	var actors []string
	var subtitled int
	for i, c := range clips {
		samples[i] = vocal.Sample{Clip: c.Clip, Features: c.Cues.Audio.Features}
		known[c.Path] = c.Cues
		actors = append(actors, c.Actor)
		if c.Subtitle != "" {
			subtitled++
		}
	}
	slices.Sort(actors)
	actors = slices.Compact(actors)
	if len(actors) < 3 {
		return nil, fmt.Errorf("leave-one-actor-out needs at least 3 actors (the penalty is chosen leaving actors out of the other ones), have %d", len(actors))
	}
	res := &result{Outcomes: make([]outcome, len(clips)), Folds: make([]fold, len(actors)), Features: len(s.Features), Subtitled: subtitled}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for k, actor := range actors {
		g.Go(func() error {
			var fit []vocal.Sample
			var held []int
			for i, smp := range samples {
				if smp.Actor == actor {
					held = append(held, i)
				} else {
					fit = append(fit, smp)
				}
			}
			m, lambda, err := vocal.Train(gctx, fit, s, 1)
			if err != nil {
				return fmt.Errorf("fold of actor %s: %w", actor, err)
			}
			p := &infer.Pipeline{Cues: known, Explainer: &explain.Local{Voice: infer.VoiceModel{Model: m}}}
			f := fold{Actor: actor, Lambda: lambda, Clips: len(held)}
			for _, i := range held {
				c := clips[i]
				o, err := explainClip(gctx, p, m, c)
				if err != nil {
					return err
				}
				if o.Voice == o.Truth {
					f.VoiceCorrect++
				}
				if o.Reasoner == o.Truth {
					f.ReasonerCorrect++
				}
				res.Outcomes[i] = o
			}
			res.Folds[k] = f
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return res, nil
}

// explainClip runs the pipeline on one held-out clip and reads the voice
// model alone on the same features.
func explainClip(ctx context.Context, p *infer.Pipeline, m *vocal.Model, c clip) (outcome, error) {
	e, err := p.Explain(ctx, infer.Clip{Name: c.Name, Path: c.Path, Subtitle: c.Subtitle})
	if err != nil {
		return outcome{}, fmt.Errorf("%s: %w", c.Path, err)
	}
	o := outcome{Clip: c.Name, Actor: c.Actor, Truth: labelOf[c.Emotion], Reasoner: noEmotion,
		Voice: labelOf[m.Predict(c.Cues.Audio.Features).Top()]}
	if len(e.Emotions) > 0 {
		o.Reasoner = e.Emotions[0].Label
	}
	for _, cl := range e.Clues {
		if cl.Aspect == explain.AspectAudio {
			o.Voiced = true
		}
		if cl.Evidence["rule"] == voiceModelRule {
			o.ModelClue = true
		}
	}
	return o, nil
}

// statements reads the sentence each clip of the corpus in dir speaks:
// the statement column of its labels.csv, by clip name.
func statements(dir string) (map[string]string, error) {
	path := filepath.Join(dir, vocal.LabelsFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	name, stmt := slices.Index(head, "name"), slices.Index(head, "statement")
	if name < 0 || stmt < 0 {
		return nil, fmt.Errorf("%s:1: the clips' sentences need columns name and statement", path)
	}
	out := map[string]string{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if strings.TrimSpace(rec[stmt]) == "" {
			line, _ := r.FieldPos(stmt)
			return nil, fmt.Errorf("%s:%d: clip %s has no statement", path, line, rec[name])
		}
		out[rec[name]] = rec[stmt]
	}
}
