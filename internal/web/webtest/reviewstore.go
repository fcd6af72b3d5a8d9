package webtest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/web"
)

// OpenReviewStore returns an empty web.ReviewStore for one test, and
// reopen, which closes it and returns the same state opened anew, as
// another process would find it.
type OpenReviewStore func(t *testing.T) (s web.ReviewStore, reopen func() web.ReviewStore)

// ReviewStoreContract tests what a web.ReviewStore keeps beside the
// reviews (whose contract is reviewtest.Run's): the reviewers invited by
// link and the grounding checks, on stores made by open.
func ReviewStoreContract(t *testing.T, open OpenReviewStore) {
	t.Run("reviewers", func(t *testing.T) { testReviewers(t, open) })
	t.Run("checks", func(t *testing.T) { testReviewChecks(t, open) })
}

// A name invited again keeps its reviewer and gets a new link, the old
// one invalid; names are compared without case; links outlive the
// process.
func testReviewers(t *testing.T, open OpenReviewStore) {
	ctx := context.Background()
	r, reopen := open(t)
	t0 := time.Date(2025, 5, 1, 10, 0, 0, 123456789, time.UTC)
	h := func(b byte) (x [32]byte) { x[0] = b; return x }
	ann, replaced, err := r.InviteReviewer(ctx, "Ann", h(1), t0)
	if err != nil || replaced || ann.ID == 0 || ann.Name != "Ann" || !ann.Invited.Equal(dataset.StampTime(t0)) {
		t.Fatalf("first invite = %+v, %v, %v", ann, replaced, err)
	}
	if _, _, err := r.InviteReviewer(ctx, "bo", h(2), t0); err != nil {
		t.Fatal(err)
	}
	again, replaced, err := r.InviteReviewer(ctx, "ANN", h(3), t0.Add(time.Hour))
	if err != nil || !replaced || again.ID != ann.ID || again.Name != "Ann" {
		t.Fatalf("invite again = %+v, %v, %v; want Ann's id %d, replaced", again, replaced, err, ann.ID)
	}
	if _, err := r.Reviewer(ctx, h(1)); !errors.Is(err, dataset.ErrUnknownReviewer) {
		t.Errorf("the old link: %v, want ErrUnknownReviewer", err)
	}
	if _, _, err := r.InviteReviewer(ctx, "cy", h(2), t0); err == nil {
		t.Error("a second reviewer with bo's token hash was invited")
	}
	r = reopen()
	got, err := r.Reviewer(ctx, h(3))
	if err != nil || got.Name != "Ann" || !got.Invited.Equal(dataset.StampTime(t0.Add(time.Hour))) {
		t.Errorf("Ann after reopening = %+v, %v", got, err)
	}
	all, err := r.Reviewers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range all {
		names = append(names, x.Name)
	}
	if diff := cmp.Diff([]string{"Ann", "bo"}, names); diff != "" {
		t.Errorf("reviewers (-want +got):\n%s", diff)
	}
}

// A check replaces its clip's and keeps the others'; Review finds one
// clip or says there is none.
func testReviewChecks(t *testing.T, open OpenReviewStore) {
	ctx := context.Background()
	r, _ := open(t)
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	c, _ := dataset.DraftChange(nil, "c1", "a draft", nil, "emer build summarize", at)
	if err := r.ApplyReviews(ctx, []dataset.Change{c}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Review(ctx, "c1"); err != nil || !got.Equal(c.After) {
		t.Errorf("Review(c1) = %+v, %v", got, err)
	}
	if _, err := r.Review(ctx, "c2"); !errors.Is(err, dataset.ErrNoReview) {
		t.Errorf("Review(c2) = %v, want ErrNoReview", err)
	}
	first := []dataset.ClipCheck{
		{Clip: "c1", Description: "a draft", Source: "a.json", At: at, Claims: []dataset.Claim{{Text: "he frowns", Aspect: "face", Verdict: dataset.Supported, Evidence: json.RawMessage(`{"angry":0.8}`)}}},
		{Clip: "c2", Description: "other", Source: "a.json", At: at, Claims: nil},
	}
	if err := r.PutChecks(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := dataset.ClipCheck{Clip: "c1", Description: "a draft", Source: "b.json", At: at.Add(time.Minute),
		Claims: []dataset.Claim{{Text: "he shouts", Verdict: dataset.Contradicted}}}
	if err := r.PutChecks(ctx, []dataset.ClipCheck{second}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Checks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first[1].Claims = []dataset.Claim{}
	want := []dataset.ClipCheck{second, first[1]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	one, ok, err := r.Check(ctx, "c1")
	if err != nil || !ok {
		t.Fatalf("Check(c1) = %v, %v", ok, err)
	}
	if diff := cmp.Diff(second, one); diff != "" {
		t.Errorf("Check(c1) (-want +got):\n%s", diff)
	}
	if _, ok, err := r.Check(ctx, "c3"); ok || err != nil {
		t.Errorf("Check(c3) = %v, %v; want none", ok, err)
	}
}
