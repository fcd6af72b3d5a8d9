package llm

import (
	"context"
	"fmt"
	"sync"
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
//
// A shared request belongs to no one caller: it runs on a context that
// keeps the first caller's values but not its cancellation, and it goes on
// while any caller still waits for it. A caller whose context ends stops
// waiting at once and returns its own ctx.Err(); when the last one leaves,
// the request is cancelled.
type Cache struct {
	next     Client
	store    CacheStore
	baseURL  string
	readOnly bool

	mu      sync.Mutex
	flights map[string]*flight // requests in flight by key
}

// flight is one request shared by the callers waiting for it.
type flight struct {
	done    chan struct{} // closed when reply and err are set
	reply   Reply
	err     error
	cancel  context.CancelFunc
	waiters int  // callers waiting; guarded by Cache.mu
	claimed bool // the result's attempts went to a caller; guarded by Cache.mu
}

var _ Client = (*Cache)(nil)

// NewCache returns a Cache over store for requests sent to baseURL.
func NewCache(next Client, store CacheStore, baseURL string) *Cache {
	return &Cache{next: next, store: store, baseURL: NormalizeBaseURL(baseURL), flights: map[string]*flight{}}
}

// ReadOnly makes the cache answer from its store without adding to it.
func (c *Cache) ReadOnly() *Cache { c.readOnly = true; return c }

// Chat returns the stored reply for req, with Cached set, or calls Next.
//
// Of the callers who share a request, the first to take its result reports
// the request's attempts; the others report none (a reply has Cached set,
// an error is an *AttemptsError of 0 attempts), so that the attempts
// reported add up to the requests sent. A caller who leaves early also
// reports none.
func (c *Cache) Chat(ctx context.Context, req Request) (Reply, error) {
	if req.Temperature != 0 {
		return c.next.Chat(ctx, req)
	}
	if err := ctx.Err(); err != nil {
		return Reply{}, &AttemptsError{Attempts: 0, Err: err}
	}
	key := Key(c.baseURL, req)
	c.mu.Lock()
	f := c.flights[key]
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[key] = f
		go c.fly(fctx, key, req, f)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		c.mu.Lock()
		select {
		case <-f.done:
			// The result came in as the caller left: it is taken below.
		default:
			f.waiters--
			if f.waiters == 0 {
				f.cancel()
				delete(c.flights, key) // a later caller sends afresh
			}
			c.mu.Unlock()
			return Reply{}, &AttemptsError{Attempts: 0, Err: ctx.Err()}
		}
		c.mu.Unlock()
	}

	c.mu.Lock()
	first := !f.claimed
	f.claimed = true
	c.mu.Unlock()
	r, err := f.reply, f.err
	if first {
		return r, err
	}
	// Another caller reports the attempts of this request.
	if err != nil {
		return Reply{}, &AttemptsError{Attempts: 0, Err: err}
	}
	r.Cached, r.Attempts, r.Latency = true, 0, 0
	return r, nil
}

// fly makes the shared request for key and hands its result to the
// callers waiting for it.
func (c *Cache) fly(ctx context.Context, key string, req Request, f *flight) {
	r, err := c.fetch(ctx, key, req)
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	f.reply, f.err = r, err
	close(f.done)
	c.mu.Unlock()
	f.cancel()
}

// fetch answers req from the store or from Next, keeping a new reply.
func (c *Cache) fetch(ctx context.Context, key string, req Request) (Reply, error) {
	if r, ok, err := c.store.GetReply(ctx, key); err != nil {
		return Reply{}, fmt.Errorf("cache: %w", err)
	} else if ok {
		r.Cached, r.Attempts, r.Latency = true, 0, 0
		return r, nil
	}
	if c.readOnly {
		return c.next.Chat(ctx, req)
	}
	// A reply that arrived is kept even if every caller has left. A Limit
	// below stores it before it frees the request's slot (see keepReply);
	// without one it is stored here.
	k := &keep{put: func(r Reply) error { return c.store.PutReply(context.WithoutCancel(ctx), key, r) }}
	r, err := c.next.Chat(context.WithValue(ctx, keepKey{}, k), req)
	if err != nil {
		return r, err
	}
	if !k.done {
		k.done, k.err = true, k.put(r)
	}
	if k.err != nil {
		return Reply{}, fmt.Errorf("cache: %w", k.err)
	}
	return r, nil
}

// keep is how a Cache has the Limit below it store a reply before the
// Limit frees the request's slot: otherwise, with a slow store, replies
// could pile up unstored while further requests went out, and a process
// killed then would have to ask them all again. Stored this way, a kill
// loses no more replies than the requests in flight.
type keep struct {
	put  func(Reply) error
	done bool // put has run; then err is its result
	err  error
}

type keepKey struct{}

// keepReply stores r as the Cache above asked, once per request (a
// retried request's ctx carries the same keep; only a reply gets here).
func keepReply(ctx context.Context, r Reply) {
	if k, ok := ctx.Value(keepKey{}).(*keep); ok && !k.done {
		k.done, k.err = true, k.put(r)
	}
}
