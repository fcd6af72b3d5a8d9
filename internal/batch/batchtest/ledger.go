// Package batchtest checks that a batch.Ledger keeps the contract the
// engine relies on, so that every ledger (in memory, SQLite, a database
// shared by many machines) is tested the same way.
package batchtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
)

// Ledger runs the contract tests on ledgers made by open, one empty
// ledger per subtest.
func Ledger(t *testing.T, open func(t *testing.T) batch.Ledger) {
	ctx := context.Background()
	scan := func(t *testing.T, l batch.Ledger, run, kind string) []batch.Record {
		t.Helper()
		var out []batch.Record
		if err := l.Scan(ctx, run, kind, func(r batch.Record) error {
			out = append(out, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	put := func(t *testing.T, l batch.Ledger, r batch.Record) {
		t.Helper()
		if err := l.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rec := func(run, kind, key string) batch.Record {
		return batch.Record{Run: run, Kind: kind, Key: key, Input: "in " + key, Class: batch.Final, Status: "ok", Payload: []byte(fmt.Sprintf("%q", key))}
	}

	t.Run("bytewise key order", func(t *testing.T) {
		l := open(t)
		keys := []string{"b", "", "a\x01z", "é", "B", "a", "a\x7f", "\xff", "日本", "a b", "10", "9"}
		for _, k := range keys {
			put(t, l, rec("r", "k", k))
		}
		want := slices.Clone(keys)
		slices.Sort(want) // Go compares strings bytewise
		var got []string
		for _, r := range scan(t, l, "r", "k") {
			got = append(got, r.Key)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
	})

	t.Run("put replaces", func(t *testing.T) {
		l := open(t)
		put(t, l, rec("r", "k", "a"))
		again := batch.Record{Run: "r", Kind: "k", Key: "a", Input: "other", Class: batch.Retry, Status: "request_error", Payload: []byte(`{"x":1}`)}
		put(t, l, again)
		if diff := cmp.Diff([]batch.Record{again}, scan(t, l, "r", "k")); diff != "" {
			t.Errorf("records (-want +got):\n%s", diff)
		}
	})

	t.Run("runs and kinds apart", func(t *testing.T) {
		l := open(t)
		for _, r := range []batch.Record{rec("r", "k", "a"), rec("r", "k2", "a"), rec("r2", "k", "a"), rec("r", "k", "b")} {
			put(t, l, r)
		}
		if diff := cmp.Diff([]batch.Record{rec("r", "k", "a"), rec("r", "k", "b")}, scan(t, l, "r", "k")); diff != "" {
			t.Errorf("records of r/k (-want +got):\n%s", diff)
		}
		if got := scan(t, l, "none", "k"); len(got) != 0 {
			t.Errorf("records of an unknown run: %v", got)
		}
	})

	t.Run("payloads are copies", func(t *testing.T) {
		l := open(t)
		r := rec("r", "k", "a")
		payload := r.Payload
		put(t, l, r)
		payload[0] = 'X' // the caller's slice, after Put
		_ = l.Scan(ctx, "r", "k", func(r batch.Record) error {
			r.Payload[0] = 'Y' // the scanned slice
			return nil
		})
		if got := scan(t, l, "r", "k"); len(got) != 1 || !bytes.Equal(got[0].Payload, []byte(`"a"`)) {
			t.Errorf("records %v, want the payload as put", got)
		}
	})

	t.Run("empty payload", func(t *testing.T) {
		l := open(t)
		put(t, l, batch.Record{Run: "r", Kind: "k", Key: "a", Class: batch.Retry, Status: "request_error"})
		if got := scan(t, l, "r", "k"); len(got) != 1 || len(got[0].Payload) != 0 || got[0].Class != batch.Retry {
			t.Errorf("records %+v, want one with an empty payload", got)
		}
	})

	t.Run("unknown class refused", func(t *testing.T) {
		l := open(t)
		for _, class := range []batch.Class{"", "done"} {
			r := rec("r", "k", "a")
			r.Class = class
			if err := l.Put(ctx, r); err == nil {
				t.Errorf("class %q accepted", class)
			}
		}
		if got := scan(t, l, "r", "k"); len(got) != 0 {
			t.Errorf("refused records stored: %v", got)
		}
	})

	t.Run("many records, concurrent puts", func(t *testing.T) {
		l := open(t)
		const n = 1500
		var wg sync.WaitGroup
		perm := rand.New(rand.NewPCG(7, 8)).Perm(n)
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < n; i += 4 {
					if err := l.Put(ctx, rec("r", "k", fmt.Sprintf("%05d", perm[i]))); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		got := scan(t, l, "r", "k")
		if len(got) != n {
			t.Fatalf("%d records, want %d", len(got), n)
		}
		for i, r := range got {
			if want := fmt.Sprintf("%05d", i); r.Key != want {
				t.Fatalf("record %d has key %q, want %q", i, r.Key, want)
			}
		}
	})

	t.Run("fn's error stops the scan", func(t *testing.T) {
		l := open(t)
		for i := range 700 {
			put(t, l, rec("r", "k", fmt.Sprintf("%04d", i)))
		}
		stop := errors.New("stop")
		seen := 0
		err := l.Scan(ctx, "r", "k", func(batch.Record) error {
			if seen++; seen == 600 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || seen != 600 {
			t.Errorf("scan ended with %v after %d records, want stop after 600", err, seen)
		}
	})

	t.Run("put from the scan's fn", func(t *testing.T) {
		l := open(t)
		for i := range 3 {
			put(t, l, rec("r", "k", fmt.Sprint(i)))
		}
		err := l.Scan(ctx, "r", "k", func(r batch.Record) error {
			r.Kind = "copy"
			r.Key = strings.Repeat(r.Key, 2)
			return l.Put(ctx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := scan(t, l, "r", "copy"); len(got) != 3 {
			t.Errorf("%d records put from the scan, want 3", len(got))
		}
	})
}
