package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The schemas below are what each trainer's loader needs of its file,
// declared apart from the types the exports are written from: fields are
// pointers so that a missing one is told from an empty one, and a field
// the layout does not have is an error.

type schemaVideoChat struct {
	Video *string `json:"video"`
	QA    []struct {
		I *string `json:"i"`
		Q *string `json:"q"`
		A *string `json:"a"`
	} `json:"QA"`
}

type schemaTurn struct {
	From  *string `json:"from"`
	Value *string `json:"value"`
}

type schemaLLaVA struct {
	ID            *string      `json:"id"`
	Image         *string      `json:"image"`
	Video         *string      `json:"video"`
	Conversations []schemaTurn `json:"conversations"`
}

type schemaShareGPT struct {
	Conversations []schemaTurn `json:"conversations"`
	Videos        *[]string    `json:"videos"`
	Audios        *[]string    `json:"audios"`
}

type schemaDatasetInfo struct {
	FileName   *string `json:"file_name"`
	Formatting *string `json:"formatting"`
	Columns    *struct {
		Messages *string `json:"messages"`
		Videos   *string `json:"videos"`
		Audios   *string `json:"audios"`
	} `json:"columns"`
}

type schemaMERRFine struct {
	SmpReasonCaption *string  `json:"smp_reason_caption"`
	Text             *string  `json:"text"`
	PeakIndex        *int     `json:"peak_index"`
	PeakAUList       []string `json:"peak_AU_list"`
	VisualPriorList  []string `json:"visual_prior_list"`
}

// CheckExport checks an export file against the layout its name says
// (the names Exports gives), as the trainer's loader would read it, and
// returns every problem found. The manifest is not an export and is not
// checked.
func CheckExport(name string, data []byte) error {
	dir, base := path.Split(name)
	var problems []string
	bad := func(item string, format string, args ...any) {
		problems = append(problems, item+": "+fmt.Sprintf(format, args...))
	}
	var err error
	switch {
	case dir == "affectgpt/" && strings.HasSuffix(base, ".json"):
		var items []schemaVideoChat
		if err = decodeSchema(data, &items); err != nil {
			break
		}
		for i, it := range items {
			at := "item " + strconv.Itoa(i+1)
			if it.Video == nil || *it.Video == "" {
				bad(at, "no video")
			}
			if len(it.QA) == 0 {
				bad(at, "no QA")
			}
			for _, qa := range it.QA {
				if qa.I == nil || qa.Q == nil || qa.A == nil {
					bad(at, "a QA turn lacks i, q or a")
				} else if *qa.Q == "" || *qa.A == "" {
					bad(at, "an empty q or a")
				}
			}
		}
	case dir == "llava/" && strings.HasSuffix(base, ".json"):
		var items []schemaLLaVA
		if err = decodeSchema(data, &items); err != nil {
			break
		}
		for i, it := range items {
			at := "item " + strconv.Itoa(i+1)
			if it.ID == nil || *it.ID == "" {
				bad(at, "no id")
			}
			media := 0
			for _, p := range []*string{it.Image, it.Video} {
				if p != nil {
					media++
					if *p == "" {
						bad(at, "an empty media path")
					}
				}
			}
			if media > 1 {
				bad(at, "both an image and a video")
			}
			checkTurns(at, it.Conversations, true, bad)
			if n := countTokens(it.Conversations, "<image>"); n != media {
				bad(at, "%d <image> tokens for %d media files", n, media)
			}
		}
	case dir == "sharegpt/" && base == "dataset_info.json":
		var info map[string]schemaDatasetInfo
		if err = decodeSchema(data, &info); err != nil {
			break
		}
		for _, k := range slices.Sorted(maps.Keys(info)) {
			e := info[k]
			at := "dataset " + k
			if e.FileName == nil || *e.FileName == "" {
				bad(at, "no file_name")
			}
			if e.Formatting == nil || *e.Formatting != "sharegpt" {
				bad(at, "formatting is not sharegpt")
			}
			if c := e.Columns; c == nil || c.Messages == nil || *c.Messages != "conversations" ||
				c.Videos == nil || *c.Videos != "videos" || c.Audios == nil || *c.Audios != "audios" {
				bad(at, "columns do not map messages, videos and audios to conversations, videos and audios")
			}
		}
	case dir == "sharegpt/" && strings.HasSuffix(base, ".json"):
		var items []schemaShareGPT
		if err = decodeSchema(data, &items); err != nil {
			break
		}
		for i, it := range items {
			at := "item " + strconv.Itoa(i+1)
			checkTurns(at, it.Conversations, false, bad)
			for _, m := range []struct {
				token string
				list  *[]string
			}{{"<video>", it.Videos}, {"<audio>", it.Audios}} {
				if m.list == nil {
					bad(at, "no %ss list", strings.Trim(m.token, "<>"))
					continue
				}
				if n := countTokens(it.Conversations, m.token); n != len(*m.list) {
					bad(at, "%d %s tokens for %d paths", n, m.token, len(*m.list))
				}
				if slices.Contains(*m.list, "") {
					bad(at, "an empty path")
				}
			}
		}
	case dir == "merr/" && strings.HasSuffix(base, "_fine.json"):
		var entries map[string]schemaMERRFine
		if err = decodeSchema(data, &entries); err != nil {
			break
		}
		for _, k := range slices.Sorted(maps.Keys(entries)) {
			e := entries[k]
			at := "clip " + k
			if e.SmpReasonCaption == nil || *e.SmpReasonCaption == "" {
				bad(at, "no smp_reason_caption")
			}
			if e.Text == nil {
				bad(at, "no text")
			}
			if e.PeakIndex != nil && *e.PeakIndex < 0 {
				bad(at, "a negative peak_index")
			}
			if (e.PeakAUList != nil || e.VisualPriorList != nil) && e.PeakIndex == nil {
				bad(at, "action units without a peak_index")
			}
			if len(e.VisualPriorList) != 0 && len(e.VisualPriorList) != len(e.PeakAUList) {
				bad(at, "%d descriptions for %d action units", len(e.VisualPriorList), len(e.PeakAUList))
			}
		}
	case dir == "merr/" && strings.HasSuffix(base, "_coarse.txt"):
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			problems = append(problems, "the last line has no line end")
		}
		for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if line == "" && len(data) == 0 {
				break
			}
			at := "line " + strconv.Itoa(i+1)
			f := strings.Split(line, " ")
			if len(f) != 3 || f[0] == "" {
				bad(at, "not \"name frames label\"")
				continue
			}
			if n, err := strconv.Atoi(f[1]); err != nil || n <= 0 {
				bad(at, "frames %q is not a positive integer", f[1])
			}
			if !slices.Contains(MERRLabels, f[2]) {
				bad(at, "label %q is not one of Emotion-LLaMA's classes", f[2])
			}
		}
	default:
		return fmt.Errorf("%s: not an export file name", name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(problems) > 0 {
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems], fmt.Sprintf("and %d more problems", len(problems)-maxProblems))
		}
		return fmt.Errorf("%s: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

// checkTurns checks a conversation of human and gpt turns, human first;
// a LLaVA conversation (llava) pairs every human turn with a gpt turn.
func checkTurns(at string, turns []schemaTurn, llava bool, bad func(string, string, ...any)) {
	if len(turns) == 0 {
		bad(at, "no conversation")
		return
	}
	if llava && len(turns)%2 != 0 {
		bad(at, "an odd number of turns")
	}
	for j, t := range turns {
		want := "human"
		if j%2 == 1 {
			want = "gpt"
		}
		switch {
		case t.From == nil || t.Value == nil:
			bad(at, "turn %d lacks from or value", j+1)
		case *t.From != want:
			bad(at, "turn %d is from %q, want %q", j+1, *t.From, want)
		case strings.TrimSpace(*t.Value) == "":
			bad(at, "turn %d is empty", j+1)
		}
	}
	if turns[len(turns)-1].From != nil && *turns[len(turns)-1].From != "gpt" {
		bad(at, "the last turn is not the model's")
	}
}

func countTokens(turns []schemaTurn, token string) int {
	n := 0
	for _, t := range turns {
		if t.Value != nil {
			n += strings.Count(*t.Value, token)
		}
	}
	return n
}

// decodeSchema decodes data strictly: unknown fields and trailing data are
// errors, and so is JSON null where a list or object is due.
func decodeSchema(data []byte, v any) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return errors.New("null instead of a list or object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}
