package llm

import (
	"context"
	"fmt"
	"sync"
)

// DryRun makes no calls. It answers a request from its cache store when the
// store holds the reply (temperature 0 only, as Cache does), and otherwise
// with a placeholder unique to the request, so that a caller's later steps,
// which quote earlier replies, are counted too. It counts the requests of
// each kind: how many calls a run needs and how many of them the cache
// already holds. At temperature 0 identical requests count once, as Cache
// sends them once; above 0 every request counts, as each is sent.
type DryRun struct {
	baseURL string
	store   CacheStore // may be nil: nothing is cached

	mu     sync.Mutex
	hits   map[string]bool
	misses map[string]bool
	warm   int // requests above temperature 0, each its own call
}

var _ Client = (*DryRun)(nil)

// NewDryRun returns a DryRun for requests to baseURL; store may be nil.
func NewDryRun(baseURL string, store CacheStore) *DryRun {
	return &DryRun{baseURL: NormalizeBaseURL(baseURL), store: store, hits: map[string]bool{}, misses: map[string]bool{}}
}

// Chat answers from the store or with a placeholder, and counts req.
func (d *DryRun) Chat(ctx context.Context, req Request) (Reply, error) {
	k := Key(d.baseURL, req)
	if d.store != nil && req.Temperature == 0 {
		r, ok, err := d.store.GetReply(ctx, k)
		if err != nil {
			return Reply{}, fmt.Errorf("cache: %w", err)
		}
		if ok {
			d.mu.Lock()
			d.hits[k] = true
			d.mu.Unlock()
			r.Cached, r.Attempts = true, 0
			return r, nil
		}
	}
	d.mu.Lock()
	if req.Temperature != 0 {
		d.warm++
	} else {
		d.misses[k] = true
	}
	d.mu.Unlock()
	return Reply{Text: "(dry run " + k[:16] + ")", FinishReason: "dry_run"}, nil
}

// Counts returns the number of calls a run would make: in all, and of
// those, how many the cache holds.
func (d *DryRun) Counts() (calls, cached int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.hits) + len(d.misses) + d.warm, len(d.hits)
}
