package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrWAV marks input that is not a WAV file this package can read.
var ErrWAV = errors.New("not a readable WAV file")

// Audio is mono PCM as float32 samples in [-1, 1] at Rate samples per second.
type Audio struct {
	Samples []float32
	Rate    int
}

// Duration returns the length of a in seconds.
func (a Audio) Duration() float64 {
	if a.Rate <= 0 {
		return 0
	}
	return float64(len(a.Samples)) / float64(a.Rate)
}

// ReadWAVFile reads a RIFF/WAVE file; see ReadWAV.
func ReadWAVFile(path string) (Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return Audio{}, err
	}
	defer f.Close()
	a, err := ReadWAV(f)
	if err != nil {
		return Audio{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// ReadWAV reads a RIFF/WAVE stream holding 8-, 16-, 24- or 32-bit integer
// PCM or 32/64-bit IEEE float samples. Channels are averaged to mono.
func ReadWAV(r io.Reader) (Audio, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Audio{}, fmt.Errorf("%w: short header", ErrWAV)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return Audio{}, fmt.Errorf("%w: no RIFF/WAVE header", ErrWAV)
	}
	var (
		format, channels, bits uint16
		rate                   uint32
		haveFmt                bool
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return Audio{}, fmt.Errorf("%w: no data chunk", ErrWAV)
		}
		id := string(ch[0:4])
		size := binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return Audio{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrWAV, size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return Audio{}, fmt.Errorf("%w: short fmt chunk", ErrWAV)
			}
			format = binary.LittleEndian.Uint16(b[0:2])
			channels = binary.LittleEndian.Uint16(b[2:4])
			rate = binary.LittleEndian.Uint32(b[4:8])
			bits = binary.LittleEndian.Uint16(b[14:16])
			if format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: sub-format GUID starts with the tag
				format = binary.LittleEndian.Uint16(b[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return Audio{}, fmt.Errorf("%w: data before fmt", ErrWAV)
			}
			return decodePCM(r, size, format, channels, bits, rate)
		default:
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size%2)); err != nil {
				return Audio{}, fmt.Errorf("%w: short %q chunk", ErrWAV, id)
			}
		}
	}
}

func decodePCM(r io.Reader, size uint32, format, channels, bits uint16, rate uint32) (Audio, error) {
	if channels == 0 || rate == 0 || rate > 1<<20 {
		return Audio{}, fmt.Errorf("%w: %d channels at %d Hz", ErrWAV, channels, rate)
	}
	width := int(bits) / 8
	var conv func([]byte) float64
	switch {
	case format == 1 && bits == 8:
		conv = func(b []byte) float64 { return (float64(b[0]) - 128) / 128 }
	case format == 1 && bits == 16:
		conv = func(b []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(b))) / 32768 }
	case format == 1 && bits == 24:
		conv = func(b []byte) float64 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / (1 << 23)
		}
	case format == 1 && bits == 32:
		conv = func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31) }
	case format == 3 && bits == 32:
		conv = func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) }
	case format == 3 && bits == 64:
		conv = func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }
	default:
		return Audio{}, fmt.Errorf("%w: unsupported sample format %d with %d bits", ErrWAV, format, bits)
	}
	// A streamed WAV may carry a placeholder size; read what is there.
	data, err := io.ReadAll(io.LimitReader(r, int64(size)))
	if err != nil {
		return Audio{}, fmt.Errorf("%w: %v", ErrWAV, err)
	}
	frame := width * int(channels)
	n := len(data) / frame
	out := make([]float32, n)
	for i := 0; i < n; i++ {
		var sum float64
		for c := 0; c < int(channels); c++ {
			off := i*frame + c*width
			sum += conv(data[off : off+width])
		}
		out[i] = float32(sum / float64(channels))
	}
	return Audio{Samples: out, Rate: int(rate)}, nil
}

// WriteWAV writes a as 16-bit PCM mono. Samples outside [-1, 1] are clipped.
func WriteWAV(w io.Writer, a Audio) error {
	n := len(a.Samples)
	b := make([]byte, 44+2*n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(a.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*a.Rate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i, s := range a.Samples {
		v := math.Round(float64(s) * 32767)
		v = math.Max(-32768, math.Min(32767, v))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(int16(v)))
	}
	_, err := w.Write(b)
	return err
}
