package report

import (
	"time"

	"emer/internal/agreement"
	"emer/internal/judge"
)

// Input is everything a report shows, read by the caller.
type Input struct {
	Title string
	// Generated is printed in the page when it is not zero; leave it zero
	// for a page that depends on its inputs alone.
	Generated time.Time
	Evals     []Eval
	Study     *Study // nil: no human evaluation
	Checks    []Check
	Clips     []Clip // the qualitative section, in the order given
	// Bootstrap draws the human scores' intervals; the zero value means
	// agreement.DefaultBootstrap.
	Bootstrap agreement.Bootstrap
	// Notes are problems met while reading the inputs, shown at the end.
	Notes []string
}

// Eval is one emer eval output folder: one judge, its systems' summaries
// and each sample's score.
type Eval struct {
	Label    string // how the report names the folder (its path as given)
	Judge    string // the judge model
	Protocol string
	Metrics  []judge.Metric // those the protocol scores, in its order
	Lo, Hi   float64        // the range of the clue and emotion scores; modality is 0-3
	// Systems is summary.json's: system -> metric -> summary.
	Systems map[string]map[judge.Metric]judge.MetricSummary
	// Samples holds each sample's score as emer eval computes it (the
	// median of its ok repeats): system -> metric -> sample -> score.
	Samples map[string]map[judge.Metric]map[string]float64
}

// Study is the ratings of a human rating study.
type Study struct {
	Name    string
	Source  string // the database it was read from
	Ratings []Rating
}

// Rating is one rater's score of one candidate reasoning of a clip.
type Rating struct {
	Rater       int64
	Clip        string // the clip's name in the dataset (as the eval samples are named)
	System      string // the system whose reasoning it is; empty for the ground truth
	GroundTruth bool
	Score       float64 // 1 completely wrong .. 4 completely correct
}

// Check is the cue-grounding check of one system's descriptions.
type Check struct {
	System       string
	File         string
	Totals       ClaimCounts
	GroundedRate *float64               // nil when the check gives none
	Clips        map[string]ClaimCounts // by clip name
}

// ClaimCounts counts the claims of a description by verdict.
type ClaimCounts struct {
	Claims, Supported, Contradicted, Unverifiable int
}

// Clip is a clip of the qualitative section.
type Clip struct {
	Name        string
	Subtitle    string
	GroundTruth string
	Frames      []Frame
	Reasonings  map[string]string // system -> its reasoning for the clip
	Notes       []string          // e.g. why it has no frames
}

// Frame is a still of a clip.
type Frame struct {
	Time          float64 // seconds from the start
	JPEG          []byte
	Width, Height int
}
