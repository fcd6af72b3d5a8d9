package cues

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"emer/internal/face"
	"emer/internal/media"
	"emer/internal/models"
	"emer/internal/textcue"
	"emer/internal/voice"
)

// Config are the settings of an Extractor, fixed for its life.
type Config struct {
	// FPS is the number of video frames analysed per second, at most
	// MaxFPS (DefaultFPS when 0).
	FPS float64
	// ModelsDir is the face model directory; empty means models.Dir().
	ModelsDir string
	// CPUs is the number of cores the extractor keeps busy at most over
	// all the clips it analyses at once (see Extractor); 0 means
	// runtime.GOMAXPROCS(0).
	CPUs int
	// DecodeThreads is the number of threads each clip's video is decoded
	// with, at most CPUs; 0 chooses half of the clip's share of CPUs (at
	// least one), the share being CPUs over the clips in flight.
	DecodeThreads int
	// Detector is the face detector: tiny, ssd or auto (the default),
	// which runs SSD on the frames the tiny detector finds nothing in
	// within a budget per clip (face.ClipPolicy).
	Detector face.DetectorModel
	// Landmarks is the landmark net: net (the default), tiny, or none,
	// which leaves out the landmarks and the facial actions, head pose
	// and peak measured from them.
	Landmarks face.LandmarkModel
	// VoiceFeatures measures the voice-emotion model's features of each
	// clip's speech (Audio.Features).
	VoiceFeatures bool
	// Transcribe, when set, turns the speech of a clip that has audio but
	// no subtitles into text (a 16 kHz mono WAV in, the words out); the
	// text part then has source "asr". A failure is a warning, and the
	// text part is absent.
	Transcribe func(ctx context.Context, wav []byte) (string, error)
}

// Validate reports settings an Extractor cannot use.
func (c Config) Validate() error {
	if err := (Options{FPS: c.FPS}).Validate(); err != nil {
		return err
	}
	if err := c.faceOptions().Validate(); err != nil {
		return err
	}
	if c.CPUs < 0 {
		return fmt.Errorf("CPU budget %d must be a number of cores, or 0 for all of them", c.CPUs)
	}
	if c.DecodeThreads < 0 || (c.DecodeThreads > 0 && c.DecodeThreads > c.cpus()) {
		return fmt.Errorf("decoding threads %d must be between 1 and the CPU budget %d, or 0 to choose", c.DecodeThreads, c.cpus())
	}
	return nil
}

// faceOptions are the face analyzer's options, defaults filled in.
func (c Config) faceOptions() face.Options {
	o := face.Options{Detector: c.Detector, Landmarks: c.Landmarks}
	if o.Detector == "" {
		o.Detector = face.DetectorAuto
	}
	if o.Landmarks == "" {
		o.Landmarks = face.LandmarksNet
	}
	return o
}

func (c Config) cpus() int {
	if c.CPUs > 0 {
		return c.CPUs
	}
	return max(1, runtime.GOMAXPROCS(0))
}

// ClipOptions are what differs from one clip to the next.
type ClipOptions struct {
	// Subtitle is the subtitle text itself; it takes precedence over
	// SubtitleFile and over subtitles found with the clip.
	Subtitle string
	// SubtitleFile is an .srt or .vtt file; when both it and Subtitle are
	// empty, a sidecar file or an embedded text track is looked for.
	SubtitleFile string
	// KeepAudio keeps the decoded audio in the result's Audio.Samples,
	// for measures beyond the cues (emer build check's sound scene).
	KeepAudio bool
}

// An Extractor measures the cues of clips with state loaded once: the face
// networks (loaded with the first clip that has video, or by FaceModels)
// and the text lexicon. It is safe for concurrent use: several goroutines
// may each analyse a clip at once, sharing the networks and one CPU
// budget.
//
// The budget is Config.CPUs tokens of a weighted semaphore, a token
// standing for one busy core, shared by every clip in flight:
//
//   - A clip's video part takes its ffmpeg decoding threads
//     (Config.DecodeThreads) as tokens, waiting for them, and holds them
//     until its last frame is analysed. ffmpeg and the analysis of the
//     frames it delivers share those tokens: the pipe between them holds
//     a frame or two, so the faster of the two waits for the slower, and
//     only the slower keeps the tokens busy all the time. As many of the
//     clip's frames as it has decoding tokens are analysed at once on
//     them.
//   - A further frame is analysed at once on a token of the budget, when
//     one frees before one of the clip's own does.
//   - A clip's audio decoding and voice analysis take one token.
//   - Probing and finding subtitles are not counted: they read headers
//     and text, not pictures or sound.
//
// So at most Config.CPUs frames are analysed at once over all clips, and
// the decoders' threads and the voice analyses never exceed the budget
// either. Every clip holding tokens is making progress (nothing waits
// while holding tokens but a decoder for its own frames' analysis), so
// clips never deadlock, whatever their number.
type Extractor struct {
	cfg    Config
	tokens tokens
	lex    *textcue.Lexicon
	faces  func() (faceFinder, error) // the face networks, loaded once

	inflight atomic.Int64 // clips being analysed

	// decode decodes a clip's frames: (*media.Info).DecodeFrames, or a
	// test's stand-in.
	decode func(ctx context.Context, info *media.Info, opts media.FrameOptions, fn func(media.Frame) error) error
}

// tokens is the CPU budget: a weighted semaphore.
type tokens interface {
	Acquire(ctx context.Context, n int64) error
	TryAcquire(n int64) bool
	Release(n int64)
}

var _ tokens = (*semaphore.Weighted)(nil)

// faceFinder holds the face networks and makes, for each clip, what
// finds the faces of its frames. It must be safe for concurrent use, as
// the face networks are.
type faceFinder interface {
	clip() clipFaces
}

// clipFaces finds the faces of one clip's frames and reads their
// expressions (and landmarks), as face.Clip does. Frames may be given to
// it from several goroutines at once.
type clipFaces interface {
	Faces(img *face.RGB) ([]face.Face, error)
	Stats() face.ClipStats
}

var _ clipFaces = (*face.Clip)(nil)

// analyzer is the face networks as a faceFinder: a face.Clip per clip,
// with the default budget of SSD passes.
type analyzer struct{ *face.Analyzer }

func (a analyzer) clip() clipFaces { return a.Clip(face.ClipPolicy{}) }

// NewExtractor returns an Extractor with settings cfg. It fails only on
// settings that Validate refuses; face models that are missing or damaged
// make every clip's visual part absent with the reason (see FaceModels).
func NewExtractor(cfg Config) (*Extractor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.FPS == 0 {
		cfg.FPS = DefaultFPS
	}
	cfg.CPUs = cfg.cpus()
	fo := cfg.faceOptions()
	cfg.Detector, cfg.Landmarks = fo.Detector, fo.Landmarks
	e := &Extractor{
		cfg:    cfg,
		tokens: semaphore.NewWeighted(int64(cfg.CPUs)),
		lex:    textcue.DefaultLexicon(),
		decode: func(ctx context.Context, info *media.Info, opts media.FrameOptions, fn func(media.Frame) error) error {
			return info.DecodeFrames(ctx, opts, fn)
		},
	}
	e.faces = sync.OnceValues(func() (faceFinder, error) { return loadFaces(cfg.ModelsDir, fo) })
	return e, nil
}

// Config returns the extractor's settings, defaults filled in.
func (e *Extractor) Config() Config { return e.cfg }

// FaceModels loads the face networks if no clip has yet, and reports why
// they cannot be loaded: the reason every clip's visual part then gives.
// The error wraps models.ErrNotInstalled or models.ErrCorrupt where one of
// those is the cause. A batch may call it first to stop, or to warn once.
func (e *Extractor) FaceModels() error {
	_, err := e.faces()
	return err
}

// faceLoadError is why the face networks could not be loaded, worded as
// the visual part's reason.
type faceLoadError struct {
	reason string
	err    error
}

func (e *faceLoadError) Error() string { return e.reason }
func (e *faceLoadError) Unwrap() error { return e.err }

func loadFaces(dir string, opts face.Options) (faceFinder, error) {
	if dir == "" {
		d, err := models.Dir()
		if err != nil {
			return nil, &faceLoadError{"no face model directory: " + err.Error(), err}
		}
		dir = d
	}
	an, err := face.Load(dir, opts)
	switch {
	case err == nil:
		return analyzer{an}, nil
	case errors.Is(err, models.ErrNotInstalled):
		return nil, &faceLoadError{"face models are not installed: run `emer models install`", err}
	case errors.Is(err, models.ErrCorrupt):
		return nil, &faceLoadError{err.Error(), err}
	}
	return nil, &faceLoadError{"face models could not be loaded: " + err.Error(), err}
}

// Analyze measures the cues of clip. It fails only when the clip cannot be
// read as media at all (or ffmpeg is missing, or a given subtitle file
// cannot be read, or ctx ends); a missing part is reported in its place.
func (e *Extractor) Analyze(ctx context.Context, clip string, opts ClipOptions) (*Cues, error) {
	e.inflight.Add(1)
	defer e.inflight.Add(-1)
	// The face networks, when no clip has loaded them yet, load while
	// ffprobe reads the clip.
	go e.faces()
	info, err := media.Probe(ctx, clip)
	if err != nil {
		return nil, err
	}
	c := &Cues{Clip: clip, Duration: info.Duration, Warnings: []string{}}

	// A bad subtitle file is the caller's error, found before any
	// decoding starts; an embedded track is read while the video and the
	// audio are decoded.
	subs, subErr := givenSubtitles(opts)
	if subErr != nil {
		return nil, subErr
	}
	var wg sync.WaitGroup
	if subs == nil {
		wg.Go(func() { subs, subErr = info.FindSubtitles(ctx) })
	}
	var vis Visual
	var visWarn []string
	wg.Go(func() { vis, visWarn = e.analyzeVisual(ctx, info) })
	var aud Audio
	var audWarn []string
	var samples voice.Audio
	wg.Go(func() { aud, audWarn = e.analyzeAudio(ctx, info, &samples) })
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if subErr != nil && !errors.Is(subErr, media.ErrNoStream) {
		return nil, subErr
	}
	if subErr != nil && e.cfg.Transcribe != nil && aud.Present && aud.F0 != nil {
		var err error
		if subs, err = e.transcribe(ctx, samples); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.Warnings = append(c.Warnings, "text: speech to text failed: "+err.Error())
			c.TranscribeErr = err
			subs, subErr = nil, media.ErrNoStream
		} else {
			subErr = nil
		}
	}
	c.Text = analyzeText(e.lex, subs, subErr)
	if opts.KeepAudio && aud.Present {
		aud.Samples = &samples
	}
	c.Visual, c.Audio = vis, aud
	c.Warnings = append(c.Warnings, visWarn...)
	c.Warnings = append(c.Warnings, audWarn...)
	if !c.Text.Present {
		c.Warnings = append(c.Warnings, "text: "+c.Text.Reason)
	}
	return c, nil
}

// transcribe turns the clip's speech into subtitles of source "asr": one
// cue over the speech.
func (e *Extractor) transcribe(ctx context.Context, a voice.Audio) (*media.Subtitles, error) {
	var wav bytes.Buffer
	if err := voice.WriteWAV(&wav, a); err != nil {
		return nil, err
	}
	text, err := e.cfg.Transcribe(ctx, wav.Bytes())
	if err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("the transcript is empty")
	}
	return &media.Subtitles{Source: SourceASR, Cues: []media.Cue{{Start: 0, End: a.Duration(), Text: text}}}, nil
}

// SourceASR is the source of subtitles transcribed from the speech.
const SourceASR = "asr"

// decodeThreads is the number of threads the next clip's video is decoded
// with: Config.DecodeThreads, or half of the clip's share of the budget.
func (e *Extractor) decodeThreads() int {
	if e.cfg.DecodeThreads > 0 {
		return e.cfg.DecodeThreads
	}
	share := e.cfg.CPUs / int(max(1, e.inflight.Load()))
	return max(1, share/2)
}

// givenSubtitles returns the subtitles given in opts, or nil when none are.
func givenSubtitles(opts ClipOptions) (*media.Subtitles, error) {
	switch {
	case strings.TrimSpace(opts.Subtitle) != "":
		return media.TextSubtitles(opts.Subtitle), nil
	case opts.SubtitleFile != "":
		s, err := media.ReadSubtitleFile(opts.SubtitleFile)
		if err != nil {
			return nil, fmt.Errorf("subtitle file: %w", err)
		}
		return s, nil
	}
	return nil, nil
}
