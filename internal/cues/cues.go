package cues

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"emer/internal/media"
	"emer/internal/textcue"
	"emer/internal/voice"
)

// DefaultFPS is the rate at which video frames are analysed by default: two
// frames a second follow expression changes at the pace of speech while
// keeping analysis well under the cost of decoding the video.
const DefaultFPS = 2.0

// MaxFPS is the highest rate at which video frames are analysed: the frame
// rate of the fastest common video. More would only repeat frames.
const MaxFPS = 60.0

// Options choose what Analyze reads.
type Options struct {
	// Subtitle is the subtitle text itself; it takes precedence over
	// SubtitleFile and over subtitles found with the clip.
	Subtitle string
	// SubtitleFile is an .srt or .vtt file; when both it and Subtitle are
	// empty, a sidecar file or an embedded text track is looked for.
	SubtitleFile string
	// FPS is the number of video frames analysed per second, at most
	// MaxFPS (DefaultFPS when 0).
	FPS float64
	// ModelsDir is the face model directory; empty means models.Dir().
	ModelsDir string
}

// Cues are the measured cues of one clip.
type Cues struct {
	Clip     string   `json:"clip"`
	Duration float64  `json:"duration_s"`
	Visual   Visual   `json:"visual"`
	Audio    Audio    `json:"audio"`
	Text     Text     `json:"text"`
	Warnings []string `json:"warnings"`
}

// Audio is the voice part: the prosody measures of voice.Report, present
// when the clip has an audio stream that could be decoded.
type Audio struct {
	Present bool   `json:"present"`
	Reason  string `json:"reason,omitempty"`
	*voice.Report
}

// Text is the subtitle part.
type Text struct {
	Present  bool        `json:"present"`
	Reason   string      `json:"reason,omitempty"`
	Source   string      `json:"source,omitempty"` // text, file or embedded
	Subtitle string      `json:"subtitle"`
	Cues     []media.Cue `json:"cues,omitempty"`
	*textcue.Result
}

// Validate reports options Analyze cannot use: a frame rate that is not a
// number, infinite, negative or above MaxFPS.
func (o Options) Validate() error {
	if math.IsNaN(o.FPS) || o.FPS < 0 || o.FPS > MaxFPS {
		return fmt.Errorf("frame rate %g must be a number of frames a second in (0, %g]", o.FPS, MaxFPS)
	}
	return nil
}

// Analyze measures the cues of clip. It fails only when the clip cannot be
// read as media at all (or ffmpeg is missing, or a given subtitle file
// cannot be read); a missing part is reported in its place.
func Analyze(ctx context.Context, clip string, opts Options) (*Cues, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.FPS == 0 {
		opts.FPS = DefaultFPS
	}
	info, err := media.Probe(ctx, clip)
	if err != nil {
		return nil, err
	}
	c := &Cues{Clip: clip, Duration: info.Duration, Warnings: []string{}}

	// A bad --subtitle-file is the caller's error, found before any
	// decoding starts; an embedded track is read while the video and the
	// audio are decoded.
	subs, subErr := givenSubtitles(opts)
	if subErr != nil {
		return nil, subErr
	}
	var wg sync.WaitGroup
	if subs == nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			subs, subErr = info.FindSubtitles(ctx)
		}()
	}
	var vis Visual
	var visWarn []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		vis, visWarn = analyzeVisual(ctx, info, opts)
	}()
	var aud Audio
	var audWarn []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		aud, audWarn = analyzeAudio(ctx, info)
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if subErr != nil && !errors.Is(subErr, media.ErrNoStream) {
		return nil, subErr
	}
	c.Text = analyzeText(subs, subErr)
	c.Visual, c.Audio = vis, aud
	c.Warnings = append(c.Warnings, visWarn...)
	c.Warnings = append(c.Warnings, audWarn...)
	if !c.Text.Present {
		c.Warnings = append(c.Warnings, "text: "+c.Text.Reason)
	}
	return c, nil
}

// givenSubtitles returns the subtitles given in opts, or nil when none are.
func givenSubtitles(opts Options) (*media.Subtitles, error) {
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

func analyzeText(subs *media.Subtitles, err error) Text {
	if err != nil {
		return Text{Reason: "no subtitles: none given, no sidecar .srt/.vtt file and no text track in the clip"}
	}
	t := Text{Source: subs.Source, Subtitle: subs.Text(), Cues: subs.Cues}
	if strings.TrimSpace(t.Subtitle) == "" {
		t.Reason = "the subtitles hold no text"
		return t
	}
	segs := make([]textcue.Segment, len(subs.Cues))
	for i, c := range subs.Cues {
		segs[i] = textcue.Segment{Text: c.Text}
	}
	r := textcue.DefaultLexicon().Analyze(segs...)
	t.Present, t.Result = true, &r
	return t
}

func analyzeAudio(ctx context.Context, info *media.Info) (Audio, []string) {
	if !info.HasAudio {
		return Audio{Reason: "the clip has no audio stream"}, []string{"audio: the clip has no audio stream"}
	}
	pcm, err := info.DecodeAudio(ctx)
	var warn []string
	switch {
	case err == nil:
	case errors.Is(err, media.ErrDamaged) && pcm != nil && len(pcm.Samples) > 0:
		// What ffmpeg decoded before the damage is valid audio.
		warn = append(warn, fmt.Sprintf("audio: %.2f s decoded from damaged data: %v", pcm.Duration(), err))
	default:
		reason := "the audio could not be decoded: " + err.Error()
		return Audio{Reason: reason}, []string{"audio: " + reason}
	}
	r := voice.Analyze(voice.Audio{Samples: pcm.Samples, Rate: pcm.SampleRate}, voice.DefaultConfig())
	a := Audio{Present: true, Report: &r}
	switch {
	case r.Duration < 0.05:
		warn = append(warn, fmt.Sprintf("audio: only %.2f s of audio, too short to measure the voice", r.Duration))
	case r.F0 == nil:
		warn = append(warn, "audio: no voiced speech found (silent or unvoiced audio)")
	}
	return a, warn
}
