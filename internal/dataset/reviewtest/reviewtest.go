// Package reviewtest checks that an implementation of
// dataset.ReviewStore keeps the contract its methods document: the same
// tests run on the in-memory store and on the project's SQL store.
package reviewtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"emer/internal/dataset"
)

// Open returns an empty store for one test.
type Open func(t *testing.T) dataset.ReviewStore

var t0 = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)

// equal compares reviews as states (times by instant, no flags as empty
// flags).
var equal = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })}

// Run runs the contract tests on stores made by open.
func Run(t *testing.T, open Open) {
	t.Run("empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("draft and history", func(t *testing.T) { testDraft(t, open(t)) })
	t.Run("two changes of a clip at once", func(t *testing.T) { testChain(t, open(t)) })
	t.Run("all or nothing", func(t *testing.T) { testAtomic(t, open(t)) })
	t.Run("concurrent writers", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("text as written", func(t *testing.T) { testText(t, open(t)) })
}

func apply(t *testing.T, s dataset.ReviewStore, cs ...dataset.Change) {
	t.Helper()
	if err := s.ApplyReviews(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
}

func reviews(t *testing.T, s dataset.ReviewStore) []dataset.Review {
	t.Helper()
	rs, err := s.Reviews(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func history(t *testing.T, s dataset.ReviewStore, clip string) []dataset.Change {
	t.Helper()
	h, err := s.History(context.Background(), clip)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func draft(t *testing.T, cur *dataset.Review, clip, text string, flags ...string) dataset.Change {
	t.Helper()
	c, ok := dataset.DraftChange(cur, clip, text, flags, "emer build summarize", t0)
	if !ok {
		t.Fatalf("DraftChange(%s) made no change", clip)
	}
	return c
}

func testEmpty(t *testing.T, s dataset.ReviewStore) {
	if rs := reviews(t, s); len(rs) != 0 {
		t.Errorf("Reviews of an empty store = %v", rs)
	}
	if h := history(t, s, "nobody"); len(h) != 0 {
		t.Errorf("History of an unknown clip = %v", h)
	}
	if err := s.ApplyReviews(context.Background(), nil); err != nil {
		t.Errorf("ApplyReviews(nil) = %v", err)
	}
}

func testDraft(t *testing.T, s dataset.ReviewStore) {
	b := draft(t, nil, "clip_b", "In the video, he frowns. Therefore, it is inferred that his emotional state is sad.")
	a := draft(t, nil, "clip_a", "", "clues: empty reply")
	apply(t, s, b, a)
	want := []dataset.Review{a.After, b.After}
	if diff := cmp.Diff(want, reviews(t, s), equal); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
	cur := reviews(t, s)[1]
	acc := dataset.Change{Clip: "clip_b", By: "ann", At: t0.Add(time.Hour), Before: &cur,
		After: dataset.Review{Clip: "clip_b", Status: dataset.Accepted, Draft: cur.Draft, Reviewer: "ann", Note: "fine", At: dataset.StampTime(t0.Add(time.Hour))}}
	apply(t, s, acc)
	if diff := cmp.Diff(dataset.Stamped([]dataset.Change{b, acc}), history(t, s, "clip_b"), equal); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if got := reviews(t, s)[1]; !got.Equal(acc.After) {
		t.Errorf("review after acceptance = %+v, want %+v", got, acc.After)
	}
	if h := history(t, s, "clip_a"); len(h) != 1 || h[0].Before != nil {
		t.Errorf("history of clip_a = %+v, want its creation only", h)
	}
}

func testChain(t *testing.T, s dataset.ReviewStore) {
	c1 := draft(t, nil, "c", "draft one")
	c2 := draft(t, &c1.After, "c", "draft two", "emotion: no emotion word")
	apply(t, s, c1, c2)
	if got := reviews(t, s); len(got) != 1 || !got[0].Equal(c2.After) {
		t.Errorf("reviews = %+v, want the second draft", got)
	}
	if h := history(t, s, "c"); len(h) != 2 {
		t.Errorf("history has %d changes, want 2", len(h))
	}
}

func testAtomic(t *testing.T, s dataset.ReviewStore) {
	base := draft(t, nil, "x", "the draft")
	apply(t, s, base)
	stale := dataset.Review{Clip: "x", Status: dataset.Pending, Draft: "another draft", At: base.After.At}
	edited := dataset.Review{Clip: "x", Status: dataset.Edited, Draft: "the draft", Text: "a better text", Reviewer: "bo", At: dataset.StampTime(t0)}
	for _, tc := range []struct {
		name     string
		changes  []dataset.Change
		conflict bool
	}{
		{"stale before", []dataset.Change{draft(t, nil, "y", "new clip"), {Clip: "x", By: "bo", At: t0, Before: &stale, After: edited}}, true},
		{"created twice", []dataset.Change{draft(t, nil, "y", "new clip"), draft(t, nil, "x", "again")}, true},
		{"edited without text", []dataset.Change{draft(t, nil, "y", "new clip"),
			{Clip: "x", By: "bo", At: t0, Before: &base.After, After: dataset.Review{Clip: "x", Status: dataset.Edited, Draft: "the draft", Reviewer: "bo", At: t0}}}, false},
		{"accepted without draft", []dataset.Change{
			{Clip: "y", By: "bo", At: t0, After: dataset.Review{Clip: "y", Status: dataset.Accepted, Reviewer: "bo", At: t0}}}, false},
		{"by nobody", []dataset.Change{{Clip: "x", At: t0, Before: &base.After, After: edited}}, false},
		{"another clip's review", []dataset.Change{{Clip: "x", By: "bo", At: t0, Before: &base.After, After: dataset.Review{Clip: "z", Status: dataset.Pending, At: t0}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ApplyReviews(context.Background(), tc.changes)
			if err == nil {
				t.Fatal("applied")
			}
			if errors.Is(err, dataset.ErrReviewConflict) != tc.conflict {
				t.Errorf("err = %v; conflict %v, want %v", err, errors.Is(err, dataset.ErrReviewConflict), tc.conflict)
			}
			if got := reviews(t, s); len(got) != 1 || !got[0].Equal(base.After) {
				t.Errorf("after a failed apply, reviews = %+v; want only the first draft", got)
			}
			if h := history(t, s, "y"); len(h) != 0 {
				t.Errorf("after a failed apply, y has history %+v", h)
			}
		})
	}
}

// Writers that read the same review and change it race: exactly one
// wins, the others meet a conflict.
func testConcurrent(t *testing.T, s dataset.ReviewStore) {
	base := draft(t, nil, "r", "draft")
	apply(t, s, base)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			who := string(rune('a' + i))
			after := dataset.Review{Clip: "r", Status: dataset.Rejected, Draft: "draft", Reviewer: who, At: dataset.StampTime(t0)}
			errs[i] = s.ApplyReviews(context.Background(), []dataset.Change{{Clip: "r", By: who, At: t0, Before: &base.After, After: after}})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, dataset.ErrReviewConflict):
			t.Errorf("a losing writer: %v, want a conflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers won, want 1", won)
	}
	if h := history(t, s, "r"); len(h) != 2 {
		t.Errorf("history has %d changes, want 2", len(h))
	}
}

func testText(t *testing.T, s dataset.ReviewStore) {
	text := "在视频中，他说“我没事”，但语气低沉。\n因此推测他的情感状态为担忧。 'quotes' \"and\" %_ ?"
	c := draft(t, nil, "名字 with space", text, "emotion: no emotion word: \"香蕉\"", "labels: [] empty")
	apply(t, s, c)
	got := reviews(t, s)
	if diff := cmp.Diff([]dataset.Review{c.After}, got, equal); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
}
