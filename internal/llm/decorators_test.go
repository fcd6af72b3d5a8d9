package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"emer/internal/llm"
	"emer/internal/llm/llmtest"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

func req(text string) llm.Request {
	return llm.Request{Model: "m", Messages: []llm.Message{llm.User(llm.Text(text))}}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name     string
		script   []llmtest.Step
		wantErr  error
		attempts int
		delays   []time.Duration // exact delays, when the server dictates them
	}{
		{"429 honours Retry-After", []llmtest.Step{{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: "{}"}, {Text: "7"}}, nil, 2, []time.Duration{3 * time.Second}},
		{"500 then 502 then ok", []llmtest.Step{{Status: 500, Body: "x"}, {Status: 502, Body: "x"}, {Text: "7"}}, nil, 3, nil},
		{"malformed then ok", []llmtest.Step{{Body: "not json"}, {Text: "7"}}, nil, 2, nil},
		{"400 is final", []llmtest.Step{{Status: 400, Body: `{"error":{"message":"bad"}}`}, {Text: "7"}}, llm.ErrRejected, 1, nil},
		{"401 is final", []llmtest.Step{{Status: 401, Body: "{}"}, {Text: "7"}}, llm.ErrRejected, 1, nil},
		{"429 asking for more than the cap fails", []llmtest.Step{{Status: 429, Header: map[string]string{"Retry-After": "600"}, Body: `{"error":{"message":"quota"}}`}, {Text: "7"}}, llm.ErrRateLimited, 1, nil},
		{"gives up after max", []llmtest.Step{{Status: 500, Body: "a"}, {Status: 500, Body: "b"}, {Status: 500, Body: "c"}, {Status: 500, Body: "d"}}, llm.ErrServer, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(nil, tt.script...)
			defer srv.Close()
			var delays []time.Duration
			r := llm.NewRetry(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}), 4, 100*time.Millisecond, 10*time.Second)
			llm.SetSleep(r, func(_ context.Context, d time.Duration) error { delays = append(delays, d); return nil })
			reply, err := r.Chat(context.Background(), req("x"))
			if tt.wantErr == nil {
				if err != nil || reply.Text != "7" || reply.Attempts != tt.attempts {
					t.Fatalf("reply %+v, err %v; want text 7 after %d attempts", reply, err, tt.attempts)
				}
			} else {
				if !errors.Is(err, tt.wantErr) || llm.Attempts(err) != tt.attempts {
					t.Fatalf("err = %v (attempts %d), want %v after %d", err, llm.Attempts(err), tt.wantErr, tt.attempts)
				}
			}
			if srv.Count() != tt.attempts {
				t.Errorf("server saw %d requests, want %d", srv.Count(), tt.attempts)
			}
			if len(delays) != tt.attempts-1 {
				t.Errorf("slept %d times, want %d", len(delays), tt.attempts-1)
			}
			if tt.delays != nil && !equalDurations(delays, tt.delays) {
				t.Errorf("delays = %v, want %v", delays, tt.delays)
			}
			for i, d := range delays {
				if tt.delays == nil {
					hi := 100 * time.Millisecond << i
					if d < hi/2 || d > hi {
						t.Errorf("delay %d = %v, want within [%v, %v]", i, d, hi/2, hi)
					}
				}
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRetryAfterBeyondCap checks that a Retry-After longer than the cap
// fails the call at once, with the server's text, rather than retrying
// before the server allows.
func TestRetryAfterBeyondCap(t *testing.T) {
	srv := llmtest.NewServer(nil, llmtest.Step{Status: 429, Header: map[string]string{"Retry-After": "300"}, Body: "slow down"}, llmtest.Step{Text: "7"})
	defer srv.Close()
	r := llm.NewRetry(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}), 6, time.Millisecond, 2*time.Minute)
	slept := 0
	llm.SetSleep(r, func(context.Context, time.Duration) error { slept++; return nil })
	_, err := r.Chat(context.Background(), req("x"))
	if !errors.Is(err, llm.ErrRateLimited) || llm.Attempts(err) != 1 || string(llm.RawOf(err)) != "slow down" || slept != 0 || srv.Count() != 1 {
		t.Fatalf("err = %v (attempts %d, raw %q), slept %d times, %d requests; want the 429 after 1 request and no wait", err, llm.Attempts(err), llm.RawOf(err), slept, srv.Count())
	}
	if !strings.Contains(err.Error(), "5m0s") {
		t.Errorf("error %q does not say how long the server asked to wait", err)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	srv := llmtest.NewServer(nil, llmtest.Step{Status: 500, Body: "x"}, llmtest.Step{Text: "late"})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := llm.NewRetry(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}), 5, time.Hour, time.Hour)
	// The run is cancelled while the retry waits.
	llm.SetSleep(r, func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() })
	_, err := r.Chat(ctx, req("x"))
	if !errors.Is(err, llm.ErrServer) || llm.Attempts(err) != 1 || srv.Count() != 1 {
		t.Fatalf("err = %v after %d requests; want the server error after 1", err, srv.Count())
	}
}

// counting is a Client that tracks calls in flight.
type counting struct {
	inFlight, peak, calls atomic.Int64
	delay                 time.Duration
	gate                  chan struct{} // when set, calls wait for it to close
	fail                  error
}

func (c *counting) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	c.calls.Add(1)
	if c.gate != nil {
		<-c.gate
	}
	time.Sleep(c.delay)
	if c.fail != nil {
		return llm.Reply{}, c.fail
	}
	return llm.Reply{Text: "reply to " + r.Messages[0].Parts[0].Text, Usage: llm.Usage{TotalTokens: 5}, Attempts: 1}, nil
}

// TestLimitConcurrency checks that the limit keeps exactly its number of
// calls in flight while more wait: never one more, never fewer. The calls
// are held until the test lets one go; synctest.Wait lets every caller
// reach its slot or its wait for one before the count is read.
func TestLimitConcurrency(t *testing.T) {
	for _, tt := range []struct{ limit, callers int }{{1, 5}, {3, 20}, {8, 8}, {4, 3}} {
		t.Run(fmt.Sprintf("%d of %d", tt.limit, tt.callers), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inner := &stepped{one: make(chan struct{}), all: make(chan struct{})}
				l := llm.NewLimit(inner, tt.limit, 0)
				var wg sync.WaitGroup
				for range tt.callers {
					wg.Go(func() { _, _ = l.Chat(context.Background(), req("x")) })
				}
				defer wg.Wait()
				defer close(inner.all) // a failed check lets every call go
				for done := range tt.callers {
					synctest.Wait()
					if got, want := inner.inFlight.Load(), int64(min(tt.limit, tt.callers-done)); got != want {
						t.Fatalf("with %d of %d calls done: %d in flight, want %d", done, tt.callers, got, want)
					}
					inner.one <- struct{}{}
				}
				synctest.Wait()
				if n := inner.calls.Load(); n != int64(tt.callers) {
					t.Errorf("%d calls reached the client, want %d", n, tt.callers)
				}
			})
		})
	}
}

// stepped is a Client whose calls wait until the test lets one of them
// go (one) or all of them (all).
type stepped struct {
	one, all        chan struct{}
	inFlight, calls atomic.Int64
}

func (s *stepped) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	s.calls.Add(1)
	select {
	case <-s.one:
	case <-s.all:
	}
	return llm.Reply{Text: "ok"}, nil
}

func TestLimitRate(t *testing.T) {
	inner := &counting{}
	l := llm.NewLimit(inner, 10, 50) // one start per 20 ms
	// A clock that only the waits move forward.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var waits []time.Duration
	llm.SetClock(l, func() time.Time { return now }, func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	})
	for range 4 {
		if _, err := l.Chat(context.Background(), req("x")); err != nil {
			t.Fatal(err)
		}
	}
	// Calls made at one instant start 20 ms apart.
	want := []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond}
	if !equalDurations(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
	// Once the clock has passed the last planned start, the next call starts at once.
	now = now.Add(time.Second)
	waits = nil
	if _, err := l.Chat(context.Background(), req("x")); err != nil || !equalDurations(waits, []time.Duration{0}) {
		t.Errorf("after a pause: waits %v, err %v; want no wait", waits, err)
	}
}

// memStore is an in-memory CacheStore.
type memStore struct {
	mu   sync.Mutex
	m    map[string]llm.Reply
	puts int
}

func (s *memStore) GetReply(_ context.Context, k string) (llm.Reply, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[k]
	return r, ok, nil
}

func (s *memStore) PutReply(_ context.Context, k string, r llm.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = r
	s.puts++
	return nil
}

func TestCache(t *testing.T) {
	inner := &counting{delay: 20 * time.Millisecond}
	store := &memStore{m: map[string]llm.Reply{}}
	c := llm.NewCache(inner, store, "http://x/v1")
	ctx := context.Background()

	// Identical calls in flight together are sent once.
	var wg sync.WaitGroup
	var hits atomic.Int64
	for range 8 {
		wg.Go(func() {
			r, err := c.Chat(ctx, req("a"))
			if err != nil || r.Text != "reply to a" {
				t.Errorf("reply %+v, err %v", r, err)
			}
			if r.Cached {
				hits.Add(1)
			}
		})
	}
	wg.Wait()
	if inner.calls.Load() != 1 || hits.Load() != 7 {
		t.Fatalf("8 identical calls: %d sent, %d hits; want 1 sent, 7 hits", inner.calls.Load(), hits.Load())
	}
	r, _ := c.Chat(ctx, req("a"))
	if !r.Cached || r.Attempts != 0 || inner.calls.Load() != 1 {
		t.Errorf("second call not served from the cache: %+v", r)
	}
	// A different salt is a different request.
	salted := req("a")
	salted.Salt = "repeat 1"
	if r, _ := c.Chat(ctx, salted); r.Cached {
		t.Error("salted request served from the cache")
	}
	// Temperature above 0 is never cached.
	warm := req("b")
	warm.Temperature = 0.7
	_, _ = c.Chat(ctx, warm)
	_, _ = c.Chat(ctx, warm)
	if inner.calls.Load() != 4 {
		t.Errorf("calls = %d, want 4 (temperature 0.7 sent twice)", inner.calls.Load())
	}
	// Failures are not cached.
	failing := &counting{fail: llm.ErrServer}
	fc := llm.NewCache(failing, store, "http://x/v1")
	_, _ = fc.Chat(ctx, req("c"))
	_, _ = fc.Chat(ctx, req("c"))
	if failing.calls.Load() != 2 {
		t.Errorf("failed call cached: %d calls", failing.calls.Load())
	}
	// A read-only cache answers hits and stores nothing.
	puts := store.puts
	ro := llm.NewCache(&counting{}, store, "http://x/v1").ReadOnly()
	if r, _ := ro.Chat(ctx, req("a")); !r.Cached {
		t.Error("read-only cache missed a stored reply")
	}
	_, _ = ro.Chat(ctx, req("new"))
	if store.puts != puts {
		t.Error("read-only cache stored a reply")
	}
}

// gated is a Client whose calls wait until the gate opens, then fail after
// three attempts.
type gated struct {
	gate  chan struct{}
	calls atomic.Int64
}

func (g *gated) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	g.calls.Add(1)
	<-g.gate
	return llm.Reply{}, &llm.AttemptsError{Attempts: 3, Err: &llm.StatusError{Code: 500, Body: []byte("boom")}}
}

// TestCacheSharedFailureAttempts checks that callers who shared an
// in-flight request that failed report no attempts of their own, so that
// the attempts reported add up to the requests sent.
func TestCacheSharedFailureAttempts(t *testing.T) {
	inner := &gated{gate: make(chan struct{})}
	c := llm.NewCache(inner, &memStore{m: map[string]llm.Reply{}}, "u")
	const n = 8
	var entered atomic.Int64
	attempts := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			entered.Add(1)
			_, err := c.Chat(context.Background(), req("a"))
			if !errors.Is(err, llm.ErrServer) || string(llm.RawOf(err)) != "boom" {
				t.Errorf("err = %v", err)
			}
			attempts <- llm.Attempts(err)
		})
	}
	for entered.Load() < n || inner.calls.Load() == 0 {
		runtime.Gosched()
	}
	close(inner.gate)
	wg.Wait()
	close(attempts)
	total, zero := 0, 0
	for a := range attempts {
		total += a
		if a == 0 {
			zero++
		}
	}
	if want := 3 * int(inner.calls.Load()); total != want {
		t.Errorf("attempts reported add up to %d, want %d (%d calls sent, 3 attempts each)", total, want, inner.calls.Load())
	}
	if int(inner.calls.Load())+zero != n {
		t.Errorf("%d calls sent and %d callers with no attempts, want %d in all", inner.calls.Load(), zero, n)
	}
}

func TestKey(t *testing.T) {
	a, b := req("x"), req("x")
	if llm.Key("u", a) != llm.Key("u", b) {
		t.Error("equal requests, different keys")
	}
	b.Salt = "v2"
	c := req("x")
	c.Model = "other"
	d := req("x")
	d.Messages = append(d.Messages, llm.User(llm.Image("image/png", []byte{1})))
	warm := req("x")
	warm.Temperature = 0.5
	long := req("x")
	long.MaxTokens = 64
	seed := req("x")
	seed.Seed = new(int64(7))
	seed0 := req("x")
	seed0.Seed = new(int64(0))
	role := req("x")
	role.Messages = []llm.Message{llm.System("x")}
	for name, r := range map[string]llm.Request{"salt": b, "model": c, "media": d, "temperature": warm, "max_tokens": long, "seed": seed, "seed 0": seed0, "role": role} {
		if llm.Key("u", a) == llm.Key("u", r) {
			t.Errorf("%s does not change the key", name)
		}
	}
	if llm.Key("u", a) == llm.Key("v", a) {
		t.Error("base URL does not change the key")
	}
}

func TestRecorder(t *testing.T) {
	var buf bytes.Buffer
	store := &memStore{m: map[string]llm.Reply{}}
	inner := &counting{}
	rec := llm.NewRecorder(llm.NewCache(inner, store, "u"), slog.New(slog.NewJSONHandler(&buf, nil)))
	ctx := context.Background()
	_, _ = rec.Chat(ctx, req("a"))
	_, _ = rec.Chat(ctx, req("a"))
	failing := llm.NewRecorder(&counting{fail: &llm.AttemptsError{Attempts: 3, Err: llm.ErrServer}}, slog.New(slog.NewJSONHandler(&buf, nil)))
	_, _ = failing.Chat(ctx, req("b"))

	if got, want := rec.Totals(), (llm.Totals{Calls: 2, CacheHits: 1, Requests: 1, Tokens: 5}); got != want {
		t.Errorf("totals = %+v, want %+v", got, want)
	}
	if got, want := failing.Totals(), (llm.Totals{Calls: 1, Failures: 1, Requests: 3}); got != want {
		t.Errorf("failing totals = %+v, want %+v", got, want)
	}
	var lines []map[string]any
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d log records, want 3", len(lines))
	}
	if lines[0]["text"] != "reply to a" || lines[0]["cached"] != false || lines[1]["cached"] != true {
		t.Errorf("records = %v", lines[:2])
	}
	if lines[2]["attempts"] != float64(3) || lines[2]["error"] == nil {
		t.Errorf("failure record = %v", lines[2])
	}
}

// TestRecorderAttempts checks that a Recorder given to a Retry logs every
// request sent, failed ones with their status and body, besides the call.
func TestRecorderAttempts(t *testing.T) {
	srv := llmtest.NewServer(nil,
		llmtest.Step{Status: 500, Body: "first failure"},
		llmtest.Step{Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: "second failure"},
		llmtest.Step{Text: "7"})
	defer srv.Close()
	var buf bytes.Buffer
	retry := llm.NewRetry(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}), 4, time.Millisecond, time.Minute)
	llm.SetSleep(retry, func(context.Context, time.Duration) error { return nil })
	rec := llm.NewRecorder(retry, slog.New(slog.NewJSONHandler(&buf, nil)))
	retry.OnAttempt = rec.Attempt
	if r, err := rec.Chat(context.Background(), req("x")); err != nil || r.Text != "7" {
		t.Fatalf("reply %+v, err %v", r, err)
	}
	var lines []map[string]any
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 4 {
		t.Fatalf("%d log records, want 3 attempts and the call: %v", len(lines), lines)
	}
	want := []struct {
		status float64
		raw    string
	}{{500, "first failure"}, {429, "second failure"}, {200, `"content":"7"`}}
	for i, w := range want {
		l := lines[i]
		if l["msg"] != "attempt" || l["attempt"] != float64(i+1) || l["status"] != w.status || !strings.Contains(l["raw"].(string), w.raw) {
			t.Errorf("record %d = %v, want attempt %d with status %v and raw %q", i, l, i+1, w.status, w.raw)
		}
		if l["request_id"] != lines[3]["request_id"] || l["request_id"] == "" {
			t.Errorf("record %d: request_id %v, the call's %v", i, l["request_id"], lines[3]["request_id"])
		}
	}
	if lines[3]["msg"] != "chat" || lines[3]["attempts"] != float64(3) || lines[3]["text"] != "7" {
		t.Errorf("call record = %v", lines[3])
	}
}

func TestDryRun(t *testing.T) {
	store := &memStore{m: map[string]llm.Reply{}}
	_ = store.PutReply(context.Background(), llm.Key("u", req("held")), llm.Reply{Text: "stored"})
	d := llm.NewDryRun("u", store)
	for _, s := range []string{"held", "new1", "new2", "new1", "held"} {
		r, err := d.Chat(context.Background(), req(s))
		if err != nil {
			t.Fatal(err)
		}
		if (s == "held") != r.Cached {
			t.Errorf("%s: cached = %v", s, r.Cached)
		}
	}
	if calls, cached := d.Counts(); calls != 3 || cached != 1 {
		t.Fatalf("dry run counted %d calls, %d cached; want 3 and 1", calls, cached)
	}
	// Above temperature 0 every request is its own call, as in a real run.
	warm := req("warm")
	warm.Temperature = 0.9
	for range 3 {
		if _, err := d.Chat(context.Background(), warm); err != nil {
			t.Fatal(err)
		}
	}
	if calls, cached := d.Counts(); calls != 6 || cached != 1 {
		t.Fatalf("with 3 identical requests at temperature 0.9: %d calls, %d cached; want 6 and 1", calls, cached)
	}
	if store.puts != 1 {
		t.Error("dry run stored a reply")
	}
}
