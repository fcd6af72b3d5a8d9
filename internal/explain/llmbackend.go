package explain

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"emer/internal/labels"
	"emer/internal/llm"
	"emer/internal/media"
	"emer/internal/reply"
)

// Mode says how the llm backend shows a clip to the model.
type Mode string

// The modes of the llm backend.
const (
	// ModeEnd2End sends the sampled frames, the audio when asked and the
	// subtitle to one multimodal model.
	ModeEnd2End Mode = "end2end"
	// ModeCaption has a caption model describe the frames, then the
	// reasoning model reason from that description and the subtitle (the
	// EMER paper's VideoChat-Text).
	ModeCaption Mode = "caption"
	// ModeCues is end2end with the local reasoner's measured cues
	// (CueSummary) added to the prompt.
	ModeCues Mode = "cues"
)

// Modes lists the modes.
var Modes = []Mode{ModeEnd2End, ModeCaption, ModeCues}

// DefaultFrames is the number of frames sampled uniformly from a clip, as
// AffectGPT 2025 samples them.
const DefaultFrames = 8

// Steps of the llm backend, as a StepError names them.
const (
	StepCaption   = "caption"
	StepReasoning = "reasoning"
	StepLabels    = "labels"
)

// LLM explains a clip with chat models over an llm.Client: the reasoning
// in the chosen prompt, then open-vocabulary labels extracted from it with
// the AffectGPT 2025 prompt. The client is built by the caller (with its
// cache and retries); LLM sends each step once.
type LLM struct {
	Client llm.Client
	// Model reasons and extracts the labels.
	Model string
	// CaptionModel describes the frames in caption mode; Model when empty.
	CaptionModel string
	Mode         Mode   // ModeEnd2End when empty
	Prompt       string // PromptEMER when empty
	// Language of the prompt: English (the default) or Chinese, which
	// only the EMER prompt has. In cues mode the measured cues are given
	// in English either way.
	Language string
	// Frames is the number of frames sampled uniformly (DefaultFrames
	// when 0).
	Frames int
	// Audio sends the clip's audio (16 kHz WAV) with the prompt, for
	// models that take audio.
	Audio bool
	// Media reads the frames and the audio; FFmpeg{} when nil.
	Media       Media
	Temperature float64
	MaxTokens   int // per reply; 0 leaves it to the server
}

var _ Explainer = (*LLM)(nil)

// StepError is the failure of one model call of the llm backend. Err is
// the client's error, or a *reply.Failure that keeps the raw reply (an
// empty, refused or truncated reply, or labels that cannot be read).
type StepError struct {
	Step string // StepCaption, StepReasoning or StepLabels
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// config is the backend's settings with defaults applied.
type config struct {
	mode     Mode
	template string
	lang     string
	frames   int
	media    Media
	caption  string
}

func (b *LLM) config() (config, error) {
	c := config{mode: b.Mode, frames: b.Frames, media: b.Media, caption: b.CaptionModel}
	if b.Client == nil {
		return c, errors.New("llm backend: no client")
	}
	if b.Model == "" {
		return c, errors.New("llm backend: no model")
	}
	if c.mode == "" {
		c.mode = ModeEnd2End
	}
	switch c.mode {
	case ModeEnd2End, ModeCaption, ModeCues:
	default:
		return c, fmt.Errorf("llm backend: unknown mode %q (want end2end, caption or cues)", c.mode)
	}
	lang, err := language(b.Language)
	if err != nil {
		return c, fmt.Errorf("llm backend: %w", err)
	}
	c.lang = lang
	prompt := b.Prompt
	if prompt == "" {
		prompt = PromptEMER
	}
	if c.template, err = reasoningTemplate(prompt, lang); err != nil {
		return c, fmt.Errorf("llm backend: %w", err)
	}
	switch {
	case c.frames == 0:
		c.frames = DefaultFrames
	case c.frames < 0:
		return c, fmt.Errorf("llm backend: %d frames", c.frames)
	}
	if c.media == nil {
		c.media = FFmpeg{}
	}
	if c.caption == "" {
		c.caption = b.Model
	}
	return c, nil
}

// Explain asks the model about in.Clip. Modalities are the channels the
// model was given: visual (frames, or their caption), audio (the audio, or
// in cues mode a measured voice), content (a subtitle). The explanation
// has no scored Emotions: the model's labels are in OVLabels. A failed
// step is a *StepError and no explanation.
func (b *LLM) Explain(ctx context.Context, in Input) (*Explanation, error) {
	cfg, err := b.config()
	if err != nil {
		return nil, err
	}
	if in.Clip == "" {
		return nil, errors.New("llm backend: no clip")
	}
	if cfg.mode == ModeCues && in.Cues == nil {
		return nil, errors.New("llm backend: cues mode needs the clip's measured cues")
	}
	e := &Explanation{Clip: in.Clip, Backend: BackendLLM, Model: b.Model,
		Emotions: []Emotion{}, OVLabels: []string{}, Clues: []Clue{}, Modalities: []string{}, Warnings: []string{}}

	subtitle := strings.TrimSpace(in.Subtitle)
	if subtitle == "" && in.Cues != nil && in.Cues.Text.Present {
		subtitle = strings.TrimSpace(in.Cues.Text.Subtitle)
	}
	if subtitle == "" {
		e.Warnings = append(e.Warnings, "text: the text channel is absent: no subtitle was given or found; the prompt's subtitle is empty")
	}

	frames, err := cfg.media.Frames(ctx, in.Clip, cfg.frames)
	switch {
	case err != nil && len(frames) > 0 && errors.Is(err, media.ErrDamaged):
		e.Warnings = append(e.Warnings, fmt.Sprintf("visual: %d of %d frames read from damaged media: %v", len(frames), cfg.frames, err))
	case err != nil:
		return nil, fmt.Errorf("frames of %s: %w", in.Clip, err)
	case len(frames) == 0:
		return nil, fmt.Errorf("frames of %s: no frame could be read", in.Clip)
	case len(frames) < cfg.frames:
		e.Warnings = append(e.Warnings, fmt.Sprintf("visual: %d of %d frames could be read", len(frames), cfg.frames))
	}
	var wav []byte
	if b.Audio {
		if wav, err = cfg.media.Audio(ctx, in.Clip); err != nil {
			return nil, fmt.Errorf("audio of %s: %w", in.Clip, err)
		}
	}

	data := PromptData{Subtitle: subtitle, Frames: len(frames), Audio: wav != nil}
	images := frames
	if cfg.mode == ModeCaption {
		text, err := Render(templateCaption, PromptData{Frames: len(frames)})
		if err != nil {
			return nil, err
		}
		caption, err := b.ask(ctx, StepCaption, cfg.caption, buildParts(text, frames, nil))
		if err != nil {
			return nil, err
		}
		data.Caption, data.Frames, images = caption, 0, nil
		times := make([]float64, len(frames))
		for i, f := range frames {
			times[i] = round3(f.Time)
		}
		end := frames[len(frames)-1].Time
		if in.Cues != nil && in.Cues.Duration > 0 {
			end = in.Cues.Duration
		}
		e.Clues = append(e.Clues, Clue{Aspect: AspectVisual, Text: caption, Start: 0, End: end,
			Evidence: map[string]any{"source": "caption", "model": cfg.caption, "frames": len(frames), "frame_times_s": times}})
		if cfg.caption != b.Model {
			e.Model = cfg.caption + " + " + b.Model
		}
	}
	voiceCues := false
	if cfg.mode == ModeCues {
		data.Cues = CueSummary(in.Cues)
		voiceCues = hasVoice(in.Cues)
	}

	prompt, err := Render(cfg.template, data)
	if err != nil {
		return nil, err
	}
	reasoning, err := b.ask(ctx, StepReasoning, b.Model, buildParts(prompt, images, wav))
	if err != nil {
		return nil, err
	}
	e.Reasoning = reasoning

	extract, err := Render(templateOVExtract, PromptData{Text: reasoning})
	if err != nil {
		return nil, err
	}
	answer, err := b.ask(ctx, StepLabels, b.Model, []llm.Part{llm.Text(extract)})
	if err != nil {
		return nil, err
	}
	ov, warn, f := parseLabels(answer)
	if f != nil {
		return nil, &StepError{Step: StepLabels, Err: f}
	}
	e.OVLabels = append(e.OVLabels, ov...)
	if warn != "" {
		e.Warnings = append(e.Warnings, "labels: "+warn)
	}

	if len(frames) > 0 {
		e.Modalities = append(e.Modalities, AspectVisual)
	}
	if wav != nil || voiceCues {
		e.Modalities = append(e.Modalities, AspectAudio)
	}
	if subtitle != "" {
		e.Modalities = append(e.Modalities, AspectContent)
	}
	return e, nil
}

// ask sends one user message and returns the reply's text when it is
// usable (see reply.Answer).
func (b *LLM) ask(ctx context.Context, step, model string, parts []llm.Part) (string, error) {
	r, err := b.Client.Chat(ctx, llm.Request{
		Model:       model,
		Messages:    []llm.Message{llm.User(parts...)},
		Temperature: b.Temperature,
		MaxTokens:   b.MaxTokens,
	})
	if err != nil {
		return "", &StepError{Step: step, Err: err}
	}
	text, f := reply.Answer(r)
	if f != nil {
		return "", &StepError{Step: step, Err: f}
	}
	return text, nil
}

// buildParts splits a rendered prompt at its media markers and puts the
// frames (at <ImageHere> or <FrameHere>) and the audio (at <AudioHere>)
// there. Media whose marker the prompt lacks go before the text, frames
// first; a marker with no media to put there is dropped.
func buildParts(prompt string, frames []Frame, wav []byte) []llm.Part {
	var parts []llm.Part
	imagesPlaced, audioPlaced := false, false
	images := func() []llm.Part {
		out := make([]llm.Part, len(frames))
		for i, f := range frames {
			out[i] = llm.Image("image/jpeg", f.JPEG)
		}
		return out
	}
	rest := prompt
	for {
		at, marker := -1, ""
		for _, m := range []string{markerImage, markerFrame, markerAudio} {
			if i := strings.Index(rest, m); i >= 0 && (at < 0 || i < at) {
				at, marker = i, m
			}
		}
		if at < 0 {
			break
		}
		if at > 0 {
			parts = append(parts, llm.Text(rest[:at]))
		}
		switch marker {
		case markerAudio:
			if wav != nil && !audioPlaced {
				parts = append(parts, llm.Audio(wav))
				audioPlaced = true
			}
		default:
			if !imagesPlaced {
				parts = append(parts, images()...)
				imagesPlaced = true
			}
		}
		rest = rest[at+len(marker):]
	}
	if rest != "" {
		parts = append(parts, llm.Text(rest))
	}
	var lead []llm.Part
	if !imagesPlaced {
		lead = append(lead, images()...)
	}
	if !audioPlaced && wav != nil {
		lead = append(lead, llm.Audio(wav))
	}
	return append(lead, parts...)
}

var (
	// listRe finds a bracketed list.
	listRe = regexp.MustCompile(`\[[^\[\]]*\]`)
	// bareListRe is a line of comma-separated labels of at most three
	// words each, with no brackets: "happy, excited".
	bareListRe = regexp.MustCompile(`^\s*[\p{L}'"‘’“” -]{1,40}(?:[,，、]\s*[\p{L}'"‘’“” -]{1,40})*\s*\.?\s*$`)
	// nextInputRe finds the start of a new few-shot example.
	nextInputRe = regexp.MustCompile(`(?i)\binput\s*:`)
)

// parseLabels reads the extraction reply: the first bracketed list in it
// ("[happy, excited]"), or, failing that, a first line that is nothing but
// labels separated by commas, each read as labels.Parse reads a list. A
// reply that holds neither is a parse failure. warn is set for an empty
// list and for a list labels.Parse finds malformed (its lenient reading is
// kept).
func parseLabels(text string) (out []string, warn string, f *reply.Failure) {
	answer := text
	if loc := nextInputRe.FindStringIndex(answer); loc != nil && loc[0] > 0 {
		answer = answer[:loc[0]]
	}
	list := listRe.FindString(answer)
	if list == "" {
		line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(answer), "\n", 2)[0])
		if !bareListRe.MatchString(line) || tooLong(line) {
			return nil, "", reply.ParseFailure(text, "no list of labels in the reply")
		}
		list = strings.TrimSuffix(line, ".")
	}
	out, err := labels.Parse(list)
	if err != nil {
		warn = err.Error()
	}
	if len(out) == 0 && warn == "" {
		warn = "the model identified no emotion"
	}
	return out, warn, nil
}

// tooLong reports whether a bare list has an item of more than three
// words, which makes it prose rather than labels.
func tooLong(line string) bool {
	for _, item := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
		if len(strings.Fields(item)) > 3 {
			return true
		}
	}
	return false
}

// ParseLabels reads a reply to the open-vocabulary extraction prompt
// (ov_extract) as the llm backend does, for the other steps that send it.
func ParseLabels(text string) (labels []string, warn string, f *reply.Failure) {
	return parseLabels(text)
}
