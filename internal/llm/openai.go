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

// DefaultMaxReplyBytes is the cap on a reply's body when OpenAIConfig
// sets none: far above any judge's answer, far below what would exhaust
// memory or fill the logs.
const DefaultMaxReplyBytes = 8 << 20

// replyHeadBytes is how much of an oversized body a ReplyTooLargeError
// keeps.
const replyHeadBytes = 4 << 10

// OpenAIConfig configures an OpenAI client.
type OpenAIConfig struct {
	BaseURL    string        // e.g. http://127.0.0.1:8000/v1; the client posts to BaseURL + /chat/completions
	APIKey     string        // sent as a bearer token when not empty
	Timeout    time.Duration // per request; 0 means no limit besides the context's
	HTTPClient *http.Client  // nil: a client of its own; a given one is copied, with redirects not followed

	// MaxReplyBytes caps the body read of any answer, success or error;
	// a longer one fails with a *ReplyTooLargeError. 0 means
	// DefaultMaxReplyBytes.
	MaxReplyBytes int64
}

// OpenAI is a Client for the OpenAI-compatible chat-completions API. It
// sends each call once: retries belong to the Retry decorator. It never
// follows a redirect: the answer is a *RedirectError naming the base URL to
// use instead.
type OpenAI struct {
	svc      openai.ChatCompletionService
	timeout  time.Duration
	maxReply int64
}

var _ Client = (*OpenAI)(nil)

// NewOpenAI returns a client for the server at cfg.BaseURL, normalised by
// NormalizeBaseURL. It reads no environment variables: all settings come
// from cfg.
func NewOpenAI(cfg OpenAIConfig) *OpenAI {
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 256
		hc.Transport = tr
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	opts := []option.RequestOption{
		option.WithBaseURL(NormalizeBaseURL(cfg.BaseURL) + "/"),
		option.WithHTTPClient(&hc),
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	maxReply := cfg.MaxReplyBytes
	if maxReply <= 0 {
		maxReply = DefaultMaxReplyBytes
	}
	return &OpenAI{svc: openai.NewChatCompletionService(opts...), timeout: cfg.Timeout, maxReply: maxReply}
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
	// received, whatever the SDK makes of them, and reads no more of the
	// body than the cap allows.
	var (
		mu       sync.Mutex
		status   int
		header   http.Header
		body     []byte
		from, to string
		tooLarge *ReplyTooLargeError
	)
	capture := func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		res, err := next(r)
		if err != nil || res == nil {
			return res, err
		}
		b, big, rerr := readCapped(res, c.maxReply)
		_ = res.Body.Close()
		mu.Lock()
		status, header, body, tooLarge = res.StatusCode, res.Header, b, big
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			from = r.URL.String()
			if loc, err := res.Location(); err == nil {
				to = loc.String()
			}
		}
		mu.Unlock()
		if rerr != nil {
			return nil, rerr
		}
		if big != nil {
			return nil, big // the SDK is not to read the body: Chat reports it
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
	switch {
	case tooLarge != nil:
		return Reply{}, tooLarge
	case status >= 300 && status < 400:
		return Reply{}, &RedirectError{Code: status, From: from, To: to}
	case status >= 400:
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

// readCapped reads res's body up to limit bytes. A longer body, or one
// announced as longer, is not read further: the result is then a
// *ReplyTooLargeError with the first bytes.
func readCapped(res *http.Response, limit int64) ([]byte, *ReplyTooLargeError, error) {
	tooLarge := func(b []byte) *ReplyTooLargeError {
		head := bytes.Clone(b[:min(len(b), replyHeadBytes)])
		return &ReplyTooLargeError{Status: res.StatusCode, Limit: limit, Length: res.ContentLength, Head: head}
	}
	if res.ContentLength > limit {
		b, err := io.ReadAll(io.LimitReader(res.Body, replyHeadBytes))
		if err != nil && len(b) == 0 {
			return nil, nil, err
		}
		return nil, tooLarge(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if int64(len(b)) > limit {
		return nil, tooLarge(b), nil
	}
	return b, nil, err
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
