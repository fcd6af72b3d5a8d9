package batch

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Memory is a Ledger held in memory, for tests and for runs that keep
// nothing. It is safe for concurrent use.
type Memory struct {
	mu   sync.Mutex
	recs map[[3]string]Record
	puts int
}

var _ Ledger = (*Memory)(nil)

// NewMemory returns an empty in-memory ledger.
func NewMemory() *Memory { return &Memory{recs: map[[3]string]Record{}} }

// Put stores a copy of r. Its class must be Final or Retry.
func (m *Memory) Put(_ context.Context, r Record) error {
	if r.Class != Final && r.Class != Retry {
		return fmt.Errorf("batch: record %s %q: class %q is neither %q nor %q", r.Kind, r.Key, r.Class, Final, Retry)
	}
	r.Payload = slices.Clone(r.Payload)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[[3]string{r.Run, r.Kind, r.Key}] = r
	m.puts++
	return nil
}

// Scan calls fn with the records of run and kind in key order.
func (m *Memory) Scan(ctx context.Context, run, kind string, fn func(Record) error) error {
	m.mu.Lock()
	var rs []Record
	for k, r := range m.recs {
		if k[0] == run && k[1] == kind {
			r.Payload = slices.Clone(r.Payload) // the caller's to keep or change
			rs = append(rs, r)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(rs, func(a, b Record) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Puts returns how many times Put was called.
func (m *Memory) Puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}
