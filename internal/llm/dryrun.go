package llm

import (
	"context"
	"sync"
)

// DryRun makes no calls: it counts the distinct requests that would have
// been sent and answers each with a placeholder unique to the request, so
// that a caller's later steps (which quote earlier replies) are counted too.
// Put it under a read-only Cache to learn how many calls a run needs and how
// many the cache holds.
type DryRun struct {
	baseURL string
	mu      sync.Mutex
	seen    map[string]bool
}

var _ Client = (*DryRun)(nil)

// NewDryRun returns a DryRun for requests to baseURL.
func NewDryRun(baseURL string) *DryRun { return &DryRun{baseURL: baseURL, seen: map[string]bool{}} }

// Chat records req and returns a placeholder reply.
func (d *DryRun) Chat(_ context.Context, req Request) (Reply, error) {
	k := Key(d.baseURL, req)
	d.mu.Lock()
	d.seen[k] = true
	d.mu.Unlock()
	return Reply{Text: "(dry run " + k[:16] + ")", FinishReason: "dry_run"}, nil
}

// Calls returns the number of distinct requests seen.
func (d *DryRun) Calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
