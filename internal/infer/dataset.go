package infer

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"emer/internal/batch"
	"emer/internal/explain"
	"emer/internal/reply"
	"emer/internal/table"
)

// Kind is the batch kind of an explained clip.
const Kind = "infer"

// Clip is one clip to explain.
type Clip struct {
	Name string // the dataset's name for it (the file's base name for CLIP arguments)
	Path string // the media file
	// Subtitle is the clip's words as the dataset gives them; empty means
	// the explainer looks for a subtitle track or a sidecar file, or
	// transcribes the speech when it can.
	Subtitle string
}

// Explainer explains one clip. Implementations are safe for concurrent
// use. An error is the clip's failure; a model call that got no reply
// (an *explain.StepError not holding a *reply.Failure) is tried again on
// the next run.
type Explainer interface {
	Explain(ctx context.Context, c Clip) (*explain.Explanation, error)
}

// Statuses of an explained clip.
const (
	StatusOK    = "ok"
	StatusError = "error"         // the clip could not be explained (broken media, unusable reply)
	StatusRetry = "request_error" // the model server did not answer: tried again next run
)

// Line is one line of the JSONL journal: the clip's name, its status and,
// when it is ok, its explanation (as `emer infer --json` prints it).
type Line struct {
	Name        string               `json:"name"`
	Status      string               `json:"status"`
	Error       string               `json:"error,omitempty"`
	Explanation *explain.Explanation `json:"explanation,omitempty"`
}

// DatasetOptions describe a dataset run.
type DatasetOptions struct {
	// Dataset is an EMER CSV: a names (or name) column and the subtitles
	// in subtitles, engsubs or chisubs (chisubs first when Lang is zh).
	Dataset string
	Media   string // the folder holding the clips, found by name
	Lang    string
	// Out is the names,reasons CSV; Openset, when set, the name,openset
	// CSV; Journal the JSONL of every clip's line.
	Out, Openset, Journal string
	Workers               int
	// Settings are those of the explanations: a clip explained under
	// other settings is explained again.
	Settings Settings
	// BaseURL and ASRURL are the model and speech-to-text servers of a
	// run on one machine, part of its clips' input as they always were: a
	// clip explained through another server is explained again. A queued
	// run leaves them out, its clips going to whichever workers' servers.
	BaseURL, ASRURL string
	Run             string // the run's identity in the ledger
	Progress        batch.Progress

	// Queue, when set, has the clips explained by workers (emer worker
	// processes, or the caller's own worker): what is left is queued on
	// it with absolute media paths, and RunDataset waits until none of
	// the run's items is outstanding, looking every Poll (0:
	// batch.DefaultPoll). Workers is not used then. Notify is told, while
	// the run waits, what the user should know (no worker alive; see
	// batch.Distribute).
	Queue  batch.Queue
	Poll   time.Duration
	Notify func(msg string)
}

// ReadDataset reads the clips of an EMER CSV and finds their media. A clip
// whose media is missing is returned in missing, not as an error: the run
// reports it and goes on with the others.
func ReadDataset(path, mediaDir, lang string) (clips []Clip, missing map[string]error, err error) {
	t, err := table.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	cols := []string{"subtitles", "engsubs", "chisubs", "subtitle"}
	if lang == "zh" {
		cols = []string{"chisubs", "subtitles", "subtitle", "engsubs"}
	}
	subCol := ""
	for _, c := range cols {
		if t.Has(c) {
			subCol = c
			break
		}
	}
	if subCol == "" {
		return nil, nil, fmt.Errorf("%s: no subtitle column (one of %s)", path, strings.Join(cols, ", "))
	}
	subs := t.Map(subCol)
	missing = map[string]error{}
	for _, name := range t.Names() {
		p, err := FindMedia(mediaDir, name)
		if err != nil {
			missing[name] = err
			continue
		}
		clips = append(clips, Clip{Name: name, Path: p, Subtitle: subs[name]})
	}
	return clips, missing, nil
}

// Report is what a dataset run did.
type Report struct {
	batch.Stats
	Missing map[string]error // clips without media
	Failed  []Line           // clips that failed, with their reason
}

// RunDataset explains every clip of the dataset that the ledger does not
// hold as explained under these settings, and writes the output files
// from the ledger. It goes on past a broken clip; the report says which
// failed and why. With opts.Queue the clips are explained by workers and
// ex is not used.
func RunDataset(ctx context.Context, l batch.Ledger, opts DatasetOptions, ex Explainer) (*Report, error) {
	media := opts.Media
	settings, err := opts.Settings.localKey(opts.BaseURL, opts.ASRURL)
	if opts.Queue != nil {
		if media, err = filepath.Abs(media); err != nil {
			return nil, err
		}
		settings, err = queueKey(opts.Settings)
	}
	if err != nil {
		return nil, err
	}
	clips, missing, err := ReadDataset(opts.Dataset, media, opts.Lang)
	if err != nil {
		return nil, err
	}
	tasks := make([]batch.Task[Item], 0, len(clips))
	for _, c := range clips {
		m, err := statMedia(c.Path)
		if err != nil {
			missing[c.Name] = err
			continue
		}
		it := Item{Name: c.Name, Path: c.Path, Size: m.size, ModTime: m.modTime, Subtitle: c.Subtitle, Settings: opts.Settings}
		tasks = append(tasks, batch.Task[Item]{Key: c.Name, Input: inputDigest(settings, c.Path, m, c.Subtitle), Value: it})
	}
	bo := batch.Options{
		Run: opts.Run, Kind: Kind, Workers: opts.Workers, Journal: opts.Journal,
		Progress: opts.Progress, Describe: "explaining", Notify: opts.Notify,
	}
	var (
		st     batch.Stats
		runErr error
	)
	if opts.Queue != nil {
		st, runErr = batch.Distribute(ctx, l, opts.Queue, bo, opts.Poll, tasks, func(t batch.Task[Item]) ([]byte, error) {
			return json.Marshal(t.Value)
		})
	} else {
		st, runErr = batch.Run(ctx, l, bo, tasks, func(ctx context.Context, t batch.Task[Item]) (batch.Outcome, error) {
			return ExplainClip(ctx, ex, t.Value.Clip()), nil
		})
	}
	rep := &Report{Stats: st, Missing: missing}
	if runErr != nil && !errors.Is(runErr, batch.ErrInterrupted) {
		return rep, runErr
	}
	if err := writeOutputs(context.WithoutCancel(ctx), l, opts, tasks, rep); err != nil {
		return rep, err
	}
	return rep, runErr
}

// ExplainClip explains c with ex and returns the outcome a dataset run
// records: the clip's Line, of class Retry when a model call got no reply
// (tried again), Final otherwise (an explanation, or a failure that
// stands). A run on one machine and a worker make their outcomes with it
// alike.
// UnreadClip is the outcome of a clip whose media a worker could not read
// as it was queued (err): of class Retry, so that the item goes back to
// the queue for other workers and the next run tries it again, with the
// reason as its error.
func UnreadClip(name string, err error) batch.Outcome {
	b, merr := json.Marshal(Line{Name: name, Status: StatusError, Error: err.Error()})
	if merr != nil {
		b, _ = json.Marshal(Line{Name: name, Status: StatusError, Error: "media not readable as queued"})
	}
	return batch.Outcome{Class: batch.Retry, Status: StatusError, Payload: b}
}

// ExplainClip explains c with ex and returns its outcome (ClipOutcome).
func ExplainClip(ctx context.Context, ex Explainer, c Clip) batch.Outcome {
	e, err := ex.Explain(ctx, c)
	return ClipOutcome(c, e, err)
}

// ClipOutcome is the outcome of c explained as e, or failed with err: a
// model call or a transcription that got no reply is of class Retry,
// tried again by the next run; every other result stands.
func ClipOutcome(c Clip, e *explain.Explanation, err error) batch.Outcome {
	line := Line{Name: c.Name, Status: StatusOK, Explanation: e}
	class := batch.Final
	if err != nil {
		line = Line{Name: c.Name, Status: StatusError, Error: err.Error()}
		if noReply(err) {
			line.Status, class = StatusRetry, batch.Retry
		}
	}
	b, err := json.Marshal(line)
	if err != nil {
		b, _ = json.Marshal(Line{Name: c.Name, Status: StatusError, Error: "encode explanation: " + err.Error()})
		class, line.Status = batch.Final, StatusError
	}
	return batch.Outcome{Class: class, Status: line.Status, Payload: b}
}

// noReply reports whether err is a model call that got no reply (the
// server failed, timed out or could not be reached), as opposed to a reply
// that could not be used or a clip that could not be read: the first is
// tried again on the next run, the others stand.
func noReply(err error) bool {
	if errors.Is(err, ErrNoTranscript) {
		return true
	}
	var step *explain.StepError
	if !errors.As(err, &step) {
		return false
	}
	var unusable *reply.Failure
	return !errors.As(err, &unusable)
}

// writeOutputs writes Out and Openset from the ledger, one row per clip
// explained, and collects the failures into rep.
func writeOutputs(ctx context.Context, l batch.Ledger, opts DatasetOptions, tasks []batch.Task[Item], rep *Report) error {
	var reasons, openset [][2]string
	err := batch.Each(ctx, l, opts.Run, Kind, tasks, func(r batch.Record) error {
		var line Line
		if err := json.Unmarshal(r.Payload, &line); err != nil {
			return fmt.Errorf("stored line of %s: %w", r.Key, err)
		}
		if line.Status != StatusOK || line.Explanation == nil {
			rep.Failed = append(rep.Failed, Line{Name: line.Name, Status: line.Status, Error: line.Error})
			return nil
		}
		reasons = append(reasons, [2]string{r.Key, line.Explanation.Reasoning})
		openset = append(openset, [2]string{r.Key, formatLabels(line.Explanation.OVLabels)})
		return nil
	})
	if err != nil {
		return err
	}
	if opts.Out != "" {
		if err := writeCSV(opts.Out, [2]string{"names", "reasons"}, reasons); err != nil {
			return err
		}
	}
	if opts.Openset != "" {
		if err := writeCSV(opts.Openset, [2]string{"name", "openset"}, openset); err != nil {
			return err
		}
	}
	return nil
}

// formatLabels writes a label list as the released openset files do:
// "['happy', 'excited']".
func formatLabels(ls []string) string {
	q := make([]string, len(ls))
	for i, l := range ls {
		q[i] = "'" + strings.ReplaceAll(l, "'", "") + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func writeCSV(path string, header [2]string, rows [][2]string) error {
	return batch.ReplaceFile(path, func(w *bufio.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header[:]); err != nil {
			return err
		}
		for _, r := range rows {
			if err := cw.Write(r[:]); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
