package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"emer/internal/dataset"
	"emer/internal/dataset/reviewtest"
)

func TestReviewsContract(t *testing.T) {
	reviewtest.Run(t, func(t *testing.T) dataset.ReviewStore {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "emer.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return NewReviews(s)
	})
}

func TestReviewSchemaVersion(t *testing.T) {
	if migrations[reviewVersion-1].sql != reviewSchema {
		t.Errorf("migration %d is not the review schema", reviewVersion)
	}
}

// Reviews outlive the process: they read back the same from the file,
// read-only too; a read-only store refuses changes.
func TestReviewsReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := dataset.DraftChange(nil, "clip", "a draft", []string{"labels: none"}, "emer build summarize", time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC))
	if err := NewReviews(s).ApplyReviews(ctx, []dataset.Change{c}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := NewReviews(ro).Reviews(ctx)
	if err != nil || len(got) != 1 || !got[0].Equal(c.After) {
		t.Fatalf("read-only reviews = %+v, %v; want %+v", got, err, c.After)
	}
	next, _ := dataset.DraftChange(&got[0], "clip", "another", nil, "emer build summarize", time.Now())
	if err := NewReviews(ro).ApplyReviews(ctx, []dataset.Change{next}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("ApplyReviews on a read-only store = %v, want ErrReadOnly", err)
	}
}
