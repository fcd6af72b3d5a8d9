package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"emer/internal/dataset"
	"emer/internal/web"
	"emer/internal/web/webtest"
)

func TestReviewerSchemaVersion(t *testing.T) {
	if migrations[reviewerVersion-1].sql != reviewerSchema {
		t.Errorf("migration %d is not the reviewer schema", reviewerVersion)
	}
}

func openReviews(t *testing.T, path string) *Reviews {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return NewReviews(s)
}

// The reviewers and checks of the review state, as every web.ReviewStore
// keeps them.
func TestReviewStoreContract(t *testing.T) {
	webtest.ReviewStoreContract(t, func(t *testing.T) (web.ReviewStore, func() web.ReviewStore) {
		path := filepath.Join(t.TempDir(), "emer.db")
		r := openReviews(t, path)
		return r, func() web.ReviewStore {
			r.s.Close()
			return openReviews(t, path)
		}
	})
}

// A read-only store of schema 5 reads its reviews but has no reviewers.
func TestReviewersOldSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	r := openReviews(t, path)
	c, _ := dataset.DraftChange(nil, "c1", "a draft", nil, "emer build summarize", time.Now())
	if err := r.ApplyReviews(ctx, []dataset.Change{c}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE reviewers`, `DROP TABLE review_checks`, `PRAGMA user_version = 5`} {
		if _, err := r.s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	r.s.Close()
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rr := NewReviews(ro)
	if rs, err := rr.Reviews(ctx); err != nil || len(rs) != 1 {
		t.Errorf("reviews of schema 5: %d, %v", len(rs), err)
	}
	if _, err := rr.Reviewers(ctx); err == nil {
		t.Error("reviewers of schema 5: no error")
	}
	if _, _, err := rr.InviteReviewer(ctx, "ann", [32]byte{1}, time.Now()); !errors.Is(err, ErrReadOnly) {
		t.Errorf("invite on a read-only store: %v, want ErrReadOnly", err)
	}
}
