package batch_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
)

// memQueue is a queue whose items are done by goroutines of the test as
// soon as they are queued, recording into a ledger; items for which hold
// says so are kept queued until release is closed.
type memQueue struct {
	l       *batch.Memory
	hold    func(batch.Item) bool
	release chan struct{}

	mu      sync.Mutex
	pending map[string]bool
	queued  []batch.Item
	wg      sync.WaitGroup
}

func (q *memQueue) Enqueue(_ context.Context, run, kind string, items []batch.Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range items {
		if q.pending[it.Key] {
			continue
		}
		q.pending[it.Key] = true
		q.queued = append(q.queued, it)
		q.wg.Go(func() {
			if q.hold != nil && q.hold(it) {
				<-q.release
			}
			_ = q.l.Put(context.Background(), batch.Record{Run: run, Kind: kind, Key: it.Key, Input: it.Input, Class: batch.Final, Status: "ok", Payload: it.Payload})
			q.mu.Lock()
			delete(q.pending, it.Key)
			q.mu.Unlock()
		})
	}
	return nil
}

func (q *memQueue) Outstanding(context.Context, string, string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending), nil
}

func encodeInt(t batch.Task[int]) ([]byte, error) { return fmt.Appendf(nil, `{"v":%d}`, t.Value), nil }

func TestDistributeQueuesWhatIsLeftAndWaits(t *testing.T) {
	ctx := context.Background()
	l := batch.NewMemory()
	journal := filepath.Join(t.TempDir(), "out.jsonl")
	opts := batch.Options{Run: "r", Kind: "k", Journal: journal}
	// k001 was done before, for the same input; k002 for another.
	_ = l.Put(ctx, batch.Record{Run: "r", Kind: "k", Key: "k001", Input: "a", Class: batch.Final, Status: "ok", Payload: []byte(`{"v":1}`)})
	_ = l.Put(ctx, batch.Record{Run: "r", Kind: "k", Key: "k002", Input: "old", Class: batch.Final, Status: "ok", Payload: []byte(`{"v":-2}`)})
	q := &memQueue{l: l, pending: map[string]bool{}}
	st, err := batch.Distribute(ctx, l, q, opts, time.Millisecond, tasks(10, "a"), encodeInt)
	if err != nil {
		t.Fatal(err)
	}
	q.wg.Wait()
	var keys []string
	for _, it := range q.queued {
		keys = append(keys, it.Key)
	}
	want := []string{"k000", "k002", "k003", "k004", "k005", "k006", "k007", "k008", "k009"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	if st.Total != 10 || st.Skipped != 1 || st.Ran != 9 || st.ByStatus["ok"] != 10 || st.Missing != 0 {
		t.Errorf("stats %+v", st)
	}
	lines := readLines(t, journal)
	if len(lines) != 10 || lines[2] != `{"v":2}` {
		t.Errorf("journal %q", lines)
	}
	// A rerun queues nothing.
	q.queued = nil
	if st, err = batch.Distribute(ctx, l, q, opts, time.Millisecond, tasks(10, "a"), encodeInt); err != nil || len(q.queued) != 0 || st.Skipped != 10 {
		t.Errorf("rerun: queued %d, %+v, %v", len(q.queued), st, err)
	}
}

// TestDistributeInterrupted: a wait cut short reports what the ledger
// holds, rewrites the journal, and leaves the rest queued.
func TestDistributeInterrupted(t *testing.T) {
	l := batch.NewMemory()
	journal := filepath.Join(t.TempDir(), "out.jsonl")
	q := &memQueue{l: l, pending: map[string]bool{}, release: make(chan struct{}),
		hold: func(it batch.Item) bool { return it.Key >= "k005" }}
	defer func() {
		close(q.release)
		q.wg.Wait()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	prog := &cancelAt{n: 5, cancel: cancel}
	st, err := batch.Distribute(ctx, l, q, batch.Options{Run: "r", Kind: "k", Journal: journal, Progress: prog}, time.Millisecond, tasks(10, "a"), encodeInt)
	if !errors.Is(err, batch.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if st.Ran != 5 || st.Missing != 5 {
		t.Errorf("stats %+v, want 5 done and 5 missing", st)
	}
	if lines := readLines(t, journal); len(lines) != 5 {
		t.Errorf("journal %q, want the 5 done", lines)
	}
	if n, _ := q.Outstanding(context.Background(), "r", "k"); n != 5 {
		t.Errorf("%d items still queued, want 5", n)
	}
}

// cancelAt cancels once n items are reported done.
type cancelAt struct {
	batch.Silent
	mu     sync.Mutex
	done   int
	n      int
	cancel context.CancelFunc
}

func (c *cancelAt) Advance(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done += n; c.done >= c.n {
		c.cancel()
	}
}

// staffedQueue is a memQueue that reports how many workers are alive.
type staffedQueue struct {
	*memQueue
	mu   sync.Mutex
	live int
}

func (q *staffedQueue) Workers(context.Context, string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.live, nil
}

func (q *staffedQueue) setLive(n int) {
	q.mu.Lock()
	q.live = n
	q.mu.Unlock()
}

// TestDistributeSaysNoWorker: a run waiting on items that no worker alive
// takes is told so once; a worker that comes does them, and no notice
// comes while one is alive.
func TestDistributeSaysNoWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := batch.NewMemory()
		q := &staffedQueue{memQueue: &memQueue{l: l, pending: map[string]bool{}, release: make(chan struct{}),
			hold: func(batch.Item) bool { return true }}}
		var mu sync.Mutex
		var notes []string
		notify := func(m string) {
			mu.Lock()
			notes = append(notes, m)
			mu.Unlock()
			// A worker starts on the notice and does the items.
			q.setLive(1)
			close(q.release)
		}
		st, err := batch.Distribute(context.Background(), l, q, batch.Options{Run: "r", Kind: "judge", Notify: notify}, time.Second, tasks(3, "a"), encodeInt)
		q.wg.Wait()
		if err != nil || st.Ran != 3 {
			t.Fatalf("stats %+v, %v", st, err)
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "no worker is alive to take the 3 judge items left") {
			t.Errorf("notices %q, want one that no worker takes the 3 items", notes)
		}

		// With a worker alive from the start, no notice however long it takes.
		l2 := batch.NewMemory()
		release := make(chan struct{})
		q2 := &staffedQueue{memQueue: &memQueue{l: l2, pending: map[string]bool{}, release: release,
			hold: func(batch.Item) bool { return true }}, live: 1}
		go func() {
			time.Sleep(time.Minute)
			close(release)
		}()
		notes = nil
		if _, err := batch.Distribute(context.Background(), l2, q2, batch.Options{Run: "r", Kind: "judge", Notify: func(m string) { notes = append(notes, m) }},
			time.Second, tasks(3, "a"), encodeInt); err != nil {
			t.Fatal(err)
		}
		q2.wg.Wait()
		if len(notes) != 0 {
			t.Errorf("notices %q with a worker alive", notes)
		}
	})
}
