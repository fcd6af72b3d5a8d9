package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"emer/internal/dataset"
)

// annotationSchema holds annotation records (see dataset.Store): one row
// per clip, aspect and annotator ("" in files without an annotator
// column), with the file and line the record was read from.
const annotationSchema = `CREATE TABLE annotations (
		clip      TEXT    NOT NULL,
		aspect    TEXT    NOT NULL CHECK (aspect IN ('visual', 'audio', 'content', 'context')),
		annotator TEXT    NOT NULL,
		text      TEXT    NOT NULL,
		lang      TEXT    NOT NULL,
		file      TEXT    NOT NULL,
		line      INTEGER NOT NULL,
		PRIMARY KEY (clip, aspect, annotator)
	);`

// annotationVersion is the schema version that has the annotations table.
const annotationVersion = 7

var _ dataset.Store = (*Store)(nil)

// PutAnnotations implements dataset.Store: the records are stored in one
// transaction, a later one of a key replacing an earlier.
func (s *Store) PutAnnotations(ctx context.Context, recs []dataset.Annotation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return ErrReadOnly
	}
	var bad []string
	for _, r := range recs {
		if !slices.Contains(dataset.Aspects, r.Aspect) {
			bad = append(bad, fmt.Sprintf("%s: %s: aspect %.20q is not one of visual, audio, content, context", r.Pos, r.Key(), r.Aspect))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: %d annotation records not stored:\n  %s", s.path, len(bad), strings.Join(bad, "\n  "))
	}
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO annotations (clip, aspect, annotator, text, lang, file, line) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range recs {
		if _, err := st.ExecContext(ctx, r.Clip, string(r.Aspect), r.Annotator, r.Text, r.Lang, r.Pos.File, r.Pos.Line); err != nil {
			return fmt.Errorf("%s: store annotation %s: %w", s.path, r.Key(), err)
		}
	}
	return tx.Commit()
}

// Annotations implements dataset.Store. A read-only store of a schema
// older than the annotations table holds none.
func (s *Store) Annotations(ctx context.Context, clip string) ([]dataset.Annotation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.version < annotationVersion {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT clip, aspect, annotator, text, lang, file, line FROM annotations WHERE clip = ?`, clip)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dataset.Annotation
	for rows.Next() {
		var r dataset.Annotation
		var aspect string
		if err := rows.Scan(&r.Clip, &aspect, &r.Annotator, &r.Text, &r.Lang, &r.Pos.File, &r.Pos.Line); err != nil {
			return nil, err
		}
		r.Aspect = dataset.Aspect(aspect)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	dataset.SortAnnotations(out)
	return out, nil
}
