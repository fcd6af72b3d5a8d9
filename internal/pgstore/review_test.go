package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"emer/internal/dataset"
	"emer/internal/dataset/reviewtest"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/web"
	"emer/internal/web/webtest"
)

var _ web.ReviewStore = (*pgstore.Reviews)(nil)

func TestReviewsContract(t *testing.T) {
	c := pgtest.Shared(t)
	reviewtest.Run(t, func(t *testing.T) dataset.ReviewStore { return open(t, c.NewDatabase(t)).Reviews("summarize:/runs/a") })
}

func TestReviewStoreContract(t *testing.T) {
	c := pgtest.Shared(t)
	webtest.ReviewStoreContract(t, func(t *testing.T) (web.ReviewStore, func() web.ReviewStore) {
		url := c.NewDatabase(t)
		s := open(t, url)
		return s.Reviews("summarize:/runs/a"), func() web.ReviewStore {
			s.Close()
			return open(t, url).Reviews("summarize:/runs/a")
		}
	})
}

// Two runs' review state in one database: each scope sees its own
// reviews, history, reviewers and checks only; the same name and token
// may be invited in both.
func TestReviewsScoped(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.Shared(t).NewDatabase(t))
	a, b := s.Reviews("summarize:/runs/a"), s.Reviews("nightly")
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	ca, _ := dataset.DraftChange(nil, "c1", "draft of a", nil, "emer build summarize", at)
	cb, _ := dataset.DraftChange(nil, "c1", "draft of b", []string{"labels: none"}, "emer build summarize", at)
	if err := a.ApplyReviews(ctx, []dataset.Change{ca}); err != nil {
		t.Fatal(err)
	}
	// b's first draft of c1 is a creation, though a has c1.
	if err := b.ApplyReviews(ctx, []dataset.Change{cb}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r    *pgstore.Reviews
		want dataset.Review
	}{{a, ca.After}, {b, cb.After}} {
		rs, err := tc.r.Reviews(ctx)
		if err != nil || len(rs) != 1 || !rs[0].Equal(tc.want) {
			t.Errorf("%s: reviews %+v, %v; want %+v", tc.r.Scope(), rs, err, tc.want)
		}
		if h, err := tc.r.History(ctx, "c1"); err != nil || len(h) != 1 || h[0].After.Draft != tc.want.Draft {
			t.Errorf("%s: history %+v, %v", tc.r.Scope(), h, err)
		}
	}
	hash := [32]byte{7}
	ra, _, err := a.InviteReviewer(ctx, "ann", hash, at)
	if err != nil {
		t.Fatal(err)
	}
	rb, replaced, err := b.InviteReviewer(ctx, "Ann", hash, at)
	if err != nil || replaced || rb.ID == ra.ID {
		t.Errorf("ann invited to the second run: %+v, replaced %v, %v; want a reviewer of its own", rb, replaced, err)
	}
	if got, err := b.Reviewer(ctx, hash); err != nil || got.ID != rb.ID {
		t.Errorf("b's reviewer of the link: %+v, %v; want %d", got, err, rb.ID)
	}
	if _, err := s.Reviews("other").Reviewer(ctx, hash); !errors.Is(err, dataset.ErrUnknownReviewer) {
		t.Errorf("a third run's reviewer of the link: %v, want ErrUnknownReviewer", err)
	}
	if err := a.PutChecks(ctx, []dataset.ClipCheck{{Clip: "c1", Description: "draft of a", Source: "a.json", At: at}}); err != nil {
		t.Fatal(err)
	}
	if cs, err := b.Checks(ctx); err != nil || len(cs) != 0 {
		t.Errorf("b's checks: %+v, %v; want none", cs, err)
	}
	scopes, err := s.ReviewScopes(ctx)
	if diff := cmp.Diff([]string{"nightly", "summarize:/runs/a"}, scopes); diff != "" || err != nil {
		t.Errorf("review scopes (-want +got), %v:\n%s", err, diff)
	}
}

// Clips are sorted bytewise and reviewer names compared without ASCII
// case only, as on SQLite, in a database whose own collation would sort
// and fold otherwise.
func TestReviewsBytewiseInAnyCollation(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Shared(t)
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE icu_en TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`); err != nil {
		t.Skipf("no database of an ICU collation: %v", err)
	}
	defer admin.Exec(context.Background(), `DROP DATABASE icu_en WITH (FORCE)`)
	url := c.URL("icu_en")
	var before bool
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.QueryRow(ctx, `SELECT 'B' > 'a'`).Scan(&before)
		conn.Close(ctx)
	}
	if !before {
		t.Skip("the ICU collation sorts as C does")
	}
	r := open(t, url).Reviews("x")
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	var cs []dataset.Change
	for _, clip := range []string{"é", "a", "Z", "B", "b"} {
		c, _ := dataset.DraftChange(nil, clip, "d", nil, "emer build summarize", at)
		cs = append(cs, c)
	}
	if err := r.ApplyReviews(ctx, cs); err != nil {
		t.Fatal(err)
	}
	rs, err := r.Reviews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rv := range rs {
		got = append(got, rv.Clip)
	}
	if diff := cmp.Diff([]string{"B", "Z", "a", "b", "é"}, got); diff != "" {
		t.Errorf("clips (-bytewise +got):\n%s", diff)
	}
	e, _, err := r.InviteReviewer(ctx, "Émile", [32]byte{1}, at)
	if err != nil {
		t.Fatal(err)
	}
	e2, replaced, err := r.InviteReviewer(ctx, "émile", [32]byte{2}, at)
	if err != nil || replaced || e2.ID == e.ID {
		t.Errorf("émile after Émile: %+v, replaced %v, %v; want another reviewer (only ASCII letters fold)", e2, replaced, err)
	}
}

// A read-only store reads its reviews and refuses changes; one of a
// database without emer's schema holds none.
func TestReviewsReadOnly(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Shared(t)
	url := c.NewDatabase(t)
	ch, _ := dataset.DraftChange(nil, "clip", "a draft", []string{"labels: none"}, "emer build summarize", time.Date(2025, 1, 2, 3, 4, 5, 6789, time.UTC))
	if err := open(t, url).Reviews("r").ApplyReviews(ctx, []dataset.Change{ch}); err != nil {
		t.Fatal(err)
	}
	ro, err := pgstore.Open(ctx, url, pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := ro.Reviews("r").Reviews(ctx)
	if err != nil || len(got) != 1 || !got[0].Equal(ch.After) {
		t.Fatalf("read-only reviews = %+v, %v; want %+v", got, err, ch.After)
	}
	next, _ := dataset.DraftChange(&got[0], "clip", "another", nil, "emer build summarize", time.Now())
	if err := ro.Reviews("r").ApplyReviews(ctx, []dataset.Change{next}); !errors.Is(err, pgstore.ErrReadOnly) {
		t.Errorf("ApplyReviews on a read-only store = %v, want ErrReadOnly", err)
	}
	if _, _, err := ro.Reviews("r").InviteReviewer(ctx, "ann", [32]byte{1}, time.Now()); !errors.Is(err, pgstore.ErrReadOnly) {
		t.Errorf("InviteReviewer on a read-only store = %v, want ErrReadOnly", err)
	}

	empty, err := pgstore.Open(ctx, c.NewEmptyDatabase(t), pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	r := empty.Reviews("r")
	if rs, err := r.Reviews(ctx); err != nil || len(rs) != 0 {
		t.Errorf("reviews of an empty database: %v, %v", rs, err)
	}
	if _, err := r.Review(ctx, "clip"); !errors.Is(err, dataset.ErrNoReview) {
		t.Errorf("a review of an empty database: %v, want ErrNoReview", err)
	}
	if _, err := r.Reviewer(ctx, [32]byte{1}); !errors.Is(err, dataset.ErrUnknownReviewer) {
		t.Errorf("a reviewer of an empty database: %v, want ErrUnknownReviewer", err)
	}
	if scopes, err := empty.ReviewScopes(ctx); err != nil || len(scopes) != 0 {
		t.Errorf("scopes of an empty database: %v, %v", scopes, err)
	}
}

// TestPutAfterLostConnection: the batched writes of checks and annotation
// records are sent again, whole, when the connection is lost under their
// transaction (a batch sent before holds the lost connection's prepared
// statements: sent again as it was, it failed).
func TestPutAfterLostConnection(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).NewDatabase(t)
	s := open(t, url)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// The first transaction of each write loses its connection.
	lose := func() {
		lost := false
		pgstore.SetBeforeCommit(s, func(ctx context.Context, tx pgx.Tx) error {
			if lost {
				return nil
			}
			lost = true
			var pid int
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			_, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
			return err
		})
	}
	defer pgstore.SetBeforeCommit(s, nil)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	lose()
	r := s.Reviews("summarize:/x")
	if err := r.PutChecks(ctx, []dataset.ClipCheck{{Clip: "c1", Description: "d", Source: "check.json", At: at}}); err != nil {
		t.Fatalf("checks: %v", err)
	}
	if c, ok, err := r.Check(ctx, "c1"); err != nil || !ok || c.Description != "d" {
		t.Errorf("check stored: %+v %v %v", c, ok, err)
	}
	lose()
	a := s.Annotations("summarize:/x")
	recs := []dataset.Annotation{{Clip: "c1", Annotator: "a1", Aspect: dataset.Visual, Text: "he smiles", Lang: "en"}}
	if err := a.PutAnnotations(ctx, recs); err != nil {
		t.Fatalf("annotations: %v", err)
	}
	if got, err := a.Annotations(ctx, "c1"); err != nil || len(got) != 1 || got[0].Text != "he smiles" {
		t.Errorf("annotations stored: %+v %v", got, err)
	}
}
