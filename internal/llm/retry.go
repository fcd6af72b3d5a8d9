package llm

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry sends a failed call again when the failure is transient (see
// Retryable), waiting between attempts: the server's Retry-After when it
// gives one, otherwise exponential backoff with jitter.
type Retry struct {
	Next        Client
	MaxAttempts int           // total attempts, at least 1
	BaseDelay   time.Duration // delay before the second attempt, before jitter
	MaxDelay    time.Duration // cap on any one delay; a longer Retry-After fails the call

	// OnAttempt, when set, is told of every request sent, failed or not,
	// as it ends (a Recorder's Attempt logs them). It is called from the
	// goroutine of the call.
	OnAttempt func(ctx context.Context, req Request, a Attempt)

	// sleep waits for d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Attempt is one request Retry sent.
type Attempt struct {
	N       int           // 1 for the first request of a call
	Reply   Reply         // the reply, when Err is nil
	Err     error         // why the request failed
	Latency time.Duration // time to the reply or the failure, a wait for a free slot (Limit) included
}

var _ Client = (*Retry)(nil)

// NewRetry returns a Retry with the given attempts and delays.
func NewRetry(next Client, maxAttempts int, base, max time.Duration) *Retry {
	return &Retry{Next: next, MaxAttempts: maxAttempts, BaseDelay: base, MaxDelay: max}
}

// Chat calls Next until it succeeds, fails for good, or runs out of
// attempts. The reply's Attempts, or an *AttemptsError, says how many
// requests were sent. A failure of Next that is itself an *AttemptsError
// of 0 attempts (a Breaker that stopped the call) sent no request: it is
// neither counted nor told to OnAttempt, and, being final, ends the call.
func (r *Retry) Chat(ctx context.Context, req Request) (Reply, error) {
	var reply Reply
	n, err := r.do(ctx, func(attempt int) error {
		start := time.Now()
		var err error
		reply, err = r.Next.Chat(ctx, req)
		if _, ok := unsent(err); !ok && r.OnAttempt != nil {
			r.OnAttempt(ctx, req, Attempt{N: attempt, Reply: reply, Err: err, Latency: time.Since(start)})
		}
		return err
	})
	if err != nil {
		return Reply{}, err
	}
	reply.Attempts = n
	return reply, nil
}

// Transcriber returns next with its failed calls sent again as Chat's
// are: the same attempts, delays and Retryable failures.
func (r *Retry) Transcriber(next Transcriber) Transcriber {
	return retryTranscriber{r: r, next: next}
}

type retryTranscriber struct {
	r    *Retry
	next Transcriber
}

func (t retryTranscriber) Transcribe(ctx context.Context, req TranscriptionRequest) (Transcript, error) {
	var tr Transcript
	_, err := t.r.do(ctx, func(int) error {
		var err error
		tr, err = t.next.Transcribe(ctx, req)
		return err
	})
	if err != nil {
		return Transcript{}, err
	}
	return tr, nil
}

// do calls send (with the attempt's number, from 1) until it succeeds,
// fails for good, or runs out of attempts, and returns the attempts made;
// its errors are *AttemptsError.
func (r *Retry) do(ctx context.Context, send func(attempt int) error) (int, error) {
	sleep := r.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	max := max(r.MaxAttempts, 1)
	for attempt := 1; ; attempt++ {
		err := send(attempt)
		if inner, ok := unsent(err); ok {
			return attempt - 1, &AttemptsError{Attempts: attempt - 1, Err: inner}
		}
		if err == nil {
			return attempt, nil
		}
		if attempt >= max || !Retryable(err) || ctx.Err() != nil {
			return attempt, &AttemptsError{Attempts: attempt, Err: err}
		}
		after := RetryAfter(err)
		if r.MaxDelay > 0 && after > r.MaxDelay {
			// Sending before the server allows would only be refused
			// again: the call fails, and a later run tries it.
			return attempt, &AttemptsError{Attempts: attempt, Err: fmt.Errorf("server asks to wait %v before retrying, more than the %v this run waits: %w", after, r.MaxDelay, err)}
		}
		if serr := sleep(ctx, r.delay(attempt, after)); serr != nil {
			return attempt, &AttemptsError{Attempts: attempt, Err: err}
		}
	}
}

// unsent reports whether err is a failure of Next that sent no request,
// and returns what it wraps.
func unsent(err error) (error, bool) {
	var ae *AttemptsError
	if errors.As(err, &ae) && ae.Attempts == 0 {
		return ae.Err, true
	}
	return nil, false
}

// delay returns the wait after the given failed attempt: the server's
// Retry-After if any (Chat gives up on one above MaxDelay), else
// BaseDelay·2^(attempt-1) with full jitter in its upper half, capped at
// MaxDelay.
func (r *Retry) delay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	d := r.BaseDelay << (attempt - 1)
	if d <= 0 || (r.MaxDelay > 0 && d > r.MaxDelay) {
		d = r.MaxDelay
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
