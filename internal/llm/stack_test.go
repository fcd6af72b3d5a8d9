package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm"
	"emer/internal/llm/llmtest"
)

// noSleep makes the stack's retries wait for nothing, recording the
// delays asked for.
func noSleep(s *llm.Stack) *[]time.Duration {
	var delays []time.Duration
	llm.SetSleep(llm.StackRetry(s), func(_ context.Context, d time.Duration) error {
		delays = append(delays, d)
		return nil
	})
	return &delays
}

// logRecords parses the JSON lines a slog.JSONHandler wrote.
func logRecords(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(b)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestStackCache(t *testing.T) {
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step { return llmtest.Step{Text: "reply to " + c.Prompt(), Tokens: 3} })
	defer srv.Close()
	s := llm.NewStack(llm.StackConfig{BaseURL: srv.BaseURL(), MaxAttempts: 3, Cache: &memStore{m: map[string]llm.Reply{}}})
	ctx := context.Background()
	first, err := s.Chat(ctx, req("a"))
	if err != nil || first.Cached || first.Text != "reply to a" || first.Attempts != 1 {
		t.Fatalf("first call: %+v, %v; want a fresh reply after 1 attempt", first, err)
	}
	second, err := s.Chat(ctx, req("a"))
	if err != nil || !second.Cached || second.Text != "reply to a" {
		t.Fatalf("second call: %+v, %v; want the cached reply", second, err)
	}
	if n := srv.Count(); n != 1 {
		t.Errorf("server saw %d requests, want 1: the second call is the cache's", n)
	}
	if diff := cmp.Diff(llm.Totals{Calls: 2, CacheHits: 1, Requests: 1, Tokens: 13}, s.Totals()); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	// Not reproducible, so not cached: both go to the server.
	warm := req("b")
	warm.Temperature = 0.7
	for range 2 {
		if _, err := s.Chat(ctx, warm); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count(); n != 3 {
		t.Errorf("server saw %d requests, want 3 after two calls at temperature 0.7", n)
	}
}

func TestStackRetries(t *testing.T) {
	for _, tt := range []struct {
		name   string
		script []llmtest.Step
		delays []time.Duration // nil: backoff, checked for its count only
	}{
		{"429 with Retry-After", []llmtest.Step{{Status: 429, Header: map[string]string{"Retry-After": "2"}, Body: `{"error":{"message":"slow down"}}`}, {Text: "7"}}, []time.Duration{2 * time.Second}},
		{"429 without Retry-After", []llmtest.Step{{Status: 429, Body: "{}"}, {Text: "7"}}, nil},
		{"503 then 429", []llmtest.Step{{Status: 503, Body: "x"}, {Status: 429, Body: "{}"}, {Text: "7"}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(nil, tt.script...)
			defer srv.Close()
			s := llm.NewStack(llm.StackConfig{BaseURL: srv.BaseURL(), MaxAttempts: 4, RetryBase: time.Second})
			delays := noSleep(s)
			r, err := s.Chat(context.Background(), req("x"))
			want := len(tt.script)
			if err != nil || r.Text != "7" || r.Attempts != want {
				t.Fatalf("reply %+v, err %v; want 7 after %d attempts", r, err, want)
			}
			if srv.Count() != want || len(*delays) != want-1 {
				t.Errorf("%d requests and %d waits, want %d and %d", srv.Count(), len(*delays), want, want-1)
			}
			if tt.delays != nil {
				if diff := cmp.Diff(tt.delays, *delays); diff != "" {
					t.Errorf("delays (-want +got):\n%s", diff)
				}
			}
			if got := s.Totals(); got.Requests != want || got.Failures != 0 {
				t.Errorf("totals %+v, want %d requests and no failure", got, want)
			}
		})
	}
	// A 429 asking for longer than RetryMax fails the call without waiting.
	srv := llmtest.NewServer(nil, llmtest.Step{Status: 429, Header: map[string]string{"Retry-After": "60"}, Body: "{}"}, llmtest.Step{Text: "7"})
	defer srv.Close()
	s := llm.NewStack(llm.StackConfig{BaseURL: srv.BaseURL(), MaxAttempts: 4, RetryMax: 10 * time.Second})
	delays := noSleep(s)
	if _, err := s.Chat(context.Background(), req("x")); !errors.Is(err, llm.ErrRateLimited) || llm.Attempts(err) != 1 || len(*delays) != 0 {
		t.Errorf("err %v after %d attempts and %d waits; want the 429 after 1 attempt and none", err, llm.Attempts(err), len(*delays))
	}
}

// TestStackLog checks the records of calls.jsonl: one per request sent,
// failed ones with their status and body, then one for the call, all
// with the call's request_id; a cache hit logs the call alone.
func TestStackLog(t *testing.T) {
	srv := llmtest.NewServer(nil, llmtest.Step{Status: 500, Body: "overloaded"}, llmtest.Step{Status: 429, Body: "busy"}, llmtest.Step{Text: "7", Tokens: 1})
	defer srv.Close()
	var buf bytes.Buffer
	s := llm.NewStack(llm.StackConfig{BaseURL: srv.BaseURL(), MaxAttempts: 4, Cache: &memStore{m: map[string]llm.Reply{}}, Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	noSleep(s)
	for range 2 {
		if r, err := s.Chat(context.Background(), req("x")); err != nil || r.Text != "7" {
			t.Fatalf("reply %+v, err %v", r, err)
		}
	}
	type record struct {
		Msg      string
		Attempt  float64
		Status   float64
		Raw      string
		Attempts float64
		Cached   bool
	}
	var got []record
	lines := logRecords(t, &buf)
	for _, l := range lines {
		r := record{Msg: l["msg"].(string)}
		r.Attempt, _ = l["attempt"].(float64)
		r.Status, _ = l["status"].(float64)
		r.Attempts, _ = l["attempts"].(float64)
		r.Cached, _ = l["cached"].(bool)
		if l["msg"] == "attempt" && r.Status != 200 {
			r.Raw, _ = l["raw"].(string)
		}
		got = append(got, r)
		if l["request_id"] != lines[0]["request_id"] || l["request_id"] == "" {
			t.Errorf("record %v: request_id %v, want %v", l, l["request_id"], lines[0]["request_id"])
		}
	}
	want := []record{
		{Msg: "attempt", Attempt: 1, Status: 500, Raw: "overloaded"},
		{Msg: "attempt", Attempt: 2, Status: 429, Raw: "busy"},
		{Msg: "attempt", Attempt: 3, Status: 200},
		{Msg: "chat", Attempts: 3},
		{Msg: "chat", Cached: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}

// TestStackWithoutLog checks that a stack with no log still counts.
func TestStackWithoutLog(t *testing.T) {
	srv := llmtest.NewServer(nil, llmtest.Step{Status: 500, Body: "x"}, llmtest.Step{Text: "7", Tokens: 2})
	defer srv.Close()
	s := llm.NewStack(llm.StackConfig{BaseURL: srv.BaseURL(), MaxAttempts: 2})
	noSleep(s)
	if _, err := s.Chat(context.Background(), req("x")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(llm.Totals{Calls: 1, Requests: 2, Tokens: 12}, s.Totals()); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

// TestStackBreakerClosedPort runs calls one after another against a port
// nothing listens on: the breaker opens after BreakerFailures requests and
// the rest send none.
func TestStackBreakerClosedPort(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int
		want     int64
	}{
		{"default", 0, llm.DefaultBreakerFailures},
		{"set", 3, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := closedPort(t)
			tr := &countingTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
			s := llm.NewStack(llm.StackConfig{BaseURL: base, HTTPClient: &http.Client{Transport: tr}, MaxAttempts: 6, Concurrency: 4, BreakerFailures: tt.failures})
			noSleep(s)
			if err := s.Unreachable(); err != nil {
				t.Fatalf("Unreachable() = %v before any call", err)
			}
			const calls = 40
			for i := range calls {
				_, err := s.Chat(context.Background(), req(fmt.Sprint(i)))
				if !errors.Is(err, llm.ErrUnreachable) || llm.Retryable(err) {
					t.Fatalf("call %d: err %v, want a final unreachable error", i, err)
				}
			}
			if n := tr.n.Load(); n != tt.want {
				t.Errorf("%d requests sent for %d calls, want %d", n, calls, tt.want)
			}
			if got := s.Totals(); got.Requests != int(tt.want) || got.Failures != calls {
				t.Errorf("totals %+v, want %d requests and %d failures", got, tt.want, calls)
			}
			if err := s.Unreachable(); !errors.Is(err, llm.ErrUnreachable) {
				t.Errorf("Unreachable() = %v, want the breaker's error", err)
			}
		})
	}
}

// TestStackMaxReplyBytes checks that the cap reaches the client: a longer
// reply fails at once, is not retried and is not cached.
func TestStackMaxReplyBytes(t *testing.T) {
	srv := llmtest.NewServer(nil, llmtest.Step{Text: "7", Pad: 4 << 10}, llmtest.Step{Text: "7"})
	defer srv.Close()
	store := &memStore{m: map[string]llm.Reply{}}
	s := llm.NewStack(llm.StackConfig{BaseURL: srv.BaseURL(), MaxAttempts: 3, MaxReplyBytes: 1 << 10, Cache: store})
	noSleep(s)
	_, err := s.Chat(context.Background(), req("x"))
	var big *llm.ReplyTooLargeError
	if !errors.As(err, &big) || big.Limit != 1<<10 || llm.Attempts(err) != 1 {
		t.Fatalf("err %v (attempts %d), want a *ReplyTooLargeError at 1 KiB after 1 attempt", err, llm.Attempts(err))
	}
	if store.puts != 0 || srv.Count() != 1 {
		t.Errorf("%d replies cached, %d requests; want 0 and 1", store.puts, srv.Count())
	}
}
