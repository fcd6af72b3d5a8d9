package dataset

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func td(name string) string { return filepath.Join("testdata", name) }

func TestReadAnnotationsGood(t *testing.T) {
	want := []Annotation{
		{Clip: "sample_1", Annotator: "a1", Aspect: Visual, Text: "He frowns, staring at the floor.", Lang: "en"},
		{Clip: "sample_1", Annotator: "a1", Aspect: Audio, Text: "His voice is low.", Lang: "en"},
		{Clip: "sample_1", Annotator: "a2", Aspect: Visual, Text: "他皱着眉头。", Lang: "zh"},
		{Clip: "sample_2", Annotator: "a1", Aspect: Content, Text: `He says "I'm fine", but hesitates.`, Lang: "en"},
		{Clip: "sample_2", Annotator: "a1", Aspect: Context, Text: "A dim hospital corridor.", Lang: "en-GB"},
	}
	for _, tc := range []struct {
		file  string
		lines []int
	}{
		{"annotations.good.csv", []int{2, 3, 4, 5, 6}},
		{"annotations.good.jsonl", []int{1, 2, 3, 5, 6}}, // line 4 is blank
	} {
		t.Run(tc.file, func(t *testing.T) {
			af, err := ReadAnnotationsFile(td(tc.file), ReadOptions{RequireAnnotator: true, Clips: []string{"sample_1", "sample_2"}})
			if err != nil {
				t.Fatal(err)
			}
			if !af.HasAnnotator {
				t.Error("HasAnnotator = false")
			}
			if diff := cmp.Diff(want, af.Records, cmpopts.IgnoreFields(Annotation{}, "Pos")); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			for i, r := range af.Records {
				if r.Pos != (Pos{File: td(tc.file), Line: tc.lines[i]}) {
					t.Errorf("record %d at %v, want line %d", i, r.Pos, tc.lines[i])
				}
			}
		})
	}
}

func TestReadAnnotationsBad(t *testing.T) {
	for _, tc := range []struct {
		file string
		opts ReadOptions
		want []string // the problems, one a line, in order
	}{
		{"records.bad.csv", ReadOptions{}, []string{
			`testdata/records.bad.csv:2: unknown aspect "face" (want visual, audio, content or context)`,
			`testdata/records.bad.csv:3: empty text`,
			`testdata/records.bad.csv:4: bad lang "english-please": not a language tag such as en or zh`,
			`testdata/records.bad.csv:5: bad lang "und": it names no language (want a tag such as en or zh)`,
			`testdata/records.bad.csv:6: empty annotator`,
			`testdata/records.bad.csv:7: empty clip`,
			`testdata/records.bad.csv:8: empty lang (want a language tag such as en or zh)`,
		}},
		{"duplicate.bad.csv", ReadOptions{}, []string{
			`testdata/duplicate.bad.csv:4: second record for annotator "a1" × aspect visual of clip "sample_1" (first on line 2)`,
		}},
		{"missing-column.bad.csv", ReadOptions{}, []string{
			`testdata/missing-column.bad.csv:1: missing column lang (the columns are clip, annotator, aspect, text)`,
		}},
		{"missing-column.bad.csv", ReadOptions{RequireAnnotator: true}, []string{
			`testdata/missing-column.bad.csv:1: missing column lang (the columns are clip, annotator, aspect, text)`,
		}},
		{"fields.bad.csv", ReadOptions{RequireAnnotator: true}, []string{
			`testdata/fields.bad.csv:1: missing column annotator (the columns are clip, aspect, text, lang)`,
		}},
		{"fields.bad.csv", ReadOptions{}, []string{
			`testdata/fields.bad.csv:2:1: wrong number of fields`,
		}},
		{"records.bad.jsonl", ReadOptions{}, []string{
			`testdata/records.bad.jsonl:1: not a JSON object of the expected fields: json: unknown field "score"`,
			`testdata/records.bad.jsonl:4: not a JSON object of the expected fields: json: cannot unmarshal number into Go struct field jsonRecord.text of type string`,
			`testdata/records.bad.jsonl:5: not a JSON object of the expected fields: invalid character 'o' in literal null (expecting 'u')`,
			`testdata/records.bad.jsonl:6: more than one JSON value on the line`,
			`testdata/records.bad.jsonl: 1 records name an annotator and 1 do not; give it on every line or on none`,
			`testdata/records.bad.jsonl:2: missing field aspect`,
			`testdata/records.bad.jsonl:3: empty annotator`,
		}},
		{"annotations.good.csv", ReadOptions{Clips: []string{"sample_1", "sample_3", "sample_4"}}, []string{
			`testdata/annotations.good.csv:5: clip "sample_2" is not in the clip list`,
			`testdata/annotations.good.csv:6: clip "sample_2" is not in the clip list`,
			`testdata/annotations.good.csv: 2 clips of the clip list have no annotations: sample_3, sample_4`,
		}},
		{"encoding.bad.csv", ReadOptions{}, []string{
			`testdata/encoding.bad.csv:2:23: byte offset 54: invalid UTF-8 "\xff frowns"...; if the file is GBK or GB18030, as Chinese data often is, give --encoding gb18030 (or the name of its encoding)`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := ReadAnnotationsFile(td(tc.file), tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadAnnotationsErrInvalid(t *testing.T) {
	_, err := ReadAnnotationsFile(td("records.bad.csv"), ReadOptions{})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error %v does not wrap ErrInvalid", err)
	}
	if _, err := ReadAnnotationsFile(td("annotations.txt"), ReadOptions{}); err == nil || !strings.Contains(err.Error(), ".csv or .jsonl") {
		t.Errorf("unknown extension: %v", err)
	}
}

func TestReadAnnotationsManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("clip,annotator,aspect,text,lang\n")
	for range 30 {
		b.WriteString("c,a,face,t,en\n")
	}
	_, err := ReadAnnotationsCSV(strings.NewReader(b.String()), "many.csv", ReadOptions{})
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxProblems+1 || lines[maxProblems] != "and 10 more problems" {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	recs := []Annotation{
		{Clip: "c1", Annotator: "b", Aspect: Audio, Text: "low"},
		{Clip: "c1", Annotator: "a", Aspect: Context, Text: "office"},
		{Clip: "c1", Annotator: "a", Aspect: Visual, Text: "frown"},
		{Clip: "c2", Annotator: "a", Aspect: Visual, Text: "smile"},
	}
	if err := m.PutAnnotations(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := m.PutAnnotations(ctx, []Annotation{{Clip: "c1", Annotator: "a", Aspect: Visual, Text: "deep frown"}}); err != nil {
		t.Fatal(err)
	}
	got, err := m.Annotations(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Annotation{
		{Clip: "c1", Annotator: "a", Aspect: Visual, Text: "deep frown"},
		{Clip: "c1", Annotator: "b", Aspect: Audio, Text: "low"},
		{Clip: "c1", Annotator: "a", Aspect: Context, Text: "office"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("c1 (-want +got):\n%s", diff)
	}
	if got, _ := m.Annotations(ctx, "c3"); len(got) != 0 {
		t.Errorf("c3: %v", got)
	}
}
