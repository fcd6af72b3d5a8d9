package llm

import (
	"context"
	"time"
)

// SetSleep replaces the wait between attempts.
func SetSleep(r *Retry, f func(context.Context, time.Duration) error) { r.sleep = f }
