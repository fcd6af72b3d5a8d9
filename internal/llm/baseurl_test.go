package llm_test

import (
	"context"
	"testing"

	"emer/internal/llm"
	"emer/internal/llm/llmtest"
)

func TestNormalizeBaseURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"canonical already", "http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"},
		{"trailing slash", "http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"},
		{"trailing slashes", "http://127.0.0.1:8000/v1///", "http://127.0.0.1:8000/v1"},
		{"root with slash", "http://localhost:11434/", "http://localhost:11434"},
		{"upper-case scheme and host", "HTTP://LocalHost:8080/v1", "http://localhost:8080/v1"},
		{"path case kept", "http://x/API/V1/", "http://x/API/V1"},
		{"default http port", "http://x:80/v1", "http://x/v1"},
		{"default https port", "https://api.example.com:443/v1/", "https://api.example.com/v1"},
		{"other port kept", "https://x:8443/v1", "https://x:8443/v1"},
		{"http port on https kept", "https://x:80/v1", "https://x:80/v1"},
		{"IPv6", "http://[::1]:8000/v1/", "http://[::1]:8000/v1"},
		{"IPv6 default port", "http://[::1]:80/v1", "http://[::1]/v1"},
		{"spaces", "  http://x/v1/ \n", "http://x/v1"},
		{"query kept", "http://x/v1/?api-version=2", "http://x/v1?api-version=2"},
		{"empty query dropped", "http://x/v1?", "http://x/v1"},
		{"user info kept", "http://User:Pw@X/v1/", "http://User:Pw@x/v1"},
		{"empty", "", ""},
		{"no scheme", "127.0.0.1:8000/v1/", "127.0.0.1:8000/v1"},
		{"not a URL", "::nonsense//", "::nonsense"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := llm.NormalizeBaseURL(tt.in)
			if got != tt.want {
				t.Errorf("NormalizeBaseURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := llm.NormalizeBaseURL(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// TestKeyNormalisesBaseURL checks that one server is one cache key however
// its base URL is written, and that the key of a canonical URL is the one
// earlier versions stored.
func TestKeyNormalisesBaseURL(t *testing.T) {
	r := req("x")
	const pinned = "435eea309217fdd4fed45e71847fa72545c831c83a9d07a152424e8ee4a34717"
	if got := llm.Key("http://127.0.0.1:8000/v1", r); got != pinned {
		t.Errorf("key of a canonical base URL changed: %s, want %s", got, pinned)
	}
	for _, u := range []string{"http://127.0.0.1:8000/v1/", "HTTP://127.0.0.1:8000/v1//", " http://127.0.0.1:8000/v1"} {
		t.Run(u, func(t *testing.T) {
			if got := llm.Key(u, r); got != pinned {
				t.Errorf("Key(%q) = %s, want the key of http://127.0.0.1:8000/v1", u, got)
			}
		})
	}
	if llm.Key("http://127.0.0.1:8000/v2", r) == pinned {
		t.Error("another path, the same key")
	}
}

// TestCacheAndDryRunNormaliseBaseURL checks that replies cached for
// ".../v1" answer a run pointed at ".../v1/" and the other way round.
func TestCacheAndDryRunNormaliseBaseURL(t *testing.T) {
	ctx := context.Background()
	store := &memStore{m: map[string]llm.Reply{}}
	inner := &counting{}
	if _, err := llm.NewCache(inner, store, "http://judge:8000/v1").Chat(ctx, req("a")); err != nil {
		t.Fatal(err)
	}
	r, err := llm.NewCache(inner, store, "http://judge:8000/v1/").Chat(ctx, req("a"))
	if err != nil || !r.Cached || inner.calls.Load() != 1 {
		t.Errorf("cache for .../v1/: reply %+v, err %v, %d calls sent; want the reply cached for .../v1", r, err, inner.calls.Load())
	}
	d := llm.NewDryRun("HTTP://Judge:8000/v1/", store)
	if _, err := d.Chat(ctx, req("a")); err != nil {
		t.Fatal(err)
	}
	if calls, cached := d.Counts(); calls != 1 || cached != 1 {
		t.Errorf("dry run for HTTP://Judge:8000/v1/: %d calls, %d cached; want 1 and 1", calls, cached)
	}
}

func TestOpenAITrailingSlash(t *testing.T) {
	srv := llmtest.NewServer(nil, llmtest.Step{Text: "7"})
	defer srv.Close()
	r, err := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL() + "//"}).Chat(context.Background(), req("x"))
	if err != nil || r.Text != "7" || srv.Count() != 1 {
		t.Fatalf("reply %+v, err %v, %d requests; want 7 from one request to /v1/chat/completions", r, err, srv.Count())
	}
}
