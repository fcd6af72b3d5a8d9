package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors; test with errors.Is.
var (
	ErrRateLimited = errors.New("rate limited")         // HTTP 429
	ErrServer      = errors.New("server error")         // HTTP 5xx
	ErrTimeout     = errors.New("request timed out")    // the attempt's deadline passed
	ErrRejected    = errors.New("request rejected")     // HTTP 4xx other than 408 and 429: not retried
	ErrMalformed   = errors.New("malformed reply")      // the body is not a chat completion
	ErrNoChoices   = errors.New("reply has no choices") // a completion with nothing in it
	ErrConnection  = errors.New("connection failed")    // reset, refused, EOF mid-reply

	ErrReplyTooLarge = errors.New("reply too large")    // the body exceeds the client's cap: not retried
	ErrRedirected    = errors.New("server redirected")  // a 3xx answer: not followed, not retried
	ErrUnreachable   = errors.New("server unreachable") // a Breaker is open: not retried
)

// StatusError is an HTTP error status from the server.
type StatusError struct {
	Code       int
	Body       []byte
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
}

func (e *StatusError) Error() string {
	body := strings.TrimSpace(string(e.Body))
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Code, http.StatusText(e.Code), body)
}

// Unwrap maps the status onto the sentinel errors.
func (e *StatusError) Unwrap() error {
	switch {
	case e.Code == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.Code == http.StatusRequestTimeout:
		return ErrTimeout
	case e.Code >= 500:
		return ErrServer
	default:
		return ErrRejected
	}
}

// ReplyError is a reply that arrived but cannot be used (malformed JSON,
// no choices). Raw holds the body as received.
type ReplyError struct {
	Err error // ErrMalformed or ErrNoChoices
	Raw []byte
}

func (e *ReplyError) Error() string { return fmt.Sprintf("%v: %.300s", e.Err, e.Raw) }
func (e *ReplyError) Unwrap() error { return e.Err }

// ReplyTooLargeError is a reply whose body exceeds the client's cap
// (OpenAIConfig.MaxReplyBytes). Reading stopped at the cap; Head keeps the
// first bytes as its raw text.
type ReplyTooLargeError struct {
	Status int    // HTTP status of the reply
	Limit  int64  // the cap, in bytes
	Length int64  // the Content-Length the server announced; -1 when it sent none
	Head   []byte // the first bytes of the body, at most 4 KiB
}

func (e *ReplyTooLargeError) Error() string {
	size := "more than " + formatBytes(e.Limit)
	if e.Length >= 0 {
		size = formatBytes(e.Length)
	}
	return fmt.Sprintf("%v: HTTP %d with a body of %s, over the %s limit (max_reply_bytes)", ErrReplyTooLarge, e.Status, size, formatBytes(e.Limit))
}
func (e *ReplyTooLargeError) Unwrap() error { return ErrReplyTooLarge }

// RedirectError is a redirect answer to a chat call. The client does not
// follow it: a redirected POST would be sent again as a GET, without its
// body, or to a place the base URL does not name.
type RedirectError struct {
	Code int    // the 3xx status
	From string // the URL posted to
	To   string // the Location, resolved against From; empty when none
}

func (e *RedirectError) Error() string {
	msg := fmt.Sprintf("%v: POST %s answered HTTP %d %s", ErrRedirected, e.From, e.Code, http.StatusText(e.Code))
	if e.To == "" {
		return msg + " with no Location; redirects are not followed"
	}
	msg += " pointing to " + e.To + "; redirects are not followed"
	if base := redirectBase(e.To); base != "" {
		return msg + ": use the base URL " + base
	}
	return msg + ": use the base URL of the server's API root (the URL before /chat/completions)"
}
func (e *RedirectError) Unwrap() error { return ErrRedirected }

// redirectBase returns the base URL that posts to the chat-completions
// address to, or "" when to is not one.
func redirectBase(to string) string {
	u, err := url.Parse(to)
	if err != nil {
		return ""
	}
	u.RawQuery, u.Fragment = "", ""
	p, ok := strings.CutSuffix(strings.TrimRight(u.Path, "/"), "/chat/completions")
	if !ok {
		return ""
	}
	u.Path, u.RawPath = p, ""
	return NormalizeBaseURL(u.String())
}

// UnreachableError is the failure of a call that a Breaker stopped, or
// whose request was the one that opened it. Err is the last
// connection-level failure seen.
type UnreachableError struct {
	BaseURL string
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("model server at %s is unreachable: %v", e.BaseURL, e.Err)
}

// Unwrap returns ErrUnreachable and the last failure.
func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// AttemptsError records how many requests were sent before giving up.
type AttemptsError struct {
	Attempts int
	Err      error
}

func (e *AttemptsError) Error() string {
	if e.Attempts <= 1 {
		// 0: the call shared another's request, whose error says how
		// many attempts it made.
		return e.Err.Error()
	}
	return fmt.Sprintf("after %d attempts: %v", e.Attempts, e.Err)
}
func (e *AttemptsError) Unwrap() error { return e.Err }

// Attempts returns the number of requests sent for a failed call: the count
// recorded by Retry (0 when the call shared another caller's request), or 1
// when no retry decorator was involved.
func Attempts(err error) int {
	var ae *AttemptsError
	if errors.As(err, &ae) {
		return ae.Attempts
	}
	return 1
}

// RawOf returns the raw server text carried by err (an error body or an
// unusable reply), or nil.
func RawOf(err error) []byte {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Body
	}
	var re *ReplyError
	if errors.As(err, &re) {
		return re.Raw
	}
	var te *ReplyTooLargeError
	if errors.As(err, &te) {
		return te.Head
	}
	return nil
}

// Retryable reports whether a failed call may succeed when sent again:
// rate limits, server errors, timeouts, dropped connections and replies
// mangled in transit. A rejected request (400, 401, 403, 404, ...), a
// redirect, a reply over the size cap, an unreachable server (an open
// Breaker) and a cancelled context are final.
func Retryable(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrRejected), errors.Is(err, ErrRedirected), errors.Is(err, ErrReplyTooLarge), errors.Is(err, ErrUnreachable):
		return false
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrServer), errors.Is(err, ErrTimeout),
		errors.Is(err, ErrConnection), errors.Is(err, ErrMalformed), errors.Is(err, ErrNoChoices):
		return true
	}
	return false
}

// RetryAfter returns the delay the server asked for, or 0.
func RetryAfter(err error) time.Duration {
	var se *StatusError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// classifyTransport maps a transport failure onto the sentinels.
func classifyTransport(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %v", ErrConnection, err)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("%w: %v", ErrConnection, err)
	}
	return err
}

// formatBytes writes n in the largest binary unit that divides it: 8 MiB,
// 4 KiB, 1000 bytes.
func formatBytes(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
