package dataset

import (
	"encoding/json"
	"errors"
	"time"
)

// Reviewer is someone invited to review descriptions in the browser
// (emer serve); their Name is who their changes are made by, in the
// history and the review CSV.
type Reviewer struct {
	ID      int64
	Name    string
	Invited time.Time // when their current link was made
}

// ErrUnknownReviewer is wrapped by the error of a lookup of a reviewer
// whose link is not (or no longer) valid.
var ErrUnknownReviewer = errors.New("no reviewer has that link")

// ErrNoReview is wrapped by the error of a lookup of a clip that has no
// description in review.
var ErrNoReview = errors.New("no description of that clip in review")

// The verdicts of a grounding check (emer build check) on a claim.
const (
	Supported    = "supported"
	Contradicted = "contradicted"
	Unverifiable = "unverifiable"
)

// Verdicts lists the verdicts above, in that order.
var Verdicts = []string{Supported, Contradicted, Unverifiable}

// Claim is one claim of a description as a grounding check judged it
// against the cues measured in the clip.
type Claim struct {
	Text    string `json:"text"`
	Aspect  string `json:"aspect,omitempty"`
	Verdict string `json:"verdict"`
	// Evidence is what the check measured, as it gave it (any JSON
	// value, compacted); nil when it gave none.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// ClipCheck is the grounding check of one clip's description, as loaded
// for review.
type ClipCheck struct {
	Clip string
	// Description is the text the check judged when the check says, else
	// the clip's description in review when the check was loaded.
	Description string
	Claims      []Claim
	Source      string    // the file the check was loaded from
	At          time.Time // when it was loaded
}
