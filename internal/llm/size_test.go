package llm_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"emer/internal/llm"
	"emer/internal/llm/llmtest"
)

// TestOpenAIReplyTooLarge checks that no answer, success or error, is
// read past the cap: an oversized one fails at once, is not retried, and
// keeps its first 4 KiB as its raw text. The 3 GB replies are streamed by
// the fake server; the client stops them after the cap.
func TestOpenAIReplyTooLarge(t *testing.T) {
	const huge = 3 << 30
	completionSize := int64(len(llmtest.Completion("", 0)))
	tests := []struct {
		name     string
		max      int64 // OpenAIConfig.MaxReplyBytes; 0 is the default
		step     llmtest.Step
		limit    int64
		length   int64 // announced Content-Length, -1 for none
		wantHead string
	}{
		{"3 GB completion with its length", 0, llmtest.Step{Pad: huge}, llm.DefaultMaxReplyBytes, completionSize + huge, `{"id":"chatcmpl-1"`},
		{"3 GB completion, chunked", 0, llmtest.Step{Pad: huge, Chunked: true}, llm.DefaultMaxReplyBytes, -1, `{"id":"chatcmpl-1"`},
		{"3 GB error body", 0, llmtest.Step{Status: 500, Body: `{"error":{"message":"runaway"}}`, Pad: huge}, llm.DefaultMaxReplyBytes, int64(len(`{"error":{"message":"runaway"}}`)) + huge, `{"error":{"message":"runaway"}}`},
		{"3 GB error body, chunked", 0, llmtest.Step{Status: 429, Body: `{"error":{"message":"slow"}}`, Pad: huge, Chunked: true}, llm.DefaultMaxReplyBytes, -1, `{"error":{"message":"slow"}}`},
		{"one byte over a set cap", 1 << 20, llmtest.Step{Pad: 1<<20 - completionSize + 1}, 1 << 20, 1<<20 + 1, `{"id":"chatcmpl-1"`},
		{"one byte over a set cap, chunked", 1 << 20, llmtest.Step{Pad: 1<<20 - completionSize + 1, Chunked: true}, 1 << 20, -1, `{"id":"chatcmpl-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(nil, tt.step, llmtest.Step{Text: "7"})
			defer srv.Close()
			r := llm.NewRetry(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL(), MaxReplyBytes: tt.max}), 4, time.Millisecond, time.Second)
			llm.SetSleep(r, func(context.Context, time.Duration) error { return nil })

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := r.Chat(context.Background(), req("x"))
			runtime.ReadMemStats(&after)

			var te *llm.ReplyTooLargeError
			if !errors.As(err, &te) || !errors.Is(err, llm.ErrReplyTooLarge) {
				t.Fatalf("err = %v, want a reply too large", err)
			}
			if llm.Retryable(err) || srv.Count() != 1 || llm.Attempts(err) != 1 {
				t.Errorf("retryable %v, %d requests, %d attempts; want one request, not retried", llm.Retryable(err), srv.Count(), llm.Attempts(err))
			}
			status := tt.step.Status
			if status == 0 {
				status = 200
			}
			if te.Status != status || te.Limit != tt.limit || te.Length != tt.length {
				t.Errorf("status %d, limit %d, length %d; want %d, %d, %d", te.Status, te.Limit, te.Length, status, tt.limit, tt.length)
			}
			raw := llm.RawOf(err)
			if len(raw) != 4<<10 || !bytes.HasPrefix(raw, []byte(tt.wantHead)) {
				t.Errorf("raw text: %d bytes starting %.40q; want the first 4 KiB, starting %q", len(raw), raw, tt.wantHead)
			}
			if len(err.Error()) > 200 || !strings.Contains(err.Error(), "max_reply_bytes") {
				t.Errorf("error %q: want a short message naming the setting", err)
			}
			// The client stopped reading: the server could write the cap
			// and what the sockets buffer, no more.
			if sent := srv.Sent(); sent > tt.limit+64<<20 {
				t.Errorf("the server wrote %d bytes of a %d-byte cap before the client stopped it", sent, tt.limit)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("the call allocated %d MiB for a %d MiB cap", alloc>>20, tt.limit>>20)
			}
			t.Logf("server wrote %d MiB, the call allocated %d MiB; peak RSS of the test process %s", srv.Sent()>>20, (after.TotalAlloc-before.TotalAlloc)>>20, peakRSS())
		})
	}
}

// TestOpenAIReplyAtCap checks that a reply of exactly the cap is read.
func TestOpenAIReplyAtCap(t *testing.T) {
	size := int64(len(llmtest.Completion("", 0)))
	for _, chunked := range []bool{false, true} {
		srv := llmtest.NewServer(nil, llmtest.Step{Pad: 1<<20 - size, Chunked: chunked})
		reply, err := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL(), MaxReplyBytes: 1 << 20}).Chat(context.Background(), req("x"))
		srv.Close()
		if err != nil || len(reply.Raw) != 1<<20 || len(reply.Text) != 1<<20-int(size) {
			t.Errorf("chunked %v: reply of %d bytes (text %d), err %v; want the whole 1 MiB", chunked, len(reply.Raw), len(reply.Text), err)
		}
	}
}

// peakRSS returns the process's peak resident set (VmHWM), or "unknown".
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
