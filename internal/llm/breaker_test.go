package llm_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"emer/internal/llm"
	"emer/internal/llm/llmtest"
)

// countingTransport counts the round trips it passes on.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// closedPort returns the base URL of a port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1"
}

// TestBreakerClosedPort runs 400 calls, as a run of 400 items would,
// against a port nothing listens on: the breaker opens after its failures
// and the other calls send nothing.
func TestBreakerClosedPort(t *testing.T) {
	const items, failures, attempts = 400, 5, 6
	for _, workers := range []int{1, 16} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			base := closedPort(t)
			tr := &countingTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
			client := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: base, HTTPClient: &http.Client{Transport: tr}})
			b := llm.NewBreaker(llm.NewLimit(client, 4, 0), base, failures)
			r := llm.NewRetry(b, attempts, time.Millisecond, time.Second)
			llm.SetSleep(r, func(context.Context, time.Duration) error { return nil })
			var logged atomic.Int64
			r.OnAttempt = func(context.Context, llm.Request, llm.Attempt) { logged.Add(1) }

			work := make(chan int)
			errs := make([]error, items)
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for i := range work {
						_, errs[i] = r.Chat(context.Background(), req(fmt.Sprint(i)))
					}
				})
			}
			for i := range items {
				work <- i
			}
			close(work)
			wg.Wait()

			sent, reported := tr.n.Load(), 0
			for i, err := range errs {
				reported += llm.Attempts(err)
				if !errors.Is(err, llm.ErrUnreachable) || llm.Retryable(err) {
					t.Fatalf("item %d: err %v, want a final unreachable error", i, err)
				}
				if want := "model server at " + base + " is unreachable: "; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "connection refused") {
					t.Fatalf("item %d: error %q, want it to contain %q and the refusal", i, err, want)
				}
			}
			// Requests go out until the breaker opens, and those already
			// past it then end theirs: at most one per other worker.
			if limit := int64(failures + workers - 1); sent < failures || sent > limit {
				t.Errorf("%d requests sent for %d items, want %d to %d", sent, items, failures, limit)
			}
			if int64(reported) != sent || logged.Load() != sent {
				t.Errorf("%d requests sent, %d reported in the attempts, %d told to OnAttempt; want all equal", sent, reported, logged.Load())
			}
			if b.Open() == nil {
				t.Error("breaker not open")
			}
			t.Logf("%d requests for %d items; first error: %v; last: %v", sent, items, errs[0], errs[items-1])
		})
	}
}

// TestBreakerOpensDuringRetry checks that a call waiting to retry when the
// breaker opens stops there: it reports the requests it sent, and its
// next attempt sends none.
func TestBreakerOpensDuringRetry(t *testing.T) {
	inner := &scripted{}
	refused := fmt.Errorf("%w: dial tcp: connection refused", llm.ErrConnection)
	for range 10 {
		inner.errs = append(inner.errs, refused)
	}
	b := llm.NewBreaker(inner, "http://judge/v1", 2)
	other := llm.NewRetry(b, 6, time.Millisecond, time.Second)
	llm.SetSleep(other, func(context.Context, time.Duration) error { return nil })
	var otherErr error
	r := llm.NewRetry(b, 6, time.Millisecond, time.Second)
	// While this call waits to retry, another call fails and opens the
	// breaker.
	llm.SetSleep(r, func(ctx context.Context, _ time.Duration) error {
		_, otherErr = other.Chat(ctx, req("other"))
		return nil
	})
	var attempts []int
	r.OnAttempt = func(_ context.Context, _ llm.Request, a llm.Attempt) { attempts = append(attempts, a.N) }
	_, err := r.Chat(context.Background(), req("x"))
	if !errors.Is(err, llm.ErrUnreachable) || llm.Attempts(err) != 1 || len(attempts) != 1 {
		t.Errorf("err %v after %d attempts (%v told); want unreachable after the one request sent", err, llm.Attempts(err), attempts)
	}
	if !errors.Is(otherErr, llm.ErrUnreachable) || llm.Attempts(otherErr) != 1 {
		t.Errorf("the call that opened it: %v after %d attempts, want unreachable after 1", otherErr, llm.Attempts(otherErr))
	}
	if inner.calls != 2 {
		t.Errorf("%d requests, want 2", inner.calls)
	}
}

// scripted is a Client that fails with errs in turn, then succeeds.
type scripted struct {
	errs  []error
	calls int
}

func (s *scripted) Chat(ctx context.Context, r llm.Request) (llm.Reply, error) {
	s.calls++
	if len(s.errs) == 0 {
		return llm.Reply{Text: "ok", Attempts: 1}, nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return llm.Reply{}, err
}

func TestBreakerCounts(t *testing.T) {
	refused := fmt.Errorf("%w: dial tcp 127.0.0.1:8000: connect: connection refused", llm.ErrConnection)
	timeout := fmt.Errorf("%w after 2m0s", llm.ErrTimeout)
	dns := &url.Error{Op: "Post", URL: "http://judge/v1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "judge", IsNotFound: true}}}
	tlsErr := &url.Error{Op: "Post", URL: "https://judge/v1", Err: x509.UnknownAuthorityError{}}
	s500 := &llm.StatusError{Code: 500, Body: []byte("boom")}
	s408 := &llm.StatusError{Code: 408}
	s404 := &llm.StatusError{Code: 404}
	malformed := &llm.ReplyError{Err: llm.ErrMalformed, Raw: []byte("{")}
	redirect := &llm.RedirectError{Code: 302, From: "http://judge/v1/chat/completions"}
	tests := []struct {
		name   string
		errs   []error // the results of the client's calls in turn; nil is a reply
		cancel bool    // the callers' context has ended
		open   int     // the call (from 1) that opens the breaker; 0: it stays closed
	}{
		{"refusals in a row", []error{refused, refused, refused, refused}, false, 3},
		{"timeouts in a row", []error{timeout, timeout, timeout}, false, 3},
		{"names that do not resolve", []error{dns, dns, dns}, false, 3},
		{"failed TLS handshakes", []error{tlsErr, tlsErr, tlsErr}, false, 3},
		{"mixed connection failures", []error{refused, dns, timeout}, false, 3},
		{"a reply starts the count again", []error{refused, refused, nil, refused, refused, nil}, false, 0},
		{"a 5xx starts the count again", []error{refused, refused, s500, refused, refused, refused}, false, 6},
		{"HTTP errors never open it", []error{s500, s500, s408, s408, s404, s404, s500}, false, 0},
		{"other answers never open it", []error{malformed, malformed, redirect, redirect, malformed}, false, 0},
		{"the caller's own cancellation does not count", []error{context.Canceled, context.Canceled, context.Canceled, refused}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &scripted{errs: append([]error(nil), tt.errs...)}
			b := llm.NewBreaker(inner, "http://judge/v1/", 3)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			for i := 1; i <= len(tt.errs); i++ {
				_, err := b.Chat(ctx, req("x"))
				unreachable := errors.Is(err, llm.ErrUnreachable)
				switch {
				case tt.open == 0 || i < tt.open:
					if unreachable {
						t.Fatalf("call %d: %v, want the breaker closed", i, err)
					}
					if !errors.Is(err, tt.errs[i-1]) {
						t.Fatalf("call %d: err %v, want %v", i, err, tt.errs[i-1])
					}
				case i == tt.open:
					want := "model server at http://judge/v1 is unreachable: " + tt.errs[i-1].Error()
					if !unreachable || err.Error() != want || !errors.Is(err, tt.errs[i-1]) || llm.Attempts(err) != 1 {
						t.Fatalf("call %d: err %q (attempts %d), want %q", i, err, llm.Attempts(err), want)
					}
				default:
					if !unreachable || llm.Attempts(err) != 0 || inner.calls != tt.open {
						t.Fatalf("call %d: err %v (attempts %d) after %d requests; want a fast failure with none sent", i, err, llm.Attempts(err), inner.calls)
					}
				}
			}
			if (b.Open() != nil) != (tt.open != 0) {
				t.Errorf("open = %v, want %v", b.Open(), tt.open != 0)
			}
		})
	}
}

// TestBreakerTLS checks a real failed handshake: a server whose
// certificate the client does not trust.
func TestBreakerTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes fail by design
	srv.StartTLS()
	defer srv.Close()
	b := llm.NewBreaker(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.URL + "/v1"}), srv.URL+"/v1", 2)
	var errs []error
	for range 3 {
		_, err := b.Chat(context.Background(), req("x"))
		errs = append(errs, err)
	}
	if errors.Is(errs[0], llm.ErrUnreachable) || !errors.Is(errs[1], llm.ErrUnreachable) || llm.Attempts(errs[2]) != 0 {
		t.Fatalf("errors %v; want the second handshake failure to open the breaker and the third call to send nothing", errs)
	}
	if !strings.Contains(errs[2].Error(), "certificate") {
		t.Errorf("error %q does not say what failed", errs[2])
	}
}

// TestBreakerServerErrors checks that a server answering 503 to every
// request is retried as before, never taken for unreachable.
func TestBreakerServerErrors(t *testing.T) {
	srv := llmtest.NewServer(func(*llmtest.Call) llmtest.Step { return llmtest.Step{Status: 503, Body: "loading"} })
	defer srv.Close()
	b := llm.NewBreaker(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}), srv.BaseURL(), 2)
	r := llm.NewRetry(b, 3, time.Millisecond, time.Second)
	llm.SetSleep(r, func(context.Context, time.Duration) error { return nil })
	for i := range 5 {
		_, err := r.Chat(context.Background(), req(fmt.Sprint(i)))
		if !errors.Is(err, llm.ErrServer) || errors.Is(err, llm.ErrUnreachable) || llm.Attempts(err) != 3 {
			t.Fatalf("call %d: err %v after %d attempts, want the 503 after 3", i, err, llm.Attempts(err))
		}
	}
	if srv.Count() != 15 || b.Open() != nil {
		t.Errorf("%d requests, breaker open %v; want 15 and closed", srv.Count(), b.Open())
	}
}
