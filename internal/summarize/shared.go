package summarize

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"emer/internal/batch"
	"emer/internal/dataset"
	"emer/internal/llm"
)

// Spec is how the clips of a shared run are summarized, the same on
// every worker: the model by its name (each worker asks its own server,
// whose address is no part of the spec), the language of the prompts and
// the sampling.
type Spec struct {
	Model       string
	Lang        string // English or Chinese
	MaxTokens   int    // per reply; 0 leaves it to the server
	Temperature float64
}

// Summarizer returns the Summarizer of the spec, asking client.
func (sp Spec) Summarizer(client llm.Client) *Summarizer {
	return &Summarizer{Client: client, Model: sp.Model, Lang: sp.Lang, MaxTokens: sp.MaxTokens, Temperature: sp.Temperature}
}

// settings are the spec as the input digest of a clip reads it.
func (sp Spec) settings() string {
	b, _ := json.Marshal(struct {
		Model       string  `json:"model"`
		Lang        string  `json:"lang"`
		MaxTokens   int     `json:"max_tokens"`
		Temperature float64 `json:"temperature"`
	}{sp.Model, sp.Lang, sp.MaxTokens, sp.Temperature})
	return string(b)
}

// Check reports what makes the spec one no worker can summarize with: no
// model, a language the prompts are not in, a negative token limit.
func (sp Spec) Check() error {
	var errs []error
	if sp.Model == "" {
		errs = append(errs, errors.New("no model"))
	}
	if sp.Lang != English && sp.Lang != Chinese {
		errs = append(errs, fmt.Errorf("language %q: the prompts are in %s or %s", sp.Lang, English, Chinese))
	}
	if sp.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("max tokens %d is negative", sp.MaxTokens))
	}
	return errors.Join(errs...)
}

// Item is the payload of a queued item of kind Kind: everything a worker
// needs to summarize a clip besides a model server.
type Item struct {
	Name         string   `json:"clip"`
	Descriptions []string `json:"descriptions"` // the clue paragraphs, as Clip has them

	// The spec, and the digest of the prompts (PromptsSHA256) of the
	// submitter's emer, which the worker's must match.
	Model        string  `json:"model"`
	Lang         string  `json:"lang"`
	MaxTokens    int     `json:"max_tokens,omitempty"`
	Temperature  float64 `json:"temperature,omitempty"`
	PromptSHA256 string  `json:"prompt_sha256"`
}

// NewItem returns the item that summarizes c by sp with this emer's
// prompts.
func NewItem(sp Spec, c Clip) Item {
	return Item{
		Name: c.Name, Descriptions: c.Descriptions,
		Model: sp.Model, Lang: sp.Lang, MaxTokens: sp.MaxTokens, Temperature: sp.Temperature,
		PromptSHA256: PromptsSHA256(),
	}
}

// Clip returns the clip the item summarizes.
func (it Item) Clip() Clip { return Clip{Name: it.Name, Descriptions: it.Descriptions} }

// Spec returns how the item is summarized.
func (it Item) Spec() Spec {
	return Spec{Model: it.Model, Lang: it.Lang, MaxTokens: it.MaxTokens, Temperature: it.Temperature}
}

// Input returns the digest of what summarizing the item reads (its spec,
// its prompts and its clue paragraphs): the input its queue item and
// record stand for.
func (it Item) Input() string { return clipInput(it.Spec().settings(), it.PromptSHA256, it.Clip()) }

// Distribute is Run for a run shared by many machines: it queues on q,
// as an Item of spec, every clip that the ledger does not hold as done
// for its input, waits until none of the run's items is queued or held
// (workers elsewhere, package worker, summarize them against their own
// model servers and record the results in l), and then, as Run does,
// puts the draft of every clip with an outcome into review. A clip that
// got no reply after the queue's attempts is queued again on the next
// run. When interrupted it still drafts the clips done, leaves the
// others queued and returns batch.ErrInterrupted. opts.Workers and
// opts.Settings are not used.
func Distribute(ctx context.Context, l batch.Ledger, q batch.Queue, reviews dataset.ReviewStore, spec Spec, clips []Clip, opts RunOptions) (*Report, error) {
	if err := spec.Check(); err != nil {
		return &Report{}, fmt.Errorf("summarize: %w", err)
	}
	tasks := make([]batch.Task[Item], len(clips))
	for i, c := range clips {
		it := NewItem(spec, c)
		tasks[i] = batch.Task[Item]{Key: c.Name, Input: it.Input(), Value: it}
	}
	st, runErr := batch.Distribute(ctx, l, q, batch.Options{
		Run: opts.Run, Kind: Kind, Journal: opts.Journal, Progress: opts.Progress, Describe: "summarizing", Notify: opts.Notify,
	}, opts.Poll, tasks, func(t batch.Task[Item]) ([]byte, error) { return json.Marshal(t.Value) })
	return collect(ctx, l, reviews, tasks, opts, st, runErr)
}
