package summarize

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/dataset"
	"emer/internal/llm"
)

// itemQueue does the items queued on it at once, as a worker would from
// the payload alone, with client for the model server; it records into l.
type itemQueue struct {
	l      batch.Ledger
	client llm.Client

	mu     sync.Mutex
	queued []Item
	errs   []error
}

func (q *itemQueue) Enqueue(ctx context.Context, run, kind string, items []batch.Item) error {
	for _, it := range items {
		var si Item
		if err := json.Unmarshal(it.Payload, &si); err != nil {
			return err
		}
		q.mu.Lock()
		q.queued = append(q.queued, si)
		if si.Input() != it.Input {
			q.errs = append(q.errs, fmt.Errorf("%s: the payload's input %s is not the item's %s", it.Key, si.Input(), it.Input))
		}
		q.mu.Unlock()
		o, err := si.Spec().Summarizer(q.client).Outcome(ctx, si.Clip())
		if err != nil {
			return err
		}
		if err := q.l.Put(ctx, batch.Record{Run: run, Kind: kind, Key: it.Key, Input: it.Input, Class: o.Class, Status: o.Status, Payload: o.Payload}); err != nil {
			return err
		}
	}
	return nil
}

func (q *itemQueue) Outstanding(context.Context, string, string) (int, error) { return 0, nil }

// A shared run queues every clip with what a worker needs, and ends with
// the results, journal and review state of a run on one machine; a rerun
// queues nothing.
func TestDistribute(t *testing.T) {
	ctx := context.Background()
	clips := []Clip{
		{Name: "b", Descriptions: []string{"b looks down."}},
		{Name: "a", Descriptions: []string{"a looks down.", "He sighs."}},
		{Name: "odd", Descriptions: []string{"odd looks down."}},
	}
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	spec := Spec{Model: "m", Lang: English, MaxTokens: 64}

	local, localReviews := batch.NewMemory(), dataset.NewReviewMemory()
	want, err := Run(ctx, local, localReviews, spec.Summarizer(&scripted{}), clips, RunOptions{
		Run: "summarize", Workers: 2, Journal: filepath.Join(dir, "local.jsonl"), Settings: "local", Now: func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}

	l, reviews := batch.NewMemory(), dataset.NewReviewMemory()
	model := &scripted{}
	q := &itemQueue{l: l, client: model}
	opts := RunOptions{Run: "summarize:/out", Journal: filepath.Join(dir, "shared.jsonl"), Now: func() time.Time { return at }, Poll: time.Millisecond}
	got, err := Distribute(ctx, l, q, reviews, spec, clips, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.errs) > 0 {
		t.Fatal(q.errs)
	}
	if len(q.queued) != 3 {
		t.Fatalf("%d items queued, want 3", len(q.queued))
	}
	if it := q.queued[0]; it.Name != "b" || !cmp.Equal(it.Descriptions, clips[0].Descriptions) || it.Spec() != spec || it.PromptSHA256 != PromptsSHA256() {
		t.Errorf("queued %+v", it)
	}
	if diff := cmp.Diff(want.Results, got.Results); diff != "" {
		t.Errorf("results (-one machine +shared):\n%s", diff)
	}
	if got.Ran != 3 || got.Drafted != 3 || got.ByStatus[StatusOK] != 2 || got.ByStatus[StatusReview] != 1 {
		t.Errorf("report %+v", got)
	}
	wantReviews, _ := localReviews.Reviews(ctx)
	gotReviews, _ := reviews.Reviews(ctx)
	if diff := cmp.Diff(wantReviews, gotReviews); diff != "" {
		t.Errorf("reviews (-one machine +shared):\n%s", diff)
	}
	wj, _ := os.ReadFile(filepath.Join(dir, "local.jsonl"))
	gj, _ := os.ReadFile(filepath.Join(dir, "shared.jsonl"))
	if len(gj) == 0 || string(wj) != string(gj) {
		t.Errorf("journal of the shared run:\n%s\nwant:\n%s", gj, wj)
	}

	q.queued = nil
	rep, err := Distribute(ctx, l, q, reviews, spec, clips, opts)
	if err != nil || len(q.queued) != 0 || rep.Skipped != 3 || rep.Drafted != 0 || model.total() != 9 {
		t.Errorf("rerun: %v, %d queued, %+v, %d calls", err, len(q.queued), rep, model.total())
	}

	// Another token limit is another input: every clip is queued again.
	spec.MaxTokens = 128
	if _, err := Distribute(ctx, l, q, reviews, spec, clips, opts); err != nil || len(q.queued) != 3 {
		t.Errorf("other max tokens: %v, %d queued, want 3", err, len(q.queued))
	}

	if _, err := Distribute(ctx, l, q, reviews, Spec{Lang: "fr"}, clips, opts); err == nil {
		t.Errorf("a spec of no model in French was queued")
	}
}
