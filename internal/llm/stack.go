package llm

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Defaults of a Stack for the settings StackConfig leaves at zero.
const (
	DefaultRetryBase       = 500 * time.Millisecond // delay before the first retry, before jitter
	DefaultRetryMax        = 2 * time.Minute        // cap on one delay, and on a Retry-After the run waits for
	DefaultBreakerFailures = 5                      // connection failures in a row that open the breaker
)

// StackConfig configures the decorators of a Stack and the OpenAI client
// under them. Zero values take the defaults named on each field.
type StackConfig struct {
	// The server, as in OpenAIConfig.
	BaseURL       string
	APIKey        string
	Timeout       time.Duration // per request; 0: no limit besides the context's
	MaxReplyBytes int64         // 0: DefaultMaxReplyBytes
	HTTPClient    *http.Client  // nil: a client of its own

	// Limit.
	Concurrency int     // requests in flight at once; 0: 1
	Rate        float64 // most request starts per second; 0: no limit

	// Retry.
	MaxAttempts int           // attempts per call; 0: 1
	RetryBase   time.Duration // 0: DefaultRetryBase
	RetryMax    time.Duration // 0: DefaultRetryMax

	// Breaker.
	BreakerFailures int // 0: DefaultBreakerFailures

	// Cache keeps replies to requests at temperature 0; nil: no cache.
	Cache CacheStore
	// CacheReadOnly answers from Cache without adding to it.
	CacheReadOnly bool

	// Log receives one record per call and one per request sent (the
	// lines of calls.jsonl); nil: no log. Totals are kept either way.
	Log *slog.Logger
}

// Stack is the client every command uses to talk to a chat model: the
// decorators of this package around one OpenAI client, outermost first
//
//	Recorder → Cache → Retry → Breaker → Limit → OpenAI
//
// with the Retry telling the Recorder of every request it sends. A Stack
// is safe for concurrent use; all the calls of a run go through one Stack
// so that they share its cache, its limits and its breaker.
type Stack struct {
	rec     *Recorder
	retry   *Retry
	breaker *Breaker
	limit   *Limit
	openai  *OpenAI
}

var _ Client = (*Stack)(nil)

// NewStack builds the stack cfg describes.
func NewStack(cfg StackConfig) *Stack {
	s := &Stack{openai: NewOpenAI(OpenAIConfig{
		BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Timeout: cfg.Timeout,
		HTTPClient: cfg.HTTPClient, MaxReplyBytes: cfg.MaxReplyBytes,
	})}
	s.limit = NewLimit(s.openai, cfg.Concurrency, cfg.Rate)
	failures := cfg.BreakerFailures
	if failures <= 0 {
		failures = DefaultBreakerFailures
	}
	s.breaker = NewBreaker(s.limit, cfg.BaseURL, failures)
	base, maxDelay := cfg.RetryBase, cfg.RetryMax
	if base <= 0 {
		base = DefaultRetryBase
	}
	if maxDelay <= 0 {
		maxDelay = DefaultRetryMax
	}
	s.retry = NewRetry(s.breaker, cfg.MaxAttempts, base, maxDelay)
	var next Client = s.retry
	if cfg.Cache != nil {
		c := NewCache(s.retry, cfg.Cache, cfg.BaseURL)
		if cfg.CacheReadOnly {
			c.ReadOnly()
		}
		next = c
	}
	if cfg.Log == nil {
		s.rec = NewRecorder(next, slog.New(slog.DiscardHandler))
		return s
	}
	s.rec = NewRecorder(next, cfg.Log)
	s.retry.OnAttempt = s.rec.Attempt // a record for every request sent, failed ones included
	return s
}

// Chat sends req through the whole stack.
func (s *Stack) Chat(ctx context.Context, req Request) (Reply, error) {
	return s.rec.Chat(ctx, req)
}

// Totals returns what the stack's Recorder has counted so far.
func (s *Stack) Totals() Totals { return s.rec.Totals() }

// Unreachable returns the *UnreachableError the stack's breaker fails
// calls with once it has opened, or nil while the server is reachable.
func (s *Stack) Unreachable() error { return s.breaker.Open() }
