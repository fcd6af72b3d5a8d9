package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Prompt is the question of every EMER example, after the subtitle: the
// wording AffectGPT (2023) trains on (AffectGPT's
// video_llama/datasets/datasets/emotion_instruct_dataset.py builds "The
// subtitle of this video is <Subtitle>{subtitle}</Subtitle>. Now answer my
// question based on what you have seen, heard, and provided subtitle.
// {user_message}" with this user_message).
const Prompt = "From what clues can we infer the person's emotional state?"

// Question returns the human turn of an example, without media
// placeholders: the subtitle in AffectGPT's <Subtitle> tags (empty tags
// when there is none, as AffectGPT writes them) and Prompt.
func Question(subtitle string) string {
	return "The subtitle of this video is <Subtitle>" + subtitle + "</Subtitle>. " +
		"Now answer my question based on what you have seen, heard, and provided subtitle. " + Prompt
}

// videoChatQuestion is the q of an example in the VideoChat layout: its
// loader has already said "Now answer my question based on what you have
// seen." before it.
func videoChatQuestion(subtitle string) string {
	return "The subtitle of this video is <Subtitle>" + subtitle + "</Subtitle>. " + Prompt
}

// VideoChatItem is one item of the video instruction JSON that AffectGPT
// (2023) and Video-LLaMA read: the VideoChat layout of
// videochat_instruct_11k.json, a list of {"video": path, "QA": [{"i", "q",
// "a"}]}, loaded by Video_Instruct_Dataset in
// video_llama/datasets/datasets/video_instruct_dataset.py of both
// repositories (the "webvid_instruct" builder). The loader reads "video"
// relative to its vis_root and the q and a of each turn; it prepends
// "Close your ears, open your eyes and you see that
// <Video><ImageHere></Video>." to the first q itself, so q holds no
// placeholder. "i", VideoChat's per-turn instruction, is kept empty.
type VideoChatItem struct {
	Video string        `json:"video"`
	QA    []VideoChatQA `json:"QA"`
}

// VideoChatQA is one question and answer of a VideoChatItem.
type VideoChatQA struct {
	I string `json:"i"`
	Q string `json:"q"`
	A string `json:"a"`
}

// Turn is one message of a LLaVA or ShareGPT conversation: from is
// "human" or "gpt".
type Turn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

// LLaVAItem is one item of a LLaVA-style conversations JSON: LLaVA's
// {"id", "image", "conversations": [{"from": "human", "value":
// "<image>\n..."}, {"from": "gpt", "value": ...}]} (LLaVA-Instruct-150K),
// with "video" in place of "image" as LLaVA-NeXT's LazySupervisedDataset
// (llava/train/train.py) reads video samples: the path relative to
// --video_folder, the frames standing for the <image> token. A text-only
// item has neither key.
type LLaVAItem struct {
	ID            string `json:"id"`
	Video         string `json:"video,omitempty"`
	Conversations []Turn `json:"conversations"`
}

// ShareGPTItem is one item of LLaMA-Factory's multimodal sharegpt layout
// (LLaMA-Factory data/README.md, "Multimodal Video Dataset" and
// "Multimodal Audio Dataset"): conversations of human and gpt turns, and
// "videos" and "audios" lists of paths, as many as the <video> and
// <audio> tokens in the conversation. An EMER clip gives its media file
// as both its video and its audio (LLaMA-Factory decodes the sound of the
// file through librosa); both lists are always present, empty for a
// text-only item, so that every row has the same columns.
type ShareGPTItem struct {
	Conversations []Turn   `json:"conversations"`
	Videos        []string `json:"videos"`
	Audios        []string `json:"audios"`
}

// DatasetInfoEntry is an entry of LLaMA-Factory's dataset_info.json for a
// sharegpt file with videos and audios (the "dataset description" of
// LLaMA-Factory data/README.md).
type DatasetInfoEntry struct {
	FileName   string          `json:"file_name"`
	Formatting string          `json:"formatting"`
	Columns    ShareGPTColumns `json:"columns"`
}

// ShareGPTColumns maps LLaMA-Factory's column roles to the fields of
// ShareGPTItem.
type ShareGPTColumns struct {
	Messages string `json:"messages"`
	Videos   string `json:"videos"`
	Audios   string `json:"audios"`
}

// MERRFine is the entry of a clip in Emotion-LLaMA's fine-grained MERR
// annotation (MERR_fine_grained.json, an object keyed by clip name).
// Emotion-LLaMA's FeatureFaceDataset (minigpt4/datasets/datasets/
// first_face.py, task reason_v2) trains on smp_reason_caption; the other
// fields are those of the MERR construction pipeline (MER-Dataset-Builder,
// linked from Emotion-LLaMA's MERR/README.md): the transcript and, when
// facial actions were measured, the peak frame, its action units and
// their descriptions.
type MERRFine struct {
	SmpReasonCaption string   `json:"smp_reason_caption"`
	Text             string   `json:"text"`
	PeakIndex        *int     `json:"peak_index,omitempty"`
	PeakAUList       []string `json:"peak_AU_list,omitempty"`
	VisualPriorList  []string `json:"visual_prior_list,omitempty"`
}

// marshal writes v as indented JSON, with < and > as they are (trainers'
// placeholders stay readable) and a final newline. The encoder keeps
// struct fields in declaration order and sorts map keys, so equal values
// give equal bytes.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// AffectGPTJSON returns examples and mixed items in the VideoChat layout.
// Items without a video cannot be in it (the loader reads a video for
// every item) and are left out; their number is returned.
func AffectGPTJSON(exs []Example, mix []MixItem) ([]byte, int, error) {
	items := make([]VideoChatItem, 0, len(exs)+len(mix))
	for _, ex := range exs {
		items = append(items, VideoChatItem{Video: ex.Media, QA: []VideoChatQA{{Q: videoChatQuestion(ex.Subtitle), A: ex.Text}}})
	}
	left := 0
	for _, m := range mix {
		if m.Video == "" {
			left++
			continue
		}
		items = append(items, VideoChatItem{Video: m.Video, QA: []VideoChatQA{{Q: m.Instruction, A: m.Response}}})
	}
	b, err := marshal(items)
	return b, left, err
}

// LLaVAJSON returns examples and mixed items as LLaVA conversations.
func LLaVAJSON(exs []Example, mix []MixItem) ([]byte, error) {
	items := make([]LLaVAItem, 0, len(exs)+len(mix))
	for _, ex := range exs {
		items = append(items, LLaVAItem{ID: ex.Clip, Video: ex.Media, Conversations: []Turn{
			{From: "human", Value: "<image>\n" + Question(ex.Subtitle)},
			{From: "gpt", Value: ex.Text},
		}})
	}
	for _, m := range mix {
		q := m.Instruction
		if m.Video != "" {
			q = "<image>\n" + q
		}
		items = append(items, LLaVAItem{ID: m.ID, Video: m.Video, Conversations: []Turn{
			{From: "human", Value: q}, {From: "gpt", Value: m.Response},
		}})
	}
	return marshal(items)
}

// ShareGPTJSON returns examples and mixed items in LLaMA-Factory's
// sharegpt layout.
func ShareGPTJSON(exs []Example, mix []MixItem) ([]byte, error) {
	items := make([]ShareGPTItem, 0, len(exs)+len(mix))
	for _, ex := range exs {
		items = append(items, ShareGPTItem{
			Conversations: []Turn{
				{From: "human", Value: "<video><audio>" + Question(ex.Subtitle)},
				{From: "gpt", Value: ex.Text},
			},
			Videos: []string{ex.Media},
			Audios: []string{ex.Media},
		})
	}
	for _, m := range mix {
		it := ShareGPTItem{Conversations: []Turn{{From: "human", Value: m.Instruction}, {From: "gpt", Value: m.Response}}, Videos: []string{}, Audios: []string{}}
		if m.Video != "" {
			it.Conversations[0].Value = "<video>" + m.Instruction
			it.Videos = []string{m.Video}
		}
		items = append(items, it)
	}
	return marshal(items)
}

// DatasetInfoJSON returns a dataset_info.json registering the named
// sharegpt files (dataset name -> file name).
func DatasetInfoJSON(files map[string]string) ([]byte, error) {
	info := make(map[string]DatasetInfoEntry, len(files))
	for name, file := range files {
		info[name] = DatasetInfoEntry{FileName: file, Formatting: "sharegpt",
			Columns: ShareGPTColumns{Messages: "conversations", Videos: "videos", Audios: "audios"}}
	}
	return marshal(info)
}

// MERRLabels are the classes Emotion-LLaMA's FeatureFaceDataset maps
// coarse labels to (its emos list); a label outside them fails its loader.
var MERRLabels = []string{"neutral", "angry", "happy", "sad", "worried", "surprise", "fear", "contempt", "doubt"}

// MERRCoarse returns Emotion-LLaMA's coarse-grained list
// (MERR_coarse_grained.txt): one line per clip, "name frames label",
// separated by single spaces, which FeatureFaceDataset splits on ' ' (the
// name is field 0, the label field 2). Frames is the clip's number of
// video frames. Names and labels holding spaces, unknown frame counts and
// empty labels are errors.
func MERRCoarse(exs []Example) ([]byte, error) {
	var b bytes.Buffer
	var problems []error
	for _, ex := range exs {
		switch {
		case strings.IndexFunc(ex.Clip, unicode.IsSpace) >= 0:
			problems = append(problems, fmt.Errorf("%s: clip name %q holds a space, which the MERR list cannot carry", ex.Pos, ex.Clip))
		case ex.Label == "":
			problems = append(problems, fmt.Errorf("%s: clip %s has no %s label", ex.Pos, ex.Clip, LabelColumn))
		case strings.IndexFunc(ex.Label, unicode.IsSpace) >= 0:
			problems = append(problems, fmt.Errorf("%s: the label %q of clip %s holds a space, which the MERR list cannot carry", ex.Pos, ex.Label, ex.Clip))
		case ex.Frames <= 0:
			problems = append(problems, fmt.Errorf("%s: the frame count of clip %s is not known", ex.Pos, ex.Clip))
		default:
			b.WriteString(ex.Clip + " " + strconv.Itoa(ex.Frames) + " " + strings.ToLower(ex.Label) + "\n")
		}
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return b.Bytes(), nil
}

// MERRFineJSON returns Emotion-LLaMA's fine-grained annotation of the
// examples.
func MERRFineJSON(exs []Example) ([]byte, error) {
	out := make(map[string]MERRFine, len(exs))
	for _, ex := range exs {
		e := MERRFine{SmpReasonCaption: ex.Text, Text: ex.Subtitle}
		if a := ex.Actions; a != nil {
			peak := a.PeakFrame
			e.PeakIndex = &peak
			e.PeakAUList = append([]string{}, a.Units...)
			e.VisualPriorList = append([]string(nil), a.Descriptions...)
		}
		out[ex.Clip] = e
	}
	return marshal(out)
}
