package study

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Score is a rater's judgement of one reasoning, 1 to 4.
type Score int

// The four levels of the EMER paper's human evaluation.
const (
	CompletelyWrong   Score = 1
	SmallPart         Score = 2
	MostPart          Score = 3
	CompletelyCorrect Score = 4
)

// Levels lists the scores in order with the paper's wording.
var Levels = []Level{
	{CompletelyWrong, "completely wrong"},
	{SmallPart, "correct in a small part"},
	{MostPart, "correct for the most part"},
	{CompletelyCorrect, "completely correct"},
}

// Level is a score and its wording.
type Level struct {
	Score Score
	Text  string
}

// Valid reports whether s is one of the four levels.
func (s Score) Valid() bool { return s >= CompletelyWrong && s <= CompletelyCorrect }

// GroundTruth is the Source of a clip's ground-truth reasoning. It cannot
// be a system's name (see ValidSystemName).
const GroundTruth = "(ground truth)"

// DefaultTarget is the number of raters per clip of the EMER paper.
const DefaultTarget = 5

// DefaultHold is how long a clip handed to a rater stays theirs.
const DefaultHold = 30 * time.Minute

// MaxCandidates bounds the candidates of one clip (the ground truth and
// the systems).
const MaxCandidates = 64

// Study is one rating study.
type Study struct {
	ID      int64
	Name    string // the organizer's; never shown to raters
	Target  int    // ratings wanted per clip, one per rater
	Seed    int64  // orders the clips (see Clip.Rank)
	Secret  []byte // key of the candidates' blind order and the clip ids
	Sources Sources
	Created time.Time
}

// Sources are the files a study was made from, for the organizer's record.
type Sources struct {
	Clips       string      `json:"clips"`
	GroundTruth string      `json:"ground_truth"`
	Predictions []NamedFile `json:"predictions"`
}

// NamedFile is a system's predictions file.
type NamedFile struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// Clip is one video of a study.
type Clip struct {
	Study int64
	ID    string // opaque: the clip's name in URLs
	Name  string // the dataset's name; organizer only
	Media string // path of the media file
	// Rank is the clip's place in the study's seeded order: among clips
	// rated equally often, the lower rank is handed out first.
	Rank      int
	Subtitles Subtitles
}

// Subtitles are what is said in a clip: timed cues when there are any,
// and the text.
type Subtitles struct {
	Cues []Cue  `json:"cues,omitempty"`
	Text string `json:"text,omitempty"`
}

// Cue is a subtitle shown from Start to End seconds.
type Cue struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
}

// Candidate is one reasoning to be rated: the ground truth or a system's
// prediction for a clip.
type Candidate struct {
	Study  int64
	Clip   string // Clip.ID
	ID     int    // 0..n-1 within the clip, in the order the study was made
	Source string // GroundTruth or a system's name
	Text   string
}

// Rater is one invited person.
type Rater struct {
	ID        int64
	Study     int64
	Label     string // the organizer's name for them
	TokenHash [32]byte
	Created   time.Time
}

// Hold is a clip handed to a rater and not yet rated. A rater holds at
// most one clip.
type Hold struct {
	Study   int64
	Rater   int64
	Clip    string
	Expires time.Time
	Shown   []int // candidate ids in the order shown
}

// Completion is a rater's scores for every candidate of a clip.
type Completion struct {
	Study  int64
	Rater  int64
	Clip   string
	Shown  []int   // candidate ids in the order shown
	Scores []Score // by position: Scores[i] is for Shown[i]
	At     time.Time
}

// Load is how far a clip is from its target, as seen by one rater.
type Load struct {
	Clip        string
	Rank        int
	Done        int  // completions
	Held        int  // holds of other raters that have not expired
	DoneByRater bool // the rater has rated it
}

// Errors of the Service. ErrNotFound is also what a Store returns for a
// missing row.
var (
	ErrNotFound    = errors.New("not found")
	ErrNotAssigned = errors.New("this clip is not assigned to this rater")
	ErrTaken       = errors.New("the hold on this clip ran out and the clip went to another rater")
	ErrAlreadyDone = errors.New("this rater has already rated this clip")
)

// IncompleteError reports the positions left without a valid score.
type IncompleteError struct {
	Missing []int // 0-based positions
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("%d of the reasonings have no rating", len(e.Missing))
}

var systemName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$`)

// ValidSystemName reports whether name can name a system: letters,
// digits and _ . + -, up to 64, starting with a letter or digit.
func ValidSystemName(name string) bool { return systemName.MatchString(name) }
