package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/dataset/annotationtest"
)

func TestAnnotationsContract(t *testing.T) {
	annotationtest.Run(t, func(t *testing.T) dataset.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "emer.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestAnnotationSchemaVersion(t *testing.T) {
	if migrations[annotationVersion-1].sql != annotationSchema {
		t.Errorf("migration %d is not the annotation schema", annotationVersion)
	}
}

// Annotations outlive the process: they read back the same from the
// file, read-only too; a read-only store refuses them.
func TestAnnotationsReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	want := []dataset.Annotation{
		{Clip: "c", Annotator: "a1", Aspect: dataset.Visual, Text: "He frowns", Lang: "en", Pos: dataset.Pos{File: "clues.csv", Line: 2}},
		{Clip: "c", Annotator: "a1", Aspect: dataset.Audio, Text: "His voice is low", Lang: "en", Pos: dataset.Pos{File: "clues.csv", Line: 3}},
	}
	if err := s.PutAnnotations(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(context.Context, string) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		s, err := open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Annotations(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
		if name == "OpenReadOnly" {
			if err := s.PutAnnotations(ctx, want); !errors.Is(err, ErrReadOnly) {
				t.Errorf("read-only PutAnnotations = %v, want ErrReadOnly", err)
			}
		}
		s.Close()
	}
}

// A record whose aspect is none of EMER's four is refused with its
// position, and nothing of its batch is stored.
func TestPutAnnotationsBadAspect(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := []dataset.Annotation{
		{Clip: "c", Annotator: "a", Aspect: dataset.Visual, Text: "frown", Lang: "en"},
		{Clip: "c", Annotator: "a", Aspect: "Smell", Text: "smoke", Lang: "en", Pos: dataset.Pos{File: "clues.csv", Line: 4}},
	}
	err = s.PutAnnotations(ctx, recs)
	if err == nil || !strings.Contains(err.Error(), `clues.csv:4: c × Smell × a: aspect "Smell" is not one of visual, audio, content, context`) {
		t.Errorf("err = %v", err)
	}
	if got, err := s.Annotations(ctx, "c"); err != nil || len(got) != 0 {
		t.Errorf("Annotations = %v, %v; want none stored", got, err)
	}
}
