package llm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Client makes one chat call. Implementations are safe for concurrent use.
// A returned error leaves the Reply zero except for the metadata fields
// (Attempts); the raw text of a failed reply travels inside the error (see
// RawOf).
type Client interface {
	Chat(ctx context.Context, req Request) (Reply, error)
}

// Role is the author of a message.
type Role string

// The roles of the chat-completions API.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// PartKind says what a Part holds.
type PartKind string

// The kinds of content a message can carry.
const (
	KindText  PartKind = "text"
	KindImage PartKind = "image" // JPEG or PNG, sent as a data URL
	KindAudio PartKind = "audio" // WAV, sent as input_audio
)

// Part is one piece of a message's content.
type Part struct {
	Kind PartKind `json:"kind"`
	Text string   `json:"text,omitempty"`
	MIME string   `json:"mime,omitempty"` // image/jpeg, image/png or audio/wav
	Data []byte   `json:"data,omitempty"`
}

// Text returns a text part.
func Text(s string) Part { return Part{Kind: KindText, Text: s} }

// Image returns an image part; mime is image/jpeg or image/png.
func Image(mime string, data []byte) Part { return Part{Kind: KindImage, MIME: mime, Data: data} }

// Audio returns a WAV audio part.
func Audio(wav []byte) Part { return Part{Kind: KindAudio, MIME: "audio/wav", Data: wav} }

// MediaFile reads an image (.jpg, .jpeg, .png) or audio (.wav) file into a
// part chosen by its extension.
func MediaFile(path string) (Part, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Part{}, err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg":
		return Image("image/jpeg", data), nil
	case ".png":
		return Image("image/png", data), nil
	case ".wav":
		return Audio(data), nil
	}
	return Part{}, fmt.Errorf("%s: unsupported media type (want .jpg, .jpeg, .png or .wav)", path)
}

// Message is one turn of a conversation.
type Message struct {
	Role  Role   `json:"role"`
	Parts []Part `json:"parts"`
}

// User returns a user message made of parts.
func User(parts ...Part) Message { return Message{Role: RoleUser, Parts: parts} }

// System returns a system message with text s.
func System(s string) Message { return Message{Role: RoleSystem, Parts: []Part{Text(s)}} }

// Request is one chat call.
type Request struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature float64   `json:"temperature"`          // always sent; 0 is greedy
	MaxTokens   int       `json:"max_tokens,omitempty"` // 0: server default
	Seed        *int64    `json:"seed,omitempty"`
	// Salt tells apart requests that are otherwise identical in the cache
	// (a protocol version, a repeat index). It is never sent.
	Salt string `json:"salt,omitempty"`
}

// Usage counts tokens as the server reports them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Reply is a model's answer to a Request.
type Reply struct {
	Text         string `json:"text"`
	FinishReason string `json:"finish_reason"`
	Refusal      string `json:"refusal,omitempty"` // set when the server marks the reply as a refusal
	Usage        Usage  `json:"usage"`
	Raw          []byte `json:"raw,omitempty"` // the response body as received

	// Metadata set by decorators, not by the server.
	Attempts int           `json:"-"` // requests sent for this reply (0 when cached)
	Cached   bool          `json:"-"`
	Latency  time.Duration `json:"-"`
}
