package llm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// OpenAIConfig configures an OpenAI client.
type OpenAIConfig struct {
	BaseURL    string        // e.g. http://127.0.0.1:8000/v1; the client posts to BaseURL + /chat/completions
	APIKey     string        // sent as a bearer token when not empty
	Timeout    time.Duration // per request; 0 means no limit besides the context's
	HTTPClient *http.Client  // nil: a client of its own
}

// OpenAI is a Client for the OpenAI-compatible chat-completions API. It
// sends each call once: retries belong to the Retry decorator.
type OpenAI struct {
	svc     openai.ChatCompletionService
	timeout time.Duration
}

var _ Client = (*OpenAI)(nil)

// NewOpenAI returns a client for the server at cfg.BaseURL. It reads no
// environment variables: all settings come from cfg.
func NewOpenAI(cfg OpenAIConfig) *OpenAI {
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 256
		hc = &http.Client{Transport: tr}
	}
	opts := []option.RequestOption{
		option.WithBaseURL(strings.TrimRight(cfg.BaseURL, "/") + "/"),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	return &OpenAI{svc: openai.NewChatCompletionService(opts...), timeout: cfg.Timeout}
}

// Chat sends req and returns the first choice of the completion.
func (c *OpenAI) Chat(ctx context.Context, req Request) (Reply, error) {
	params, err := chatParams(req)
	if err != nil {
		return Reply{}, err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, ErrTimeout)
		defer cancel()
	}

	// The middleware keeps the status, headers and body of the response as
	// received, whatever the SDK makes of them.
	var (
		mu     sync.Mutex
		status int
		header http.Header
		body   []byte
	)
	capture := func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		res, err := next(r)
		if err != nil || res == nil {
			return res, err
		}
		b, rerr := io.ReadAll(res.Body)
		_ = res.Body.Close()
		mu.Lock()
		status, header, body = res.StatusCode, res.Header, b
		mu.Unlock()
		if rerr != nil {
			return nil, rerr
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		return res, nil
	}

	var raw []byte
	start := time.Now()
	_, err = c.svc.New(ctx, params, option.WithMiddleware(capture), option.WithResponseBodyInto(&raw))
	latency := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if status >= 400 {
		return Reply{}, &StatusError{Code: status, Body: body, RetryAfter: parseRetryAfter(header.Get("Retry-After"), time.Now())}
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrTimeout) {
			return Reply{}, fmt.Errorf("%w after %v", ErrTimeout, c.timeout)
		}
		if status != 0 && body != nil {
			// The body arrived but could not be read as JSON.
			return Reply{}, &ReplyError{Err: ErrMalformed, Raw: body}
		}
		return Reply{}, classifyTransport(err)
	}
	if raw == nil {
		raw = body
	}
	reply, err := parseCompletion(raw)
	reply.Latency = latency
	return reply, err
}

// completion is the part of a chat-completions response that Chat reads.
type completion struct {
	Choices []struct {
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
}

func parseCompletion(raw []byte) (Reply, error) {
	var c completion
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&c); err != nil {
		return Reply{}, &ReplyError{Err: ErrMalformed, Raw: raw}
	}
	if len(c.Choices) == 0 {
		return Reply{}, &ReplyError{Err: ErrNoChoices, Raw: raw}
	}
	ch := c.Choices[0]
	r := Reply{FinishReason: ch.FinishReason, Raw: raw}
	if ch.Message.Content != nil {
		r.Text = *ch.Message.Content
	}
	if ch.Message.Refusal != nil {
		r.Refusal = *ch.Message.Refusal
	}
	if c.Usage != nil {
		r.Usage = *c.Usage
	}
	return r, nil
}

// chatParams turns a Request into the SDK's parameters: images become data
// URLs, audio becomes input_audio.
func chatParams(req Request) (openai.ChatCompletionNewParams, error) {
	p := openai.ChatCompletionNewParams{
		Model:       shared.ChatModel(req.Model),
		Temperature: openai.Float(req.Temperature),
	}
	if req.MaxTokens > 0 {
		p.MaxTokens = openai.Int(int64(req.MaxTokens))
	}
	if req.Seed != nil {
		p.Seed = openai.Int(*req.Seed)
	}
	for i, m := range req.Messages {
		switch m.Role {
		case RoleSystem, RoleAssistant:
			var sb strings.Builder
			for _, part := range m.Parts {
				if part.Kind != KindText {
					return p, fmt.Errorf("message %d: a %s message carries text only, not %s", i, m.Role, part.Kind)
				}
				sb.WriteString(part.Text)
			}
			if m.Role == RoleSystem {
				p.Messages = append(p.Messages, openai.SystemMessage(sb.String()))
			} else {
				p.Messages = append(p.Messages, openai.AssistantMessage(sb.String()))
			}
		case RoleUser:
			if len(m.Parts) == 1 && m.Parts[0].Kind == KindText {
				p.Messages = append(p.Messages, openai.UserMessage(m.Parts[0].Text))
				continue
			}
			parts := make([]openai.ChatCompletionContentPartUnionParam, 0, len(m.Parts))
			for _, part := range m.Parts {
				switch part.Kind {
				case KindText:
					parts = append(parts, openai.TextContentPart(part.Text))
				case KindImage:
					if part.MIME != "image/jpeg" && part.MIME != "image/png" {
						return p, fmt.Errorf("message %d: image type %q (want image/jpeg or image/png)", i, part.MIME)
					}
					url := "data:" + part.MIME + ";base64," + base64.StdEncoding.EncodeToString(part.Data)
					parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: url}))
				case KindAudio:
					parts = append(parts, openai.InputAudioContentPart(openai.ChatCompletionContentPartInputAudioInputAudioParam{
						Data:   base64.StdEncoding.EncodeToString(part.Data),
						Format: "wav",
					}))
				default:
					return p, fmt.Errorf("message %d: unknown part kind %q", i, part.Kind)
				}
			}
			p.Messages = append(p.Messages, openai.UserMessage(parts))
		default:
			return p, fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
	}
	return p, nil
}
