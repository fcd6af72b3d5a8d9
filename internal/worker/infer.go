package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"emer/internal/batch"
	"emer/internal/cues"
	"emer/internal/infer"
	"emer/internal/pgstore"
)

// KindInfer is the item kind of the clips of emer infer --dataset.
const KindInfer = infer.Kind

func init() {
	register(KindInfer, kind{
		// A clip's cue extraction keeps a core busy, and the llm backend's
		// model calls wait on the server: as many clips as there are cores
		// or requests in flight, whichever is more. The clips in flight
		// share the cue extractor's budget of cores.
		slots: func(o Options) int { return max(runtime.GOMAXPROCS(0), o.Config.Concurrency) },
		do:    (*Worker).infer,
	})
}

// The keys of what infer items share, per worker: the cue extractor (and
// the face networks it loads) by the settings it depends on, and the
// pipeline by the whole settings.
type (
	inferCuesID     infer.Settings
	inferPipelineID infer.Settings
)

// inferItem reads an infer item and checks that this worker can explain
// it as its submitter would have: the item's own faults wrap
// pgstore.ErrBadItem; another emer's settings, a media folder that is not
// on this machine, and a speech-to-text server this worker lacks are the
// worker's, and stop it, leaving the item to another; a media file gone
// or changed since it was queued is the clip's (infer.ErrMediaChanged).
func (w *Worker) inferItem(it batch.Item) (infer.Item, error) {
	ii, err := infer.DecodeItem(it)
	switch {
	case errors.Is(err, infer.ErrOtherVersion):
		return ii, err
	case err != nil:
		return ii, fmt.Errorf("%w: %w", pgstore.ErrBadItem, err)
	}
	if err := ii.Settings.CheckVersions(); err != nil {
		return ii, fmt.Errorf("infer item %.60q was queued by %w: run the submitter's emer version", it.Key, err)
	}
	if ii.Settings.ASR && w.opts.Config.ASRURL == "" {
		return ii, fmt.Errorf("infer item %.60q transcribes speech (model %s): give this worker a speech-to-text server (--asr-url)", it.Key, ii.Settings.ASRModel)
	}
	if err := ii.CheckMedia(); err != nil {
		return ii, err
	}
	return ii, nil
}

// inferPipeline returns the worker's pipeline of settings s, built the
// first time: its explainer calls the worker's model server through the
// worker's client, and its cue extractor is shared with every pipeline
// of the same cue settings.
func (w *Worker) inferPipeline(s infer.Settings) (*infer.Pipeline, error) {
	env := infer.Env{Config: w.opts.Config, Client: w.stack}
	if w.st != nil {
		env.Cache = w.st // transcripts, as the model replies are
	}
	ext, err := w.shared(inferCuesID(s.CueSettings()), func() (any, error) {
		ext, err := infer.NewExtractor(s, env)
		if err != nil {
			return nil, err
		}
		// A worker without its face models would explain clips without
		// their visual part, unlike the other workers of the run.
		if err := ext.FaceModels(); err != nil {
			return nil, fmt.Errorf("face models: %w", err)
		}
		return ext, nil
	})
	if err != nil {
		return nil, err
	}
	p, err := w.shared(inferPipelineID(s), func() (any, error) {
		ex, err := infer.NewExplainer(s, env)
		if err != nil {
			return nil, err
		}
		return &infer.Pipeline{Cues: ext.(*cues.Extractor), Explainer: ex, RetryTranscripts: true}, nil
	})
	if err != nil {
		return nil, err
	}
	return p.(*infer.Pipeline), nil
}

func (w *Worker) infer(ctx context.Context, it batch.Item) (batch.Outcome, error) {
	ii, err := w.inferItem(it)
	if errors.Is(err, infer.ErrMediaChanged) {
		// One deleted or rewritten file must not stop every worker in
		// turn: the clip is tried by others and again by the next run,
		// which queues it anew when the file changed and reports it
		// without media when it is gone.
		if w.opts.Log != nil {
			w.opts.Log.Warn("clip not explained: its media is not as queued", "key", it.Key, "err", err)
		}
		return infer.UnreadClip(ii.Name, err), nil
	}
	if err != nil {
		return batch.Outcome{}, err
	}
	p, err := w.inferPipeline(ii.Settings)
	if err != nil {
		// The item's settings were checked as it was read: what is
		// missing is this worker's (ffmpeg, face models, a server).
		return batch.Outcome{}, fmt.Errorf("infer item %.60q: this worker cannot explain clips: %w", it.Key, err)
	}
	clip := ii.Clip()
	e, xerr := p.Explain(ctx, clip)
	o := infer.ClipOutcome(clip, e, xerr)
	if u := w.stack.Unreachable(); u != nil && o.Class == batch.Retry {
		// Not this item's fault: left for a worker whose server answers.
		return batch.Outcome{}, fmt.Errorf("%w: %w", ErrUnreachable, u)
	}
	if err := w.transcripts(ii.Settings, xerr); err != nil {
		return batch.Outcome{}, err
	}
	return o, nil
}

// asrStop is how many clips in a row may get no transcript from a
// worker's speech-to-text server (each after its retries) before the
// worker takes it for unreachable and stops.
const asrStop = 3

// asrHealth counts a worker's clips in a row without a transcript.
type asrHealth struct {
	mu   sync.Mutex
	fail int
}

type asrHealthID struct{}

// transcripts counts the clips whose speech-to-text server gave no reply
// (xerr wraps infer.ErrNoTranscript), and returns an error wrapping
// ErrUnreachable once asrStop clips in a row got none: the clips would
// otherwise each use up their attempts here while the server is down.
func (w *Worker) transcripts(s infer.Settings, xerr error) error {
	if !s.ASR {
		return nil
	}
	v, _ := w.shared(asrHealthID{}, func() (any, error) { return &asrHealth{}, nil })
	h := v.(*asrHealth)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !errors.Is(xerr, infer.ErrNoTranscript) {
		h.fail = 0
		return nil
	}
	if h.fail++; h.fail >= asrStop {
		return fmt.Errorf("%w: the speech-to-text server %s gave no transcript for %d clips in a row: %w", ErrUnreachable, w.opts.Config.ASRURL, h.fail, xerr)
	}
	return nil
}
