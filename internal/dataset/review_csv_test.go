package dataset

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"emer/internal/textenc"
)

var (
	reviewT0 = time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)
	reviewT1 = time.Date(2025, 4, 2, 9, 0, 0, 0, time.UTC)
)

// reviewState is the store the import files are checked against.
func reviewState() []Review {
	p := func(clip, draft string, flags ...string) Review {
		return Review{Clip: clip, Status: Pending, Draft: draft, Flags: flags, At: reviewT0}
	}
	return []Review{
		p("c1", "D1"),
		p("c2", "", "clues: empty reply"),
		{Clip: "c3", Status: Edited, Draft: "D3", Text: "T3", Reviewer: "ann", At: reviewT0},
		p("c4", "D4", "emotion: no emotion word the emotion lexicon knows in the reply: banana"),
		{Clip: "c5", Status: Accepted, Draft: "D5", Reviewer: "ann", At: reviewT0},
		p("c6", "D6"),
		p("c7", "D7"),
		p("c8", "D8"),
	}
}

func readReviewFile(t *testing.T, name string) ([]ReviewRow, error) {
	t.Helper()
	f, err := os.Open(td(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ReadReviewCSV(f, td(name), textenc.Encoding{})
}

// An export read back changes nothing.
func TestReviewCSVRoundTrip(t *testing.T) {
	cur := reviewState()
	cur[0].Draft = "In the video, he says \"fine\", then stops,\nlooking away. Therefore, ..."
	cur[1].Note = "a note, with a comma"
	var buf bytes.Buffer
	if err := WriteReviewCSV(&buf, cur); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadReviewCSV(&buf, "export.csv", textenc.Encoding{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(cur) {
		t.Fatalf("%d rows read back, want %d", len(rows), len(cur))
	}
	changes, err := PlanImport(rows, cur, ImportOptions{At: reviewT1})
	if err != nil || len(changes) != 0 {
		t.Errorf("PlanImport of an export = %+v, %v; want no change", changes, err)
	}
}

func TestPlanImportGood(t *testing.T) {
	rows, err := readReviewFile(t, "review-import.good.csv")
	if err != nil {
		t.Fatal(err)
	}
	cur := reviewState()
	changes, err := PlanImport(rows, cur, ImportOptions{Reviewer: "cy", At: reviewT1})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Clip: "c1", By: "cy", At: reviewT1, Before: &cur[0],
			After: Review{Clip: "c1", Status: Accepted, Draft: "D1", Reviewer: "cy", At: reviewT1}},
		{Clip: "c2", By: "bo", At: reviewT1, Before: &cur[1],
			After: Review{Clip: "c2", Status: Edited, Text: "In the video, he sighs.\nTherefore, it is inferred that his emotional state is tired.",
				Flags: []string{"clues: empty reply"}, Reviewer: "bo", Note: "written by hand", At: reviewT1}},
		{Clip: "c4", By: "ann", At: reviewT1, Before: &cur[3],
			After: Review{Clip: "c4", Status: Rejected, Draft: "D4", Flags: cur[3].Flags, Reviewer: "ann", Note: "not an emotion", At: reviewT1}},
	}
	if diff := cmp.Diff(want, changes, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, c := range changes {
		if err := c.After.Check(); err != nil {
			t.Errorf("an impossible state planned: %v", err)
		}
	}
}

func TestPlanImportBad(t *testing.T) {
	rows, err := readReviewFile(t, "review-import.bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := PlanImport(rows, reviewState(), ImportOptions{At: reviewT1})
	if changes != nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("PlanImport = %+v, %v; want nothing and ErrInvalid", changes, err)
	}
	f := "testdata/review-import.bad.csv"
	want := []string{
		f + `:2: clip "c9" has no description in the store`,
		f + `:3: the reasons of clip "c1" differ from the draft: set the status to edited to keep them`,
		f + `:4: clip "c2" has no draft to accept (marked for review: clues: empty reply): write a description and set the status to edited`,
		f + `:5: the reasons of clip "c3" are its edited text, which accepted would drop (accepted takes the draft): keep the status edited`,
		f + `:6: the reasons of clip "c4" are the draft as made: set the status to accepted`,
		f + `:7: the reasons of clip "c5" differ from its description, but the status is pending: set it to edited to keep the new text`,
		f + `:8: unknown status "approved" (want pending, accepted, edited or rejected)`,
		f + `:9: clip "c7" is edited, but its reasons are empty`,
		f + `:10: the change of clip "c8" names no reviewer: fill the reviewer column or give one for the whole file`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestReadReviewCSVBad(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"review-duplicate.bad.csv", "testdata/review-duplicate.bad.csv:3: duplicate name \"c1\" (first on line 2)"},
		{"review-column.bad.csv", "testdata/review-column.bad.csv:1: missing column note"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := readReviewFile(t, tc.file)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to start with %q", err, tc.want)
			}
		})
	}
}

// A reviewer column left as the export showed it names the reviewer of the
// last change, not of this one, when the whole file has its own.
func TestPlanImportReviewer(t *testing.T) {
	for _, tc := range []struct {
		name, cell, file, want string
	}{
		{"cell", "bo", "", "bo"},
		{"cell over file", "bo", "cy", "bo"},
		{"empty cell", "", "cy", "cy"},
		{"exported cell", "ann", "cy", "cy"},
		{"exported cell alone", "ann", "", "ann"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := reviewState()
			rows := []ReviewRow{{Clip: "c5", Status: "rejected", Reasons: "D5", Reviewer: tc.cell, Pos: Pos{File: "f.csv", Line: 2}}}
			changes, err := PlanImport(rows, cur, ImportOptions{Reviewer: tc.file, At: reviewT1})
			if err != nil || len(changes) != 1 {
				t.Fatalf("PlanImport = %+v, %v", changes, err)
			}
			if c := changes[0]; c.By != tc.want || c.After.Reviewer != tc.want {
				t.Errorf("change by %q, reviewer %q; want %q", c.By, c.After.Reviewer, tc.want)
			}
		})
	}
}

func TestDraftChange(t *testing.T) {
	reviewed := Review{Clip: "c", Status: Edited, Draft: "old", Text: "mine", Reviewer: "ann", Note: "n", At: reviewT0}
	for _, tc := range []struct {
		name   string
		cur    *Review
		draft  string
		flags  []string
		change bool
	}{
		{"new", nil, "d", nil, true},
		{"same draft, reviewed", &reviewed, "old", nil, false},
		{"same draft, other flags", &reviewed, "old", []string{"labels: none"}, true},
		{"new draft", &reviewed, "new", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := DraftChange(tc.cur, "c", tc.draft, tc.flags, "emer build summarize", reviewT1)
			if ok != tc.change {
				t.Fatalf("ok = %v, want %v", ok, tc.change)
			}
			if !ok {
				return
			}
			want := Review{Clip: "c", Status: Pending, Draft: tc.draft, Flags: tc.flags, At: reviewT1}
			if diff := cmp.Diff(want, c.After, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("after (-want +got):\n%s", diff)
			}
			if (c.Before == nil) != (tc.cur == nil) || c.By != "emer build summarize" {
				t.Errorf("change = %+v", c)
			}
		})
	}
}
