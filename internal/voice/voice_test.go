package voice

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"emer/internal/sharedtest"
)

func readShared(t *testing.T, name string) Audio {
	t.Helper()
	a, err := ReadWAVFile(sharedtest.Path(t, "reference", "media", name))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func relDiff(got, want float64) float64 { return math.Abs(got-want) / math.Abs(want) }

// TestPraatReference compares the measures with Praat's on the reference
// recordings (pitch floor 75 Hz, ceiling 500 Hz).
func TestPraatReference(t *testing.T) {
	tests := []struct {
		file                          string
		f0Mean, f0SD, intensity       float64
		jitter, shimmer               float64 // fractions
		maxJitterDiff, maxShimmerDiff float64 // absolute, in fraction points
	}{
		{"jfk.wav", 234.2, 39.6, 66.5, 0.0189, 0.1208, 0.005, 0.02},
		{"test16k.wav", 100.6, 11.0, 39.9, 0.0089, 0.1470, 0.005, 0.02},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := Analyze(readShared(t, tt.file), DefaultConfig())
			if r.F0 == nil || r.JitterLocal == nil || r.ShimmerLocal == nil {
				t.Fatalf("missing measures: %+v", r)
			}
			if d := relDiff(r.F0.Mean, tt.f0Mean); d > 0.10 {
				t.Errorf("F0 mean %.1f Hz, Praat %.1f (%.1f %% off)", r.F0.Mean, tt.f0Mean, d*100)
			}
			if d := relDiff(r.Intensity.Mean, tt.intensity); d > 0.10 {
				t.Errorf("intensity %.2f dB, Praat %.1f (%.1f %% off)", r.Intensity.Mean, tt.intensity, d*100)
			}
			if d := relDiff(r.F0.SD, tt.f0SD); d > 0.20 {
				t.Errorf("F0 sd %.1f Hz, Praat %.1f", r.F0.SD, tt.f0SD)
			}
			if d := math.Abs(*r.JitterLocal - tt.jitter); d > tt.maxJitterDiff {
				t.Errorf("jitter %.2f %%, Praat %.2f %%", *r.JitterLocal*100, tt.jitter*100)
			}
			if d := math.Abs(*r.ShimmerLocal - tt.shimmer); d > tt.maxShimmerDiff {
				t.Errorf("shimmer %.2f %%, Praat %.2f %%", *r.ShimmerLocal*100, tt.shimmer*100)
			}
			t.Logf("F0 %.1f±%.1f Hz (Praat %.1f±%.1f), intensity %.2f dB (Praat %.1f), jitter %.2f %% (Praat %.2f %%), shimmer %.2f %% (Praat %.2f %%)",
				r.F0.Mean, r.F0.SD, tt.f0Mean, tt.f0SD, r.Intensity.Mean, tt.intensity,
				*r.JitterLocal*100, tt.jitter*100, *r.ShimmerLocal*100, tt.shimmer*100)
		})
	}
}

// synth builds a harmonic voice-like signal: f0(t) in Hz and amplitude
// amp(t), zero where amp is 0.
func synth(rate int, dur float64, f0, amp func(t float64) float64) Audio {
	n := int(dur * float64(rate))
	x := make([]float32, n)
	var phase float64
	for i := range x {
		t := float64(i) / float64(rate)
		phase += 2 * math.Pi * f0(t) / float64(rate)
		a := amp(t)
		x[i] = float32(a * (math.Sin(phase) + 0.5*math.Sin(2*phase) + 0.25*math.Sin(3*phase)) / 1.75)
	}
	return Audio{Samples: x, Rate: rate}
}

func constant(v float64) func(float64) float64 { return func(float64) float64 { return v } }

func TestSteadyTone(t *testing.T) {
	a := synth(16000, 2, constant(180), constant(0.5))
	r := Analyze(a, DefaultConfig())
	if r.F0 == nil {
		t.Fatal("tone not voiced")
	}
	if d := relDiff(r.F0.Mean, 180); d > 0.01 {
		t.Errorf("F0 %.2f Hz, want 180", r.F0.Mean)
	}
	if r.VoicedRatio < 0.95 {
		t.Errorf("voiced ratio %.2f, want ~1", r.VoicedRatio)
	}
	if *r.JitterLocal > 0.002 || *r.ShimmerLocal > 0.01 {
		t.Errorf("jitter %.4f shimmer %.4f for a steady tone", *r.JitterLocal, *r.ShimmerLocal)
	}
	// Mean square of the harmonic mix.
	ms := 0.25 * (1 + 0.25 + 0.0625) / 2 / (1.75 * 1.75)
	want := 10 * math.Log10(ms/4e-10)
	if math.Abs(r.Intensity.Mean-want) > 0.5 {
		t.Errorf("intensity %.2f dB, want %.2f", r.Intensity.Mean, want)
	}
	if len(r.Events) != 0 {
		t.Errorf("events on a steady tone: %+v", r.Events)
	}
}

func hasEvent(r Report, kind string) bool {
	for _, e := range r.Events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

func TestEvents(t *testing.T) {
	t.Run("final rise", func(t *testing.T) {
		f0 := func(t float64) float64 {
			if t < 2 {
				return 150
			}
			return 150 + 80*(t-2)
		}
		r := Analyze(synth(16000, 3, f0, constant(0.3)), DefaultConfig())
		if !hasEvent(r, EventPitchRise) {
			t.Errorf("no %s event: %+v", EventPitchRise, r.Events)
		}
		if hasEvent(r, EventPitchFall) {
			t.Errorf("spurious fall: %+v", r.Events)
		}
	})
	t.Run("pause and loudness", func(t *testing.T) {
		amp := func(t float64) float64 {
			switch {
			case t < 1.5:
				return 0.05
			case t < 2.7:
				return 0
			default:
				return 0.5
			}
		}
		r := Analyze(synth(16000, 4.2, constant(200), amp), DefaultConfig())
		if !hasEvent(r, EventLongPause) {
			t.Errorf("no %s event: %+v", EventLongPause, r.Events)
		}
		if !hasEvent(r, EventLouder) || !hasEvent(r, EventQuieter) {
			t.Errorf("want louder and quieter events: %+v", r.Events)
		}
		if len(r.Pauses) != 1 || math.Abs(r.Pauses[0].End-r.Pauses[0].Start-1.2) > 0.1 {
			t.Errorf("pauses %+v, want one of 1.2 s", r.Pauses)
		}
		if r.VoicedSegments != 2 {
			t.Errorf("%d voiced segments, want 2", r.VoicedSegments)
		}
	})
}

func TestDegenerateInput(t *testing.T) {
	tests := []struct {
		name string
		a    Audio
	}{
		{"empty", Audio{Rate: 16000}},
		{"no rate", Audio{Samples: make([]float32, 100)}},
		{"10 ms", synth(16000, 0.01, constant(200), constant(0.5))},
		{"200 ms", synth(16000, 0.2, constant(200), constant(0.5))},
		{"digital silence", Audio{Samples: make([]float32, 16000), Rate: 16000}},
		{"white noise", noise(16000, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.a, DefaultConfig())
			if math.IsNaN(r.Intensity.Mean) || math.IsInf(r.Intensity.Mean, 0) {
				t.Errorf("intensity %v", r.Intensity.Mean)
			}
			if r.F0 == nil && (r.VoicedRatio != 0 || r.JitterLocal != nil) {
				t.Errorf("unvoiced report with voice measures: %+v", r)
			}
			switch tt.name {
			case "digital silence":
				if r.F0 != nil || r.Intensity.Mean != silenceDB {
					t.Errorf("silence: F0 %v, intensity %.1f", r.F0, r.Intensity.Mean)
				}
			case "white noise":
				if r.VoicedRatio > 0.2 {
					t.Errorf("noise voiced ratio %.2f", r.VoicedRatio)
				}
			case "200 ms":
				if r.F0 == nil || relDiff(r.F0.Mean, 200) > 0.02 {
					t.Errorf("200 ms tone: F0 %+v", r.F0)
				}
			}
		})
	}
}

func noise(rate int, dur float64) Audio {
	x := make([]float32, int(dur*float64(rate)))
	s := uint32(12345)
	for i := range x {
		s = s*1664525 + 1013904223
		x[i] = float32(int32(s)>>8) / (1 << 23) * 0.3
	}
	return Audio{Samples: x, Rate: rate}
}

func TestWAVRoundTrip(t *testing.T) {
	a := synth(8000, 0.1, constant(300), constant(0.8))
	var buf bytes.Buffer
	if err := WriteWAV(&buf, a); err != nil {
		t.Fatal(err)
	}
	b, err := ReadWAV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b.Rate != 8000 || len(b.Samples) != len(a.Samples) {
		t.Fatalf("got %d samples at %d Hz", len(b.Samples), b.Rate)
	}
	for i := range a.Samples {
		if math.Abs(float64(a.Samples[i]-b.Samples[i])) > 2.0/32767 {
			t.Fatalf("sample %d: %v != %v", i, b.Samples[i], a.Samples[i])
		}
	}
}

func TestReadWAVErrors(t *testing.T) {
	var good bytes.Buffer
	if err := WriteWAV(&good, Audio{Samples: make([]float32, 10), Rate: 16000}); err != nil {
		t.Fatal(err)
	}
	float24 := append([]byte(nil), good.Bytes()...)
	float24[20] = 3 // IEEE float with 16 bits: unsupported
	for name, data := range map[string][]byte{
		"empty":        nil,
		"not riff":     []byte("ID3\x04this is an mp3, not a wav file"),
		"no data":      good.Bytes()[:36],
		"bad format":   float24,
		"cut in chunk": append([]byte("RIFF\x00\x00\x00\x00WAVEjunk\xff\x00\x00\x00"), 1, 2),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadWAV(bytes.NewReader(data))
			if !errors.Is(err, ErrWAV) {
				t.Errorf("err = %v, want ErrWAV", err)
			}
		})
	}
}

func TestReadSharedWAV(t *testing.T) {
	a := readShared(t, "jfk.wav")
	if a.Rate != 16000 || math.Abs(a.Duration()-11) > 0.01 {
		t.Errorf("jfk.wav: %d Hz, %.3f s", a.Rate, a.Duration())
	}
}

func BenchmarkAnalyze(b *testing.B) {
	a, err := ReadWAVFile(sharedtest.Path(b, "reference", "media", "jfk.wav"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(a.Samples) * 4))
	for b.Loop() {
		Analyze(a, DefaultConfig())
	}
}

// TestDot checks the dot product the pitch tracker uses against a float64
// sum, at lengths around the vector kernel's block of 32.
func TestDot(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 33, 100, 640, 1001} {
		a, b := make([]float32, n), make([]float32, n+5)
		var want float64
		for i := range a {
			a[i] = float32(math.Sin(float64(i) * 0.37))
			b[i] = float32(math.Cos(float64(i) * 0.11))
			want += float64(a[i]) * float64(b[i])
		}
		if got := dot(a, b); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("n=%d: dot %g, want %g", n, got, want)
		}
		if got := dotGo(a, b); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("n=%d: dotGo %g, want %g", n, got, want)
		}
	}
}
