package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Class says what a recorded outcome means for the next run.
type Class string

const (
	// Final is a result that stands: an answer, or a failure that a rerun
	// would repeat (a reply without a valid score, a broken clip).
	Final Class = "final"
	// Retry is an outcome without a result (the request failed, the server
	// was unreachable): it is reported, and the item is done again next run.
	Retry Class = "retry"
)

// Record is the stored outcome of one item of a run.
type Record struct {
	Run  string // the run the item belongs to
	Kind string // the kind of work: "judge", "infer", ...
	Key  string // the item's identity within run and kind
	// Input is a digest of what the item read; a record for another input
	// does not count as done.
	Input  string
	Class  Class
	Status string // the kind's own status word: "ok", "parse_error", ...
	// Payload is the kind's JSON form of the outcome, one journal line.
	Payload []byte
}

// Ledger stores records. Implementations are safe for concurrent use;
// package batchtest checks one against this contract.
type Ledger interface {
	// Put stores r, replacing the record with the same run, kind and key.
	// It returns only once r is durable. A class other than Final or
	// Retry is an error; an empty payload is stored as empty.
	Put(ctx context.Context, r Record) error
	// Scan calls fn with every record of run and kind in the order of
	// their keys (bytewise), without holding them all in memory. An
	// error from fn stops the scan and is returned. The records given to
	// fn are fn's to keep or change, and fn may call Put.
	Scan(ctx context.Context, run, kind string, fn func(Record) error) error
}

// Task is one item to do: its key, the digest of its input, and the value
// the work function needs.
type Task[T any] struct {
	Key   string
	Input string
	Value T
}

// Outcome is what the work function made of a task.
type Outcome struct {
	Class   Class
	Status  string
	Payload []byte
}

// Options set up a run.
type Options struct {
	Run, Kind string
	// Workers is the number of tasks in progress at once (at least 1).
	Workers int
	// Journal, when set, is the JSONL file of the run's outcomes: rebuilt
	// from the ledger before work starts (mending a line torn by a crash,
	// and leaving out the Retry records the run does again), appended to
	// as outcomes arrive, and rebuilt in ledger order at the end, also
	// when the run is interrupted. It holds each task once.
	Journal string
	// Progress is told how the run advances; nil reports nothing.
	Progress Progress
	// Describe names the work in progress reports ("judging").
	Describe string
	// Notify, when set, is told what the user should know while a
	// distributed run waits (see Distribute).
	Notify func(msg string)
}

// Stats count a run's items.
type Stats struct {
	Total    int            // tasks given
	Skipped  int            // already done before this run
	Ran      int            // done by this run
	ByStatus map[string]int // every task with a record, by status
	Retry    int            // records of class Retry among them
	Missing  int            // tasks with no record (interrupted)
}

// Failed is the number of tasks whose outcome is not the given ok status.
func (s Stats) Failed(ok string) int {
	n := 0
	for st, c := range s.ByStatus {
		if st != ok {
			n += c
		}
	}
	return n + s.Missing
}

// ErrInterrupted is returned by Run when its context ended before every
// task was done; what was finished is recorded.
var ErrInterrupted = errors.New("interrupted")

// Plan returns the tasks that have no record standing for their input:
// those never done, done for another input, or recorded as Retry.
func Plan[T any](ctx context.Context, l Ledger, run, kind string, tasks []Task[T]) ([]Task[T], error) {
	done := make(map[string]bool, len(tasks))
	wanted := wantedInputs(tasks)
	err := l.Scan(ctx, run, kind, func(r Record) error {
		if in, ok := wanted[r.Key]; ok && in == r.Input && r.Class == Final {
			done[r.Key] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	todo := make([]Task[T], 0, len(tasks)-len(done))
	for _, t := range tasks {
		if !done[t.Key] {
			todo = append(todo, t)
		}
	}
	return todo, nil
}

func wantedInputs[T any](tasks []Task[T]) map[string]string {
	m := make(map[string]string, len(tasks))
	for _, t := range tasks {
		m[t.Key] = t.Input
	}
	return m
}

// Run does every task of tasks that the ledger does not hold as done, at
// most opts.Workers at once, recording each outcome as it finishes. The
// work function returns an error only for what must stop the whole run
// (the ledger cannot be written, say); a task whose context ends before it
// finishes is not recorded and is done again next run. Run returns the
// counts over all tasks, also when interrupted (with ErrInterrupted).
func Run[T any](ctx context.Context, l Ledger, opts Options, tasks []Task[T], work func(context.Context, Task[T]) (Outcome, error)) (Stats, error) {
	st := Stats{Total: len(tasks)}
	if err := checkKeys(tasks); err != nil {
		return st, err
	}
	todo, err := Plan(ctx, l, opts.Run, opts.Kind, tasks)
	if err != nil {
		return st, err
	}
	st.Skipped = len(tasks) - len(todo)
	wanted := wantedInputs(tasks)

	var j *journal
	if opts.Journal != "" {
		if j, err = openJournal(ctx, opts.Journal, l, opts.Run, opts.Kind, wanted); err != nil {
			return st, err
		}
		defer j.Close()
	}

	prog := opts.Progress
	if prog == nil {
		prog = Silent{}
	}
	desc := opts.Describe
	if desc == "" {
		desc = opts.Kind
	}
	prog.Start(desc, len(todo))

	workers := max(opts.Workers, 1)
	grp, gctx := errgroup.WithContext(ctx)
	grp.SetLimit(workers)
	var (
		mu  sync.Mutex // orders a record's store write and its journal line
		ran int
	)
	for _, t := range todo {
		if gctx.Err() != nil {
			break
		}
		grp.Go(func() error {
			o, err := work(gctx, t)
			if err != nil {
				return err
			}
			if gctx.Err() != nil {
				return nil // interrupted: done again next run
			}
			if o.Class == "" {
				o.Class = Final
			}
			r := Record{Run: opts.Run, Kind: opts.Kind, Key: t.Key, Input: t.Input, Class: o.Class, Status: o.Status, Payload: o.Payload}
			mu.Lock()
			defer mu.Unlock()
			// A finished outcome is kept even while the run is being
			// interrupted.
			if err := l.Put(context.WithoutCancel(gctx), r); err != nil {
				return fmt.Errorf("record %s %s: %w", opts.Kind, t.Key, err)
			}
			if j != nil {
				if err := j.Append(r.Payload); err != nil {
					return err
				}
			}
			ran++
			prog.Advance(1)
			return nil
		})
	}
	werr := grp.Wait()
	prog.Finish()
	st.Ran = ran
	if werr != nil {
		return st, werr
	}
	// Count over the ledger, so that the figures cover earlier runs too.
	if err := countInto(context.WithoutCancel(ctx), l, opts.Run, opts.Kind, wanted, &st); err != nil {
		return st, err
	}
	if j != nil {
		// The final journal holds each record once, in ledger order.
		if err := j.Close(); err != nil {
			return st, err
		}
		if err := rewriteJournal(context.WithoutCancel(ctx), opts.Journal, l, opts.Run, opts.Kind, wanted, false); err != nil {
			return st, err
		}
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("%w (%w)", ErrInterrupted, err)
	}
	return st, nil
}

func checkKeys[T any](tasks []Task[T]) error {
	seen := make(map[string]bool, len(tasks))
	for _, t := range tasks {
		if seen[t.Key] {
			return fmt.Errorf("batch: task key %q given twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func countInto(ctx context.Context, l Ledger, run, kind string, wanted map[string]string, st *Stats) error {
	st.ByStatus = map[string]int{}
	seen := 0
	err := l.Scan(ctx, run, kind, func(r Record) error {
		if in, ok := wanted[r.Key]; ok && in == r.Input {
			st.ByStatus[r.Status]++
			if r.Class == Retry {
				st.Retry++
			}
			seen++
		}
		return nil
	})
	st.Missing = len(wanted) - seen
	return err
}

// Each calls fn with every record of run and kind that stands for the
// input of one of tasks, in ledger order, streaming: only the tasks' keys
// are held in memory.
func Each[T any](ctx context.Context, l Ledger, run, kind string, tasks []Task[T], fn func(Record) error) error {
	wanted := wantedInputs(tasks)
	return l.Scan(ctx, run, kind, func(r Record) error {
		if in, ok := wanted[r.Key]; ok && in == r.Input {
			return fn(r)
		}
		return nil
	})
}
