package media

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os/exec"
	"strconv"
)

// SampleRate is the rate, in Hz, of the audio Audio returns.
const SampleRate = 16000

// PCM is mono audio as float32 samples in [-1, 1].
type PCM struct {
	SampleRate int
	Samples    []float32
}

// Duration returns the length of the audio in seconds.
func (p *PCM) Duration() float64 {
	if p.SampleRate == 0 {
		return 0
	}
	return float64(len(p.Samples)) / float64(p.SampleRate)
}

// Int16 returns the samples as 16-bit integers, clipped to range.
func (p *PCM) Int16() []int16 {
	out := make([]int16, len(p.Samples))
	for i, v := range p.Samples {
		x := math.Round(float64(v) * 32767)
		out[i] = int16(max(-32768, min(32767, x)))
	}
	return out
}

// Audio decodes the first audio stream of path to 16 kHz mono float32 PCM,
// mixing channels down. A file without audio gives an error wrapping
// ErrNoStream. A damaged or truncated file gives the audio that could be
// decoded together with an error wrapping ErrDamaged.
func Audio(ctx context.Context, path string) (*PCM, error) {
	info, err := Probe(ctx, path)
	if err != nil {
		return nil, err
	}
	return info.DecodeAudio(ctx)
}

// DecodeAudio is Audio for a file already probed, sparing a second
// ffprobe run.
func (info *Info) DecodeAudio(ctx context.Context) (*PCM, error) {
	path := info.Path
	if !info.HasAudio {
		return nil, fmt.Errorf("audio %s: %w: the file has no audio stream", path, ErrNoStream)
	}
	bin, err := tool("ffmpeg")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-v", "error", "-i", path,
		"-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", strconv.Itoa(SampleRate),
		"-f", "f32le", "pipe:1")
	stderr := &tailWriter{max: 4096}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, runError(ctx, "audio", path, err, stderr)
	}
	samples := make([]float32, len(out)/4)
	for i := range samples {
		samples[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
	}
	return &PCM{SampleRate: SampleRate, Samples: samples}, damaged("audio", path, stderr)
}
