package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/study"
	"emer/internal/study/studytest"
)

func TestStudiesContract(t *testing.T) {
	c := pgtest.Shared(t)
	studytest.Run(t, func(t *testing.T) study.Store { return open(t, c.NewDatabase(t)).Studies() })
}

func TestSchemaVersions(t *testing.T) {
	for v, table := range map[int]string{
		pgstore.StudyVersion:      "CREATE TABLE emer_studies ",
		pgstore.ReviewVersion:     "CREATE TABLE emer_reviews ",
		pgstore.AnnotationVersion: "CREATE TABLE emer_annotations ",
	} {
		if !strings.HasPrefix(pgstore.Migration(v), table) {
			t.Errorf("migration %d does not begin with %s", v, table)
		}
	}
}

// A study and its ratings read back the same from another connection
// to the database (another emer serve, or the same one restarted),
// read-only too.
func TestStudiesReopened(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).NewDatabase(t)
	clock := studytest.NewClock()
	s := open(t, url)
	svc := study.NewService(s.Studies(), time.Hour, clock.Now)
	made, err := svc.Create(ctx, studytest.Draft("reopen", 2, 3, "alpha", "beta"))
	if err != nil {
		t.Fatal(err)
	}
	if made.ID != 1 {
		t.Errorf("the first study has ID %d, want 1", made.ID)
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
		clock.Advance(time.Second + 1234*time.Nanosecond)
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
	s.Close()

	for _, readOnly := range []bool{false, true} {
		s2, err := pgstore.Open(ctx, url, pgstore.Options{ReadOnly: readOnly})
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		svc2 := study.NewService(s2.Studies(), time.Hour, clock.Now)
		after, err := svc2.Progress(ctx, made.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("read-only %v: progress (-before +after):\n%s", readOnly, diff)
		}
		ratings2, err := svc2.Ratings(ctx, made.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ratings, ratings2); diff != "" {
			t.Errorf("read-only %v: ratings (-before +after):\n%s", readOnly, diff)
		}
		if len(ratings) != 6 {
			t.Errorf("%d ratings, want 6", len(ratings))
		}
		r, err := svc2.Rater(ctx, inv[1].Token)
		if err != nil || r.Label != "bob" {
			t.Errorf("read-only %v: rater of bob's token: %+v, %v", readOnly, r, err)
		}
		if readOnly {
			if _, err := svc2.Next(ctx, inv[0].Rater); !errors.Is(err, pgstore.ErrReadOnly) {
				t.Errorf("Next on a read-only store: %v, want ErrReadOnly", err)
			}
			continue
		}
		again, err := svc2.Next(ctx, inv[0].Rater)
		if err != nil || again.Task == nil || again.Task.Clip != held.Task.Clip {
			t.Errorf("the hold did not survive reopening: %+v, %v", again, err)
		}
	}
}

// A read-only store of a database without emer's schema holds no study.
func TestStudiesReadOnlyEmpty(t *testing.T) {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgtest.Shared(t).NewEmptyDatabase(t), pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := study.NewService(s.Studies(), 0, nil)
	if sts, err := svc.Studies(ctx); err != nil || len(sts) != 0 {
		t.Errorf("Studies = %v, %v; want none", sts, err)
	}
	if _, err := svc.Create(ctx, studytest.Draft("x", 1, 1, "alpha")); !errors.Is(err, pgstore.ErrReadOnly) {
		t.Errorf("Create on a read-only store: %v, want ErrReadOnly", err)
	}
}

// Raters of one study served by two processes at once: no clip is ever
// held or rated by more raters than its target, and every submission
// acknowledged is stored once.
func TestStudiesTwoServers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).NewDatabase(t)
	a, b := open(t, url), open(t, url)
	const clips, target, raters = 6, 2, 16
	mk := study.NewService(a.Studies(), time.Hour, nil)
	st, err := mk.Create(ctx, studytest.Draft("shared", target, clips, "alpha", "beta"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := mk.Invite(ctx, st.ID, make([]string, raters))
	if err != nil {
		t.Fatal(err)
	}
	svcs := []*study.Service{study.NewService(a.Studies(), time.Hour, nil), study.NewService(b.Studies(), time.Hour, nil)}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		rated = map[string]int{}
		busy  int
	)
	for i, in := range inv {
		wg.Go(func() {
			svc := svcs[i%2]
			for {
				s, err := svc.Next(ctx, in.Rater)
				if err != nil {
					t.Error(err)
					return
				}
				if s.Task == nil {
					if s.None.Busy {
						mu.Lock()
						busy++
						mu.Unlock()
					}
					return
				}
				if err := svc.Submit(ctx, in.Rater, s.Task.Clip, studytest.Scores(3, 2)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				rated[s.Task.Clip]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	p, err := mk.Progress(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Done != clips*target {
		t.Errorf("%d ratings done, want %d", p.Done, clips*target)
	}
	for _, c := range p.Clips {
		if c.Done != target || rated[c.Clip.ID] != target {
			t.Errorf("clip %s: %d done, %d acknowledged; want %d", c.Clip.Name, c.Done, rated[c.Clip.ID], target)
		}
	}
	rs, err := mk.Ratings(ctx, st.ID)
	if err != nil || len(rs) != clips*target*3 {
		t.Errorf("%d ratings stored (%v), want %d", len(rs), err, clips*target*3)
	}
}

// A rating submitted while PostgreSQL restarts is stored once the
// database is back; the call waits for it rather than failing.
func TestStudiesDatabaseRestart(t *testing.T) {
	ctx := context.Background()
	cluster := pgtest.New(t)
	s := open(t, cluster.NewDatabase(t))
	svc := study.NewService(s.Studies(), time.Hour, nil)
	st, err := svc.Create(ctx, studytest.Draft("restart", 1, 2, "alpha"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := svc.Invite(ctx, st.ID, []string{"ann"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := svc.Next(ctx, inv[0].Rater)
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Submit(ctx, inv[0].Rater, n.Task.Clip, studytest.Scores(2, 4)) }()
	select {
	case err := <-done:
		t.Fatalf("Submit returned while the database was down: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Submit across the restart: %v", err)
	}
	rs, err := svc.Ratings(ctx, st.ID)
	if err != nil || len(rs) != 2 {
		t.Errorf("%d ratings after the restart (%v), want 2", len(rs), err)
	}
}

// A writing transaction whose connection is lost before its commit is
// known to be aborted, and runs again: what it writes is there once.
func TestUpdateRerunAfterLostConnection(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).NewDatabase(t)
	s := open(t, url)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE TABLE t (n integer)`); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err = pgstore.UpdateTx(ctx, s, func(ctx context.Context, tx pgx.Tx) error {
		runs++
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`); err != nil {
			return err
		}
		if runs == 1 {
			// The connection goes away under the transaction.
			var pid int
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
				return fmt.Errorf("terminate: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 || runs != 2 {
		t.Errorf("%d rows (%v) after %d runs; want 1 after 2", n, err, runs)
	}
	// The lookup that tells a commit that happened from one that did not.
	var committed, aborted string
	tx, _ := admin.Begin(ctx)
	tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&committed)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tx, _ = admin.Begin(ctx)
	tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&aborted)
	tx.Rollback(ctx)
	for xid, want := range map[string]bool{committed: true, aborted: false} {
		if got, err := pgstore.Committed(ctx, s, xid); err != nil || got != want {
			t.Errorf("Committed(%s) = %v, %v; want %v", xid, got, err, want)
		}
	}
}
