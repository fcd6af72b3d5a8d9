package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/study"
	"emer/internal/study/studytest"
)

func openStudies(t *testing.T, path string) (*Store, *Studies) {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStudies(s)
	t.Cleanup(func() { st.Close(); s.Close() })
	return s, st
}

func TestStudiesContract(t *testing.T) {
	studytest.Run(t, func(t *testing.T) study.Store {
		_, st := openStudies(t, filepath.Join(t.TempDir(), "emer.db"))
		return st
	})
}

func TestStudySchemaVersion(t *testing.T) {
	if migrations[studyVersion-1].sql != studySchema {
		t.Errorf("migration %d is not the study schema", studyVersion)
	}
}

// A study and its ratings are read back the same after the database is
// closed and opened again.
func TestStudiesReopened(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	clock := studytest.NewClock()
	s, st := openStudies(t, path)
	svc := study.NewService(st, time.Hour, clock.Now)
	made, err := svc.Create(ctx, studytest.Draft("reopen", 2, 3, "alpha", "beta"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := svc.Invite(ctx, made.ID, []string{"ann", "bob"})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range inv {
		n, err := svc.Next(ctx, i.Rater)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Submit(ctx, i.Rater, n.Task.Clip, []study.Score{1, 3, 4}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	held, err := svc.Next(ctx, inv[0].Rater)
	if err != nil {
		t.Fatal(err)
	}
	before, err := svc.Progress(ctx, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	ratings, err := svc.Ratings(ctx, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	s.Close()

	_, st2 := openStudies(t, path)
	svc2 := study.NewService(st2, time.Hour, clock.Now)
	after, err := svc2.Progress(ctx, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("progress after reopening (-before +after):\n%s", diff)
	}
	ratings2, err := svc2.Ratings(ctx, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ratings, ratings2); diff != "" {
		t.Errorf("ratings after reopening (-before +after):\n%s", diff)
	}
	if len(ratings) != 6 {
		t.Errorf("%d ratings, want 6", len(ratings))
	}
	r, err := svc2.Rater(ctx, inv[1].Token)
	if err != nil || r.Label != "bob" {
		t.Errorf("rater of bob's token: %+v, %v", r, err)
	}
	again, err := svc2.Next(ctx, inv[0].Rater)
	if err != nil || again.Task == nil || again.Task.Clip != held.Task.Clip {
		t.Errorf("the hold did not survive reopening: %+v, %v", again, err)
	}
}
