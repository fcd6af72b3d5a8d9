package llm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"emer/internal/llm"
	"emer/internal/llm/llmtest"
)

// TestOpenAIRedirect checks that a redirect answer to a chat call is not
// followed (as a GET that the server refuses, or as a POST to a place the
// base URL does not name) but reported: status, from, to, and the base URL
// to use.
func TestOpenAIRedirect(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		location string // "" sends none
		to       string // the resolved Location in the error; "{srv}" is the server's URL
		suggest  string // the base URL suggested; "" when none can be
	}{
		{"302 to another path", 302, "/api/v1/chat/completions", "{srv}/api/v1/chat/completions", "{srv}/api/v1"},
		{"301 to https elsewhere", 301, "HTTPS://Judge.Example.com:443/v1/chat/completions", "https://Judge.Example.com:443/v1/chat/completions", "https://judge.example.com/v1"},
		{"307 with a trailing slash", 307, "/v2/chat/completions/", "{srv}/v2/chat/completions/", "{srv}/v2"},
		{"308 with a query", 308, "/openai/chat/completions?api-version=1", "{srv}/openai/chat/completions?api-version=1", "{srv}/openai"},
		{"303 to a login page", 303, "/login", "{srv}/login", ""},
		{"302 with no Location", 302, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var posts, others atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					others.Add(1)
					http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
					return
				}
				if r.URL.Path != "/v1/chat/completions" {
					others.Add(1)
					_, _ = w.Write([]byte(llmtest.Completion("followed", 1)))
					return
				}
				posts.Add(1)
				if tt.location != "" {
					w.Header().Set("Location", tt.location)
				}
				w.WriteHeader(tt.code)
			}))
			defer srv.Close()
			fill := func(s string) string { return strings.ReplaceAll(s, "{srv}", srv.URL) }

			r := llm.NewRetry(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.URL + "/v1"}), 4, 0, 0)
			_, err := r.Chat(context.Background(), req("x"))
			var re *llm.RedirectError
			if !errors.As(err, &re) || !errors.Is(err, llm.ErrRedirected) {
				t.Fatalf("err = %v, want a redirect error", err)
			}
			if posts.Load() != 1 || others.Load() != 0 || llm.Retryable(err) {
				t.Errorf("%d posts to the base URL, %d requests elsewhere, retryable %v; want one post, the redirect not followed nor retried", posts.Load(), others.Load(), llm.Retryable(err))
			}
			from := srv.URL + "/v1/chat/completions"
			if re.Code != tt.code || re.From != from || re.To != fill(tt.to) {
				t.Errorf("redirect %d from %q to %q; want %d from %q to %q", re.Code, re.From, re.To, tt.code, from, fill(tt.to))
			}
			msg := err.Error()
			for _, want := range []string{http.StatusText(tt.code), from, fill(tt.to), "not followed"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if tt.suggest != "" && !strings.Contains(msg, "use the base URL "+fill(tt.suggest)) {
				t.Errorf("error %q does not suggest the base URL %s", msg, fill(tt.suggest))
			}
		})
	}
}
