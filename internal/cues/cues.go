package cues

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"emer/internal/face"
	"emer/internal/media"
	"emer/internal/textcue"
	"emer/internal/vocal"
	"emer/internal/voice"
)

// DefaultFPS is the rate at which video frames are analysed by default: two
// frames a second follow expression changes at the pace of speech while
// keeping analysis well under the cost of decoding the video.
const DefaultFPS = 2.0

// MaxFPS is the highest rate at which video frames are analysed: the frame
// rate of the fastest common video. More would only repeat frames.
const MaxFPS = 60.0

// Options choose what Analyze reads: a clip's ClipOptions and the Config
// of the Extractor it makes.
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
	// Detector and Landmarks choose the face detector and landmark net,
	// as in Config.
	Detector  face.DetectorModel
	Landmarks face.LandmarkModel
}

// Cues are the measured cues of one clip.
type Cues struct {
	Clip     string   `json:"clip"`
	Duration float64  `json:"duration_s"`
	Visual   Visual   `json:"visual"`
	Audio    Audio    `json:"audio"`
	Text     Text     `json:"text"`
	Warnings []string `json:"warnings"`

	// TranscribeErr is why the speech to text of a clip without subtitles
	// failed (a warning says so too), for callers that would rather try
	// the clip again than explain it without its words.
	TranscribeErr error `json:"-"`
}

// Audio is the voice part: the prosody measures of voice.Report, present
// when the clip has an audio stream that could be decoded.
type Audio struct {
	Present bool   `json:"present"`
	Reason  string `json:"reason,omitempty"`
	*voice.Report
	// Features are the voice-emotion model's named measures of the clip
	// (vocal.Measure), when Config.VoiceFeatures asks for them and the
	// clip has enough voiced speech; they stay out of the JSON, which
	// reports the prosody.
	Features vocal.Features `json:"-"`
	// Samples are the decoded audio, kept when ClipOptions.KeepAudio
	// asks for them; they stay out of the JSON.
	Samples *voice.Audio `json:"-"`
}

// Text is the subtitle part.
type Text struct {
	Present  bool        `json:"present"`
	Reason   string      `json:"reason,omitempty"`
	Source   string      `json:"source,omitempty"` // text, file, embedded or asr (speech to text)
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

// Analyze measures the cues of one clip with an Extractor of its own,
// which loads the face networks for this clip alone and may use every core
// (runtime.GOMAXPROCS); it fails as (*Extractor).Analyze does, or on
// options Validate refuses. To analyse many clips, share one Extractor.
func Analyze(ctx context.Context, clip string, opts Options) (*Cues, error) {
	e, err := NewExtractor(Config{FPS: opts.FPS, ModelsDir: opts.ModelsDir, Detector: opts.Detector, Landmarks: opts.Landmarks})
	if err != nil {
		return nil, err
	}
	return e.Analyze(ctx, clip, ClipOptions{Subtitle: opts.Subtitle, SubtitleFile: opts.SubtitleFile})
}

func analyzeText(lex *textcue.Lexicon, subs *media.Subtitles, err error) Text {
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
	r := lex.Analyze(segs...)
	t.Present, t.Result = true, &r
	return t
}

// analyzeAudio decodes and measures the voice on one token of the CPU
// budget.
// The decoded samples are left in samples, for speech to text.
func (e *Extractor) analyzeAudio(ctx context.Context, info *media.Info, samples *voice.Audio) (Audio, []string) {
	if !info.HasAudio {
		return Audio{Reason: "the clip has no audio stream"}, []string{"audio: the clip has no audio stream"}
	}
	if err := e.tokens.Acquire(ctx, 1); err != nil {
		return Audio{Reason: err.Error()}, nil // ctx ended: Analyze fails
	}
	defer e.tokens.Release(1)
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
	va := voice.Audio{Samples: pcm.Samples, Rate: pcm.SampleRate}
	// The prosody's pitch track serves the voice-emotion features too:
	// both use voice's default pitch settings.
	r := voice.Analyze(va, voice.DefaultConfig())
	a := Audio{Present: true, Report: &r}
	switch {
	case r.Duration < 0.05:
		warn = append(warn, fmt.Sprintf("audio: only %.2f s of audio, too short to measure the voice", r.Duration))
	case r.F0 == nil:
		warn = append(warn, "audio: no voiced speech found (silent or unvoiced audio)")
	}
	if e.cfg.VoiceFeatures && r.F0 != nil {
		f, err := vocal.MeasureTrack(va, r.Pitch)
		switch {
		case err == nil:
			a.Features = f
		case errors.Is(err, vocal.ErrNoVoice):
			// Too little voiced speech for the model: the prosody stands alone.
		default:
			warn = append(warn, "audio: voice-emotion features: "+err.Error())
		}
	}
	*samples = va
	return a, warn
}
