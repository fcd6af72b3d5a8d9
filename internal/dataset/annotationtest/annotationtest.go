// Package annotationtest checks that an implementation of dataset.Store
// keeps the contract its methods document: the same tests run on the
// in-memory store and on the project's SQL store.
package annotationtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
)

// Open returns an empty store for one test.
type Open func(t *testing.T) dataset.Store

// Run runs the contract tests on stores made by open.
func Run(t *testing.T, open Open) {
	t.Run("empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("sorted by clip, aspect and annotator", func(t *testing.T) { testSorted(t, open(t)) })
	t.Run("same key replaces", func(t *testing.T) { testReplace(t, open(t)) })
	t.Run("text as written", func(t *testing.T) { testText(t, open(t)) })
	t.Run("concurrent writers", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("canceled context", func(t *testing.T) { testCanceled(t, open(t)) })
}

func put(t *testing.T, s dataset.Store, recs ...dataset.Annotation) {
	t.Helper()
	if err := s.PutAnnotations(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s dataset.Store, clip string) []dataset.Annotation {
	t.Helper()
	got, err := s.Annotations(context.Background(), clip)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testEmpty(t *testing.T, s dataset.Store) {
	if got := get(t, s, "nobody"); len(got) != 0 {
		t.Errorf("Annotations of an empty store = %v", got)
	}
	if err := s.PutAnnotations(context.Background(), nil); err != nil {
		t.Errorf("PutAnnotations(nil) = %v", err)
	}
}

func testSorted(t *testing.T, s dataset.Store) {
	put(t, s,
		dataset.Annotation{Clip: "c1", Annotator: "b", Aspect: dataset.Audio, Text: "low", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 2}},
		dataset.Annotation{Clip: "c1", Annotator: "a", Aspect: dataset.Context, Text: "office", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 3}},
		dataset.Annotation{Clip: "c2", Annotator: "a", Aspect: dataset.Visual, Text: "smile", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 4}},
		dataset.Annotation{Clip: "c1", Annotator: "b", Aspect: dataset.Visual, Text: "stares", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 5}},
		dataset.Annotation{Clip: "c1", Annotator: "a", Aspect: dataset.Visual, Text: "frown", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 6}},
		dataset.Annotation{Clip: "c1", Annotator: "a", Aspect: dataset.Content, Text: "asks why", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 7}},
	)
	want := []dataset.Annotation{
		{Clip: "c1", Annotator: "a", Aspect: dataset.Visual, Text: "frown", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 6}},
		{Clip: "c1", Annotator: "b", Aspect: dataset.Visual, Text: "stares", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 5}},
		{Clip: "c1", Annotator: "b", Aspect: dataset.Audio, Text: "low", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 2}},
		{Clip: "c1", Annotator: "a", Aspect: dataset.Content, Text: "asks why", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 7}},
		{Clip: "c1", Annotator: "a", Aspect: dataset.Context, Text: "office", Lang: "en", Pos: dataset.Pos{File: "a.csv", Line: 3}},
	}
	if diff := cmp.Diff(want, get(t, s, "c1")); diff != "" {
		t.Errorf("c1 (-want +got):\n%s", diff)
	}
	if got := get(t, s, "c3"); len(got) != 0 {
		t.Errorf("c3 = %v, want none", got)
	}
}

func testReplace(t *testing.T, s dataset.Store) {
	first := dataset.Annotation{Clip: "c", Annotator: "a", Aspect: dataset.Visual, Text: "frown", Lang: "en", Pos: dataset.Pos{File: "old.csv", Line: 2}}
	other := dataset.Annotation{Clip: "c", Annotator: "b", Aspect: dataset.Visual, Text: "smile", Lang: "en"}
	put(t, s, first, other)
	again := first
	again.Text, again.Pos = "deep frown", dataset.Pos{File: "new.jsonl", Line: 9}
	last := again
	last.Text = "deepest frown"
	// A later record of a key replaces an earlier one, in another call or
	// in the same.
	put(t, s, again, last)
	want := []dataset.Annotation{last, other}
	if diff := cmp.Diff(want, get(t, s, "c")); diff != "" {
		t.Errorf("c (-want +got):\n%s", diff)
	}
}

func testText(t *testing.T, s dataset.Store) {
	recs := []dataset.Annotation{
		{Clip: "中文 clip,1", Annotator: "", Aspect: dataset.Content, Text: "他说：“我没事。”\n然后沉默。", Lang: "zh-Hant"},
		{Clip: "中文 clip,1", Annotator: "'; DROP TABLE annotations; --", Aspect: dataset.Audio, Text: `a "quoted" 'text' % _`, Lang: "zh"},
	}
	put(t, s, recs...)
	want := []dataset.Annotation{recs[1], recs[0]}
	if diff := cmp.Diff(want, get(t, s, "中文 clip,1")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := get(t, s, "中文 clip"); len(got) != 0 {
		t.Errorf("a prefix of the clip's name found %v", got)
	}
}

func testConcurrent(t *testing.T, s dataset.Store) {
	const writers, clips = 8, 5
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			var recs []dataset.Annotation
			for c := range clips {
				recs = append(recs, dataset.Annotation{Clip: fmt.Sprintf("c%d", c), Annotator: fmt.Sprintf("a%d", w), Aspect: dataset.Visual, Text: "t", Lang: "en"})
			}
			errs[w] = s.PutAnnotations(context.Background(), recs)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for c := range clips {
		if got := get(t, s, fmt.Sprintf("c%d", c)); len(got) != writers {
			t.Errorf("c%d has %d records, want %d", c, len(got), writers)
		}
	}
}

func testCanceled(t *testing.T, s dataset.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := dataset.Annotation{Clip: "c", Annotator: "a", Aspect: dataset.Visual, Text: "frown", Lang: "en"}
	if err := s.PutAnnotations(ctx, []dataset.Annotation{rec}); !errors.Is(err, context.Canceled) {
		t.Errorf("PutAnnotations with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := s.Annotations(ctx, "c"); !errors.Is(err, context.Canceled) {
		t.Errorf("Annotations with a canceled context = %v, want context.Canceled", err)
	}
	if got := get(t, s, "c"); len(got) != 0 {
		t.Errorf("a canceled PutAnnotations stored %v", got)
	}
}
