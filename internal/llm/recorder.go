package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Recorder logs every call it passes to Next (request, raw reply or error,
// latency, tokens, attempts, whether it was a cache hit) and keeps totals.
// Given to a Retry as its OnAttempt, it also logs each request sent, with
// the status and body of those that failed. Records of one call share its
// request_id.
type Recorder struct {
	next Client
	log  *slog.Logger

	mu     sync.Mutex
	totals Totals
}

// Totals counts what a Recorder has seen.
type Totals struct {
	Calls     int // logical calls made through the recorder
	CacheHits int
	Requests  int // HTTP requests sent, retries included
	Failures  int // calls that ended in an error
	Tokens    int // total tokens of replies not served from the cache
}

var _ Client = (*Recorder)(nil)

// NewRecorder returns a Recorder that writes one record per call to log.
func NewRecorder(next Client, log *slog.Logger) *Recorder {
	return &Recorder{next: next, log: log}
}

// Chat calls Next and records the call.
func (r *Recorder) Chat(ctx context.Context, req Request) (Reply, error) {
	start := time.Now()
	reply, err := r.next.Chat(ctx, req)
	elapsed := time.Since(start)

	r.mu.Lock()
	r.totals.Calls++
	if err != nil {
		r.totals.Failures++
		r.totals.Requests += Attempts(err)
	} else {
		r.totals.Requests += reply.Attempts
		if reply.Cached {
			r.totals.CacheHits++
		} else {
			r.totals.Tokens += reply.Usage.TotalTokens
		}
	}
	r.mu.Unlock()

	attrs := []slog.Attr{
		slog.String("request_id", requestID(req)),
		slog.String("model", req.Model),
		slog.String("salt", req.Salt),
		slog.Float64("temperature", req.Temperature),
		slog.Any("messages", logMessages(req.Messages)),
		slog.Int64("latency_ms", elapsed.Milliseconds()),
	}
	if err != nil {
		attrs = append(attrs,
			slog.Int("attempts", Attempts(err)),
			slog.String("error", err.Error()),
			slog.String("raw", string(RawOf(err))))
		r.log.LogAttrs(ctx, slog.LevelWarn, "chat", attrs...)
		return reply, err
	}
	attrs = append(attrs,
		slog.Int("attempts", reply.Attempts),
		slog.Bool("cached", reply.Cached),
		slog.String("finish_reason", reply.FinishReason),
		slog.Int("prompt_tokens", reply.Usage.PromptTokens),
		slog.Int("completion_tokens", reply.Usage.CompletionTokens),
		slog.String("text", reply.Text),
		slog.String("raw", string(reply.Raw)),
	)
	r.log.LogAttrs(ctx, slog.LevelInfo, "chat", attrs...)
	return reply, nil
}

// Attempt logs one request sent by a Retry: its number, latency and
// either the reply or the error with the server's status and raw body.
func (r *Recorder) Attempt(ctx context.Context, req Request, a Attempt) {
	attrs := []slog.Attr{
		slog.String("request_id", requestID(req)),
		slog.String("salt", req.Salt),
		slog.Int("attempt", a.N),
		slog.Int64("latency_ms", a.Latency.Milliseconds()),
	}
	if a.Err != nil {
		var se *StatusError
		if errors.As(a.Err, &se) {
			attrs = append(attrs, slog.Int("status", se.Code))
		}
		attrs = append(attrs,
			slog.String("error", a.Err.Error()),
			slog.String("raw", string(RawOf(a.Err))))
		r.log.LogAttrs(ctx, slog.LevelWarn, "attempt", attrs...)
		return
	}
	attrs = append(attrs,
		slog.Int("status", 200),
		slog.String("finish_reason", a.Reply.FinishReason),
		slog.Int("total_tokens", a.Reply.Usage.TotalTokens),
		slog.String("raw", string(a.Reply.Raw)))
	r.log.LogAttrs(ctx, slog.LevelInfo, "attempt", attrs...)
}

// requestID names a request in the log: its cache key without a base URL.
func requestID(req Request) string { return Key("", req)[:16] }

// Totals returns the counts so far.
func (r *Recorder) Totals() Totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.totals
}

// loggedPart is a Part as logged: media as size and digest, not bytes.
type loggedPart struct {
	Kind   PartKind `json:"kind"`
	Text   string   `json:"text,omitempty"`
	MIME   string   `json:"mime,omitempty"`
	Bytes  int      `json:"bytes,omitempty"`
	SHA256 string   `json:"sha256,omitempty"`
}

type loggedMessage struct {
	Role  Role         `json:"role"`
	Parts []loggedPart `json:"parts"`
}

func logMessages(ms []Message) []loggedMessage {
	out := make([]loggedMessage, len(ms))
	for i, m := range ms {
		out[i].Role = m.Role
		for _, p := range m.Parts {
			lp := loggedPart{Kind: p.Kind, Text: p.Text, MIME: p.MIME}
			if len(p.Data) > 0 {
				sum := sha256.Sum256(p.Data)
				lp.Bytes, lp.SHA256 = len(p.Data), hex.EncodeToString(sum[:])
			}
			out[i].Parts = append(out[i].Parts, lp)
		}
	}
	return out
}
