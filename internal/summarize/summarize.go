package summarize

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"emer/internal/dataset"
	"emer/internal/explain"
	"emer/internal/llm"
	"emer/internal/reply"
	"emer/internal/textcue"
)

// The model calls of a clip, in order.
const (
	StepClues   = "clues"   // clue summarization
	StepEmotion = "emotion" // emotion summarization
	StepLabels  = "labels"  // open-vocabulary label extraction
)

// Statuses of a summarized clip.
const (
	StatusOK     = "ok"            // every reply usable: a description and its labels
	StatusReview = "review"        // a reply is unusable: the clip is marked for review
	StatusRetry  = "request_error" // the model server gave no reply: done again next run
)

// Clip is one clip to summarize.
type Clip struct {
	Name string
	// Descriptions are the clue paragraphs, one per annotator in the
	// order of their names (see Paragraphs).
	Descriptions []string
}

// Clips groups annotation records into clips, sorted by name, each with
// its paragraphs (see Paragraphs).
func Clips(recs []dataset.Annotation, lang string) []Clip {
	by := map[string][]dataset.Annotation{}
	for _, r := range recs {
		by[r.Clip] = append(by[r.Clip], r)
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Clip, len(names))
	for i, n := range names {
		out[i] = Clip{Name: n, Descriptions: Paragraphs(by[n], lang)}
	}
	return out
}

// Paragraphs makes the "clue description" paragraphs of one clip's
// records: one per annotator (in the order of their names), holding the
// annotator's clues of every aspect in EMER's order (visual, audio,
// content, context). A clue that does not end a sentence is given a full
// stop, so that clues of two aspects do not run together; English clues
// are joined by a space, Chinese ones directly.
func Paragraphs(recs []dataset.Annotation, lang string) []string {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b dataset.Annotation) int {
		if c := strings.Compare(a.Annotator, b.Annotator); c != 0 {
			return c
		}
		return slices.Index(dataset.Aspects, a.Aspect) - slices.Index(dataset.Aspects, b.Aspect)
	})
	sep, stop := " ", "."
	if lang == Chinese {
		sep, stop = "", "。"
	}
	var out []string
	var cur []string
	for i, r := range sorted {
		t := strings.Join(strings.Fields(r.Text), " ")
		if !endsSentence(t) {
			t += stop
		}
		cur = append(cur, t)
		if i == len(sorted)-1 || sorted[i+1].Annotator != r.Annotator {
			out = append(out, strings.Join(cur, sep))
			cur = nil
		}
	}
	return out
}

func endsSentence(s string) bool {
	if s == "" {
		return false
	}
	r := []rune(s)
	return strings.ContainsRune(".!?。！？…\"'”’」）)", r[len(r)-1])
}

// BaseLanguage returns the language of a BCP 47 tag as the prompts know
// it ("zh-Hant" is zh), or "" for one they do not.
func BaseLanguage(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	b, _ := t.Base()
	switch b.String() {
	case English, Chinese:
		return b.String()
	}
	return ""
}

// Summarizer makes a clip's description with a chat model. It is safe
// for concurrent use when its Client is.
type Summarizer struct {
	Client      llm.Client
	Model       string
	Lang        string // English or Chinese: the prompts and the description
	Temperature float64
	MaxTokens   int // per reply; 0 leaves it to the server
	// Lexicon finds emotion words in the emotion step's reply;
	// textcue.DefaultLexicon() when nil.
	Lexicon *textcue.Lexicon
}

// Step is one model call of a clip, as the journal keeps it.
type Step struct {
	Step         string `json:"step"`
	Reply        string `json:"reply"` // the reply's text as received
	FinishReason string `json:"finish_reason,omitempty"`
	Refusal      string `json:"refusal,omitempty"` // the refusal the server marked, if any
	// Problem says why the reply cannot be used as it is; empty when it
	// can.
	Problem string `json:"problem,omitempty"`
}

// Result is what summarizing a clip made: the line of the journal.
type Result struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Clues and Emotions are the two summaries, Description the text made
	// of both (EMER's reasons), Openset the labels extracted from it. They
	// are set as far as the steps got.
	Clues       string   `json:"clues,omitempty"`
	Emotions    string   `json:"emotions,omitempty"`
	Description string   `json:"description,omitempty"`
	Openset     []string `json:"openset"`
	// Review says why the clip is marked for review, a line per unusable
	// reply ("emotion: ...").
	Review []string `json:"review,omitempty"`
	// Error is why no reply came, when Status is StatusRetry.
	Error string `json:"error,omitempty"`
	Steps []Step `json:"steps"`
}

// Summarize runs the steps of c. A reply that is empty, refused or cut at
// the token limit stops the clip there; an emotion reply with no emotion
// word, and labels that cannot be read or are none, are kept as drafts
// and the steps go on; all of them mark the clip for review. A call that
// gets no reply stops the clip with StatusRetry.
func (s *Summarizer) Summarize(ctx context.Context, c Clip) Result {
	res := Result{Name: c.Name, Status: StatusOK, Openset: []string{}, Steps: []Step{}}
	s.steps(ctx, c, &res)
	if res.Status == StatusOK && len(res.Review) > 0 {
		res.Status = StatusReview
	}
	return res
}

// steps runs the steps of c into res, as far as they go.
func (s *Summarizer) steps(ctx context.Context, c Clip, res *Result) {
	clues, ok := s.ask(ctx, res, StepClues, templateFor(TemplateClues, s.Lang), PromptData{Descriptions: c.Descriptions})
	if !ok {
		return
	}
	res.Clues = clues
	answer, ok := s.ask(ctx, res, StepEmotion, templateFor(TemplateEmotion, s.Lang), PromptData{Clues: clues})
	if !ok {
		return
	}
	res.Emotions = cleanEmotions(answer)
	if !s.hasEmotionWord(res.Emotions) {
		s.flag(res, StepEmotion, reply.ParseFailure(answer, ReasonNoEmotionWord))
	}
	desc, err := Combine(s.Lang, clues, res.Emotions)
	if err != nil {
		res.Status, res.Error = StatusRetry, err.Error()
		return
	}
	res.Description = desc

	prompt, err := explain.Render(templateOVExtract, explain.PromptData{Text: desc})
	if err != nil {
		res.Status, res.Error = StatusRetry, err.Error()
		return
	}
	answer, ok = s.send(ctx, res, StepLabels, prompt)
	if !ok {
		return
	}
	ov, warn, f := explain.ParseLabels(answer)
	switch {
	case f != nil:
		s.flag(res, StepLabels, f)
	case len(ov) == 0:
		s.flag(res, StepLabels, reply.ParseFailure(answer, ReasonNoLabels))
	case warn != "":
		res.Openset = ov
		s.flag(res, StepLabels, reply.ParseFailure(answer, "the label list is malformed ("+warn+")"))
	default:
		res.Openset = ov
	}
}

// Reasons a usable reply is still marked for review.
const (
	ReasonNoEmotionWord = "no emotion word the emotion lexicon knows in the reply"
	ReasonNoLabels      = "the model extracted no emotion label"
)

// ask renders a template and sends it (see send).
func (s *Summarizer) ask(ctx context.Context, res *Result, step, tmpl string, d PromptData) (string, bool) {
	prompt, err := Render(tmpl, d)
	if err != nil {
		res.Status, res.Error = StatusRetry, step+": "+err.Error()
		return "", false
	}
	return s.send(ctx, res, step, prompt)
}

// send sends one prompt and returns the reply's trimmed text when it is
// usable (see reply.Answer). An unusable reply marks the clip for review;
// no reply at all sets StatusRetry.
func (s *Summarizer) send(ctx context.Context, res *Result, step, prompt string) (string, bool) {
	r, err := s.Client.Chat(ctx, llm.Request{
		Model:       s.Model,
		Messages:    []llm.Message{llm.User(llm.Text(prompt))},
		Temperature: s.Temperature,
		MaxTokens:   s.MaxTokens,
	})
	if err != nil {
		msg := err.Error()
		if errors.Is(err, context.Canceled) {
			msg = "cancelled: " + msg
		}
		res.Status, res.Error = StatusRetry, step+": "+msg
		return "", false
	}
	res.Steps = append(res.Steps, Step{Step: step, Reply: r.Text, FinishReason: r.FinishReason, Refusal: r.Refusal})
	text, f := reply.Answer(r)
	if f != nil {
		s.flag(res, step, f)
		return "", false
	}
	return text, true
}

// flag marks the clip for review because of f, the failure of step's
// reply, which is the last step recorded.
func (s *Summarizer) flag(res *Result, step string, f *reply.Failure) {
	msg := f.Error()
	if strings.TrimSpace(f.Raw) == "" {
		msg = f.Reason
	}
	res.Review = append(res.Review, step+": "+msg)
	for i := len(res.Steps) - 1; i >= 0; i-- {
		if res.Steps[i].Step == step {
			if res.Steps[i].Problem != "" {
				res.Steps[i].Problem += "; "
			}
			res.Steps[i].Problem += f.Reason
			break
		}
	}
}

// outputLabel is a label a model may echo before its answer.
var outputLabel = regexp.MustCompile(`(?i)^\s*(?:output|输出(?:结果)?)\s*[:：]\s*`)

// cleanEmotions takes the answer out of an emotion reply: its first line
// that is not blank, without an echoed "Output:" label, quotes or a
// closing full stop.
func cleanEmotions(text string) string {
	line := ""
	for l := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(l) != "" {
			line = l
			break
		}
	}
	line = outputLabel.ReplaceAllString(line, "")
	line = strings.TrimSpace(line)
	line = strings.Trim(line, "\"'“”‘’「」")
	return strings.TrimRight(strings.TrimSpace(line), ".。!！ ")
}

// neutralWord matches the states EMER data names that are no emotion of
// the wheel, and so not in the lexicon.
var neutralWord = regexp.MustCompile(`(?i)\bneutral\b`)

// extraChinese are emotion words of the EMER-V1 Chinese descriptions
// (gt-chi.csv) that the lexicon's Chinese list lacks ("担忧" alone
// describes 16 of its 100 clips), and the neutral state.
var extraChinese = []string{"担忧", "得意", "害羞", "羞涩", "不舍", "低落", "抱歉", "不自信", "埋怨", "无力", "自嘲", "发愁", "中性"}

// hasEmotionWord reports whether an emotion summary names an emotion: a
// word form of the emotion lexicon (the AffectGPT emotion wheels, and
// the lexicon's Chinese words), one of extraChinese, or neutral.
func (s *Summarizer) hasEmotionWord(text string) bool {
	lex := s.Lexicon
	if lex == nil {
		lex = textcue.DefaultLexicon()
	}
	if len(lex.Analyze(textcue.Segment{Text: text}).EmotionWords) > 0 || neutralWord.MatchString(text) {
		return true
	}
	for _, w := range extraChinese {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// lowerFirst are the words a summary starts with that stay lower case
// after "In the video, ".
var lowerFirst = map[string]bool{"he": true, "his": true, "him": true, "she": true, "her": true, "they": true,
	"their": true, "the": true, "a": true, "an": true, "it": true, "its": true, "this": true, "there": true}

var (
	leadEN = regexp.MustCompile(`(?i)^in the video,?\s*`)
	leadZH = regexp.MustCompile(`^(?:在视频中|视频中)[，,]?\s*`)
)

// Combine makes the EMER description of a clip from its two summaries by
// the combine template of lang. The clue summary is folded onto one line
// and loses a leading "In the video," and its closing full stop, which
// the template supplies; after "In the video, " its first word is lower
// case when it is a pronoun or an article ("He frowns" → "he frowns").
func Combine(lang, clues, emotions string) (string, error) {
	c := foldLines(clues, lang)
	if lang == Chinese {
		c = leadZH.ReplaceAllString(c, "")
		c = strings.TrimRight(c, "。.！!　 ")
	} else {
		c = leadEN.ReplaceAllString(c, "")
		c = strings.TrimRight(c, ". ")
		first, _, _ := strings.Cut(c, " ")
		if word := strings.TrimFunc(first, func(r rune) bool { return !unicode.IsLetter(r) }); lowerFirst[strings.ToLower(word)] {
			i := strings.Index(c, word)
			r, size := utf8.DecodeRuneInString(c[i:])
			c = c[:i] + string(unicode.ToLower(r)) + c[i+size:]
		}
	}
	return Render(templateFor(TemplateCombine, lang), PromptData{Clues: c, Emotions: emotions})
}

// foldLines joins the lines of s, trimmed: with a space in English,
// directly in Chinese.
func foldLines(s, lang string) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	if lang == Chinese {
		return strings.Join(lines, "")
	}
	return strings.Join(lines, " ")
}
