package llm

import (
	"context"
	"fmt"

	"golang.org/x/sync/singleflight"
)

// CacheStore keeps replies by key. Implementations are safe for concurrent
// use.
type CacheStore interface {
	GetReply(ctx context.Context, key string) (Reply, bool, error)
	PutReply(ctx context.Context, key string, r Reply) error
}

// Cache answers a request from its store when it can and otherwise calls
// Next, keeping successful replies to requests at temperature 0 (others are
// not reproducible and are never cached). Identical calls in flight at the
// same time are sent once.
type Cache struct {
	next     Client
	store    CacheStore
	baseURL  string
	readOnly bool
	group    singleflight.Group
}

var _ Client = (*Cache)(nil)

// NewCache returns a Cache over store for requests sent to baseURL.
func NewCache(next Client, store CacheStore, baseURL string) *Cache {
	return &Cache{next: next, store: store, baseURL: baseURL}
}

// ReadOnly makes the cache answer from its store without adding to it.
func (c *Cache) ReadOnly() *Cache { c.readOnly = true; return c }

// Chat returns the stored reply for req, with Cached set, or calls Next.
func (c *Cache) Chat(ctx context.Context, req Request) (Reply, error) {
	if req.Temperature != 0 {
		return c.next.Chat(ctx, req)
	}
	key := Key(c.baseURL, req)
	leader := false
	v, err, _ := c.group.Do(key, func() (any, error) {
		leader = true
		if r, ok, err := c.store.GetReply(ctx, key); err != nil {
			return Reply{}, fmt.Errorf("cache: %w", err)
		} else if ok {
			r.Cached, r.Attempts, r.Latency = true, 0, 0
			return r, nil
		}
		r, err := c.next.Chat(ctx, req)
		if err != nil {
			return r, err
		}
		if !c.readOnly {
			// A reply that arrived is kept even if the caller is leaving.
			if perr := c.store.PutReply(context.WithoutCancel(ctx), key, r); perr != nil {
				return Reply{}, fmt.Errorf("cache: %w", perr)
			}
		}
		return r, nil
	})
	r := v.(Reply)
	if !leader {
		// Another caller sent the request: this one sent none.
		if err != nil {
			return r, &AttemptsError{Attempts: 0, Err: err}
		}
		if !r.Cached {
			// Another caller paid for this reply: to this one it is a hit.
			r.Cached, r.Attempts, r.Latency = true, 0, 0
		}
	}
	return r, err
}
