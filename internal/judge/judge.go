package judge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"emer/internal/llm"
	"emer/internal/reply"
)

// Metric is what a judge call scores.
type Metric string

// The metrics of the protocols.
const (
	MetricClue     Metric = "clue"     // overlap of clues with the ground truth
	MetricEmotion  Metric = "emotion"  // overlap of emotions with the ground truth
	MetricModality Metric = "modality" // number of modalities the prediction covers
)

// Protocol is a way of judging: its prompts, metrics and score ranges.
type Protocol struct {
	Name    string
	Metrics []Metric
	Lo, Hi  float64 // the overlap scores' range; modality is always 0-3
	prompts []string
	sha     string
	score   func(ctx context.Context, j *Judge, c *call, m Metric, gt, pred string) Outcome
}

// PromptSHA256 identifies the protocol's prompts: the SHA-256 of its
// template files.
func (p *Protocol) PromptSHA256() string { return p.sha }

// HasMetric reports whether the protocol scores m.
func (p *Protocol) HasMetric(m Metric) bool {
	for _, x := range p.Metrics {
		if x == m {
			return true
		}
	}
	return false
}

var protocols = map[string]*Protocol{
	"paper": {
		Name:    "paper",
		Metrics: []Metric{MetricClue, MetricEmotion, MetricModality},
		Lo:      0, Hi: 10,
		prompts: []string{"paper_clue_extract", "paper_clue_score", "paper_emotion_extract", "paper_emotion_score", "paper_modality"},
		score:   scorePaper,
	},
	"release": {
		Name:    "release",
		Metrics: []Metric{MetricClue, MetricEmotion},
		Lo:      1, Hi: 10,
		prompts: []string{"release_clue", "release_emotion_summary", "release_emotion_score"},
		score:   scoreRelease,
	},
}

func init() {
	for _, p := range protocols {
		p.sha = promptsSHA256(p.prompts)
	}
}

// ProtocolNames lists the protocols.
var ProtocolNames = []string{"paper", "release"}

// LookupProtocol returns the named protocol.
func LookupProtocol(name string) (*Protocol, error) {
	p, ok := protocols[name]
	if !ok {
		return nil, fmt.Errorf("unknown protocol %q (want %s)", name, strings.Join(ProtocolNames, " or "))
	}
	return p, nil
}

// Judge scores predictions with a model under a protocol.
type Judge struct {
	Client      llm.Client
	Model       string
	Protocol    *Protocol
	Temperature float64
	MaxTokens   int
}

// Outcome is the result of judging one item. Score is set only when Status
// is ok; Raw always holds what the judge said (or why no reply came).
type Outcome struct {
	Status   Status
	Score    *float64
	Raw      string
	Attempts int // requests sent, retries included; 0 when all came from the cache
	Tokens   int // tokens of the replies used
}

// Score judges pred against gt on metric m. Repeat tells apart the
// repeated judgements of one item (each is its own request).
func (j *Judge) Score(ctx context.Context, m Metric, gt, pred string, repeat int) Outcome {
	if !j.Protocol.HasMetric(m) {
		return Outcome{Status: StatusRequestError, Raw: fmt.Sprintf("protocol %s has no metric %s", j.Protocol.Name, m)}
	}
	c := &call{j: j, salt: fmt.Sprintf("%s/%s/r%d", j.Protocol.Name, j.Protocol.sha[:16], repeat)}
	out := j.Protocol.score(ctx, j, c, m, gt, pred)
	out.Attempts, out.Tokens = c.attempts, c.tokens
	return out
}

// call sends the prompts of one item and keeps its running totals.
type call struct {
	j        *Judge
	salt     string
	attempts int
	tokens   int
}

// ask renders a prompt and sends it. On failure it returns the Outcome to
// report, with what stands for step in its raw text.
func (c *call) ask(ctx context.Context, step, prompt string, d PromptData) (string, *Outcome) {
	text, err := Render(prompt, d)
	if err != nil {
		return "", &Outcome{Status: StatusRequestError, Raw: err.Error()}
	}
	r, err := c.j.Client.Chat(ctx, llm.Request{
		Model:       c.j.Model,
		Messages:    []llm.Message{llm.User(llm.Text(text))},
		Temperature: c.j.Temperature,
		MaxTokens:   c.j.MaxTokens,
		Salt:        c.salt,
	})
	if err != nil {
		c.attempts += llm.Attempts(err)
		raw := err.Error()
		if b := llm.RawOf(err); len(b) > 0 && !strings.Contains(raw, string(b)) {
			raw += "\n" + string(b)
		}
		if errors.Is(err, context.Canceled) {
			raw = "cancelled: " + raw
		}
		return "", &Outcome{Status: StatusRequestError, Raw: step + ": " + raw}
	}
	c.attempts += r.Attempts
	c.tokens += r.Usage.TotalTokens
	// A refusal is not read, nor is a reply cut at the token limit, which
	// may have lost its score or the rest of a number ("1" of "10").
	if f := reply.Check(r); f != nil {
		return "", failed(step, f)
	}
	return r.Text, nil
}

// failed is the Outcome of an unusable reply (see package reply): a
// refusal is refused, with what the model said; a reply cut off or empty
// has no score to read and is a parse_error.
func failed(step string, f *reply.Failure) *Outcome {
	switch f.Kind {
	case reply.Refused:
		return &Outcome{Status: StatusRefused, Raw: step + ": " + f.Raw}
	case reply.Truncated:
		return &Outcome{Status: StatusParseError, Raw: step + ": " + f.Reason + ": " + f.Raw}
	}
	return &Outcome{Status: StatusParseError, Raw: step + ": " + f.Reason}
}

// summary asks for a step-one summary, which must not be empty nor a
// refusal: a refusal quoted into the next prompt would be scored as if it
// were a summary.
func (c *call) summary(ctx context.Context, step, prompt, input string) (string, *Outcome) {
	text, fail := c.ask(ctx, step, prompt, PromptData{Text: input})
	if fail != nil {
		return "", fail
	}
	if f := reply.CheckText(text); f != nil {
		return "", failed(step, f)
	}
	return strings.TrimSpace(text), nil
}

func scored(raw string, p Parsed) Outcome {
	o := Outcome{Status: p.Status, Raw: raw}
	if p.Status == StatusOK {
		v := p.Score
		o.Score = &v
	}
	return o
}

func scoreRelease(ctx context.Context, j *Judge, c *call, m Metric, gt, pred string) Outcome {
	p := j.Protocol
	switch m {
	case MetricClue:
		text, fail := c.ask(ctx, "clue score", "release_clue", PromptData{GT: gt, Pred: pred})
		if fail != nil {
			return *fail
		}
		return scored(text, ParseScore(text, p.Lo, p.Hi))
	case MetricEmotion:
		gtEmo, fail := c.summary(ctx, "emotion summary of the ground truth", "release_emotion_summary", gt)
		if fail != nil {
			return *fail
		}
		predEmo, fail := c.summary(ctx, "emotion summary of the prediction", "release_emotion_summary", pred)
		if fail != nil {
			return *fail
		}
		text, fail := c.ask(ctx, "emotion score", "release_emotion_score", PromptData{GT: gtEmo, Pred: predEmo})
		if fail != nil {
			return *fail
		}
		return scored(text, ParseScore(text, p.Lo, p.Hi))
	}
	return Outcome{Status: StatusRequestError, Raw: "no metric " + string(m)}
}

func scorePaper(ctx context.Context, j *Judge, c *call, m Metric, gt, pred string) Outcome {
	p := j.Protocol
	switch m {
	case MetricClue, MetricEmotion:
		extract, score := "paper_clue_extract", "paper_clue_score"
		if m == MetricEmotion {
			extract, score = "paper_emotion_extract", "paper_emotion_score"
		}
		gtSum, fail := c.summary(ctx, string(m)+" summary of the ground truth", extract, gt)
		if fail != nil {
			return *fail
		}
		predSum, fail := c.summary(ctx, string(m)+" summary of the prediction", extract, pred)
		if fail != nil {
			return *fail
		}
		text, fail := c.ask(ctx, string(m)+" score", score, PromptData{GT: gtSum, Pred: predSum})
		if fail != nil {
			return *fail
		}
		return scored(text, ParseScore(text, p.Lo, p.Hi))
	case MetricModality:
		text, fail := c.ask(ctx, "modality", "paper_modality", PromptData{Text: pred})
		if fail != nil {
			return *fail
		}
		return scored(text, ParseModalities(text))
	}
	return Outcome{Status: StatusRequestError, Raw: "no metric " + string(m)}
}
