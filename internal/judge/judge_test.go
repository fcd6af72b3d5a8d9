package judge_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"emer/internal/judge"
	"emer/internal/llm"
)

// scripted answers each prompt by the first rule whose prefix it starts
// with, and records the requests.
type scripted struct {
	mu    sync.Mutex
	rules []rule
	reqs  []llm.Request
}

type rule struct {
	prefix string
	reply  llm.Reply
	err    error
}

func (s *scripted) Chat(_ context.Context, r llm.Request) (llm.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	prompt := r.Messages[0].Parts[0].Text
	for _, ru := range s.rules {
		if strings.HasPrefix(prompt, ru.prefix) {
			if ru.err != nil {
				return llm.Reply{}, ru.err
			}
			rep := ru.reply
			rep.Attempts = 1
			rep.Usage.TotalTokens = 10
			return rep, nil
		}
	}
	return llm.Reply{}, &llm.StatusError{Code: 404, Body: []byte("no rule for " + prompt)}
}

func newJudge(t *testing.T, protocol string, c llm.Client) *judge.Judge {
	t.Helper()
	p, err := judge.LookupProtocol(protocol)
	if err != nil {
		t.Fatal(err)
	}
	return &judge.Judge{Client: c, Model: "m", Protocol: p}
}

const (
	releaseClue    = "下面给出人物的《真实描述》"
	releaseSummary = "请根据以下视频描述"
	releaseEmotion = "下面给出人物的《真实情感》"
)

func TestReleaseClue(t *testing.T) {
	c := &scripted{rules: []rule{{prefix: releaseClue, reply: llm.Reply{Text: "'预测分数'：7；'原因'：两处重叠"}}}}
	j := newJudge(t, "release", c)
	out := j.Score(context.Background(), judge.MetricClue, "他很生气", "他很沮丧", 0)
	if out.Status != judge.StatusOK || out.Score == nil || *out.Score != 7 || out.Raw != "'预测分数'：7；'原因'：两处重叠" || out.Attempts != 1 || out.Tokens != 10 {
		t.Fatalf("outcome = %+v", out)
	}
	prompt := c.reqs[0].Messages[0].Parts[0].Text
	if !strings.Contains(prompt, "《真实描述》：他很生气\n《预测描述》：他很沮丧\n输出：") {
		t.Errorf("prompt = %q", prompt)
	}
	if c.reqs[0].Temperature != 0 || !strings.HasPrefix(c.reqs[0].Salt, "release/") {
		t.Errorf("request = %+v", c.reqs[0])
	}
}

func TestReleaseEmotionChain(t *testing.T) {
	c := &scripted{rules: []rule{
		{prefix: releaseSummary, reply: llm.Reply{Text: " 生气\n"}},
		{prefix: releaseEmotion, reply: llm.Reply{Text: "'预测分数'：9；'原因'：一致"}},
	}}
	out := newJudge(t, "release", c).Score(context.Background(), judge.MetricEmotion, "gt", "pred", 2)
	if out.Status != judge.StatusOK || *out.Score != 9 || out.Attempts != 3 || out.Tokens != 30 {
		t.Fatalf("outcome = %+v", out)
	}
	last := c.reqs[2].Messages[0].Parts[0].Text
	if !strings.Contains(last, "《真实情感》：生气\n《预测情感》：生气\n") {
		t.Errorf("summaries not trimmed into the score prompt: %q", last)
	}
	if !strings.HasSuffix(c.reqs[0].Salt, "/r2") {
		t.Errorf("repeat not in the salt: %q", c.reqs[0].Salt)
	}
}

func TestFailuresKeepRawAndNoScore(t *testing.T) {
	tests := []struct {
		name   string
		rules  []rule
		metric judge.Metric
		status judge.Status
		raw    string
	}{
		{"server error", []rule{{prefix: releaseClue, err: &llm.AttemptsError{Attempts: 4, Err: &llm.StatusError{Code: 500, Body: []byte("boom")}}}}, judge.MetricClue, judge.StatusRequestError, "boom"},
		{"malformed", []rule{{prefix: releaseClue, err: &llm.ReplyError{Err: llm.ErrMalformed, Raw: []byte("{nope")}}}, judge.MetricClue, judge.StatusRequestError, "{nope"},
		{"unparseable", []rule{{prefix: releaseClue, reply: llm.Reply{Text: "还不错"}}}, judge.MetricClue, judge.StatusParseError, "还不错"},
		{"out of range", []rule{{prefix: releaseClue, reply: llm.Reply{Text: "'预测分数'：11"}}}, judge.MetricClue, judge.StatusOutOfRange, "'预测分数'：11"},
		{"refusal field", []rule{{prefix: releaseClue, reply: llm.Reply{Refusal: "I can't."}}}, judge.MetricClue, judge.StatusRefused, "I can't."},
		{"refusal text", []rule{{prefix: releaseClue, reply: llm.Reply{Text: "抱歉，我无法评分。"}}}, judge.MetricClue, judge.StatusRefused, "抱歉"},
		{"empty summary", []rule{{prefix: releaseSummary, reply: llm.Reply{Text: "  "}}}, judge.MetricEmotion, judge.StatusParseError, "emotion summary of the ground truth: empty reply"},
		{"summary fails", []rule{{prefix: releaseSummary, err: llm.ErrTimeout}}, judge.MetricEmotion, judge.StatusRequestError, "emotion summary of the ground truth: request timed out"},
		{"summary refuses en", []rule{{prefix: releaseSummary, reply: llm.Reply{Text: "I'm sorry, I can't help with that."}}, {prefix: releaseEmotion, reply: llm.Reply{Text: "'预测分数'：5"}}}, judge.MetricEmotion, judge.StatusRefused, "emotion summary of the ground truth: I'm sorry, I can't help with that."},
		{"summary refuses zh", []rule{{prefix: releaseSummary, reply: llm.Reply{Text: "抱歉，我无法根据这段描述总结情感。"}}, {prefix: releaseEmotion, reply: llm.Reply{Text: "'预测分数'：5"}}}, judge.MetricEmotion, judge.StatusRefused, "抱歉，我无法"},
		{"score cut at the token limit", []rule{{prefix: releaseClue, reply: llm.Reply{Text: "'预测分数'：1", FinishReason: "length"}}}, judge.MetricClue, judge.StatusParseError, "finish_reason length): '预测分数'：1"},
		{"summary cut at the token limit", []rule{{prefix: releaseSummary, reply: llm.Reply{Text: "生气，", FinishReason: "length"}}, {prefix: releaseEmotion, reply: llm.Reply{Text: "'预测分数'：5"}}}, judge.MetricEmotion, judge.StatusParseError, "emotion summary of the ground truth: reply cut off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := newJudge(t, "release", &scripted{rules: tt.rules}).Score(context.Background(), tt.metric, "gt", "pred", 0)
			if out.Status != tt.status || out.Score != nil {
				t.Fatalf("outcome = %+v, want status %s and no score", out, tt.status)
			}
			if !strings.Contains(out.Raw, tt.raw) {
				t.Errorf("raw = %q, want it to contain %q", out.Raw, tt.raw)
			}
		})
	}
}

// TestSummaryQuotingSorrow checks that a summary that speaks of someone
// being sorry is a summary, not a refusal.
func TestSummaryQuotingSorrow(t *testing.T) {
	c := &scripted{rules: []rule{
		{prefix: releaseSummary, reply: llm.Reply{Text: "愧疚、抱歉"}},
		{prefix: releaseEmotion, reply: llm.Reply{Text: "'预测分数'：8"}},
	}}
	if out := newJudge(t, "release", c).Score(context.Background(), judge.MetricEmotion, "他说对不起", "他很抱歉", 0); out.Status != judge.StatusOK || *out.Score != 8 {
		t.Fatalf("outcome = %+v", out)
	}
	p := &scripted{rules: []rule{
		{prefix: "Please extract", reply: llm.Reply{Text: "He says \"I'm sorry\" and looks down."}},
		{prefix: `The "true clues"`, reply: llm.Reply{Text: "Score: 6", FinishReason: "stop"}},
	}}
	if out := newJudge(t, "paper", p).Score(context.Background(), judge.MetricClue, "a", "b", 0); out.Status != judge.StatusOK || *out.Score != 6 {
		t.Fatalf("paper outcome = %+v", out)
	}
}

func TestPaperProtocol(t *testing.T) {
	c := &scripted{rules: []rule{
		{prefix: "Please extract", reply: llm.Reply{Text: "frowning"}},
		{prefix: `The "true clues"`, reply: llm.Reply{Text: "Score: 6"}},
		{prefix: "Summarize the emotional state", reply: llm.Reply{Text: "angry"}},
		{prefix: `The "true emotion"`, reply: llm.Reply{Text: "**10/10**"}},
		{prefix: "Please summarize how many modalities", reply: llm.Reply{Text: "visual, audio"}},
	}}
	j := newJudge(t, "paper", c)
	want := map[judge.Metric]float64{judge.MetricClue: 6, judge.MetricEmotion: 10, judge.MetricModality: 2}
	for m, w := range want {
		out := j.Score(context.Background(), m, "He frowns.", "He is angry.", 0)
		if out.Status != judge.StatusOK || *out.Score != w {
			t.Errorf("%s: %+v, want %v", m, out, w)
		}
	}
	if len(c.reqs) != 7 {
		t.Errorf("%d requests, want 3+3+1", len(c.reqs))
	}
	// Paper scores start at 0; release at 1.
	c.rules[1].reply.Text = "Score: 0"
	if out := j.Score(context.Background(), judge.MetricClue, "a", "b", 0); out.Status != judge.StatusOK || *out.Score != 0 {
		t.Errorf("paper score 0: %+v", out)
	}
	if out := newJudge(t, "release", c).Score(context.Background(), judge.MetricModality, "a", "b", 0); out.Status == judge.StatusOK {
		t.Error("release protocol scored modality")
	}
}
