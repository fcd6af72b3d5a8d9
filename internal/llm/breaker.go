package llm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
)

// Breaker stops calling a model server that cannot be reached. After
// Failures connection-level failures in a row (refused, reset, DNS, TLS,
// timeouts) with no answer from the server in between, it opens: every
// later call fails at once, without a request, with an *UnreachableError
// ("model server at URL is unreachable: <last error>") that Retry does not
// retry. Any answer (a reply, or an HTTP error status such as 4xx or 5xx,
// a redirect, an unusable body) shows the server is there and starts the
// count again. Failures of calls whose own context ended do not count.
//
// Once open it stays open: the run's remaining calls fail fast, and a
// later run tries them again. One Breaker is shared by all the callers of
// a run. It sits under Retry and over Limit (Retry → Breaker → Limit →
// OpenAI) so that a call it stops waits for no slot and no turn under the
// rate; calls already waiting in Limit when it opens still send theirs, so
// a closed port costs at most Failures plus the calls in flight.
type Breaker struct {
	next     Client
	baseURL  string
	failures int

	mu   sync.Mutex
	run  int   // connection-level failures since the last answer
	open error // the *UnreachableError of an open breaker; nil while closed
}

var _ Client = (*Breaker)(nil)

// NewBreaker returns a Breaker for the server at baseURL (as named in its
// errors) that opens after failures connection-level failures in a row
// (at least 1).
func NewBreaker(next Client, baseURL string, failures int) *Breaker {
	return &Breaker{next: next, baseURL: NormalizeBaseURL(baseURL), failures: max(failures, 1)}
}

// Chat fails at once when the breaker is open and otherwise calls Next,
// counting its failure or its answer. A call the open breaker stops is an
// *AttemptsError of 0 attempts around the *UnreachableError: it sent no
// request. A call whose own request failed once the breaker was open
// returns its failure as an *UnreachableError.
func (b *Breaker) Chat(ctx context.Context, req Request) (Reply, error) {
	b.mu.Lock()
	open := b.open
	b.mu.Unlock()
	if open != nil {
		return Reply{}, &AttemptsError{Attempts: 0, Err: open}
	}
	reply, err := b.next.Chat(ctx, req)
	switch {
	case err == nil || answered(err):
		b.mu.Lock()
		b.run = 0
		b.mu.Unlock()
	case ctx.Err() != nil:
		// The caller left or ran out of time: no sign of the server.
	case connectionFailure(err):
		b.mu.Lock()
		b.run++
		if b.open == nil && b.run >= b.failures {
			b.open = &UnreachableError{BaseURL: b.baseURL, Err: err}
		}
		open := b.open != nil
		b.mu.Unlock()
		if open {
			return Reply{}, &UnreachableError{BaseURL: b.baseURL, Err: err}
		}
	}
	return reply, err
}

// Open returns the error the breaker fails calls with, or nil while it is
// closed.
func (b *Breaker) Open() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}

// answered reports whether err carries an answer from the server.
func answered(err error) bool {
	var (
		se *StatusError
		re *ReplyError
		de *RedirectError
		te *ReplyTooLargeError
	)
	return errors.As(err, &se) || errors.As(err, &re) || errors.As(err, &de) || errors.As(err, &te)
}

// connectionFailure reports whether err means the server could not be
// reached or did not answer: a refused, reset or dropped connection, a
// name that does not resolve, a failed TLS handshake or a timeout.
func connectionFailure(err error) bool {
	if errors.Is(err, ErrConnection) || errors.Is(err, ErrTimeout) {
		return true
	}
	var (
		dnsErr    *net.DNSError
		opErr     *net.OpError
		recErr    tls.RecordHeaderError
		alertErr  tls.AlertError
		verifyErr *tls.CertificateVerificationError
		authErr   x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		certErr   x509.CertificateInvalidError
	)
	return errors.As(err, &dnsErr) || errors.As(err, &opErr) || errors.As(err, &recErr) ||
		errors.As(err, &alertErr) || errors.As(err, &verifyErr) || errors.As(err, &authErr) ||
		errors.As(err, &hostErr) || errors.As(err, &certErr)
}
