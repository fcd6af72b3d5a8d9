package batch

import (
	"context"
	"fmt"
	"time"
)

// Item is a task as a Queue holds it: its key, the digest of its input,
// and the kind's JSON form of everything its work needs, so that a worker
// in another process can do it from the item alone.
type Item struct {
	Key     string
	Input   string
	Payload []byte
}

// Queue hands the items of a run to workers, in this process or in
// others, which record each item's outcome in the run's Ledger.
// Implementations are safe for concurrent use.
type Queue interface {
	// Enqueue makes items of run and kind available to workers. An item
	// already queued or held by a worker for the same input is not
	// queued again.
	Enqueue(ctx context.Context, run, kind string, items []Item) error
	// Outstanding returns how many items of run and kind are queued or
	// held by a worker: not yet finished.
	Outstanding(ctx context.Context, run, kind string) (int, error)
}

// Workers is a Queue that can tell how many workers are alive to take
// items of a kind. Distribute then says when none is.
type Workers interface {
	Workers(ctx context.Context, kind string) (int, error)
}

// DefaultPoll is how often Distribute looks at a queue by default.
const DefaultPoll = time.Second

// idlePolls is how many looks in a row at a queue whose items no worker
// alive takes, and of which none was done, before Distribute says so.
const idlePolls = 5

// Distribute is Run for work done by others: it queues on q every task
// that the ledger does not hold as done, as encode gives it, and waits
// until the queue holds none of the run's items, looking every poll
// (0: DefaultPoll) and reporting progress. Then, as Run does, it counts
// the records over all tasks and rewrites opts.Journal from the ledger
// (also when ctx ends first, with ErrInterrupted). opts.Workers is not
// used: the workers are whoever serves the queue.
//
// A task whose item left the queue without a record standing for its
// input (a worker gave up on it) is counted Missing.
//
// When q is also Workers and opts.Notify is set, Distribute tells Notify
// once when, for idlePolls looks in a row, no worker was alive to take
// the kind's items and none was done (say, a run waiting with no worker
// started); again after a worker came and went.
func Distribute[T any](ctx context.Context, l Ledger, q Queue, opts Options, poll time.Duration, tasks []Task[T], encode func(Task[T]) ([]byte, error)) (Stats, error) {
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
	if opts.Journal != "" {
		// Mend a line torn by a crash before anything else reads it.
		if err := rewriteJournal(ctx, opts.Journal, l, opts.Run, opts.Kind, wanted, true); err != nil {
			return st, err
		}
	}
	items := make([]Item, 0, len(todo))
	for _, t := range todo {
		p, err := encode(t)
		if err != nil {
			return st, fmt.Errorf("queue %s %s: %w", opts.Kind, t.Key, err)
		}
		items = append(items, Item{Key: t.Key, Input: t.Input, Payload: p})
	}
	if len(items) > 0 {
		if err := q.Enqueue(ctx, opts.Run, opts.Kind, items); err != nil {
			return st, err
		}
	}
	items = nil

	prog := opts.Progress
	if prog == nil {
		prog = Silent{}
	}
	desc := opts.Describe
	if desc == "" {
		desc = opts.Kind
	}
	if poll <= 0 {
		poll = DefaultPoll
	}
	prog.Start(desc, len(todo))
	werr := wait(ctx, q, opts, len(todo), poll, prog)
	prog.Finish()
	if werr != nil && ctx.Err() == nil {
		return st, werr
	}

	bg := context.WithoutCancel(ctx)
	if err := countInto(bg, l, opts.Run, opts.Kind, wanted, &st); err != nil {
		return st, err
	}
	// Ran counts the queued tasks that now have a record.
	queued := wantedInputs(todo)
	err = l.Scan(bg, opts.Run, opts.Kind, func(r Record) error {
		if in, ok := queued[r.Key]; ok && in == r.Input {
			st.Ran++
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if opts.Journal != "" {
		if err := rewriteJournal(bg, opts.Journal, l, opts.Run, opts.Kind, wanted, false); err != nil {
			return st, err
		}
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("%w (%w)", ErrInterrupted, err)
	}
	return st, nil
}

// wait returns once q holds no item of opts.Run and opts.Kind, advancing
// prog as the count of the n queued falls.
func wait(ctx context.Context, q Queue, opts Options, n int, poll time.Duration, prog Progress) error {
	reported := 0
	t := time.NewTicker(poll)
	defer t.Stop()
	wq, _ := q.(Workers)
	idle, told := 0, false
	for {
		left, err := q.Outstanding(ctx, opts.Run, opts.Kind)
		if err != nil {
			return err
		}
		moved := false
		if done := min(max(n-left, 0), n); done > reported {
			prog.Advance(done - reported)
			reported, moved = done, true
		}
		if left == 0 {
			return nil
		}
		if wq != nil && opts.Notify != nil {
			live, err := wq.Workers(ctx, opts.Kind)
			switch {
			case err != nil:
				return err
			case live > 0 || moved:
				idle, told = 0, false
			default:
				if idle++; idle >= idlePolls && !told {
					opts.Notify(fmt.Sprintf("no worker is alive to take the %d %s items left: start emer worker processes on the same store (the items stay queued)", left, opts.Kind))
					told = true
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
