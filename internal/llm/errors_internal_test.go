package llm

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]time.Duration{
		"":    0,
		"3":   3 * time.Second,
		"0":   0,
		"-5":  0,
		"1.5": 1500 * time.Millisecond,
		now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		"soon": 0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	r := &Retry{BaseDelay: time.Second, MaxDelay: 5 * time.Second}
	if d := r.delay(1, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After of 3s waited %v", d)
	}
	for attempt := 1; attempt <= 6; attempt++ {
		d := r.delay(attempt, 0)
		hi := min(time.Second<<(attempt-1), 5*time.Second)
		if d < hi/2 || d > hi {
			t.Errorf("attempt %d: delay %v outside [%v, %v]", attempt, d, hi/2, hi)
		}
	}
}
