package llm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// MaxTranscriptBytes caps the body read of a transcription answer, success
// or error: a transcript of an hour of speech is well under 1 MiB.
const MaxTranscriptBytes = 8 << 20

// Transcriber turns speech into text. Implementations are safe for
// concurrent use. A returned error leaves the Transcript zero; the raw text
// of a failed answer travels inside the error (see RawOf).
type Transcriber interface {
	Transcribe(ctx context.Context, req TranscriptionRequest) (Transcript, error)
}

// TranscriptionRequest is one speech-to-text call.
type TranscriptionRequest struct {
	Model    string // e.g. whisper-1
	Language string // ISO-639-1 code of the speech ("en", "zh"); empty lets the server detect it
	Audio    []byte // the audio file as stored (16 kHz WAV from package media, or MP3, FLAC, ...)
	Filename string // the name the file part is sent under; "audio.wav" when empty
}

// Transcript is the text of a transcribed recording.
type Transcript struct {
	Text string `json:"text"`
	Raw  []byte `json:"raw,omitempty"` // the response body as received

	// Metadata set by the client and decorators, not by the server.
	Cached  bool          `json:"-"`
	Latency time.Duration `json:"-"`
}

// TranscriptionConfig configures an OpenAITranscriber.
type TranscriptionConfig struct {
	BaseURL    string        // e.g. http://127.0.0.1:8080/v1; the client posts to BaseURL + /audio/transcriptions
	APIKey     string        // sent as a bearer token when not empty
	Timeout    time.Duration // per request; 0 means no limit besides the context's
	HTTPClient *http.Client  // nil: a client of its own; a given one is copied, with redirects not followed
}

// OpenAITranscriber is a Transcriber for the OpenAI-compatible
// /v1/audio/transcriptions endpoint (whisper.cpp's server,
// faster-whisper servers, vLLM, hosted APIs). It posts the audio as
// multipart/form-data with the model, the language when given and
// response_format json, sends each call once and never follows a redirect.
type OpenAITranscriber struct {
	url     string
	apiKey  string
	timeout time.Duration
	hc      http.Client
}

var _ Transcriber = (*OpenAITranscriber)(nil)

// NewOpenAITranscriber returns a client for the server at cfg.BaseURL,
// normalised by NormalizeBaseURL. It reads no environment variables.
func NewOpenAITranscriber(cfg TranscriptionConfig) *OpenAITranscriber {
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &OpenAITranscriber{
		url:     NormalizeBaseURL(cfg.BaseURL) + "/audio/transcriptions",
		apiKey:  cfg.APIKey,
		timeout: cfg.Timeout,
		hc:      hc,
	}
}

// Transcribe posts req and returns the transcript. Failures are typed as
// for Chat: *StatusError for an HTTP error status, *RedirectError,
// *ReplyTooLargeError for a body over MaxTranscriptBytes, *ReplyError
// (ErrMalformed) for a body that is not a transcript, ErrTimeout and
// ErrConnection for transport failures.
func (c *OpenAITranscriber) Transcribe(ctx context.Context, req TranscriptionRequest) (Transcript, error) {
	if len(req.Audio) == 0 {
		return Transcript{}, errors.New("transcription: no audio to send")
	}
	body, ctype, err := transcriptionForm(req)
	if err != nil {
		return Transcript{}, err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, ErrTimeout)
		defer cancel()
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Transcript{}, fmt.Errorf("transcription: %w", err)
	}
	hreq.Header.Set("Content-Type", ctype)
	hreq.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}

	start := time.Now()
	res, err := c.hc.Do(hreq)
	if err != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrTimeout) {
			return Transcript{}, fmt.Errorf("%w after %v", ErrTimeout, c.timeout)
		}
		return Transcript{}, classifyTransport(err)
	}
	b, tooLarge, rerr := readCapped(res, MaxTranscriptBytes)
	_ = res.Body.Close()
	latency := time.Since(start)
	switch {
	case tooLarge != nil:
		return Transcript{}, tooLarge
	case rerr != nil:
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrTimeout) {
			return Transcript{}, fmt.Errorf("%w after %v", ErrTimeout, c.timeout)
		}
		return Transcript{}, classifyTransport(rerr)
	case res.StatusCode >= 300 && res.StatusCode < 400:
		e := &RedirectError{Code: res.StatusCode, From: c.url}
		if loc, err := res.Location(); err == nil {
			e.To = loc.String()
		}
		return Transcript{}, e
	case res.StatusCode >= 400:
		return Transcript{}, &StatusError{Code: res.StatusCode, Body: b, RetryAfter: parseRetryAfter(res.Header.Get("Retry-After"), time.Now())}
	}
	t, err := parseTranscript(b)
	t.Latency = latency
	return t, err
}

// transcriptionForm writes the multipart body of req.
func transcriptionForm(req TranscriptionRequest) ([]byte, string, error) {
	name := req.Filename
	if name == "" {
		name = "audio.wav"
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", audioType(name))
	fw, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := fw.Write(req.Audio); err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"model", req.Model}, {"response_format", "json"}}
	if req.Language != "" {
		fields = append(fields, [2]string{"language", req.Language})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// audioType returns the MIME type of an audio file by its extension.
func audioType(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "application/octet-stream"
	}
	switch strings.ToLower(name[i:]) {
	case ".wav":
		return "audio/wav"
	case ".mp3":
		return "audio/mpeg"
	case ".flac":
		return "audio/flac"
	case ".ogg", ".oga":
		return "audio/ogg"
	case ".m4a", ".mp4":
		return "audio/mp4"
	case ".webm":
		return "audio/webm"
	}
	return "application/octet-stream"
}

// parseTranscript reads a response_format json answer: {"text": "..."}.
func parseTranscript(raw []byte) (Transcript, error) {
	var v struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.Text == nil {
		return Transcript{}, &ReplyError{Err: ErrMalformed, Raw: raw}
	}
	return Transcript{Text: *v.Text, Raw: raw}, nil
}

// TranscriptKey returns the cache key of req sent to baseURL: the SHA-256
// of a canonical JSON encoding of the base URL (as NormalizeBaseURL writes
// it), the model, the language and the SHA-256 of the audio. A kind field
// keeps these keys apart from Key's.
func TranscriptKey(baseURL string, req TranscriptionRequest) string {
	audio := sha256.Sum256(req.Audio)
	b, err := json.Marshal(struct {
		V        int    `json:"v"`
		Kind     string `json:"kind"`
		BaseURL  string `json:"base_url"`
		Model    string `json:"model"`
		Language string `json:"language"`
		Audio    string `json:"audio_sha256"`
	}{1, "transcription", NormalizeBaseURL(baseURL), req.Model, req.Language, hex.EncodeToString(audio[:])})
	if err != nil {
		panic(err) // strings always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TranscriptCache answers a transcription from its store when it can and
// otherwise calls Next, keeping the transcripts that arrive. Transcripts
// are stored as Replies (Text and Raw) in the same CacheStore as chat
// replies, under TranscriptKey. Identical calls in flight at the same time
// are each sent.
type TranscriptCache struct {
	next     Transcriber
	store    CacheStore
	baseURL  string
	readOnly bool
}

var _ Transcriber = (*TranscriptCache)(nil)

// NewTranscriptCache returns a TranscriptCache over store for requests
// sent to baseURL.
func NewTranscriptCache(next Transcriber, store CacheStore, baseURL string) *TranscriptCache {
	return &TranscriptCache{next: next, store: store, baseURL: NormalizeBaseURL(baseURL)}
}

// ReadOnly makes the cache answer from its store without adding to it.
func (c *TranscriptCache) ReadOnly() *TranscriptCache { c.readOnly = true; return c }

// Transcribe returns the stored transcript of req, with Cached set, or
// calls Next and stores what it returns.
func (c *TranscriptCache) Transcribe(ctx context.Context, req TranscriptionRequest) (Transcript, error) {
	key := TranscriptKey(c.baseURL, req)
	if r, ok, err := c.store.GetReply(ctx, key); err != nil {
		return Transcript{}, fmt.Errorf("cache: %w", err)
	} else if ok {
		return Transcript{Text: r.Text, Raw: r.Raw, Cached: true}, nil
	}
	t, err := c.next.Transcribe(ctx, req)
	if err != nil {
		return t, err
	}
	if !c.readOnly {
		// A transcript that arrived is kept even if the caller is leaving.
		if perr := c.store.PutReply(context.WithoutCancel(ctx), key, Reply{Text: t.Text, Raw: t.Raw}); perr != nil {
			return Transcript{}, fmt.Errorf("cache: %w", perr)
		}
	}
	return t, nil
}
