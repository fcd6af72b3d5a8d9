package dataset

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"emer/internal/table"
	"emer/internal/textenc"
)

// SplitOptions are the data-selection settings of a split.
type SplitOptions struct {
	Rule Rule
	// GTEng trains on every clip, the test clips included: the EMER
	// paper's "gt-eng" upper bound, whose test scores are leaked on
	// purpose.
	GTEng bool
	// MinDuration, in seconds, drops training clips shorter than it (the
	// paper's "remove-short" at 2 s); 0 keeps every clip. The test set
	// is never reduced, so that every setting is scored on the same
	// clips.
	MinDuration float64
	// Mix is other instruction data added to the training set.
	Mix []MixItem
}

// Split is a dataset divided for training: the clips of each side, sorted
// by name, and the settings that made it.
type Split struct {
	Options SplitOptions
	Clips   int       // clips in the dataset
	Train   []Example // sorted by clip; with GTEng the test clips too
	Test    []Example // sorted by clip
	Removed []Example // training clips dropped by MinDuration, sorted
	// Tolerance is where the test count is expected for a binomial
	// draw at the rule's fraction.
	Tolerance Tolerance
}

// MakeSplit divides examples by opts. Clip names must be unique, as must
// the ids of mixed items; with MinDuration every clip that could be
// trained on needs a measured duration.
func MakeSplit(examples []Example, opts SplitOptions) (*Split, error) {
	if err := opts.Rule.Validate(); err != nil {
		return nil, err
	}
	if opts.MinDuration < 0 {
		return nil, fmt.Errorf("minimum duration %v s is negative", opts.MinDuration)
	}
	exs := slices.Clone(examples)
	slices.SortFunc(exs, func(a, b Example) int { return strings.Compare(a.Clip, b.Clip) })
	var problems []error
	seen := map[string]Pos{}
	for _, ex := range exs {
		if prev, dup := seen[ex.Clip]; dup {
			problems = append(problems, fmt.Errorf("%s: clip %s given twice (also at %s)", ex.Pos, textenc.Excerpt(ex.Clip, 60), prev))
		}
		seen[ex.Clip] = ex.Pos
	}
	for _, m := range opts.Mix {
		if prev, dup := seen[m.ID]; dup {
			problems = append(problems, fmt.Errorf("%s: id %s is also at %s", m.Pos, textenc.Excerpt(m.ID, 60), prev))
		}
		seen[m.ID] = m.Pos
	}
	s := &Split{Options: opts, Clips: len(exs)}
	var unmeasured []string
	for _, ex := range exs {
		test := opts.Rule.InTest(ex.Clip)
		if test {
			s.Test = append(s.Test, ex)
		}
		if test && !opts.GTEng {
			continue
		}
		if opts.MinDuration > 0 {
			if ex.Duration <= 0 {
				unmeasured = append(unmeasured, ex.Clip)
				continue
			}
			if ex.Duration < opts.MinDuration {
				s.Removed = append(s.Removed, ex)
				continue
			}
		}
		s.Train = append(s.Train, ex)
	}
	if len(unmeasured) > 0 {
		problems = append(problems, fmt.Errorf("the duration of %d clips is not known, so short ones cannot be removed: %s", len(unmeasured), table.ListNames(unmeasured, 8)))
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	s.Tolerance = BinomialTolerance(len(exs), opts.Rule.Test, ToleranceSigmas)
	return s, nil
}

// File is one output file: its name, relative to the output folder with
// forward slashes, and its bytes.
type File struct {
	Name string
	Data []byte
}

// Skipped is an output file not written, and why.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// The files a split writes, relative to its output folder.
const (
	FileManifest      = "manifest.json"
	FileAffectGPT     = "affectgpt/%s.json"
	FileLLaVA         = "llava/%s.json"
	FileShareGPT      = "sharegpt/%s.json"
	FileDatasetInfo   = "sharegpt/dataset_info.json"
	FileMERRCoarse    = "merr/%s_coarse.txt"
	FileMERRFine      = "merr/%s_fine.json"
	datasetInfoPrefix = "emer_"
)

// ExportNames lists every file a split may write besides the manifest.
func ExportNames() []string {
	var out []string
	for _, side := range []string{"train", "test"} {
		for _, f := range []string{FileAffectGPT, FileLLaVA, FileShareGPT, FileMERRCoarse, FileMERRFine} {
			out = append(out, fmt.Sprintf(f, side))
		}
	}
	out = append(out, FileDatasetInfo)
	slices.Sort(out)
	return out
}

// Exports returns the export files of the split, sorted by name, and the
// files it cannot write with the reason. Mixed items are in every
// training file whose layout can carry them; MERR files hold the EMER
// clips only. leftOut counts mixed items left out of a file.
func (s *Split) Exports() (files []File, skipped []Skipped, leftOut map[string]int, err error) {
	leftOut = map[string]int{}
	sides := []struct {
		name string
		exs  []Example
		mix  []MixItem
	}{{"train", s.Train, s.Options.Mix}, {"test", s.Test, nil}}
	info := map[string]string{}
	for _, side := range sides {
		name := fmt.Sprintf(FileAffectGPT, side.name)
		b, left, err := AffectGPTJSON(side.exs, side.mix)
		if err != nil {
			return nil, nil, nil, err
		}
		if left > 0 {
			leftOut[name] = left
		}
		files = append(files, File{name, b})
		if b, err = LLaVAJSON(side.exs, side.mix); err != nil {
			return nil, nil, nil, err
		}
		files = append(files, File{fmt.Sprintf(FileLLaVA, side.name), b})
		if b, err = ShareGPTJSON(side.exs, side.mix); err != nil {
			return nil, nil, nil, err
		}
		files = append(files, File{fmt.Sprintf(FileShareGPT, side.name), b})
		info[datasetInfoPrefix+side.name] = side.name + ".json"
		if b, err = MERRFineJSON(side.exs); err != nil {
			return nil, nil, nil, err
		}
		files = append(files, File{fmt.Sprintf(FileMERRFine, side.name), b})
		coarse := fmt.Sprintf(FileMERRCoarse, side.name)
		if reason := s.coarseUnavailable(); reason != "" {
			skipped = append(skipped, Skipped{coarse, reason})
			continue
		}
		if b, err = MERRCoarse(side.exs); err != nil {
			return nil, nil, nil, err
		}
		files = append(files, File{coarse, b})
	}
	b, err := DatasetInfoJSON(info)
	if err != nil {
		return nil, nil, nil, err
	}
	files = append(files, File{FileDatasetInfo, b})
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(skipped, func(a, b Skipped) int { return strings.Compare(a.Name, b.Name) })
	return files, skipped, leftOut, nil
}

// coarseUnavailable says why the MERR coarse list cannot be written for
// this dataset, or "".
func (s *Split) coarseUnavailable() string {
	labelled, counted := true, true
	unknown := map[string]bool{}
	for _, exs := range [][]Example{s.Train, s.Test} {
		for _, ex := range exs {
			labelled = labelled && ex.Label != ""
			counted = counted && ex.Frames > 0
			if l := strings.ToLower(ex.Label); l != "" && !slices.Contains(MERRLabels, l) {
				unknown[l] = true
			}
		}
	}
	var why []string
	if !labelled {
		why = append(why, "the dataset has no "+LabelColumn+" label for every clip")
	}
	if len(unknown) > 0 {
		labels := slices.Sorted(maps.Keys(unknown))
		why = append(why, "the labels "+table.ListNames(labels, 8)+" are not among Emotion-LLaMA's classes ("+strings.Join(MERRLabels, ", ")+")")
	}
	if !counted {
		why = append(why, "the frame counts are not known (they are measured from the media given with --media)")
	}
	return strings.Join(why, "; ")
}

// Manifest describes a split and its files: what was read, the rule and
// settings, the counts and which clips went where.
type Manifest struct {
	Format       string       `json:"format"`
	Rule         string       `json:"rule"`
	Seed         uint64       `json:"seed"`
	TestFraction Decimal      `json:"test_fraction"`
	Settings     Settings     `json:"settings"`
	Counts       Counts       `json:"counts"`
	Tolerance    ToleranceDoc `json:"test_tolerance"`
	// LeaksTest is set by GTEng: the test clips are trained on.
	LeaksTest    bool           `json:"leaks_test"`
	Train        []string       `json:"train"`
	Test         []string       `json:"test"`
	RemovedShort []RemovedClip  `json:"removed_short"`
	MixLeftOut   map[string]int `json:"mix_left_out"` // file -> mixed items its layout cannot carry
	Files        []FileDigest   `json:"files"`
	Skipped      []Skipped      `json:"skipped"`
	Inputs       []InputDigest  `json:"inputs"`
}

// ManifestFormat names the manifest's layout.
const ManifestFormat = "emer-split-manifest/1"

// Settings are the command's settings as the manifest records them.
type Settings struct {
	Dataset     string   `json:"dataset"`
	TextColumn  string   `json:"text_column"`
	GTEng       bool     `json:"gt_eng"`
	RemoveShort Seconds  `json:"remove_short_s"` // 0: off
	Media       string   `json:"media"`          // "" when no media folder was read
	MediaNames  string   `json:"media_names"`    // how export media paths were made
	Mix         []string `json:"mix"`
	Actions     string   `json:"actions"`
}

// Counts are the sizes of a split.
type Counts struct {
	Clips        int `json:"clips"`
	Train        int `json:"train"` // EMER clips trained on
	Test         int `json:"test"`
	RemovedShort int `json:"removed_short"`
	Mix          int `json:"mix"` // mixed items given
}

// ToleranceDoc is the test count's check against its binomial tolerance.
type ToleranceDoc struct {
	Expected Decimal `json:"expected"`
	Low      int     `json:"low"`
	High     int     `json:"high"`
	Sigmas   Decimal `json:"sigmas"`
	Within   bool    `json:"within"`
}

// RemovedClip is a clip dropped by remove-short.
type RemovedClip struct {
	Clip     string  `json:"clip"`
	Duration Seconds `json:"duration_s"`
}

// FileDigest is an output file and the SHA-256 of its bytes.
type FileDigest struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Items  int    `json:"items"` // examples (lines or entries) it holds
}

// InputDigest is a file read and the SHA-256 of its bytes.
type InputDigest struct {
	Role   string `json:"role"` // dataset, mix, actions, media
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Decimal is a number written in the shortest decimal form that reads
// back as the same float64, never with an exponent.
type Decimal float64

// MarshalJSON implements json.Marshaler.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(d), 'f', -1, 64)), nil
}

// Seconds is a duration in seconds, written with three decimals.
type Seconds float64

// MarshalJSON implements json.Marshaler.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(s), 'f', 3, 64)), nil
}

// Digest returns the hex SHA-256 of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Manifest returns the manifest of the split and its files. inputs are
// sorted by role and path; settings are recorded as given.
func (s *Split) Manifest(files []File, skipped []Skipped, leftOut map[string]int, settings Settings, inputs []InputDigest) ([]byte, error) {
	m := Manifest{
		Format:       ManifestFormat,
		Rule:         s.Options.Rule.Describe(),
		Seed:         s.Options.Rule.Seed,
		TestFraction: Decimal(s.Options.Rule.Test),
		Settings:     settings,
		Counts: Counts{Clips: s.Clips, Train: len(s.Train), Test: len(s.Test),
			RemovedShort: len(s.Removed), Mix: len(s.Options.Mix)},
		Tolerance: ToleranceDoc{Expected: Decimal(s.Tolerance.Expected), Low: s.Tolerance.Low, High: s.Tolerance.High,
			Sigmas: Decimal(s.Tolerance.Sigmas), Within: s.Tolerance.Contains(len(s.Test))},
		LeaksTest:    s.Options.GTEng,
		Train:        names(s.Train),
		Test:         names(s.Test),
		RemovedShort: []RemovedClip{},
		MixLeftOut:   leftOut,
		Files:        []FileDigest{},
		Skipped:      append([]Skipped{}, skipped...),
		Inputs:       append([]InputDigest{}, inputs...),
	}
	if m.Settings.Mix == nil {
		m.Settings.Mix = []string{}
	}
	if m.MixLeftOut == nil {
		m.MixLeftOut = map[string]int{}
	}
	for _, ex := range s.Removed {
		m.RemovedShort = append(m.RemovedShort, RemovedClip{Clip: ex.Clip, Duration: Seconds(ex.Duration)})
	}
	for _, f := range files {
		n, err := countItems(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		m.Files = append(m.Files, FileDigest{Name: f.Name, SHA256: Digest(f.Data), Items: n})
	}
	slices.SortFunc(m.Inputs, func(a, b InputDigest) int {
		return cmp.Or(strings.Compare(a.Role, b.Role), strings.Compare(a.Path, b.Path))
	})
	return marshal(m)
}

func names(exs []Example) []string {
	out := make([]string, len(exs))
	for i, ex := range exs {
		out[i] = ex.Clip
	}
	return out
}

// countItems counts the items of an export: lines of a text list, entries
// of a JSON list or object.
func countItems(f File) (int, error) {
	if strings.HasSuffix(f.Name, ".txt") {
		return strings.Count(string(f.Data), "\n"), nil
	}
	var v any
	if err := json.Unmarshal(f.Data, &v); err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case []any:
		return len(v), nil
	case map[string]any:
		return len(v), nil
	}
	return 0, errors.New("not a JSON list or object")
}
