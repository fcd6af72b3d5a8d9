package llm_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"emer/internal/llm"
)

// held is a Client whose calls wait for release or for their own context,
// and say which ended them.
type held struct {
	release chan struct{} // closed to answer every call
	calls   atomic.Int64
	ended   atomic.Int64 // calls ended by their context
}

func (h *held) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	h.calls.Add(1)
	select {
	case <-h.release:
		return llm.Reply{Text: "shared reply", Attempts: 1, Usage: llm.Usage{TotalTokens: 5}}, nil
	case <-ctx.Done():
		h.ended.Add(1)
		return llm.Reply{}, ctx.Err()
	}
}

type result struct {
	reply llm.Reply
	err   error
}

// call starts c.Chat(ctx, r) in a goroutine; its result arrives on the
// returned channel.
func call(c llm.Client, ctx context.Context, r llm.Request) <-chan result {
	ch := make(chan result, 1)
	go func() {
		reply, err := c.Chat(ctx, r)
		ch <- result{reply, err}
	}()
	return ch
}

func pending(ch <-chan result) bool { return len(ch) == 0 }

// TestCacheCallersOnSeparateContexts checks that callers sharing a request
// each keep their own context: one leaving returns at once with its own
// error, and the request goes on for the others.
func TestCacheCallersOnSeparateContexts(t *testing.T) {
	tests := []struct {
		name  string
		leave int // which of the three callers is cancelled; 0 started the request
	}{
		{"the caller who started the request leaves", 0},
		{"a caller who joined leaves", 1},
		{"the last caller to join leaves", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inner := &held{release: make(chan struct{})}
				store := &memStore{m: map[string]llm.Reply{}}
				c := llm.NewCache(inner, store, "u")
				var cancels [3]context.CancelFunc
				var results [3]<-chan result
				for i := range 3 {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					cancels[i] = cancel
					results[i] = call(c, ctx, req("a"))
					synctest.Wait() // caller i waits on the request
				}
				cancels[tt.leave]()
				synctest.Wait()
				for i := range 3 {
					if i == tt.leave {
						if pending(results[i]) {
							t.Fatalf("cancelled caller %d still waits for the shared request", i)
						}
						r := <-results[i]
						if !errors.Is(r.err, context.Canceled) || llm.Attempts(r.err) != 0 {
							t.Errorf("cancelled caller %d: err %v (attempts %d), want its own context.Canceled and no attempts", i, r.err, llm.Attempts(r.err))
						}
					} else if !pending(results[i]) {
						t.Fatalf("caller %d returned when caller %d left: err %v", i, tt.leave, (<-results[i]).err)
					}
				}
				if inner.ended.Load() != 0 {
					t.Fatal("the shared request was cancelled while two callers waited for it")
				}
				close(inner.release)
				synctest.Wait()
				firsts := 0
				for i := range 3 {
					if i == tt.leave {
						continue
					}
					r := <-results[i]
					if r.err != nil || r.reply.Text != "shared reply" {
						t.Errorf("caller %d: reply %+v, err %v; want the shared reply", i, r.reply, r.err)
					}
					if !r.reply.Cached && r.reply.Attempts == 1 {
						firsts++
					} else if !r.reply.Cached || r.reply.Attempts != 0 {
						t.Errorf("caller %d: cached %v with %d attempts", i, r.reply.Cached, r.reply.Attempts)
					}
				}
				if firsts != 1 || inner.calls.Load() != 1 || store.puts != 1 {
					t.Errorf("%d callers reported the request, %d requests sent, %d stored; want 1, 1, 1", firsts, inner.calls.Load(), store.puts)
				}
			})
		})
	}
}

// TestCacheLastCallerLeaving checks that the shared request is cancelled
// when no caller waits for it any more, and that a later caller sends a
// new one rather than joining it.
func TestCacheLastCallerLeaving(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := &held{release: make(chan struct{})}
		store := &memStore{m: map[string]llm.Reply{}}
		c := llm.NewCache(inner, store, "u")
		ctx1, cancel1 := context.WithCancel(context.Background())
		defer cancel1()
		// The second caller gives up at its deadline.
		ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
		defer cancel2()
		r1 := call(c, ctx1, req("a"))
		synctest.Wait()
		r2 := call(c, ctx2, req("a"))
		synctest.Wait()
		cancel1()
		synctest.Wait()
		if inner.ended.Load() != 0 || pending(r1) || !pending(r2) {
			t.Fatalf("after the first caller left: request ended %d, first returned %v, second returned %v; want the request going on for the second", inner.ended.Load(), !pending(r1), !pending(r2))
		}
		time.Sleep(time.Minute) // the bubble's clock: the second caller's deadline passes
		synctest.Wait()
		if r := <-r2; !errors.Is(r.err, context.DeadlineExceeded) {
			t.Errorf("second caller: err %v, want its own deadline", r.err)
		}
		if inner.ended.Load() != 1 {
			t.Fatalf("no caller waits, yet the shared request was not cancelled")
		}
		if store.puts != 0 {
			t.Error("a cancelled request stored a reply")
		}
		// A new caller sends a new request.
		close(inner.release)
		r3 := call(c, context.Background(), req("a"))
		synctest.Wait()
		if r := <-r3; r.err != nil || r.reply.Cached || r.reply.Attempts != 1 || inner.calls.Load() != 2 {
			t.Errorf("later caller: reply %+v, err %v after %d requests; want a new request's reply", r.reply, r.err, inner.calls.Load())
		}
	})
}

// TestCacheCancelledBeforeCalling checks that a caller whose context has
// already ended sends nothing.
func TestCacheCancelledBeforeCalling(t *testing.T) {
	inner := &counting{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := llm.NewCache(inner, &memStore{m: map[string]llm.Reply{}}, "u").Chat(ctx, req("a"))
	if !errors.Is(err, context.Canceled) || inner.calls.Load() != 0 {
		t.Errorf("err %v after %d calls, want context.Canceled and none", err, inner.calls.Load())
	}
}

// slowStore is a CacheStore whose PutReply waits for release.
type slowStore struct {
	putting chan string   // a key, as its PutReply starts
	release chan struct{} // closed to let every PutReply finish
	mu      sync.Mutex
	m       map[string]llm.Reply
}

func (s *slowStore) GetReply(_ context.Context, k string) (llm.Reply, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[k]
	return r, ok, nil
}

func (s *slowStore) PutReply(_ context.Context, k string, r llm.Reply) error {
	s.putting <- k
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = r
	return nil
}

// answering is a Client that answers at once and counts its calls.
type answering struct{ calls atomic.Int64 }

func (a *answering) Chat(_ context.Context, r llm.Request) (llm.Reply, error) {
	a.calls.Add(1)
	return llm.Reply{Text: "a reply", Attempts: 1}, nil
}

// TestCacheCommitsBeforeFreeingTheSlot checks that, in the stack, a
// reply is stored before the request's slot goes to the next request:
// a process killed at any moment then loses no more replies than the
// requests it had in flight. (When the slot was freed first, replies
// could pile up unstored behind a slow store while new requests went out,
// and a killed run asked them all again.)
func TestCacheCommitsBeforeFreeingTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &slowStore{putting: make(chan string, 4), release: make(chan struct{}), m: map[string]llm.Reply{}}
		server := &answering{}
		// One slot: a request may start only while no other holds it.
		c := llm.NewCache(llm.NewLimit(server, 1, 0), store, "http://x/v1")
		first := call(c, context.Background(), req("first"))
		<-store.putting // the first reply arrived and is being stored
		second := call(c, context.Background(), req("second"))
		// Every goroutine blocked: the second request waits for the slot
		// while the first reply is stored.
		synctest.Wait()
		if n := server.calls.Load(); n != 1 {
			t.Errorf("%d requests sent while the first reply was not yet stored, want 1", n)
		}
		close(store.release)
		for _, ch := range []<-chan result{first, second} {
			if r := <-ch; r.err != nil {
				t.Fatal(r.err)
			}
		}
		if n := server.calls.Load(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
		if len(store.m) != 2 {
			t.Errorf("%d replies stored, want 2", len(store.m))
		}
	})
}
