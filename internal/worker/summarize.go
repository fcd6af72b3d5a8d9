package worker

import (
	"context"
	"fmt"

	"emer/internal/batch"
	"emer/internal/summarize"
)

// KindSummarize is the item kind of emer build summarize's clips.
const KindSummarize = summarize.Kind

func init() {
	register(KindSummarize, kind{
		// As emer build summarize on one machine: a clip's three calls
		// follow each other, so that items outnumber the request slots.
		slots: func(o Options) int { return 4 * max(o.Config.Concurrency, 1) },
		do:    (*Worker).summarize,
	})
}

// summarizerID is what tells the summarizers of a worker apart: an item
// names its model, language and sampling.
type summarizerID summarize.Spec

// decodeSummarize reads a summarize item's payload and checks it against
// the item: the clip it names is the item's key, its clues and spec are
// those of the item's input digest, and its spec is one the prompts can
// do.
func decodeSummarize(it batch.Item) (summarize.Item, error) {
	var si summarize.Item
	if err := decodePayload(KindSummarize, it, &si); err != nil {
		return si, err
	}
	if si.Name != it.Key {
		return si, fmt.Errorf("summarize item %.60q: its payload is of clip %.60q", it.Key, si.Name)
	}
	if len(si.Descriptions) == 0 {
		return si, fmt.Errorf("summarize item %.60q: no clues", it.Key)
	}
	if err := si.Spec().Check(); err != nil {
		return si, fmt.Errorf("summarize item %.60q: %w", it.Key, err)
	}
	if si.Input() != it.Input {
		return si, fmt.Errorf("summarize item %.60q: its clues and settings are not those of its input digest", it.Key)
	}
	return si, nil
}

func (w *Worker) summarize(ctx context.Context, it batch.Item) (batch.Outcome, error) {
	si, err := decodeSummarize(it)
	if err != nil {
		return batch.Outcome{}, itemError(err)
	}
	if mine := summarize.PromptsSHA256(); si.PromptSHA256 != mine {
		// Another emer's prompts: its descriptions would not be this run's.
		return batch.Outcome{}, fmt.Errorf("summarize item %.60q was queued with prompts of sha256 %s, this emer's are %s: run the submitter's emer version",
			it.Key, shortSHA(si.PromptSHA256), shortSHA(mine))
	}
	spec := si.Spec()
	v, _ := w.shared(summarizerID(spec), func() (any, error) { return spec.Summarizer(w.stack), nil })
	o, err := v.(*summarize.Summarizer).Outcome(ctx, si.Clip())
	if err != nil {
		return o, err
	}
	if u := w.stack.Unreachable(); u != nil && o.Class == batch.Retry {
		// Not this clip's fault: left for a worker whose server answers.
		return batch.Outcome{}, fmt.Errorf("%w: %w", ErrUnreachable, u)
	}
	return o, nil
}
