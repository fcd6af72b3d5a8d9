// Package llmtest provides a fake OpenAI-compatible chat-completions server
// for tests: replies come from a scripted queue of steps (including faults)
// and then from a function of the request.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Call is a request as the fake server received it.
type Call struct {
	Model       string
	Temperature *float64
	MaxTokens   *int
	Seed        *int64
	Messages    []Message
	Body        []byte // the request body as received
	Auth        string // the Authorization header
}

// Message is one message of a Call; Content is the text of its parts
// joined, Parts the parts' raw JSON.
type Message struct {
	Role    string
	Content string
	Parts   []map[string]any
}

// Prompt returns the text of the last user message.
func (c *Call) Prompt() string {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Role == "user" {
			return c.Messages[i].Content
		}
	}
	return ""
}

// Step is one scripted answer.
type Step struct {
	Delay  time.Duration     // wait before answering (the request's context may end it)
	Status int               // HTTP status; 0 means 200
	Header map[string]string // extra response headers
	Body   string            // raw body; when empty, a completion with Text is sent
	Text   string            // the reply text of a completion
	Tokens int               // completion tokens reported (prompt tokens are 10)
	Hang   bool              // never answer; wait for the client to give up
	Drop   bool              // close the connection without answering

	// Pad, when above 0, adds Pad bytes to the body, written as they go
	// so that a reply of gigabytes costs the server no memory: spaces
	// inside the completion's text, or after Body when there is one. The
	// Content-Length announces the whole size unless Chunked is set.
	Pad     int64
	Chunked bool // with Pad: send no Content-Length
}

// Server is a fake chat-completions server. Its fields may be set before
// the first request.
type Server struct {
	*httptest.Server

	// Reply answers a call once the script is used up. Nil answers "ok".
	Reply func(c *Call) Step

	mu     sync.Mutex
	script []Step
	calls  []*Call

	sent atomic.Int64 // body bytes written
}

// NewServer starts a fake server; its URL + "/v1" is the base URL to use.
// Close it when done.
func NewServer(reply func(c *Call) Step, script ...Step) *Server {
	s := &Server{Reply: reply, script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL returns the URL clients use as base URL.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Push appends steps to the script.
func (s *Server) Push(steps ...Step) {
	s.mu.Lock()
	s.script = append(s.script, steps...)
	s.mu.Unlock()
}

// Calls returns the requests received so far.
func (s *Server) Calls() []*Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Call(nil), s.calls...)
}

// Sent returns the number of body bytes the server has written so far, in
// all its replies; a client that stops reading a padded reply stops it.
func (s *Server) Sent() int64 { return s.sent.Load() }

// Count returns the number of requests received so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

type wireRequest struct {
	Model       string   `json:"model"`
	Temperature *float64 `json:"temperature"`
	MaxTokens   *int     `json:"max_tokens"`
	Seed        *int64   `json:"seed"`
	Messages    []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var wr wireRequest
	if err := json.Unmarshal(body, &wr); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	c := &Call{Model: wr.Model, Temperature: wr.Temperature, MaxTokens: wr.MaxTokens, Seed: wr.Seed, Body: body, Auth: r.Header.Get("Authorization")}
	for _, m := range wr.Messages {
		msg := Message{Role: m.Role}
		var str string
		if json.Unmarshal(m.Content, &str) == nil {
			msg.Content = str
		} else {
			_ = json.Unmarshal(m.Content, &msg.Parts)
			var sb strings.Builder
			for _, p := range msg.Parts {
				if t, ok := p["text"].(string); ok {
					sb.WriteString(t)
				}
			}
			msg.Content = sb.String()
		}
		c.Messages = append(c.Messages, msg)
	}

	s.mu.Lock()
	s.calls = append(s.calls, c)
	var step Step
	if len(s.script) > 0 {
		step, s.script = s.script[0], s.script[1:]
	} else if s.Reply != nil {
		s.mu.Unlock()
		step = s.Reply(c)
		s.mu.Lock()
	} else {
		step = Step{Text: "ok"}
	}
	s.mu.Unlock()

	if step.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if step.Hang {
		<-r.Context().Done()
		return
	}
	if step.Delay > 0 {
		select {
		case <-time.After(step.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range step.Header {
		w.Header().Set(k, v)
	}
	status := step.Status
	if status == 0 {
		status = http.StatusOK
	}
	head, tail := step.Body, ""
	if head == "" {
		head, tail = completionParts(step.Text, step.Tokens)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if step.Pad > 0 && !step.Chunked {
		w.Header().Set("Content-Length", strconv.FormatInt(int64(len(head))+step.Pad+int64(len(tail)), 10))
	}
	w.WriteHeader(status)
	if !s.write(w, head) {
		return
	}
	if step.Pad > 0 {
		chunk := strings.Repeat(" ", 64<<10)
		for left := step.Pad; left > 0; {
			n := min(left, int64(len(chunk)))
			if !s.write(w, chunk[:n]) {
				return // the client has gone
			}
			left -= n
		}
	}
	s.write(w, tail)
}

// write writes p to w, counting the bytes written, and reports whether
// all of it went.
func (s *Server) write(w io.Writer, p string) bool {
	n, err := io.WriteString(w, p)
	s.sent.Add(int64(n))
	return err == nil
}

// Completion returns the JSON body of a chat completion replying text.
func Completion(text string, completionTokens int) string {
	head, tail := completionParts(text, completionTokens)
	return head + tail
}

// completionParts splits a completion's body where its text ends, so that
// padding can go inside the text.
func completionParts(text string, completionTokens int) (head, tail string) {
	b, _ := json.Marshal(text)
	head = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"fake",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":` + string(b[:len(b)-1])
	tail = fmt.Sprintf(`"},"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":10,"completion_tokens":%d,"total_tokens":%d}}`, completionTokens, 10+completionTokens)
	return head, tail
}
