package explain

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"

	"emer/internal/media"
	"emer/internal/voice"
)

// Frame is one sampled video frame, JPEG-encoded.
type Frame struct {
	Time float64 // seconds from the start of the clip
	JPEG []byte
}

// Media reads what the llm backend sends of a clip. Implementations are
// safe for concurrent use.
type Media interface {
	// Frames returns k frames spread uniformly over the clip, in time
	// order. With damaged media it may return the frames it could read
	// together with the error.
	Frames(ctx context.Context, clip string, k int) ([]Frame, error)
	// Audio returns the clip's audio as a 16 kHz mono 16-bit WAV file.
	Audio(ctx context.Context, clip string) ([]byte, error)
}

// FFmpeg reads frames and audio through package media (ffmpeg).
type FFmpeg struct {
	// MaxSide bounds the longer side of a frame in pixels
	// (DefaultMaxSide when 0): vision models scale images down anyway,
	// and a smaller image costs fewer tokens.
	MaxSide int
	// Quality is the JPEG quality, 1-100 (DefaultJPEGQuality when 0).
	Quality int
}

// Defaults of FFmpeg.
const (
	DefaultMaxSide     = 768
	DefaultJPEGQuality = 85
)

var _ Media = FFmpeg{}

// Frames decodes k frames, each at the middle of its 1/k slice of the
// clip, and encodes them as JPEG.
func (m FFmpeg) Frames(ctx context.Context, clip string, k int) ([]Frame, error) {
	side, q := m.MaxSide, m.Quality
	if side <= 0 {
		side = DefaultMaxSide
	}
	if q <= 0 {
		q = DefaultJPEGQuality
	}
	var out []Frame
	err := media.Frames(ctx, clip, media.FrameOptions{Count: k, MaxSide: side}, func(f media.Frame) error {
		b, err := encodeJPEG(f, q)
		if err != nil {
			return fmt.Errorf("frame at %.2f s: %w", f.Time, err)
		}
		out = append(out, Frame{Time: f.Time, JPEG: b})
		return nil
	})
	return out, err
}

// Audio decodes the clip's audio to 16 kHz mono PCM and writes it as WAV.
func (FFmpeg) Audio(ctx context.Context, clip string) ([]byte, error) {
	pcm, err := media.Audio(ctx, clip)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := voice.WriteWAV(&buf, voice.Audio{Samples: pcm.Samples, Rate: pcm.SampleRate}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeJPEG encodes a packed RGB frame.
func encodeJPEG(f media.Frame, quality int) ([]byte, error) {
	if f.Width <= 0 || f.Height <= 0 || len(f.Pix) != f.Width*f.Height*3 {
		return nil, fmt.Errorf("%dx%d frame with %d bytes of pixels", f.Width, f.Height, len(f.Pix))
	}
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for i, j := 0, 0; i < len(f.Pix); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = f.Pix[i], f.Pix[i+1], f.Pix[i+2], 0xff
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
