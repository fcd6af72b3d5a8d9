package summarize

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"emer/internal/batch"
	"emer/internal/dataset"
)

// Kind is the batch kind of a summarized clip.
const Kind = "summarize"

// Drafter is who the drafts are by in the review history.
const Drafter = "emer build summarize"

// RunOptions set up a dataset run, by Run or Distribute.
type RunOptions struct {
	Run string // the run's identity in the ledger
	// Workers is how many clips Run summarizes at once.
	Workers int
	// Journal is the JSONL file of every clip's Result (steps.jsonl).
	Journal  string
	Progress batch.Progress
	// Settings identify, for Run, what else the replies depend on (model,
	// server, sampling): a clip summarized under other settings is done
	// again. A shared run's settings are those of its Spec.
	Settings string
	// Now stamps the review changes; time.Now when nil.
	Now func() time.Time
	// Poll is how often Distribute looks at its queue; 0:
	// batch.DefaultPoll. Notify is told, while Distribute waits, what the
	// user should know (no worker alive; see batch.Distribute).
	Poll   time.Duration
	Notify func(msg string)
}

// Report is what a dataset run did.
type Report struct {
	batch.Stats
	// Results holds the outcome of every clip that has one, by name.
	Results []Result
	// Drafted counts the review changes the run made: drafts new or
	// changed since the last run.
	Drafted int
}

// clipInput is the digest of what summarizing c reads: the settings, the
// prompts (by their digest, PromptsSHA256) and the clue paragraphs.
func clipInput(settings, prompts string, c Clip) string {
	h := sha256.New()
	for _, s := range append([]string{settings, prompts}, c.Descriptions...) {
		fmt.Fprintf(h, "%d\x00%s\x00", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Outcome summarizes c and returns its result as a batch outcome: a clip
// that got no reply (StatusRetry) is of class Retry, every other result
// stands. A run on one machine and a worker make their outcomes with it
// alike.
func (s *Summarizer) Outcome(ctx context.Context, c Clip) (batch.Outcome, error) {
	res := s.Summarize(ctx, c)
	b, err := json.Marshal(res)
	if err != nil {
		return batch.Outcome{}, fmt.Errorf("encode the result of %s: %w", c.Name, err)
	}
	class := batch.Final
	if res.Status == StatusRetry {
		class = batch.Retry
	}
	return batch.Outcome{Class: class, Status: res.Status, Payload: b}, nil
}

// Run summarizes every clip that the ledger does not hold as done for its
// input, then puts the draft of every clip with an outcome into review
// (a clip marked for review starts pending with its reasons; a draft
// already in review is left as it is). It goes on past a clip whose
// replies are unusable; a clip whose server gave no reply is done again
// on the next run. When interrupted it still records the drafts finished
// and returns batch.ErrInterrupted.
func Run(ctx context.Context, l batch.Ledger, reviews dataset.ReviewStore, s *Summarizer, clips []Clip, opts RunOptions) (*Report, error) {
	tasks := make([]batch.Task[Clip], len(clips))
	prompts := PromptsSHA256()
	for i, c := range clips {
		tasks[i] = batch.Task[Clip]{Key: c.Name, Input: clipInput(opts.Settings, prompts, c), Value: c}
	}
	st, runErr := batch.Run(ctx, l, batch.Options{
		Run: opts.Run, Kind: Kind, Workers: opts.Workers, Journal: opts.Journal,
		Progress: opts.Progress, Describe: "summarizing",
	}, tasks, func(ctx context.Context, t batch.Task[Clip]) (batch.Outcome, error) {
		return s.Outcome(ctx, t.Value)
	})
	return collect(ctx, l, reviews, tasks, opts, st, runErr)
}

// collect reads the results of tasks from the ledger once the run that
// made them ended (with runErr) and puts their drafts into review.
func collect[T any](ctx context.Context, l batch.Ledger, reviews dataset.ReviewStore, tasks []batch.Task[T], opts RunOptions, st batch.Stats, runErr error) (*Report, error) {
	rep := &Report{Stats: st}
	if runErr != nil && !errors.Is(runErr, batch.ErrInterrupted) {
		return rep, runErr
	}
	ctx = context.WithoutCancel(ctx)
	err := batch.Each(ctx, l, opts.Run, Kind, tasks, func(r batch.Record) error {
		var res Result
		if err := json.Unmarshal(r.Payload, &res); err != nil {
			return fmt.Errorf("stored result of %s: %w", r.Key, err)
		}
		rep.Results = append(rep.Results, res)
		return nil
	})
	if err != nil {
		return rep, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if rep.Drafted, err = draft(ctx, reviews, rep.Results, now()); err != nil {
		return rep, err
	}
	return rep, runErr
}

// draft puts the drafts of results into review in one transaction, and
// returns how many reviews it changed. A change that meets a review
// changed meanwhile (by a reviewer at work) is planned again.
func draft(ctx context.Context, reviews dataset.ReviewStore, results []Result, at time.Time) (int, error) {
	for attempt := 0; ; attempt++ {
		cur, err := reviews.Reviews(ctx)
		if err != nil {
			return 0, err
		}
		byClip := make(map[string]*dataset.Review, len(cur))
		for i := range cur {
			byClip[cur[i].Clip] = &cur[i]
		}
		var changes []dataset.Change
		for _, res := range results {
			if res.Status == StatusRetry {
				continue
			}
			if c, ok := dataset.DraftChange(byClip[res.Name], res.Name, res.Description, res.Review, Drafter, at); ok {
				changes = append(changes, c)
			}
		}
		if len(changes) == 0 {
			return 0, nil
		}
		err = reviews.ApplyReviews(ctx, changes)
		if errors.Is(err, dataset.ErrReviewConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("put the drafts into review: %w", err)
		}
		return len(changes), nil
	}
}

// DescriptionColumns are the columns of descriptions.csv, the EMER-V1
// layout.
var DescriptionColumns = []string{"names", "emotions", "subtitles", "reasons"}

// WriteDescriptions writes the clips of results whose every reply was
// usable as an EMER-V1 CSV (names, emotions, subtitles, reasons) at path,
// replacing it atomically; subtitles gives each clip's subtitle (none:
// empty). Clips marked for review are left out: their drafts are in
// review.
func WriteDescriptions(path string, results []Result, subtitles map[string]string) error {
	return writeCSV(path, DescriptionColumns, results, func(r Result) []string {
		return []string{r.Name, r.Emotions, subtitles[r.Name], r.Description}
	})
}

// WriteOpenset writes the labels of the same clips as WriteDescriptions as
// a name,openset CSV at path, each list as the released openset files
// write it: "['happy', 'excited']".
func WriteOpenset(path string, results []Result) error {
	return writeCSV(path, []string{"name", "openset"}, results, func(r Result) []string {
		return []string{r.Name, FormatLabels(r.Openset)}
	})
}

func writeCSV(path string, header []string, results []Result, row func(Result) []string) error {
	return batch.ReplaceFile(path, func(w *bufio.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		for _, r := range results {
			if r.Status != StatusOK {
				continue
			}
			if err := cw.Write(row(r)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

// FormatLabels writes a label list as the released openset files do.
func FormatLabels(ls []string) string {
	q := make([]string, len(ls))
	for i, l := range ls {
		q[i] = "'" + strings.ReplaceAll(l, "'", "") + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}
