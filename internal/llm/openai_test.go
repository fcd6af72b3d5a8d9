package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"emer/internal/llm"
	"emer/internal/llm/llmtest"
)

func newClient(t *testing.T, srv *llmtest.Server, timeout time.Duration) *llm.OpenAI {
	t.Helper()
	return llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL(), APIKey: "sk-test", Timeout: timeout})
}

func TestOpenAIText(t *testing.T) {
	srv := llmtest.NewServer(nil, llmtest.Step{Text: "Score: 8", Tokens: 3})
	defer srv.Close()
	seed := int64(7)
	reply, err := newClient(t, srv, 0).Chat(context.Background(), llm.Request{
		Model:     "judge-1",
		Messages:  []llm.Message{llm.System("be strict"), llm.User(llm.Text("hello"))},
		MaxTokens: 64,
		Seed:      &seed,
		Salt:      "not sent",
	})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Text != "Score: 8" || reply.FinishReason != "stop" || reply.Usage.TotalTokens != 13 || reply.Usage.CompletionTokens != 3 {
		t.Errorf("reply = %+v", reply)
	}
	if !strings.Contains(string(reply.Raw), `"chatcmpl-1"`) {
		t.Errorf("raw body not kept: %s", reply.Raw)
	}
	c := srv.Calls()[0]
	if c.Model != "judge-1" || c.Temperature == nil || *c.Temperature != 0 || c.MaxTokens == nil || *c.MaxTokens != 64 || c.Seed == nil || *c.Seed != 7 {
		t.Errorf("request = %+v", c)
	}
	if c.Auth != "Bearer sk-test" {
		t.Errorf("auth header = %q", c.Auth)
	}
	if len(c.Messages) != 2 || c.Messages[0].Role != "system" || c.Prompt() != "hello" {
		t.Errorf("messages = %+v", c.Messages)
	}
	if strings.Contains(string(c.Body), "not sent") {
		t.Errorf("salt was sent: %s", c.Body)
	}
}

func TestOpenAIMedia(t *testing.T) {
	srv := llmtest.NewServer(nil)
	defer srv.Close()
	_, err := newClient(t, srv, 0).Chat(context.Background(), llm.Request{
		Model: "omni",
		Messages: []llm.Message{llm.User(
			llm.Text("what is the emotion?"),
			llm.Image("image/png", []byte{0x89, 'P', 'N', 'G'}),
			llm.Audio([]byte("RIFF")),
		)},
	})
	if err != nil {
		t.Fatal(err)
	}
	parts := srv.Calls()[0].Messages[0].Parts
	if len(parts) != 3 {
		t.Fatalf("parts = %v", parts)
	}
	if parts[1]["type"] != "image_url" || parts[1]["image_url"].(map[string]any)["url"] != "data:image/png;base64,iVBORw==" {
		t.Errorf("image part = %v", parts[1])
	}
	audio := parts[2]["input_audio"].(map[string]any)
	if parts[2]["type"] != "input_audio" || audio["format"] != "wav" || audio["data"] != "UklGRg==" {
		t.Errorf("audio part = %v", parts[2])
	}
}

func TestOpenAIFaults(t *testing.T) {
	tests := []struct {
		name      string
		step      llmtest.Step
		sentinel  error
		retryable bool
		raw       string
	}{
		{"429 with Retry-After", llmtest.Step{Status: 429, Header: map[string]string{"Retry-After": "2"}, Body: `{"error":{"message":"slow down"}}`}, llm.ErrRateLimited, true, "slow down"},
		{"500 plain text", llmtest.Step{Status: 500, Header: map[string]string{"Content-Type": "text/plain"}, Body: "upstream exploded"}, llm.ErrServer, true, "upstream exploded"},
		{"503", llmtest.Step{Status: 503, Body: `{"error":{"message":"loading"}}`}, llm.ErrServer, true, "loading"},
		{"400", llmtest.Step{Status: 400, Body: `{"error":{"message":"bad model"}}`}, llm.ErrRejected, false, "bad model"},
		{"401", llmtest.Step{Status: 401, Body: `{"error":{"message":"no key"}}`}, llm.ErrRejected, false, "no key"},
		{"malformed JSON", llmtest.Step{Body: `{"choices": [`}, llm.ErrMalformed, true, `{"choices": [`},
		{"empty choices", llmtest.Step{Body: `{"choices": []}`}, llm.ErrNoChoices, true, `{"choices": []}`},
		{"slow past timeout", llmtest.Step{Hang: true}, llm.ErrTimeout, true, ""},
		{"connection dropped", llmtest.Step{Drop: true}, llm.ErrConnection, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(nil, tt.step)
			defer srv.Close()
			_, err := newClient(t, srv, 200*time.Millisecond).Chat(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{llm.User(llm.Text("x"))}})
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			if got := llm.Retryable(err); got != tt.retryable {
				t.Errorf("Retryable = %v, want %v", got, tt.retryable)
			}
			if !strings.Contains(string(llm.RawOf(err)), tt.raw) {
				t.Errorf("raw = %q, want it to contain %q", llm.RawOf(err), tt.raw)
			}
			if tt.step.Status == 429 && llm.RetryAfter(err) != 2*time.Second {
				t.Errorf("RetryAfter = %v", llm.RetryAfter(err))
			}
		})
	}
}

func TestOpenAIConnectionRefused(t *testing.T) {
	srv := llmtest.NewServer(nil)
	base := srv.BaseURL()
	srv.Close()
	c := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: base})
	_, err := c.Chat(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{llm.User(llm.Text("x"))}})
	if !errors.Is(err, llm.ErrConnection) || !llm.Retryable(err) {
		t.Fatalf("err = %v, want a retryable connection error", err)
	}
}

func TestMediaFile(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]llm.PartKind{"a.JPG": llm.KindImage, "b.png": llm.KindImage, "c.wav": llm.KindAudio} {
		path := dir + "/" + name
		if err := writeFile(path, "x"); err != nil {
			t.Fatal(err)
		}
		p, err := llm.MediaFile(path)
		if err != nil || p.Kind != want {
			t.Errorf("%s: %v %v", name, p.Kind, err)
		}
	}
	if err := writeFile(dir+"/d.gif", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := llm.MediaFile(dir + "/d.gif"); err == nil {
		t.Error("gif accepted")
	}
}
