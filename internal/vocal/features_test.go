package vocal

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"emer/internal/sharedtest"
	"emer/internal/voice"
)

// synthVoice is a vowel-like voice of dur seconds: a glottal pulse train
// whose F0 glides linearly from f0a to f0b Hz, through resonators at
// 600, 1200 and 2500 Hz, in syllables of 0.25 s voiced and 0.05 s quiet,
// with a little noise.
func synthVoice(rate int, dur, f0a, f0b float64) voice.Audio {
	n := int(dur * float64(rate))
	src := make([]float64, n)
	phase := 0.0
	for i := range src {
		t := float64(i) / float64(rate)
		f0 := f0a + (f0b-f0a)*t/dur
		phase += f0 / float64(rate)
		if phase >= 1 {
			phase--
			src[i] = 1
		}
	}
	x := src
	for _, fb := range [][2]float64{{600, 80}, {1200, 100}, {2500, 150}} {
		r := math.Exp(-math.Pi * fb[1] / float64(rate))
		a1, a2 := 2*r*math.Cos(2*math.Pi*fb[0]/float64(rate)), -r*r
		y := make([]float64, n)
		for i := range y {
			y[i] = x[i]
			if i > 0 {
				y[i] += a1 * y[i-1]
			}
			if i > 1 {
				y[i] += a2 * y[i-2]
			}
		}
		x = y
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var peak float64
	for _, v := range x {
		peak = math.Max(peak, math.Abs(v))
	}
	out := make([]float32, n)
	for i, v := range x {
		t := float64(i) / float64(rate)
		env := 0.0
		if math.Mod(t, 0.3) < 0.25 {
			env = math.Sin(math.Pi * math.Mod(t, 0.3) / 0.25)
		}
		out[i] = float32(0.5*env*v/peak + 0.001*rng.NormFloat64())
	}
	return voice.Audio{Samples: out, Rate: rate}
}

func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Catalog() {
		if seen[f.Name] {
			t.Errorf("feature %s listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Description == "" {
			t.Errorf("feature %s has no description", f.Name)
		}
		if got, ok := Info(f.Name); !ok || got != f {
			t.Errorf("Info(%s) = %+v, %v", f.Name, got, ok)
		}
	}
	groups := map[string]string{
		"f0_range": GroupPitch, "intensity_voiced_contrast": GroupLoudness, "cpp": GroupQuality,
		"syllable_rate": GroupTiming, "unvoiced_run": GroupTiming, "f2_bandwidth": GroupFormants,
		"centroid_unvoiced": GroupSpectrum, "band_0_500": GroupSpectrum, "mfcc3_sd": GroupCepstrum,
	}
	known := []string{GroupPitch, GroupLoudness, GroupQuality, GroupTiming, GroupFormants, GroupSpectrum, GroupCepstrum}
	for _, f := range Catalog() {
		if !slices.Contains(known, f.Group) {
			t.Errorf("feature %s in group %q", f.Name, f.Group)
		}
		if want, ok := groups[f.Name]; ok && f.Group != want {
			t.Errorf("feature %s in group %q, want %q", f.Name, f.Group, want)
		}
	}
	f, err := Measure(synthVoice(16000, 2, 150, 150))
	if err != nil {
		t.Fatal(err)
	}
	for name := range f {
		if !seen[name] {
			t.Errorf("Measure computes %s, which is not in the catalog", name)
		}
	}
	for name := range seen {
		if _, ok := f[name]; !ok {
			t.Errorf("Measure does not compute %s", name)
		}
	}
	if _, ok := Info("loudness"); ok {
		t.Error("Info knows a feature that does not exist")
	}
}

func TestMeasureSynthetic(t *testing.T) {
	const dur = 3.0
	f, err := Measure(synthVoice(16000, dur, 120, 180))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Catalog() {
		if v := f[c.Name]; math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s = %v on a clean voice", c.Name, v)
		}
	}
	// The glide is linear in Hz; its median frequency is about 150 Hz.
	if want := 12 * math.Log2(150.0/100); math.Abs(f["f0_median"]-want) > 0.5 {
		t.Errorf("f0_median %.2f st, want %.2f", f["f0_median"], want)
	}
	// 7 semitones over 3 s, about 2.3 st/s.
	if want := 12 * math.Log2(180.0/120) / dur; math.Abs(f["f0_slope"]-want) > 0.3 {
		t.Errorf("f0_slope %.2f st/s, want %.2f", f["f0_slope"], want)
	}
	if f["f0_rise"] <= f["f0_fall"] {
		t.Errorf("rising voice: f0_rise %.2f not above f0_fall %.2f", f["f0_rise"], f["f0_fall"])
	}
	// Ten syllables over 3 s.
	if r := f["syllable_rate"]; r < 2.5 || r > 4 {
		t.Errorf("syllable_rate %.2f /s, want about 3.3", r)
	}
	if v := f["voiced_fraction"]; v < 0.6 || v > 0.95 {
		t.Errorf("voiced_fraction %.2f", v)
	}
	for k, want := range map[string]float64{"f1": 600, "f2": 1200, "f3": 2500} {
		if math.Abs(f[k]-want) > 0.12*want {
			t.Errorf("%s %.0f Hz, want about %.0f", k, f[k], want)
		}
	}
	if f["hnr"] < 10 {
		t.Errorf("hnr %.1f dB on a clean periodic voice", f["hnr"])
	}
}

func TestMeasureNoVoice(t *testing.T) {
	tests := []struct {
		name string
		a    voice.Audio
	}{
		{"silence", voice.Audio{Samples: make([]float32, 32000), Rate: 16000}},
		{"empty", voice.Audio{Rate: 16000}},
		{"a tenth of a second", func() voice.Audio {
			a := voice.Audio{Samples: make([]float32, 32000), Rate: 16000}
			copy(a.Samples[16000:], synthVoice(16000, 0.1, 150, 150).Samples)
			return a
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Measure(tt.a); !errors.Is(err, ErrNoVoice) {
				t.Errorf("err %v, want ErrNoVoice", err)
			}
		})
	}
}

// TestMeasureAgreesWithCues checks that the measures the cue extraction
// reports (voice.Analyze) enter the features unchanged.
func TestMeasureAgreesWithCues(t *testing.T) {
	for _, name := range []string{"jfk.wav", "test16k.wav"} {
		t.Run(name, func(t *testing.T) {
			a, err := voice.ReadWAVFile(sharedtest.Path(t, "reference", "media", name))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Measure(a)
			if err != nil {
				t.Fatal(err)
			}
			r := voice.Analyze(a, voice.DefaultConfig())
			if r.JitterLocal == nil || r.ShimmerLocal == nil {
				t.Fatal("no jitter or shimmer in the report")
			}
			// The report's own pitch track, as the cue extraction passes
			// it, gives exactly the features of a fresh tracking.
			ft, err := MeasureTrack(a, r.Pitch)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(nanToZero(ft), nanToZero(f)) {
				t.Errorf("MeasureTrack with the report's pitch track differs from Measure:\n%v\n%v", ft, f)
			}
			checks := []struct {
				feature   string
				got, want float64
			}{
				{"jitter", f["jitter"], 100 * *r.JitterLocal},
				{"shimmer", f["shimmer"], 100 * *r.ShimmerLocal},
				{"speech_rate", f["speech_rate"], r.SpeechRate},
				{"voiced_fraction·span", f["voiced_fraction"] * (r.SpeechEnd - r.SpeechStart), r.VoicedRatio * r.Duration},
			}
			for _, c := range checks {
				// voiced_fraction is over the speech span and VoicedRatio
				// over all frames: the voiced time they imply agrees to a
				// frame or two.
				tol := 1e-9 * math.Abs(c.want)
				if c.feature == "voiced_fraction·span" {
					tol = 0.03
				}
				if math.Abs(c.got-c.want) > tol {
					t.Errorf("%s %.12g, the cues say %.12g", c.feature, c.got, c.want)
				}
			}
			if f0 := 100 * math.Pow(2, f["f0_median"]/12); f0 < r.F0.Min || f0 > r.F0.Max {
				t.Errorf("median F0 %.1f Hz outside the report's %.1f..%.1f", f0, r.F0.Min, r.F0.Max)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{4, 1, 3, 2}
	tests := []struct{ p, want float64 }{{0, 1}, {50, 2.5}, {10, 1.3}, {90, 3.7}, {100, 4}}
	for _, tt := range tests {
		if got := percentile(v, tt.p); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("percentile %g = %g, want %g", tt.p, got, tt.want)
		}
	}
	if !slices.Equal(v, []float64{4, 1, 3, 2}) {
		t.Errorf("percentile sorted its input: %v", v)
	}
	if !math.IsNaN(percentile(nil, 50)) || !math.IsNaN(slope([]float64{1, 2}, []float64{1, 2})) || !math.IsNaN(sd([]float64{1})) {
		t.Error("statistics of too few values are not NaN")
	}
}

// nanToZero returns f with NaN measures as 0, for comparisons.
func nanToZero(f Features) Features {
	out := Features{}
	for k, v := range f {
		if math.IsNaN(v) {
			v = 0
		}
		out[k] = v
	}
	return out
}
