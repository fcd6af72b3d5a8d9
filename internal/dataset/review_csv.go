package dataset

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"emer/internal/table"
	"emer/internal/textenc"
)

// ReviewColumns are the columns of a review CSV, in the order
// WriteReviewCSV writes them: the clip, its status, its description (the
// EMER column name), who reviewed it and a note.
var ReviewColumns = []string{"name", "status", "reasons", "reviewer", "note"}

// ExportNote is the note a review CSV shows for r: its own note, or, when
// it has none, why the draft was marked for review.
func ExportNote(r Review) string {
	if r.Note == "" && len(r.Flags) > 0 {
		return "marked for review: " + strings.Join(r.Flags, "; ")
	}
	return r.Note
}

// WriteReviewCSV writes reviews as a review CSV (see ReviewColumns), one
// row each in the order given.
func WriteReviewCSV(w io.Writer, reviews []Review) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ReviewColumns); err != nil {
		return err
	}
	for _, r := range reviews {
		if err := cw.Write([]string{r.Clip, string(r.Status), r.Description(), r.Reviewer, ExportNote(r)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReviewRow is one row of a review CSV as read.
type ReviewRow struct {
	Clip, Status, Reasons, Reviewer, Note string
	Pos                                   Pos
}

// ReadReviewCSV reads the rows of a review CSV from r in encoding enc;
// name is used in error messages. The columns are those of ReviewColumns
// ("names" may stand for "name"), in any order; others are ignored.
// Structural problems (a missing column, a quote left open, a clip on two
// rows) are reported with their line.
func ReadReviewCSV(r io.Reader, name string, enc textenc.Encoding) ([]ReviewRow, error) {
	t, err := table.ReadEncoded(r, name, enc, ReviewColumns[1:]...)
	if err != nil {
		return nil, err
	}
	rows := make([]ReviewRow, len(t.Rows))
	for i, row := range t.Rows {
		rows[i] = ReviewRow{
			Clip: norm.NFC.String(row.Name()), Status: row.Get("status"), Reasons: row.Get("reasons"),
			Reviewer: row.Get("reviewer"), Note: row.Get("note"),
			Pos: Pos{File: name, Line: row.Line},
		}
	}
	return rows, nil
}

// ImportOptions are the rules rows of a review CSV are applied under.
type ImportOptions struct {
	// Reviewer is who made the changes of rows whose reviewer column is
	// empty or still names the reviewer the export showed.
	Reviewer string
	At       time.Time // when the changes are made
}

// cleanText is a description as compared and kept: NFC, line ends as
// \n, surrounding space trimmed.
func cleanText(s string) string {
	return norm.NFC.String(strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")))
}

// PlanImport returns the changes that rows make to current, the reviews as
// stored. A row that leaves its clip's status, description and note as
// the export showed them is no change. Every row is checked, and every
// problem reported with its file and line under ErrInvalid, in which case
// no change is returned:
//
//   - the clip must have a review, and appear on one row only;
//   - the status must be pending, accepted, edited or rejected;
//   - a changed description needs the status edited, and an edited one a
//     description that is not empty and not the draft;
//   - accepted takes the draft as made: there must be one, and the
//     description must be it;
//   - a change needs a reviewer: the row's, else opts.Reviewer.
func PlanImport(rows []ReviewRow, current []Review, opts ImportOptions) ([]Change, error) {
	byClip := make(map[string]Review, len(current))
	for _, r := range current {
		byClip[r.Clip] = r
	}
	at := StampTime(opts.At)
	first := map[string]int{}
	var changes []Change
	var problems []error
	for _, row := range rows {
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("%s: "+format, append([]any{row.Pos}, args...)...))
		}
		clip := strings.TrimSpace(row.Clip)
		if line, dup := first[clip]; dup {
			bad("second row for clip %s (first on line %d)", textenc.Excerpt(clip, 60), line)
			continue
		}
		first[clip] = row.Pos.Line
		cur, ok := byClip[clip]
		if !ok {
			bad("clip %s has no description in the store", textenc.Excerpt(clip, 60))
			continue
		}
		st, ok := ParseReviewStatus(row.Status)
		if !ok {
			bad("unknown status %s (want pending, accepted, edited or rejected)", textenc.Excerpt(row.Status, 40))
			continue
		}
		text, note := cleanText(row.Reasons), strings.TrimSpace(row.Note)
		curText, draft := cleanText(cur.Description()), cleanText(cur.Draft)
		if st == cur.Status && text == curText && note == ExportNote(cur) {
			continue
		}
		after := Review{Clip: clip, Status: st, Draft: cur.Draft, Flags: slices.Clone(cur.Flags), Note: note, At: at}
		if note == ExportNote(cur) {
			after.Note = cur.Note
		}
		n := len(problems)
		switch st {
		case Pending, Rejected:
			if text != curText {
				bad("the reasons of clip %s differ from its description, but the status is %s: set it to edited to keep the new text", textenc.Excerpt(clip, 60), st)
			}
		case Accepted:
			switch {
			case draft == "":
				bad("clip %s has no draft to accept (%s): write a description and set the status to edited", textenc.Excerpt(clip, 60), ExportNote(cur))
			case text == draft:
			case cur.Status == Edited && text == curText:
				bad("the reasons of clip %s are its edited text, which accepted would drop (accepted takes the draft): keep the status edited", textenc.Excerpt(clip, 60))
			default:
				bad("the reasons of clip %s differ from the draft: set the status to edited to keep them", textenc.Excerpt(clip, 60))
			}
		case Edited:
			switch text {
			case "":
				bad("clip %s is edited, but its reasons are empty", textenc.Excerpt(clip, 60))
			case draft:
				bad("the reasons of clip %s are the draft as made: set the status to accepted", textenc.Excerpt(clip, 60))
			}
			after.Text = text
		}
		who := strings.TrimSpace(row.Reviewer)
		if who == "" || (who == cur.Reviewer && opts.Reviewer != "") {
			who = opts.Reviewer
		}
		if who == "" {
			bad("the change of clip %s names no reviewer: fill the reviewer column or give one for the whole file", textenc.Excerpt(clip, 60))
		}
		if len(problems) > n {
			continue
		}
		after.Reviewer = who
		changes = append(changes, Change{Clip: clip, By: who, At: at, Before: cloneReview(&cur), After: after})
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return changes, nil
}
