package infer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"emer/internal/config"
	"emer/internal/cues"
	"emer/internal/explain"
	"emer/internal/face"
	"emer/internal/llm"
	"emer/internal/media"
	"emer/internal/vocal"
)

// Backends of the explanation.
const (
	BackendLocal = "local" // the local reasoner over the measured cues
	BackendLLM   = "llm"   // a model behind an OpenAI-compatible server
)

// Settings describe an explanation pipeline: everything that makes its
// explanations what they are, and nothing of the process that runs it.
// Server addresses, API keys and folders are the process's own (Env):
// Settings travel in queued items and must never hold them.
type Settings struct {
	Backend string `json:"backend"` // BackendLocal or BackendLLM
	// The llm backend: its mode, reasoning prompt, models, frames sent,
	// whether the audio is sent, and the reply's token limit.
	Mode         string `json:"mode"`
	Prompt       string `json:"prompt"`
	Model        string `json:"model"`
	CaptionModel string `json:"caption_model"`
	Frames       int    `json:"frames"`
	Audio        bool   `json:"audio"`
	MaxTokens    int    `json:"max_tokens,omitempty"`
	// Lang is the language of the explanation and the prompt: en or zh.
	Lang string `json:"lang"`
	// The cue extraction: frames analysed a second, face detector and
	// landmark net.
	FPS       float64 `json:"fps"`
	Detector  string  `json:"detector"`
	Landmarks string  `json:"landmarks"`
	// ASR turns the speech of clips without subtitles into text with the
	// model ASRModel (on the process's own speech-to-text server).
	ASR      bool   `json:"asr"`
	ASRModel string `json:"asr_model"`

	// What of this emer the explanations depend on besides the settings
	// (WithVersions fills them): the local reasoner's rules, the fitted
	// voice model (local backend) and the digest of the prompts (llm
	// backend).
	Rules        string `json:"rules"`
	Voice        string `json:"voice,omitempty"`
	PromptSHA256 string `json:"prompt_sha256,omitempty"`
}

// WithVersions returns s with the versions of this emer's rules, voice
// model and prompts that its backend uses.
func (s Settings) WithVersions() Settings {
	s.Rules, s.Voice, s.PromptSHA256 = explain.RulesVersion, "", ""
	switch s.Backend {
	case BackendLocal:
		s.Voice = modelName(vocal.Default())
	case BackendLLM:
		s.PromptSHA256 = explain.PromptSHA256()
	}
	return s
}

// ErrOtherVersion is returned by CheckVersions for settings made by an emer
// whose rules, voice model or prompts differ from this one's.
var ErrOtherVersion = errors.New("another emer version")

// CheckVersions reports whether s was made by an emer that explains as this
// one does: its rules, voice model and prompts are this emer's.
func (s Settings) CheckVersions() error {
	want := s.WithVersions()
	var diffs []string
	for _, d := range []struct{ what, got, want string }{
		{"the reasoner's rules", s.Rules, want.Rules},
		{"the voice model", s.Voice, want.Voice},
		{"the prompts' sha256", s.PromptSHA256, want.PromptSHA256},
	} {
		if d.got != d.want {
			diffs = append(diffs, fmt.Sprintf("%s are %q here, %q there", d.what, shortDigest(d.want), shortDigest(d.got)))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: %s", ErrOtherVersion, strings.Join(diffs, "; "))
	}
	return nil
}

func shortDigest(s string) string {
	if len(s) == 64 {
		return s[:12]
	}
	return s
}

// Validate reports every setting a pipeline cannot be built with.
func (s Settings) Validate() error {
	var probs []string
	if s.Backend != BackendLocal && s.Backend != BackendLLM {
		probs = append(probs, fmt.Sprintf("backend must be local or llm, got %q", s.Backend))
	}
	if !slices.Contains(explain.Modes, explain.Mode(s.Mode)) {
		probs = append(probs, fmt.Sprintf("mode must be end2end, caption or cues, got %q", s.Mode))
	}
	if !slices.Contains(explain.Prompts, s.Prompt) {
		probs = append(probs, fmt.Sprintf("prompt must be one of %s, got %q", strings.Join(explain.Prompts, ", "), s.Prompt))
	}
	if s.Backend == BackendLLM && s.Model == "" {
		probs = append(probs, "the llm backend needs a model")
	}
	if s.Lang != explain.English && s.Lang != explain.Chinese {
		probs = append(probs, fmt.Sprintf("lang must be en or zh, got %q", s.Lang))
	}
	if s.Frames < 1 || s.Frames > 64 {
		probs = append(probs, fmt.Sprintf("frames must be 1..64, got %d", s.Frames))
	}
	if s.MaxTokens < 0 {
		probs = append(probs, fmt.Sprintf("max_tokens %d is negative", s.MaxTokens))
	}
	if s.FPS == 0 {
		probs = append(probs, "fps must be a number of frames a second, got 0")
	} else if err := (cues.Config{FPS: s.FPS, Detector: face.DetectorModel(s.Detector), Landmarks: face.LandmarkModel(s.Landmarks)}).Validate(); err != nil {
		probs = append(probs, "cue extraction: "+err.Error())
	}
	if s.ASR && s.ASRModel == "" {
		probs = append(probs, "speech to text needs a model name")
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

// localKey is the settings part of a clip's input digest on one machine:
// the encoding dataset runs have always recorded, server addresses
// included, so that folders made before Settings existed resume.
func (s Settings) localKey(baseURL, asrURL string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"backend": s.Backend, "mode": s.Mode, "prompt": s.Prompt, "model": s.Model,
		"caption_model": s.CaptionModel, "base_url": baseURL, "frames": s.Frames, "audio": s.Audio,
		"lang": s.Lang, "fps": s.FPS, "detector": s.Detector, "landmarks": s.Landmarks, "rules": s.Rules,
		"asr_url": asrURL, "asr_model": s.ASRModel,
	})
	return string(b), err
}

// CueSettings returns the part of s the cue extraction depends on:
// pipelines whose settings have equal CueSettings can share one
// extractor, and the face networks it loads.
func (s Settings) CueSettings() Settings {
	c := Settings{FPS: s.FPS, Detector: s.Detector, Landmarks: s.Landmarks, ASR: s.ASR}
	// The voice-emotion features are measured for the local reasoner.
	if s.Backend == BackendLocal {
		c.Backend = BackendLocal
	}
	if s.ASR {
		c.ASRModel, c.Lang = s.ASRModel, s.Lang
	}
	return c
}

// Env is what the process running a pipeline brings of its own, never part
// of the settings nor of a queued item.
type Env struct {
	// Config holds the model server (base URL, API key, timeouts,
	// retries, rate, concurrency), the speech-to-text server (ASRURL)
	// and the face models' folder (Models).
	Config config.Config
	// Cache keeps model replies and transcripts; nil: none.
	Cache llm.CacheStore
	// Client is the chat client of the llm backend; nil: an llm.Stack of
	// Config with Cache.
	Client llm.Client
	// CPUs is the cue extraction's budget of cores; 0: all of them.
	CPUs int
}

// NewExtractor returns the cue extractor of settings s in env. It needs
// ffmpeg and ffprobe (without them no clip can be read: better said once
// than as every clip's failure), and speech to text env's speech-to-text
// server.
func NewExtractor(s Settings, env Env) (*cues.Extractor, error) {
	if err := media.CheckTools(); err != nil {
		return nil, err
	}
	cc := cues.Config{FPS: s.FPS, ModelsDir: env.Config.Models, CPUs: env.CPUs, VoiceFeatures: s.Backend == BackendLocal,
		Detector: face.DetectorModel(s.Detector), Landmarks: face.LandmarkModel(s.Landmarks)}
	if s.ASR {
		if env.Config.ASRURL == "" {
			return nil, errors.New("speech to text needs a server (asr_url)")
		}
		cc.Transcribe = newTranscriber(s, env)
	}
	return cues.NewExtractor(cc)
}

// NewExplainer returns the explainer of settings s in env: the local
// reasoner with the fitted voice model, or a model behind env's server.
func NewExplainer(s Settings, env Env) (explain.Explainer, error) {
	switch s.Backend {
	case BackendLocal:
		return &explain.Local{Language: s.Lang, Voice: VoiceModel{Model: vocal.Default()}}, nil
	case BackendLLM:
	default:
		return nil, fmt.Errorf("backend must be local or llm, got %q", s.Backend)
	}
	client := env.Client
	if client == nil {
		sc := env.Config.StackConfig()
		sc.Cache = env.Cache
		client = llm.NewStack(sc)
	}
	return &explain.LLM{
		Client: client, Model: s.Model, CaptionModel: s.CaptionModel,
		Mode: explain.Mode(s.Mode), Prompt: s.Prompt, Language: s.Lang,
		Frames: s.Frames, Audio: s.Audio, MaxTokens: s.MaxTokens,
	}, nil
}

// NewPipeline returns the pipeline of settings s in env.
func NewPipeline(s Settings, env Env) (*Pipeline, error) {
	ext, err := NewExtractor(s, env)
	if err != nil {
		return nil, err
	}
	ex, err := NewExplainer(s, env)
	if err != nil {
		return nil, err
	}
	return &Pipeline{Cues: ext, Explainer: ex}, nil
}

// newTranscriber returns the speech-to-text step of the cue extraction:
// env's server, its transcripts cached in env's cache when there is one.
func newTranscriber(s Settings, env Env) func(context.Context, []byte) (string, error) {
	cfg := env.Config
	var t llm.Transcriber = llm.NewOpenAITranscriber(llm.TranscriptionConfig{
		BaseURL: cfg.ASRURL, APIKey: cfg.APIKey, Timeout: time.Duration(cfg.Timeout),
	})
	// Failed calls are sent again as chat calls are (cfg's attempts); only
	// a transcript is cached.
	t = llm.NewRetry(nil, cfg.MaxAttempts, llm.DefaultRetryBase, llm.DefaultRetryMax).Transcriber(t)
	if env.Cache != nil {
		t = llm.NewTranscriptCache(t, env.Cache, cfg.ASRURL)
	}
	return func(ctx context.Context, wav []byte) (string, error) {
		tr, err := t.Transcribe(ctx, llm.TranscriptionRequest{Model: s.ASRModel, Language: s.Lang, Audio: wav, Filename: "speech.wav"})
		return tr.Text, err
	}
}
