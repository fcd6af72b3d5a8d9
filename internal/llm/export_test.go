package llm

import (
	"context"
	"time"
)

// SetSleep replaces the wait between attempts.
func SetSleep(r *Retry, f func(context.Context, time.Duration) error) { r.sleep = f }

// SetClock replaces the clock and the wait of a Limit.
func SetClock(l *Limit, now func() time.Time, sleep func(context.Context, time.Duration) error) {
	l.now, l.sleep = now, sleep
}

// StackRetry returns the Retry of a Stack, for SetSleep.
func StackRetry(s *Stack) *Retry { return s.retry }
