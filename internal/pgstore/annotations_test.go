package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/dataset/annotationtest"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
)

func TestAnnotationsContract(t *testing.T) {
	c := pgtest.Shared(t)
	annotationtest.Run(t, func(t *testing.T) dataset.Store { return open(t, c.NewDatabase(t)).Annotations("summarize:/runs/a") })
}

// Annotations of two runs in one database stay apart, and outlive the
// process: they read back the same, read-only too; a read-only store
// refuses them.
func TestAnnotationsScopedAndReopened(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).NewDatabase(t)
	s := open(t, url)
	want := []dataset.Annotation{
		{Clip: "c", Annotator: "a1", Aspect: dataset.Visual, Text: "He frowns", Lang: "en", Pos: dataset.Pos{File: "clues.csv", Line: 2}},
		{Clip: "c", Annotator: "a1", Aspect: dataset.Audio, Text: "His voice is low", Lang: "en", Pos: dataset.Pos{File: "clues.csv", Line: 3}},
	}
	if err := s.Annotations("a").PutAnnotations(ctx, want); err != nil {
		t.Fatal(err)
	}
	other := dataset.Annotation{Clip: "c", Annotator: "a1", Aspect: dataset.Visual, Text: "He smiles", Lang: "en"}
	if err := s.Annotations("b").PutAnnotations(ctx, []dataset.Annotation{other}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, readOnly := range []bool{false, true} {
		s, err := pgstore.Open(ctx, url, pgstore.Options{ReadOnly: readOnly})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		got, err := s.Annotations("a").Annotations(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("read-only %v: a (-want +got):\n%s", readOnly, diff)
		}
		if got, err := s.Annotations("b").Annotations(ctx, "c"); err != nil || len(got) != 1 || got[0] != other {
			t.Errorf("read-only %v: b = %+v, %v; want its own record", readOnly, got, err)
		}
		if readOnly {
			if err := s.Annotations("a").PutAnnotations(ctx, want); !errors.Is(err, pgstore.ErrReadOnly) {
				t.Errorf("read-only PutAnnotations = %v, want ErrReadOnly", err)
			}
		}
	}
}

// A record whose aspect is none of EMER's four is refused with its
// position, and nothing of its batch is stored.
func TestPutAnnotationsBadAspect(t *testing.T) {
	ctx := context.Background()
	a := open(t, pgtest.Shared(t).NewDatabase(t)).Annotations("r")
	recs := []dataset.Annotation{
		{Clip: "c", Annotator: "a", Aspect: dataset.Visual, Text: "frown", Lang: "en"},
		{Clip: "c", Annotator: "a", Aspect: "Smell", Text: "smoke", Lang: "en", Pos: dataset.Pos{File: "clues.csv", Line: 4}},
	}
	err := a.PutAnnotations(ctx, recs)
	if err == nil || !strings.Contains(err.Error(), `clues.csv:4: c × Smell × a: aspect "Smell" is not one of visual, audio, content, context`) {
		t.Errorf("err = %v", err)
	}
	if got, err := a.Annotations(ctx, "c"); err != nil || len(got) != 0 {
		t.Errorf("Annotations = %v, %v; want none stored", got, err)
	}
}

// A read-only store of a database without emer's schema holds no record.
func TestAnnotationsReadOnlyEmpty(t *testing.T) {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, pgtest.Shared(t).NewEmptyDatabase(t), pgstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Annotations("r").Annotations(ctx, "c"); err != nil || len(got) != 0 {
		t.Errorf("Annotations = %v, %v; want none", got, err)
	}
}
