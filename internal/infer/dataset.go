package infer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

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
	// Settings identify the explainer (backend, model, prompt, ...): a
	// clip explained under other settings is explained again.
	Settings string
	Run      string // the run's identity in the ledger
	Progress batch.Progress
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

// clipInput is the digest of what explaining c reads: the settings, the
// media file's identity (path, size, modification time) and the subtitle.
func clipInput(settings string, c Clip) (string, error) {
	st, err := os.Stat(c.Path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, s := range []string{settings, c.Path, fmt.Sprint(st.Size()), st.ModTime().UTC().Format("2006-01-02T15:04:05.000000000"), c.Subtitle} {
		fmt.Fprintf(h, "%d\x00%s\x00", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
// failed and why.
func RunDataset(ctx context.Context, l batch.Ledger, opts DatasetOptions, ex Explainer) (*Report, error) {
	clips, missing, err := ReadDataset(opts.Dataset, opts.Media, opts.Lang)
	if err != nil {
		return nil, err
	}
	tasks := make([]batch.Task[Clip], 0, len(clips))
	for _, c := range clips {
		in, err := clipInput(opts.Settings, c)
		if err != nil {
			missing[c.Name] = err
			continue
		}
		tasks = append(tasks, batch.Task[Clip]{Key: c.Name, Input: in, Value: c})
	}
	st, runErr := batch.Run(ctx, l, batch.Options{
		Run: opts.Run, Kind: Kind, Workers: opts.Workers, Journal: opts.Journal,
		Progress: opts.Progress, Describe: "explaining",
	}, tasks, func(ctx context.Context, t batch.Task[Clip]) (batch.Outcome, error) {
		return explainTask(ctx, ex, t.Value), nil
	})
	rep := &Report{Stats: st, Missing: missing}
	if runErr != nil && !errors.Is(runErr, batch.ErrInterrupted) {
		return rep, runErr
	}
	if err := writeOutputs(context.WithoutCancel(ctx), l, opts, tasks, rep); err != nil {
		return rep, err
	}
	return rep, runErr
}

func explainTask(ctx context.Context, ex Explainer, c Clip) batch.Outcome {
	e, err := ex.Explain(ctx, c)
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
	var step *explain.StepError
	if !errors.As(err, &step) {
		return false
	}
	var unusable *reply.Failure
	return !errors.As(err, &unusable)
}

// writeOutputs writes Out and Openset from the ledger, one row per clip
// explained, and collects the failures into rep.
func writeOutputs(ctx context.Context, l batch.Ledger, opts DatasetOptions, tasks []batch.Task[Clip], rep *Report) error {
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
