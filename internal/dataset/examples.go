package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"emer/internal/table"
	"emer/internal/textenc"
)

// Example is one clip of an EMER dataset as the exports need it.
type Example struct {
	Clip     string
	Subtitle string // the words said, "" when the dataset has none
	Text     string // the description a model learns to write (EMER's reasons)
	Label    string // the coarse emotion ("happy"), "" when the dataset has none
	Pos      Pos    // the dataset row

	// Media is the clip's media file as a trainer finds it: a path
	// relative to the trainer's media folder, with forward slashes.
	Media string
	// Duration in seconds and Frames (video frames) of the media; 0 when
	// not measured.
	Duration float64
	Frames   int
	// Actions are the clip's measured facial actions, nil when none are
	// given.
	Actions *FacialActions
}

// TextColumns are the columns an EMER dataset's descriptions are taken
// from when none is named, in order of preference: EMER-V1 (reasons,
// chi_reasons) and EMER-V2 (english, chinese).
var TextColumns = []string{"reasons", "chi_reasons", "english", "chinese"}

// Optional columns of an EMER dataset.
const (
	SubtitleColumn = "subtitles" // EMER-V1 gt-eng.csv and gt-chi.csv
	LabelColumn    = "emotions"  // EMER-V1's coarse label
)

// placeholders are the media tokens trainers put in prompts; a text that
// holds one would give a sample more media tokens than media.
var placeholders = []string{"<image>", "<video>", "<audio>", "<ImageHere>", "<AudioHere>", "<VideoHere>"}

func placeholderIn(s string) string {
	for _, p := range placeholders {
		if strings.Contains(s, p) {
			return p
		}
	}
	return ""
}

// ReadExamples reads an EMER dataset CSV (names, a description column and
// optionally subtitles and emotions) in encoding enc. textColumn names the
// description column; "" takes the first of TextColumns the file has.
// It returns the examples in file order and the column used. A row with
// an empty description, and text holding a trainer's media placeholder
// such as <video>, are errors, all reported with their lines.
func ReadExamples(path string, enc textenc.Encoding, textColumn string) ([]Example, string, error) {
	var t *table.Table
	var err error
	if textColumn != "" {
		t, err = table.ReadFileEncoded(path, enc, textColumn)
	} else {
		t, err = table.ReadFileEncoded(path, enc)
		if err == nil {
			textColumn, err = t.RequireOneOf(TextColumns...)
		}
	}
	if err != nil {
		return nil, "", err
	}
	var out []Example
	var problems []error
	for _, r := range t.Rows {
		ex := Example{
			Clip:     r.Name(),
			Subtitle: strings.TrimSpace(r.Get(SubtitleColumn)),
			Text:     strings.TrimSpace(r.Get(textColumn)),
			Label:    strings.TrimSpace(r.Get(LabelColumn)),
			Pos:      Pos{File: path, Line: r.Line},
		}
		if ex.Text == "" {
			problems = append(problems, fmt.Errorf("%s: clip %s has an empty %s", ex.Pos, textenc.Excerpt(ex.Clip, 60), textColumn))
		}
		for _, c := range [][2]string{{textColumn, ex.Text}, {SubtitleColumn, ex.Subtitle}, {LabelColumn, ex.Label}} {
			if p := placeholderIn(c[1]); p != "" {
				problems = append(problems, fmt.Errorf("%s: the %s of clip %s holds %s, a trainer's media placeholder", ex.Pos, c[0], textenc.Excerpt(ex.Clip, 60), p))
			}
		}
		out = append(out, ex)
	}
	if len(problems) > 0 {
		return nil, "", joinProblems(problems)
	}
	return out, textColumn, nil
}

// MixItem is one item of another instruction dataset mixed into the
// training set: an instruction, the response to learn and optionally a
// video.
type MixItem struct {
	ID          string
	Instruction string
	Response    string
	Video       string // path as the trainer finds it, "" for text only
	Pos         Pos
}

type jsonMix struct {
	ID          *string `json:"id"`
	Instruction *string `json:"instruction"`
	Response    *string `json:"response"`
	Video       *string `json:"video"`
}

// ReadMixFile reads instruction data to mix into a training set: JSON
// Lines, one object a line with the fields instruction and response
// (required, not empty) and id and video (optional). The id defaults to
// the file's base name, a colon and the line number; video is a path as
// the trainer will find it. An instruction must not hold a media
// placeholder such as <video> (the exports add their own). Every problem
// is reported with its line.
func ReadMixFile(path string, enc textenc.Encoding) ([]MixItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadMix(f, path, enc)
}

// ReadMix is ReadMixFile for JSON Lines read from r; name is used in
// error messages and default ids.
func ReadMix(r io.Reader, name string, enc textenc.Encoding) ([]MixItem, error) {
	tr := textenc.NewReader(r, name, enc, textenc.Limits{})
	var items []MixItem
	var problems []error
	err := eachLine(tr, func(line int, b []byte) {
		pos := Pos{File: name, Line: line}
		var jm jsonMix
		if err := decodeStrict(b, &jm); err != nil {
			problems = append(problems, fmt.Errorf("%s: %v", pos, err))
			return
		}
		it := MixItem{ID: fmt.Sprintf("%s:%d", filepath.Base(name), line), Pos: pos}
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("%s: "+format, append([]any{pos}, args...)...))
		}
		if jm.ID != nil {
			if it.ID = strings.TrimSpace(*jm.ID); it.ID == "" {
				bad("empty id")
			}
		}
		for _, fld := range []struct {
			name string
			p    *string
			dst  *string
		}{{"instruction", jm.Instruction, &it.Instruction}, {"response", jm.Response, &it.Response}} {
			switch {
			case fld.p == nil:
				bad("missing field %s", fld.name)
			case strings.TrimSpace(*fld.p) == "":
				bad("empty %s", fld.name)
			default:
				*fld.dst = strings.TrimSpace(*fld.p)
			}
		}
		if p := placeholderIn(it.Instruction + "\n" + it.Response); p != "" {
			bad("the text holds %s; give the media in the video field and leave placeholders out", p)
		}
		if jm.Video != nil {
			if it.Video = strings.TrimSpace(*jm.Video); it.Video == "" {
				bad("empty video")
			}
		}
		items = append(items, it)
	})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return items, nil
}

// FacialActions are the facial action units measured at a clip's
// emotional peak frame.
type FacialActions struct {
	PeakFrame int      // 0-based index of the peak frame
	Units     []string // action units active there: "AU06", "AU12"
	// Descriptions of the units in words ("cheek raiser"), one per unit
	// or none.
	Descriptions []string
}

type jsonActions struct {
	PeakFrame *int `json:"peak_frame"`
	Actions   []struct {
		AU          string `json:"au"`
		Description string `json:"description"`
	} `json:"actions"`
}

var auPattern = regexp.MustCompile(`^AU[0-9]{1,2}$`)

// ReadActionsFile reads measured facial actions: a JSON object keyed by
// clip name, each value {"peak_frame": N, "actions": [{"au": "AU12",
// "description": "lip corner puller"}, ...]} with peak_frame a 0-based
// frame index and description optional (given for every unit or for
// none). Unknown fields are errors; every problem is reported with its
// line.
func ReadActionsFile(path string) (map[string]*FacialActions, error) {
	data, err := textenc.ReadFile(path, textenc.UTF8, textenc.Limits{})
	if err != nil {
		return nil, err
	}
	return readActions([]byte(data), path)
}

func readActions(data []byte, name string) (map[string]*FacialActions, error) {
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte{'\n'}) }
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	jsonErr := func(err error) error {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("%s:%d: %v", name, lineAt(se.Offset), err)
		case errors.As(err, &te):
			return fmt.Errorf("%s:%d: %v", name, lineAt(te.Offset), err)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%s: the JSON ends early", name)
		}
		return fmt.Errorf("%s:%d: %v", name, lineAt(dec.InputOffset()), err)
	}
	if tok, err := dec.Token(); err != nil {
		return nil, jsonErr(err)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s:1: want a JSON object keyed by clip name", name)
	}
	out := map[string]*FacialActions{}
	firstLine := map[string]int{}
	var problems []error
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		clip := tok.(string) // object keys are strings
		line := lineAt(dec.InputOffset())
		var ja jsonActions
		if err := dec.Decode(&ja); err != nil {
			return nil, jsonErr(err)
		}
		pos := Pos{File: name, Line: line}
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("%s: clip %s: "+format, append([]any{pos, textenc.Excerpt(clip, 60)}, args...)...))
		}
		if prev, dup := firstLine[clip]; dup {
			bad("given twice (first on line %d)", prev)
			continue
		}
		firstLine[clip] = line
		fa := &FacialActions{}
		switch {
		case ja.PeakFrame == nil:
			bad("missing peak_frame")
		case *ja.PeakFrame < 0:
			bad("peak_frame %d is negative", *ja.PeakFrame)
		default:
			fa.PeakFrame = *ja.PeakFrame
		}
		described := 0
		for _, a := range ja.Actions {
			au := strings.ToUpper(strings.TrimSpace(a.AU))
			if !auPattern.MatchString(au) {
				bad("action unit %s is not of the form AU12", textenc.Excerpt(a.AU, 20))
			}
			fa.Units = append(fa.Units, au)
			if d := strings.TrimSpace(a.Description); d != "" {
				described++
				fa.Descriptions = append(fa.Descriptions, d)
			}
		}
		if described != 0 && described != len(ja.Actions) {
			bad("%d of %d action units have a description; describe all or none", described, len(ja.Actions))
		}
		out[clip] = fa
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s:%d: more than one JSON value", name, lineAt(dec.InputOffset()))
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return out, nil
}
