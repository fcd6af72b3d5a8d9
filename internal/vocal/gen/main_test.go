package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/vocal"
	"emer/internal/voice"
)

// tinyCorpus writes a corpus of four actors, one clip of each emotion,
// each a synthetic voice at a pitch of its own.
func tinyCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "audio"), 0o755); err != nil {
		t.Fatal(err)
	}
	var labels strings.Builder
	labels.WriteString("name,file,emotion,actor,gender\n")
	for a := 1; a <= 4; a++ {
		gender := map[bool]string{true: "male", false: "female"}[a%2 == 1]
		for e, em := range vocal.Emotions {
			name := fmt.Sprintf("%02d-%d", a, e)
			f0 := 100 + 10*float64(e) + 60*float64(a%2)
			var b bytes.Buffer
			if err := voice.WriteWAV(&b, tone(f0)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "audio", name+".wav"), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&labels, "%s,audio/%s.wav,%s,%02d,%s\n", name, name, em, a, gender)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(labels.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tone is a second of a buzzy voice at f0 Hz in four syllables.
func tone(f0 float64) voice.Audio {
	const rate = 16000
	a := voice.Audio{Samples: make([]float32, rate), Rate: rate}
	for i := range a.Samples {
		t := float64(i) / rate
		var v float64
		for k := 1; k <= 10; k++ {
			v += math.Sin(2*math.Pi*f0*float64(k)*t) / float64(k)
		}
		if math.Mod(t, 0.25) < 0.2 {
			a.Samples[i] = float32(0.2 * v * math.Sin(math.Pi*math.Mod(t, 0.25)/0.2))
		}
	}
	return a
}

func TestRun(t *testing.T) {
	dir := tinyCorpus(t)
	out := filepath.Join(t.TempDir(), "model.json")
	var stdout, stderr bytes.Buffer
	o := options{data: dir, out: out, workers: 2, stdout: &stdout, stderr: &stderr}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := vocal.ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Provenance; p.Clips != 32 || p.Data != filepath.Base(dir) || p.CV == nil {
		t.Errorf("provenance %+v", p)
	}
	if !strings.Contains(stderr.String(), "wrote "+out) {
		t.Errorf("stderr %q", stderr.String())
	}

	stdout.Reset()
	o.cv, o.out = true, filepath.Join(t.TempDir(), "not-written.json")
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"32 clips", "surprised", "accuracy", "confusion (rows: portrayed, columns: predicted)", "folds"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("-cv output lacks %q:\n%s", want, stdout.String())
		}
	}
	if _, err := os.Stat(o.out); !os.IsNotExist(err) {
		t.Errorf("-cv wrote a model file: %v", err)
	}
}

func TestRunMissingData(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), options{data: filepath.Join(t.TempDir(), "none"), out: "x", workers: 1, stdout: &out, stderr: &out})
	if err == nil || !strings.Contains(err.Error(), "labels.csv") {
		t.Errorf("err %v, want one naming labels.csv", err)
	}
}
