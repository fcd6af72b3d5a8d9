package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Migration returns emer's migration of schema version v.
func Migration(v int) string { return migrations[v-1] }

// The schema versions of the studies, the review state and the
// annotations.
const (
	StudyVersion      = studyVersion
	ReviewVersion     = reviewVersion
	AnnotationVersion = annotationVersion
)

// UpdateTx runs fn as the studies' writing transactions run.
func UpdateTx(ctx context.Context, s *Store, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.inTx(ctx, "test", lockedTx, fn)
}

// Committed reports whether the transaction xid was committed.
func Committed(ctx context.Context, s *Store, xid string) (bool, error) { return s.committed(ctx, xid) }

// SetBeforeCommit has f run in each transaction of s just before its
// commit (nil: nothing).
func SetBeforeCommit(s *Store, f func(ctx context.Context, tx pgx.Tx) error) { s.beforeCommit = f }
