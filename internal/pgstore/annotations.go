package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"emer/internal/dataset"
)

// Annotations are the annotation records of one run kept in a Store, as
// the SQLite store keeps a folder's: a dataset.Store in a scope, the
// run's name, apart from those of any other run. It is safe for
// concurrent use, by any number of processes. A read-only store of a
// database without the annotations table reads as holding none.
type Annotations struct {
	s      *Store
	scope  string
	schema schemaCheck
}

var _ dataset.Store = (*Annotations)(nil)

// Annotations returns the annotation records of scope, the name of the
// run that keeps them (for emer build summarize, summarize:ABSOLUTE-OUT
// or its --run).
func (s *Store) Annotations(scope string) *Annotations { return &Annotations{s: s, scope: scope} }

// PutAnnotations implements dataset.Store: the records are stored in one
// transaction, a later one of a key replacing an earlier. A record whose
// aspect is none of EMER's four fails them all, with its position.
func (a *Annotations) PutAnnotations(ctx context.Context, recs []dataset.Annotation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.s.readOnly {
		return ErrReadOnly
	}
	var bad []string
	for _, r := range recs {
		if !slices.Contains(dataset.Aspects, r.Aspect) {
			bad = append(bad, fmt.Sprintf("%s: %s: aspect %.20q is not one of visual, audio, content, context", r.Pos, r.Key(), r.Aspect))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: %d annotation records not stored:\n  %s", a.s.name, len(bad), strings.Join(bad, "\n  "))
	}
	if len(recs) == 0 {
		return nil
	}
	// The last record of each key, in key order, so that writers at once
	// take the rows' locks in the same order.
	last := map[dataset.Key]int{}
	for i, r := range recs {
		last[r.Key()] = i
	}
	keep := make([]dataset.Annotation, 0, len(last))
	for i, r := range recs {
		if last[r.Key()] == i {
			keep = append(keep, r)
		}
	}
	dataset.SortAnnotations(keep)
	err := a.s.inTx(ctx, "store annotations", writeTx, func(ctx context.Context, tx pgx.Tx) error {
		// A batch of its own each time: one sent on a connection since
		// lost holds that connection's prepared statements.
		b := &pgx.Batch{}
		for _, r := range keep {
			b.Queue(`INSERT INTO emer_annotations (scope, clip, aspect, annotator, text, lang, file, line) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (scope, clip, aspect, annotator) DO UPDATE SET text = excluded.text, lang = excluded.lang,
				file = excluded.file, line = excluded.line`,
				a.scope, r.Clip, string(r.Aspect), r.Annotator, r.Text, r.Lang, r.Pos.File, r.Pos.Line)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("%s: store %d annotation records of %s: %w", a.s.name, len(keep), a.scope, err)
	}
	return nil
}

// Annotations implements dataset.Store.
func (a *Annotations) Annotations(ctx context.Context, clip string) ([]dataset.Annotation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ok, err := a.schema.tables(ctx, a.s, annotationVersion)
	if err != nil || !ok {
		return nil, err
	}
	var out []dataset.Annotation
	err = a.s.inTx(ctx, "read annotations", readTx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, func(row pgx.Row) (dataset.Annotation, error) {
			var r dataset.Annotation
			var aspect string
			err := row.Scan(&r.Clip, &aspect, &r.Annotator, &r.Text, &r.Lang, &r.Pos.File, &r.Pos.Line)
			r.Aspect = dataset.Aspect(aspect)
			return r, err
		}, `SELECT clip, aspect, annotator, text, lang, file, line FROM emer_annotations WHERE scope = $1 AND clip = $2`, a.scope, clip)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: read the annotation records of %s: %w", a.s.name, a.scope, err)
	}
	dataset.SortAnnotations(out)
	return out, nil
}
