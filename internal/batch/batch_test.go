package batch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
)

func tasks(n int, input string) []batch.Task[int] {
	ts := make([]batch.Task[int], n)
	for i := range ts {
		ts[i] = batch.Task[int]{Key: fmt.Sprintf("k%03d", i), Input: input, Value: i}
	}
	return ts
}

func okWork(calls *atomic.Int64) func(context.Context, batch.Task[int]) (batch.Outcome, error) {
	return func(_ context.Context, t batch.Task[int]) (batch.Outcome, error) {
		calls.Add(1)
		return batch.Outcome{Status: "ok", Payload: fmt.Appendf(nil, `{"v":%d}`, t.Value)}, nil
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestRunRecordsAndResumes(t *testing.T) {
	ctx := context.Background()
	l := batch.NewMemory()
	journal := filepath.Join(t.TempDir(), "out.jsonl")
	opts := batch.Options{Run: "r", Kind: "k", Workers: 4, Journal: journal}
	var calls atomic.Int64
	st, err := batch.Run(ctx, l, opts, tasks(20, "a"), okWork(&calls))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 20 || st.Ran != 20 || st.Skipped != 0 || st.ByStatus["ok"] != 20 || st.Failed("ok") != 0 {
		t.Fatalf("first run: calls %d, stats %+v", calls.Load(), st)
	}
	lines := readLines(t, journal)
	if len(lines) != 20 || lines[0] != `{"v":0}` || lines[19] != `{"v":19}` {
		t.Fatalf("journal: %q", lines)
	}

	// A rerun does nothing; the journal is the same.
	st, err = batch.Run(ctx, l, opts, tasks(20, "a"), okWork(&calls))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 20 || st.Skipped != 20 || st.Ran != 0 || st.ByStatus["ok"] != 20 {
		t.Fatalf("rerun: calls %d, stats %+v", calls.Load(), st)
	}
	if diff := cmp.Diff(lines, readLines(t, journal)); diff != "" {
		t.Fatalf("journal changed on rerun (-before +after):\n%s", diff)
	}
}

func TestRunRedoesChangedInputAndRetryClass(t *testing.T) {
	ctx := context.Background()
	l := batch.NewMemory()
	opts := batch.Options{Run: "r", Kind: "k", Workers: 2}
	ts := tasks(4, "a")
	// k001 fails with no result, to be retried.
	_, err := batch.Run(ctx, l, opts, ts, func(_ context.Context, t batch.Task[int]) (batch.Outcome, error) {
		if t.Key == "k001" {
			return batch.Outcome{Class: batch.Retry, Status: "request_error", Payload: []byte(`{}`)}, nil
		}
		return batch.Outcome{Status: "ok", Payload: []byte(`{}`)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ts[2].Input = "b" // k002's input changed
	var mu sync.Mutex
	var redone []string
	st, err := batch.Run(ctx, l, opts, ts, func(_ context.Context, t batch.Task[int]) (batch.Outcome, error) {
		mu.Lock()
		redone = append(redone, t.Key)
		mu.Unlock()
		return batch.Outcome{Status: "ok", Payload: []byte(`{}`)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"k001", "k002"}, slices.Sorted(slices.Values(redone))); diff != "" {
		t.Fatalf("redone (-want +got):\n%s", diff)
	}
	if st.ByStatus["ok"] != 4 || st.Retry != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRunInterruptedKeepsFinished(t *testing.T) {
	l := batch.NewMemory()
	ctx, cancel := context.WithCancel(context.Background())
	opts := batch.Options{Run: "r", Kind: "k", Workers: 1, Journal: filepath.Join(t.TempDir(), "j.jsonl")}
	n := 0
	st, err := batch.Run(ctx, l, opts, tasks(10, "a"), func(ctx context.Context, t batch.Task[int]) (batch.Outcome, error) {
		n++
		if n == 3 {
			cancel() // the third task is interrupted: not recorded
		}
		return batch.Outcome{Status: "ok", Payload: []byte(`{}`)}, nil
	})
	if !errors.Is(err, batch.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if st.Ran != 2 || l.Puts() != 2 || st.Missing != 8 {
		t.Fatalf("stats %+v, puts %d", st, l.Puts())
	}
	if got := readLines(t, opts.Journal); len(got) != 2 {
		t.Fatalf("journal has %d lines, want 2", len(got))
	}
	// The next run does the remaining eight.
	var calls atomic.Int64
	st, err = batch.Run(context.Background(), l, opts, tasks(10, "a"), okWork(&calls))
	if err != nil || calls.Load() != 8 || st.ByStatus["ok"] != 10 {
		t.Fatalf("resume: err %v, calls %d, stats %+v", err, calls.Load(), st)
	}
}

func TestRunJournalMendsTornLine(t *testing.T) {
	ctx := context.Background()
	l := batch.NewMemory()
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	opts := batch.Options{Run: "r", Kind: "k", Journal: journal}
	var calls atomic.Int64
	if _, err := batch.Run(ctx, l, opts, tasks(3, "a"), okWork(&calls)); err != nil {
		t.Fatal(err)
	}
	// A crash tore the last line and left a stray half line.
	if err := os.WriteFile(journal, []byte("{\"v\":0}\n{\"v\":1}\n{\"v"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := batch.Run(ctx, l, opts, tasks(3, "a"), okWork(&calls)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`{"v":0}`, `{"v":1}`, `{"v":2}`}, readLines(t, journal)); diff != "" {
		t.Fatalf("journal (-want +got):\n%s", diff)
	}
}

func TestRunWorkerLimit(t *testing.T) {
	l := batch.NewMemory()
	const workers = 3
	var cur, peak atomic.Int64
	release := make(chan struct{})
	started := make(chan struct{}, 12)
	done := make(chan error, 1)
	go func() {
		_, err := batch.Run(context.Background(), l, batch.Options{Run: "r", Kind: "k", Workers: workers}, tasks(12, "a"),
			func(context.Context, batch.Task[int]) (batch.Outcome, error) {
				c := cur.Add(1)
				for {
					p := peak.Load()
					if c <= p || peak.CompareAndSwap(p, c) {
						break
					}
				}
				started <- struct{}{}
				<-release
				cur.Add(-1)
				return batch.Outcome{Status: "ok", Payload: []byte(`{}`)}, nil
			})
		done <- err
	}()
	// Exactly `workers` tasks start before any is released.
	for range workers {
		<-started
	}
	if c := cur.Load(); c != workers {
		t.Fatalf("%d tasks in progress, want %d", c, workers)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p != workers {
		t.Fatalf("peak concurrency %d, want %d", p, workers)
	}
}

func TestRunStopsOnWorkError(t *testing.T) {
	l := batch.NewMemory()
	boom := errors.New("disk full")
	_, err := batch.Run(context.Background(), l, batch.Options{Run: "r", Kind: "k", Workers: 1}, tasks(5, "a"),
		func(_ context.Context, t batch.Task[int]) (batch.Outcome, error) {
			if t.Key == "k001" {
				return batch.Outcome{}, boom
			}
			return batch.Outcome{Status: "ok", Payload: []byte(`{}`)}, nil
		})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestRunRefusesDuplicateKeys(t *testing.T) {
	ts := append(tasks(2, "a"), batch.Task[int]{Key: "k000"})
	var calls atomic.Int64
	if _, err := batch.Run(context.Background(), batch.NewMemory(), batch.Options{Run: "r", Kind: "k"}, ts, okWork(&calls)); err == nil || calls.Load() != 0 {
		t.Fatalf("err %v, calls %d: want a refusal before any work", err, calls.Load())
	}
}

func TestLinesProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &batch.Lines{W: &buf}
	p.Start("judging", 20)
	for range 20 {
		p.Advance(1)
	}
	p.Finish()
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(got) != 11 || got[0] != "judging: 20 to do" || got[1] != "judging: 2/20 (10%)" || got[10] != "judging: 20/20 (100%)" {
		t.Fatalf("lines:\n%s", buf.String())
	}
}

// TestRunJournalHoldsEachItemOnce redoes an item recorded as Retry in a
// run that stops early, on a work error: the journal it leaves, not
// rebuilt at the end, holds the item once, with its new outcome.
func TestRunJournalHoldsEachItemOnce(t *testing.T) {
	ctx := context.Background()
	l := batch.NewMemory()
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	opts := batch.Options{Run: "r", Kind: "k", Workers: 1, Journal: journal}
	_, err := batch.Run(ctx, l, opts, tasks(2, "a"), func(_ context.Context, t batch.Task[int]) (batch.Outcome, error) {
		if t.Key == "k001" {
			return batch.Outcome{Class: batch.Retry, Status: "request_error", Payload: []byte(`{"v":1,"retry":true}`)}, nil
		}
		return batch.Outcome{Status: "ok", Payload: fmt.Appendf(nil, `{"v":%d}`, t.Value)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`{"v":0}`, `{"v":1,"retry":true}`}, readLines(t, journal)); diff != "" {
		t.Fatalf("first journal (-want +got):\n%s", diff)
	}
	// The next run redoes k001, then stops at k002.
	boom := errors.New("disk full")
	_, err = batch.Run(ctx, l, opts, tasks(3, "a"), func(_ context.Context, t batch.Task[int]) (batch.Outcome, error) {
		if t.Key == "k002" {
			return batch.Outcome{}, boom
		}
		return batch.Outcome{Status: "ok", Payload: fmt.Appendf(nil, `{"v":%d}`, t.Value)}, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if diff := cmp.Diff([]string{`{"v":0}`, `{"v":1}`}, readLines(t, journal)); diff != "" {
		t.Errorf("journal left by the stopped run (-want +got):\n%s", diff)
	}
}
