package llm_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm"
)

// transcriptionCall is one request the fake transcription server received.
type transcriptionCall struct {
	Path, ContentType, Auth string
	Fields                  map[string]string // the form's value fields
	Filename, FileType      string
	File                    []byte
}

// transcriptionServer is a fake /v1/audio/transcriptions endpoint: it
// records each multipart request and answers with reply.
type transcriptionServer struct {
	*httptest.Server
	reply func(w http.ResponseWriter, r *http.Request)

	mu    sync.Mutex
	calls []transcriptionCall
}

func newTranscriptionServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *transcriptionServer {
	t.Helper()
	s := &transcriptionServer{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := transcriptionCall{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Auth: r.Header.Get("Authorization"), Fields: map[string]string{}}
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			for k, v := range r.MultipartForm.Value {
				c.Fields[k] = strings.Join(v, "|")
			}
			if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
				c.Filename, c.FileType = fh[0].Filename, fh[0].Header.Get("Content-Type")
				if f, err := fh[0].Open(); err == nil {
					c.File, _ = io.ReadAll(f)
					f.Close()
				}
			}
		}
		s.mu.Lock()
		s.calls = append(s.calls, c)
		s.mu.Unlock()
		s.reply(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *transcriptionServer) Calls() []transcriptionCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]transcriptionCall(nil), s.calls...)
}

func jsonReply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var transcriptionAudio = []byte("RIFF\x24\x00\x00\x00WAVEfmt fake audio bytes")

func TestTranscribeMultipart(t *testing.T) {
	tests := []struct {
		name   string
		req    llm.TranscriptionRequest
		fields map[string]string
		file   string
		ftype  string
	}{
		{"with language", llm.TranscriptionRequest{Model: "whisper-1", Language: "zh", Audio: transcriptionAudio},
			map[string]string{"model": "whisper-1", "language": "zh", "response_format": "json"}, "audio.wav", "audio/wav"},
		{"language detected by the server", llm.TranscriptionRequest{Model: "large-v3", Audio: transcriptionAudio, Filename: "clip.mp3"},
			map[string]string{"model": "large-v3", "response_format": "json"}, "clip.mp3", "audio/mpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTranscriptionServer(t, jsonReply(200, `{"text":"你好，很高兴见到你。"}`))
			c := llm.NewOpenAITranscriber(llm.TranscriptionConfig{BaseURL: srv.URL + "/v1/", APIKey: "sk-test"})
			got, err := c.Transcribe(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != "你好，很高兴见到你。" || string(got.Raw) != `{"text":"你好，很高兴见到你。"}` || got.Cached {
				t.Errorf("transcript = %+v", got)
			}
			calls := srv.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d requests, want 1", len(calls))
			}
			c0 := calls[0]
			if c0.Path != "/v1/audio/transcriptions" || !strings.HasPrefix(c0.ContentType, "multipart/form-data; boundary=") || c0.Auth != "Bearer sk-test" {
				t.Errorf("request = %+v", c0)
			}
			if diff := cmp.Diff(tt.fields, c0.Fields); diff != "" {
				t.Errorf("form fields (-want +got):\n%s", diff)
			}
			if c0.Filename != tt.file || c0.FileType != tt.ftype || string(c0.File) != string(transcriptionAudio) {
				t.Errorf("file part %q %q %q", c0.Filename, c0.FileType, c0.File)
			}
		})
	}
}

func TestTranscribeNoAudio(t *testing.T) {
	srv := newTranscriptionServer(t, jsonReply(200, `{"text":"x"}`))
	c := llm.NewOpenAITranscriber(llm.TranscriptionConfig{BaseURL: srv.URL + "/v1"})
	if _, err := c.Transcribe(context.Background(), llm.TranscriptionRequest{Model: "m"}); err == nil {
		t.Fatal("empty audio accepted")
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d requests for nothing to transcribe", n)
	}
}

func TestTranscribeFaults(t *testing.T) {
	big := `{"text":"` + strings.Repeat("a", llm.MaxTranscriptBytes) + `"}`
	tests := []struct {
		name    string
		reply   func(http.ResponseWriter, *http.Request)
		want    error
		raw     string // a prefix of RawOf(err)
		retried bool
	}{
		{"server error", jsonReply(500, `{"error":{"message":"model crashed"}}`), llm.ErrServer, `{"error":{"message":"model crashed"}}`, true},
		{"rate limited", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(429)
		}, llm.ErrRateLimited, "", true},
		{"rejected", jsonReply(400, `{"error":{"message":"unsupported format"}}`), llm.ErrRejected, `{"error":{"message":"unsupported format"}}`, false},
		{"not json", jsonReply(200, `<html>proxy</html>`), llm.ErrMalformed, `<html>proxy</html>`, true},
		{"no text field", jsonReply(200, `{"segments":[]}`), llm.ErrMalformed, `{"segments":[]}`, true},
		{"oversized body", jsonReply(200, big), llm.ErrReplyTooLarge, `{"text":"aaaa`, false},
		{"oversized error body", jsonReply(502, big), llm.ErrReplyTooLarge, `{"text":"aaaa`, false},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/v2/audio/transcriptions", http.StatusFound)
		}, llm.ErrRedirected, "", false},
		{"dropped connection", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, llm.ErrConnection, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTranscriptionServer(t, tt.reply)
			c := llm.NewOpenAITranscriber(llm.TranscriptionConfig{BaseURL: srv.URL + "/v1"})
			got, err := c.Transcribe(context.Background(), llm.TranscriptionRequest{Model: "m", Audio: transcriptionAudio})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if got.Text != "" || got.Raw != nil {
				t.Errorf("a failed call returned %+v", got)
			}
			if raw := string(llm.RawOf(err)); !strings.HasPrefix(raw, tt.raw) || len(raw) > 1<<20 {
				t.Errorf("raw text kept = %.80q (%d bytes), want it to start with %q", raw, len(raw), tt.raw)
			}
			if llm.Retryable(err) != tt.retried {
				t.Errorf("Retryable(%v) = %v", err, !tt.retried)
			}
		})
	}
}

func TestTranscribeRetryAfterAndTimeout(t *testing.T) {
	srv := newTranscriptionServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(429)
	})
	c := llm.NewOpenAITranscriber(llm.TranscriptionConfig{BaseURL: srv.URL + "/v1"})
	_, err := c.Transcribe(context.Background(), llm.TranscriptionRequest{Model: "m", Audio: transcriptionAudio})
	if d := llm.RetryAfter(err); d != 3*time.Second {
		t.Errorf("RetryAfter = %v, want 3s", d)
	}

	hang := newTranscriptionServer(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c = llm.NewOpenAITranscriber(llm.TranscriptionConfig{BaseURL: hang.URL + "/v1", Timeout: 50 * time.Millisecond})
	if _, err := c.Transcribe(context.Background(), llm.TranscriptionRequest{Model: "m", Audio: transcriptionAudio}); !errors.Is(err, llm.ErrTimeout) || !llm.Retryable(err) {
		t.Errorf("error = %v, want a retryable timeout", err)
	}
}

// transcriptStore is an in-memory CacheStore.
type transcriptStore struct {
	mu   sync.Mutex
	m    map[string]llm.Reply
	puts int
}

func (s *transcriptStore) GetReply(_ context.Context, k string) (llm.Reply, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[k]
	return r, ok, nil
}

func (s *transcriptStore) PutReply(_ context.Context, k string, r llm.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]llm.Reply{}
	}
	s.m[k] = r
	s.puts++
	return nil
}

func TestTranscriptCache(t *testing.T) {
	var fail atomic.Bool
	srv := newTranscriptionServer(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			jsonReply(500, `{"error":"down"}`)(w, r)
			return
		}
		jsonReply(200, `{"text":"hello"}`)(w, r)
	})
	base := srv.URL + "/v1"
	store := &transcriptStore{}
	c := llm.NewTranscriptCache(llm.NewOpenAITranscriber(llm.TranscriptionConfig{BaseURL: base}), store, base)
	ctx := context.Background()
	req := llm.TranscriptionRequest{Model: "whisper-1", Language: "en", Audio: transcriptionAudio}

	first, err := c.Transcribe(ctx, req)
	if err != nil || first.Cached || first.Text != "hello" {
		t.Fatalf("first = %+v, %v", first, err)
	}
	again, err := c.Transcribe(ctx, req)
	if err != nil || !again.Cached || again.Text != "hello" || string(again.Raw) != `{"text":"hello"}` {
		t.Fatalf("again = %+v, %v", again, err)
	}
	renamed := req
	renamed.Filename = "other.wav" // the name does not change what is said
	if r, _ := c.Transcribe(ctx, renamed); !r.Cached {
		t.Error("the file name is part of the key")
	}
	if n := len(srv.Calls()); n != 1 {
		t.Fatalf("%d requests, want 1 (the rest from the cache)", n)
	}

	// Another language, model or recording is another transcript; a
	// failure is not stored.
	fail.Store(true)
	for name, r := range map[string]llm.TranscriptionRequest{
		"language": {Model: "whisper-1", Language: "zh", Audio: transcriptionAudio},
		"model":    {Model: "large-v3", Language: "en", Audio: transcriptionAudio},
		"audio":    {Model: "whisper-1", Language: "en", Audio: append([]byte("x"), transcriptionAudio...)},
	} {
		if _, err := c.Transcribe(ctx, r); !errors.Is(err, llm.ErrServer) {
			t.Errorf("%s: error = %v, want the server's failure", name, err)
		}
	}
	if n, puts := len(srv.Calls()), store.puts; n != 4 || puts != 1 {
		t.Errorf("%d requests and %d stored, want 4 and 1", n, puts)
	}
}

func TestTranscriptKey(t *testing.T) {
	req := llm.TranscriptionRequest{Model: "whisper-1", Language: "en", Audio: transcriptionAudio}
	k := llm.TranscriptKey("http://h:8080/v1", req)
	if len(k) != 64 {
		t.Fatalf("key %q", k)
	}
	if llm.TranscriptKey("HTTP://H:8080/v1/", req) != k {
		t.Error("the same server written differently gives another key")
	}
	same := req
	same.Filename = "x.wav"
	if llm.TranscriptKey("http://h:8080/v1", same) != k {
		t.Error("the file name changes the key")
	}
	for name, other := range map[string]string{
		"base URL": llm.TranscriptKey("http://h:8081/v1", req),
		"model":    llm.TranscriptKey("http://h:8080/v1", llm.TranscriptionRequest{Model: "whisper-2", Language: "en", Audio: transcriptionAudio}),
		"language": llm.TranscriptKey("http://h:8080/v1", llm.TranscriptionRequest{Model: "whisper-1", Audio: transcriptionAudio}),
		"audio":    llm.TranscriptKey("http://h:8080/v1", llm.TranscriptionRequest{Model: "whisper-1", Language: "en", Audio: []byte("other")}),
		"chat key": llm.Key("http://h:8080/v1", llm.Request{Model: "whisper-1"}),
	} {
		if other == k {
			t.Errorf("%s does not change the key", name)
		}
	}
}

// TestRetryTranscriber: a Retry sends a failed transcription again as it
// does a chat call: after a server error and a dropped connection the
// third request is answered; a rejected request is sent once; attempts
// run out.
func TestRetryTranscriber(t *testing.T) {
	for _, tt := range []struct {
		name     string
		fail     []func(http.ResponseWriter, *http.Request) // the first replies; then a transcript
		attempts int
		want     error // nil: the transcript
		requests int64
	}{
		{"transient faults", []func(http.ResponseWriter, *http.Request){jsonReply(503, `{}`), func(w http.ResponseWriter, _ *http.Request) {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		}}, 4, nil, 3},
		{"rejected", []func(http.ResponseWriter, *http.Request){jsonReply(400, `{"error":{"message":"bad audio"}}`)}, 4, llm.ErrRejected, 1},
		{"attempts run out", []func(http.ResponseWriter, *http.Request){jsonReply(500, `{}`), jsonReply(500, `{}`)}, 2, llm.ErrServer, 2},
	} {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			var n atomic.Int64
			srv := newTranscriptionServer(t, func(w http.ResponseWriter, r *http.Request) {
				i := n.Add(1) - 1
				if int(i) < len(tt.fail) {
					tt.fail[i](w, r)
					return
				}
				jsonReply(200, `{"text":"hello there"}`)(w, r)
			})
			r := llm.NewRetry(nil, tt.attempts, time.Millisecond, time.Millisecond)
			llm.SetSleep(r, func(context.Context, time.Duration) error { return nil })
			c := r.Transcriber(llm.NewOpenAITranscriber(llm.TranscriptionConfig{BaseURL: srv.URL + "/v1"}))
			got, err := c.Transcribe(context.Background(), llm.TranscriptionRequest{Model: "m", Audio: transcriptionAudio})
			switch {
			case tt.want == nil && (err != nil || got.Text != "hello there"):
				t.Errorf("transcript %q, %v; want hello there", got.Text, err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if tt.want != nil && llm.Attempts(err) != int(tt.requests) {
				t.Errorf("attempts %d, want %d", llm.Attempts(err), tt.requests)
			}
			if got := n.Load(); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
		})
	}
}
