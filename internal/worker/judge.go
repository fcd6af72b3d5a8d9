package worker

import (
	"context"
	"fmt"
	"time"

	"emer/internal/batch"
	"emer/internal/judge"
	"emer/internal/store"
)

// KindJudge is the item kind of emer eval's judge items.
const KindJudge = store.JudgeKind

func init() {
	register(KindJudge, kind{
		// Items outnumber the request slots, as in emer eval, so that the
		// slots stay busy while items wait on the store or on a step
		// shared with another item.
		slots: func(o Options) int { return 8 * max(o.Config.Concurrency, 1) },
		do:    (*Worker).judge,
	})
}

// judgeID is what tells judges apart: an item names its judge.
type judgeID struct {
	protocol, model string
	temperature     float64
	maxTokens       int
}

// JudgeItem is the payload of a queued judge item: everything a worker
// needs to judge it besides a model server.
type JudgeItem struct {
	Sample string `json:"sample"`
	System string `json:"system"`
	Metric string `json:"metric"`
	Repeat int    `json:"repeat"`
	GT     string `json:"gt"`
	Pred   string `json:"pred"`

	// The judge: protocol (with the digest of its prompts, which the
	// worker's must match), model name and sampling.
	Protocol     string  `json:"protocol"`
	PromptSHA256 string  `json:"prompt_sha256"`
	Model        string  `json:"model"`
	Temperature  float64 `json:"temperature"`
	MaxTokens    int     `json:"max_tokens,omitempty"`
}

// Key returns the item's result key.
func (it JudgeItem) Key() store.ResultKey {
	return store.ResultKey{Sample: it.Sample, System: it.System, Metric: it.Metric, Repeat: it.Repeat}
}

// Judge judges one item with j and returns its result as the item's
// outcome: a call that got no reply (request_error) is of class Retry;
// every other result stands. emer eval on one machine and a worker make
// their results with it alike.
func Judge(ctx context.Context, j *judge.Judge, key store.ResultKey, gt, pred string) (batch.Outcome, error) {
	start := time.Now()
	o := j.Score(ctx, judge.Metric(key.Metric), gt, pred, key.Repeat)
	r := store.Result{
		Sample: key.Sample, System: key.System, Metric: key.Metric, Repeat: key.Repeat,
		Status: string(o.Status), Score: o.Score, Raw: o.Raw,
		Attempts: o.Attempts, LatencyMS: time.Since(start).Milliseconds(), Tokens: o.Tokens,
	}
	line, err := r.Line()
	if err != nil {
		return batch.Outcome{}, err
	}
	return batch.Outcome{Class: r.Class(), Status: r.Status, Payload: line}, nil
}

// decodeJudge reads a judge item's payload and checks it against this
// emer's protocols.
func decodeJudge(it batch.Item) (JudgeItem, *judge.Protocol, error) {
	var ji JudgeItem
	if err := decodePayload(KindJudge, it, &ji); err != nil {
		return ji, nil, err
	}
	if ji.Repeat < 0 || ji.Repeat >= store.MaxRepeats {
		return ji, nil, fmt.Errorf("judge item %.60q: repeat %d out of range", it.Key, ji.Repeat)
	}
	if ji.Key().String() != it.Key {
		return ji, nil, fmt.Errorf("judge item %.60q: its payload is of item %.60q", it.Key, ji.Key().String())
	}
	if got := store.InputSHA256(ji.GT, ji.Pred); got != it.Input {
		return ji, nil, fmt.Errorf("judge item %.60q: its texts are not those of its input digest", it.Key)
	}
	p, err := judge.LookupProtocol(ji.Protocol)
	if err != nil {
		return ji, nil, fmt.Errorf("judge item %.60q: %w", it.Key, err)
	}
	return ji, p, nil
}

func (w *Worker) judge(ctx context.Context, it batch.Item) (batch.Outcome, error) {
	ji, proto, err := decodeJudge(it)
	if err != nil {
		return batch.Outcome{}, itemError(err)
	}
	if proto.PromptSHA256() != ji.PromptSHA256 {
		// Another emer's prompts: its results would not be this run's.
		return batch.Outcome{}, fmt.Errorf("judge item %.60q was queued with %s prompts of sha256 %s, this emer's are %s: run the submitter's emer version",
			it.Key, ji.Protocol, shortSHA(ji.PromptSHA256), shortSHA(proto.PromptSHA256()))
	}
	id := judgeID{ji.Protocol, ji.Model, ji.Temperature, ji.MaxTokens}
	v, _ := w.shared(id, func() (any, error) {
		return &judge.Judge{Client: w.stack, Model: id.model, Protocol: proto, Temperature: id.temperature, MaxTokens: id.maxTokens}, nil
	})
	o, err := Judge(ctx, v.(*judge.Judge), ji.Key(), ji.GT, ji.Pred)
	if err != nil {
		return o, err
	}
	if u := w.stack.Unreachable(); u != nil && o.Class == batch.Retry {
		// Not this item's fault: left for a worker whose server answers.
		return batch.Outcome{}, fmt.Errorf("%w: %w", ErrUnreachable, u)
	}
	return o, nil
}
