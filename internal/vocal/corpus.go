package vocal

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"emer/internal/voice"
)

// LabelsFile is the label table of a calibration corpus.
const LabelsFile = "labels.csv"

// Clip is one labelled recording of a calibration corpus.
type Clip struct {
	Name    string
	File    string // relative to the corpus folder
	Emotion Emotion
	Actor   string
	Gender  string
}

// Corpus is a folder of labelled emotional speech laid out as
// ravdess-calib: labels.csv with columns name, file, emotion, actor and
// gender (others are ignored), and the WAV files it names.
type Corpus struct {
	Dir   string
	Clips []Clip
	// LabelsSHA256 is the SHA-256 of labels.csv; AudioSHA256 that of the
	// audio files concatenated in the order labels.csv lists them.
	LabelsSHA256 string
	AudioSHA256  string
}

// LoadCorpus reads the labels of the corpus in dir and hashes its files.
func LoadCorpus(dir string) (*Corpus, error) {
	path := filepath.Join(dir, LabelsFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	c := &Corpus{Dir: dir, LabelsSHA256: hex.EncodeToString(sum[:])}
	r := csv.NewReader(strings.NewReader(string(raw)))
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, want := range []string{"name", "file", "emotion", "actor", "gender"} {
		if _, ok := col[want]; !ok {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: no column %s", path, strings.Join(missing, ", "))
	}
	var errs []error
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		e, err := ParseEmotion(rec[col["emotion"]])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", path, line, err))
			continue
		}
		c.Clips = append(c.Clips, Clip{
			Name: rec[col["name"]], File: rec[col["file"]], Emotion: e,
			Actor: rec[col["actor"]], Gender: rec[col["gender"]],
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(c.Clips) == 0 {
		return nil, fmt.Errorf("%s: no clips", path)
	}
	h := sha256.New()
	for _, cl := range c.Clips {
		f, err := os.Open(filepath.Join(dir, cl.File))
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cl.File, err)
		}
	}
	c.AudioSHA256 = hex.EncodeToString(h.Sum(nil))
	return c, nil
}

// Sample is a clip with its measured features.
type Sample struct {
	Clip
	Features Features
}

// Measure decodes every clip and measures its features, workers at a time
// (at least one). Samples come back in the corpus's order.
func (c *Corpus) Measure(ctx context.Context, workers int) ([]Sample, error) {
	out := make([]Sample, len(c.Clips))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for i, cl := range c.Clips {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			path := filepath.Join(c.Dir, cl.File)
			a, err := voice.ReadWAVFile(path)
			if err != nil {
				return err
			}
			f, err := Measure(a)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			out[i] = Sample{Clip: cl, Features: f}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
