package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/batch/batchtest"
	"emer/internal/llm"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, url string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLedgerContract(t *testing.T) {
	c := pgtest.Shared(t)
	batchtest.Ledger(t, func(t *testing.T) batch.Ledger { return open(t, c.NewDatabase(t)) })
}

func TestMigrationsVersionedAndConcurrent(t *testing.T) {
	url := pgtest.Shared(t).NewEmptyDatabase(t)
	// Processes starting together: each step is applied once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := open(t, url)
	v, err := s.Version(context.Background())
	if err != nil || v != pgstore.SchemaVersion {
		t.Errorf("Version = %d, %v; want %d", v, err, pgstore.SchemaVersion)
	}
}

func TestReadOnlyOfAnEmptyDatabase(t *testing.T) {
	url := pgtest.Shared(t).NewEmptyDatabase(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, url, pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	if err := s.Scan(ctx, "r", "k", func(batch.Record) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("Scan of an empty database: %d records, %v", n, err)
	}
	if _, ok, err := s.GetReply(ctx, "x"); ok || err != nil {
		t.Errorf("GetReply = %v, %v", ok, err)
	}
	if err := s.Put(ctx, batch.Record{Run: "r", Kind: "k", Key: "a", Class: batch.Final}); !errors.Is(err, pgstore.ErrReadOnly) {
		t.Errorf("Put on a read-only store: %v", err)
	}
}

func TestCacheAndMeta(t *testing.T) {
	s := open(t, pgtest.Shared(t).NewDatabase(t))
	ctx := context.Background()
	want := llm.Reply{Text: "Score: 7", FinishReason: "stop", Usage: llm.Usage{TotalTokens: 3}, Raw: []byte(`{"x":"\u0001"}`)}
	if err := s.PutReply(ctx, "k1", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.GetReply(ctx, "k1")
	if err != nil || !ok {
		t.Fatalf("GetReply = %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	if err := s.SetMeta(ctx, "run1", "judge", "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "run2", "judge", "b"); err != nil {
		t.Fatal(err)
	}
	for run, want := range map[string]string{"run1": "a", "run2": "b"} {
		if v, ok, err := s.Meta(ctx, run, "judge"); err != nil || !ok || v != want {
			t.Errorf("Meta(%s) = %q, %v, %v; want %q", run, v, ok, err, want)
		}
	}
	if _, ok, _ := s.Meta(ctx, "run3", "judge"); ok {
		t.Error("Meta of another run found")
	}
}

func items(n int, input string) []batch.Item {
	out := make([]batch.Item, n)
	for i := range out {
		out[i] = batch.Item{Key: fmt.Sprintf("k%03d", i), Input: input, Payload: fmt.Appendf(nil, `{"v":%d}`, i)}
	}
	return out
}

// serve runs a worker on s until the returned stop is called.
func serve(t *testing.T, s *pgstore.Store, opts pgstore.ServeOptions) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, opts) }()
	return func() error {
		cancel()
		return <-errc
	}
}

func TestQueueServeOnce(t *testing.T) {
	s := open(t, pgtest.Shared(t).NewDatabase(t))
	ctx := context.Background()
	if err := s.Enqueue(ctx, "r", "judge", items(50, "a")); err != nil {
		t.Fatal(err)
	}
	// Queued again while waiting: not twice.
	if err := s.Enqueue(ctx, "r", "judge", items(50, "a")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Outstanding(ctx, "r", "judge"); err != nil || n != 50 {
		t.Fatalf("Outstanding = %d, %v; want 50", n, err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	work := func(_ context.Context, run, kind string, it batch.Item) (batch.Outcome, error) {
		mu.Lock()
		seen[it.Key]++
		mu.Unlock()
		return batch.Outcome{Status: "ok", Payload: it.Payload}, nil
	}
	var workers []func() error
	for range 3 {
		workers = append(workers, serve(t, s, pgstore.ServeOptions{Kinds: map[string]int{"judge": 4}, Work: work, Grace: time.Second}))
	}
	tasks := make([]batch.Task[int], 50)
	for i := range tasks {
		tasks[i] = batch.Task[int]{Key: fmt.Sprintf("k%03d", i), Input: "a", Value: i}
	}
	st, err := batch.Distribute(ctx, s, s, batch.Options{Run: "r", Kind: "judge"}, 20*time.Millisecond, tasks,
		func(t batch.Task[int]) ([]byte, error) { return fmt.Appendf(nil, `{"v":%d}`, t.Value), nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, stop := range workers {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}
	if st.ByStatus["ok"] != 50 || st.Missing != 0 {
		t.Errorf("stats %+v", st)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s worked %d times", k, n)
		}
	}
	if len(seen) != 50 {
		t.Errorf("%d items worked, want 50", len(seen))
	}
	// Done: nothing is queued again.
	st, err = batch.Distribute(ctx, s, s, batch.Options{Run: "r", Kind: "judge"}, 20*time.Millisecond, tasks,
		func(t batch.Task[int]) ([]byte, error) { return []byte(`{}`), nil })
	if err != nil || st.Skipped != 50 || st.Ran != 0 {
		t.Errorf("rerun: %+v, %v", st, err)
	}
}

// TestWorkersAlive counts the workers alive for a kind: none before one
// starts, one while it serves (none for a kind it does not take), none
// once it has stopped.
func TestWorkersAlive(t *testing.T) {
	s := open(t, pgtest.Shared(t).NewDatabase(t))
	ctx := context.Background()
	count := func(kind string) int {
		t.Helper()
		n, err := s.Workers(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("judge"); n != 0 {
		t.Fatalf("%d judge workers before any started", n)
	}
	started := make(chan string, 1)
	stop := serve(t, s, pgstore.ServeOptions{Kinds: map[string]int{"judge": 1}, Grace: time.Second,
		Started: func(id string) { started <- id },
		Work: func(context.Context, string, string, batch.Item) (batch.Outcome, error) {
			return batch.Outcome{Status: "ok"}, nil
		}})
	<-started
	if n := count("judge"); n != 1 {
		t.Errorf("%d judge workers while one serves, want 1", n)
	}
	if n := count("infer"); n != 0 {
		t.Errorf("%d infer workers, want 0 (the worker takes judge items)", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := count("judge"); n != 0 {
		t.Errorf("%d judge workers once it stopped", n)
	}
}

// TestServeStoppedBeforeStarting: a worker told to stop before it began
// (a submitter with nothing left to do stops its own worker at once)
// returns no error and leaves no record of itself.
func TestServeStoppedBeforeStarting(t *testing.T) {
	s := open(t, pgtest.Shared(t).NewDatabase(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Serve(ctx, pgstore.ServeOptions{Kinds: map[string]int{"judge": 1},
		Work: func(context.Context, string, string, batch.Item) (batch.Outcome, error) {
			return batch.Outcome{Status: "ok"}, nil
		}})
	if err != nil {
		t.Errorf("Serve with its context ended: %v, want nil", err)
	}
	if n, err := s.Workers(context.Background(), "judge"); err != nil || n != 0 {
		t.Errorf("%d workers alive after, %v", n, err)
	}
}

// TestLostWorkerReleased: a worker that stops renewing its lease (killed)
// has its items taken up by another once the lease has run out.
func TestLostWorkerReleased(t *testing.T) {
	s := open(t, pgtest.Shared(t).NewDatabase(t))
	ctx := context.Background()
	if err := s.Enqueue(ctx, "r", "judge", items(6, "a")); err != nil {
		t.Fatal(err)
	}
	// The first worker takes items and never finishes them; its
	// heartbeat is stopped as a kill stops it.
	took := make(chan struct{}, 6)
	block := make(chan struct{})
	hangCtx, hangCancel := context.WithCancel(ctx)
	defer hangCancel()
	var lostID atomic.Value
	lostDone := make(chan error, 1)
	go func() {
		lostDone <- s.Serve(hangCtx, pgstore.ServeOptions{
			ID: "lost", Kinds: map[string]int{"judge": 2}, Lease: 400 * time.Millisecond, Grace: 10 * time.Second,
			Started: func(id string) { lostID.Store(id) },
			Work: func(ctx context.Context, _, _ string, it batch.Item) (batch.Outcome, error) {
				took <- struct{}{}
				<-block
				return batch.Outcome{Status: "late"}, nil
			},
		})
	}()
	<-took
	<-took
	// Simulate the kill: the lease is no longer renewed.
	if err := pgstore.ForgetLease(ctx, s, "lost"); err != nil {
		t.Fatal(err)
	}
	var worked sync.Map
	stop := serve(t, s, pgstore.ServeOptions{ID: "alive", Kinds: map[string]int{"judge": 4}, Lease: 400 * time.Millisecond,
		Work: func(_ context.Context, _, _ string, it batch.Item) (batch.Outcome, error) {
			worked.Store(it.Key, true)
			return batch.Outcome{Status: "ok", Payload: it.Payload}, nil
		}})
	defer stop()
	deadline := time.After(30 * time.Second)
	for {
		n, err := s.Outstanding(ctx, "r", "judge")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("%d items still outstanding", n)
		case <-time.After(50 * time.Millisecond):
		}
	}
	// The lost worker finishes after all: its outcomes are not kept, as
	// the items are no longer its own.
	close(block)
	hangCancel()
	if err := <-lostDone; err != nil {
		t.Error(err)
	}
	var recs []string
	_ = s.Scan(ctx, "r", "judge", func(r batch.Record) error {
		recs = append(recs, r.Key+"="+r.Status)
		return nil
	})
	if len(recs) != 6 || strings.Contains(strings.Join(recs, " "), "late") {
		t.Errorf("records %v: want 6 ok", recs)
	}
}
