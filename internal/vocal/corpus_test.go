package vocal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/voice"
)

const labelsHead = "name,file,emotion,intensity,statement,repetition,actor,gender,source_sha256\n"

// writeCorpus lays out a corpus in a temporary folder: labels.csv with the
// given rows, and a synthetic voice for every file named in them.
func writeCorpus(t *testing.T, labels string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "audio"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, LabelsFile), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		var b bytes.Buffer
		if err := voice.WriteWAV(&b, synthVoice(16000, 1.5, 120+20*float64(i), 140+20*float64(i))); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadCorpus(t *testing.T) {
	labels := labelsHead +
		"a,audio/a.wav,happy,normal,Kids,01,01,male,x\n" +
		"b,audio/b.wav,sad,strong,Dogs,01,02,female,y\n"
	dir := writeCorpus(t, labels, "audio/a.wav", "audio/b.wav")
	c, err := LoadCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Clip{
		{Name: "a", File: "audio/a.wav", Emotion: Happy, Actor: "01", Gender: "male"},
		{Name: "b", File: "audio/b.wav", Emotion: Sad, Actor: "02", Gender: "female"},
	}
	if diff := cmp.Diff(want, c.Clips); diff != "" {
		t.Errorf("clips (-want +got):\n%s", diff)
	}
	ls := sha256.Sum256([]byte(labels))
	h := sha256.New()
	for _, f := range []string{"a.wav", "b.wav"} {
		b, err := os.ReadFile(filepath.Join(dir, "audio", f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	if got, want := c.LabelsSHA256, hex.EncodeToString(ls[:]); got != want {
		t.Errorf("labels SHA-256 %s, want %s", got, want)
	}
	if got, want := c.AudioSHA256, hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("audio SHA-256 %s, want %s", got, want)
	}
	samples, err := c.Measure(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 2 || samples[0].Name != "a" || samples[1].Name != "b" {
		t.Fatalf("samples out of order: %+v", samples)
	}
	// The second voice is 20 Hz higher: about 2.6 semitones.
	if d := samples[1].Features["f0_median"] - samples[0].Features["f0_median"]; math.Abs(d-12*math.Log2(150.0/130)) > 0.5 {
		t.Errorf("F0 difference %.2f st, want %.2f", d, 12*math.Log2(150.0/130))
	}
}

func TestLoadCorpusErrors(t *testing.T) {
	tests := []struct {
		name   string
		labels string
		files  []string
		want   []string
	}{
		{"no emotion or gender column", "name,file,actor\na,audio/a.wav,01\n", []string{"audio/a.wav"},
			[]string{"labels.csv:1: no column emotion, gender"}},
		{"unknown emotions, each with its line", labelsHead +
			"a,audio/a.wav,joyful,normal,Kids,01,01,male,x\n" +
			"b,audio/b.wav,sad,normal,Kids,01,01,male,x\n" +
			"c,audio/c.wav,bored,normal,Kids,01,01,male,x\n", []string{"audio/a.wav", "audio/b.wav", "audio/c.wav"},
			[]string{`labels.csv:2: unknown emotion "joyful"`, `labels.csv:4: unknown emotion "bored"`}},
		{"no clips", labelsHead, nil, []string{"labels.csv: no clips"}},
		{"missing audio", labelsHead + "a,audio/a.wav,sad,normal,Kids,01,01,male,x\n", nil, []string{"audio/a.wav"}},
		{"ragged row", labelsHead + "a,audio/a.wav,sad\n", []string{"audio/a.wav"}, []string{"labels.csv", "wrong number of fields"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeCorpus(t, tt.labels, tt.files...)
			_, err := LoadCorpus(dir)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestMeasureNamesTheClip(t *testing.T) {
	dir := writeCorpus(t, labelsHead+"a,audio/a.wav,sad,normal,Kids,01,01,male,x\n", "audio/a.wav")
	c, err := LoadCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := voice.WriteWAV(&b, voice.Audio{Samples: make([]float32, 16000), Rate: 16000}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audio", "a.wav"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = c.Measure(context.Background(), 1)
	if !errors.Is(err, ErrNoVoice) || !strings.Contains(err.Error(), filepath.Join(dir, "audio", "a.wav")) {
		t.Errorf("err %v, want ErrNoVoice naming the file", err)
	}
}
