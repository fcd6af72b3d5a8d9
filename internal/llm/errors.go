package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	return nil
}

// Retryable reports whether a failed call may succeed when sent again:
// rate limits, server errors, timeouts, dropped connections and replies
// mangled in transit. A rejected request (400, 401, 403, 404, ...) and a
// cancelled context are final.
func Retryable(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrRejected):
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
