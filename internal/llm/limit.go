package llm

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// Limit bounds the calls in flight to Next and spaces their starts to at
// most a given rate.
type Limit struct {
	next     Client
	sem      *semaphore.Weighted
	interval time.Duration // minimum time between two starts; 0: no rate limit

	mu        sync.Mutex
	nextStart time.Time

	// now and sleep read the clock and wait; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

var _ Client = (*Limit)(nil)

// NewLimit allows at most concurrency calls at once (at least 1) and, when
// perSecond > 0, at most perSecond call starts per second.
func NewLimit(next Client, concurrency int, perSecond float64) *Limit {
	l := &Limit{next: next, sem: semaphore.NewWeighted(int64(max(concurrency, 1))), now: time.Now, sleep: sleepCtx}
	if perSecond > 0 {
		l.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return l
}

// Chat waits for a free slot and for its turn under the rate, then calls
// Next. A reply is stored by the Cache above, if any, before the slot is
// freed.
func (l *Limit) Chat(ctx context.Context, req Request) (Reply, error) {
	if err := l.sem.Acquire(ctx, 1); err != nil {
		return Reply{}, err
	}
	defer l.sem.Release(1)
	if l.interval > 0 {
		l.mu.Lock()
		now := l.now()
		start := l.nextStart
		if start.Before(now) {
			start = now
		}
		l.nextStart = start.Add(l.interval)
		l.mu.Unlock()
		if err := l.sleep(ctx, start.Sub(now)); err != nil {
			return Reply{}, err
		}
	}
	r, err := l.next.Chat(ctx, req)
	if err == nil {
		keepReply(ctx, r)
	}
	return r, err
}
