package batch

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// journal is a run's JSONL file of outcomes, open for appending.
type journal struct {
	f *os.File
}

// openJournal rebuilds path from the ledger's records that stand for
// wanted (so that a line torn by a crash, or a record stored but not yet
// written, is mended) and opens it for appending. Records of class Retry
// are left out: the run does them again and appends their new lines, so
// that the journal holds each item once even when the run stops before
// its end.
func openJournal(ctx context.Context, path string, l Ledger, run, kind string, wanted map[string]string) (*journal, error) {
	if err := rewriteJournal(ctx, path, l, run, kind, wanted, true); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &journal{f: f}, nil
}

// Append writes one line in one write call, so that a kill leaves whole
// lines only.
func (j *journal) Append(payload []byte) error {
	line := make([]byte, 0, len(payload)+1)
	line = append(append(line, payload...), '\n')
	_, err := j.f.Write(line)
	return err
}

func (j *journal) Close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// rewriteJournal replaces path, atomically, with one line per record of
// run and kind standing for wanted (only those of class Final when
// finalOnly), in ledger order.
func rewriteJournal(ctx context.Context, path string, l Ledger, run, kind string, wanted map[string]string, finalOnly bool) error {
	return ReplaceFile(path, func(w *bufio.Writer) error {
		return l.Scan(ctx, run, kind, func(r Record) error {
			if in, ok := wanted[r.Key]; !ok || in != r.Input || (finalOnly && r.Class != Final) {
				return nil
			}
			if _, err := w.Write(r.Payload); err != nil {
				return err
			}
			return w.WriteByte('\n')
		})
	})
}

// ReplaceFile writes path through write into a temporary file beside it
// and renames it into place once complete and synced, so that a reader
// never sees a half-written file.
func ReplaceFile(path string, write func(*bufio.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<16)
	if err := write(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
