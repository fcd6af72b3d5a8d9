package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"emer/internal/media"
	"emer/internal/study"
	"emer/internal/table"
)

// Spec names the files a study is made from, as the organizer gives them.
type Spec struct {
	Name        string
	Clips       string            // folder of media files named after the clips
	GroundTruth string            // EMER CSV: names + reasons or chi_reasons
	Predictions []study.NamedFile // the same layout, one file per system
	Target      int
	Seed        int64
}

// mediaTypes are the media files a clip folder may hold, by extension,
// with the Content-Type they are served with.
var mediaTypes = map[string]string{
	".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
	".webm": "video/webm", ".mkv": "video/x-matroska", ".ogv": "video/ogg",
}

// subtitleColumns are the ground-truth CSV columns read as a clip's
// subtitle when it has no subtitle file or track, in order of preference.
var subtitleColumns = []string{"subtitles", "subtitle", "engsubs", "chisubs"}

// maxListed is how many names a message lists before counting the rest.
const maxListed = 5

// LoadDraft reads the files of spec into a study draft. Clips are the
// ground truth's names that have a media file in the folder; the others
// are counted in the warnings, as are media files no row names. A clip
// without a prediction of every system is an error, reported with the
// others found.
func LoadDraft(ctx context.Context, spec Spec) (study.Draft, []string, error) {
	var errs []error
	var warns []string
	d := study.Draft{Name: strings.TrimSpace(spec.Name), Target: spec.Target, Seed: spec.Seed}
	if spec.Clips == "" || spec.GroundTruth == "" {
		return d, nil, errors.New("give the clips folder and the ground-truth CSV")
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	d.Sources = study.Sources{Clips: abs(spec.Clips), GroundTruth: abs(spec.GroundTruth)}
	gt, err := readReasons(spec.GroundTruth)
	if err != nil {
		errs = append(errs, err)
	}
	if len(spec.Predictions) == 0 {
		errs = append(errs, errors.New("give at least one system's predictions (NAME=FILE)"))
	}
	type system struct {
		name string
		t    *table.Table
	}
	var systems []system
	seen := map[string]bool{}
	for _, p := range spec.Predictions {
		switch {
		case !study.ValidSystemName(p.Name):
			errs = append(errs, fmt.Errorf("system name %q: use letters, digits and _ . + -, up to 64", excerpt(p.Name)))
			continue
		case strings.EqualFold(p.Name, "ground_truth"):
			errs = append(errs, errors.New("system name ground_truth is taken by the ground truth in the ratings CSV: call the system something else"))
			continue
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("system %s is given twice", p.Name))
			continue
		}
		seen[p.Name] = true
		t, err := readReasons(p.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		systems = append(systems, system{p.Name, t})
		d.Sources.Predictions = append(d.Sources.Predictions, study.NamedFile{Name: p.Name, Path: abs(p.Path)})
	}
	files, err := clipFiles(spec.Clips)
	if err != nil {
		errs = append(errs, err)
	}
	if gt == nil || files == nil {
		return d, warns, errors.Join(errs...)
	}

	gtCol, _ := gt.RequireOneOf("reasons", "chi_reasons")
	subCol := ""
	for _, c := range subtitleColumns {
		if gt.Has(c) {
			subCol = c
			break
		}
	}
	var noMedia []string
	missing := map[string][]string{} // system -> clips it lacks
	used := map[string]bool{}
	for _, row := range gt.Rows {
		name := row.Name()
		path, ok := files[name]
		if !ok {
			noMedia = append(noMedia, name)
			continue
		}
		used[name] = true
		c := study.DraftClip{Name: name, Media: abs(path), Subtitles: study.Subtitles{Text: strings.TrimSpace(row.Get(subCol))}}
		c.Candidates = append(c.Candidates, study.DraftCandidate{Source: study.GroundTruth, Text: strings.TrimSpace(row.Get(gtCol))})
		for _, s := range systems {
			col, _ := s.t.RequireOneOf("reasons", "chi_reasons")
			pr, ok := s.t.Lookup(name)
			text := strings.TrimSpace(pr.Get(col))
			if !ok || text == "" {
				missing[s.name] = append(missing[s.name], name)
				continue
			}
			c.Candidates = append(c.Candidates, study.DraftCandidate{Source: s.name, Text: text})
		}
		d.Clips = append(d.Clips, c)
	}
	for _, s := range systems {
		if m := missing[s.name]; len(m) > 0 {
			errs = append(errs, fmt.Errorf("%s: no prediction (or an empty one) for %d clips of the study: %s", s.t.Path, len(m), table.ListNames(m, maxListed)))
		}
	}
	if len(noMedia) > 0 {
		warns = append(warns, fmt.Sprintf("%d clips of %s have no media file in %s and are left out: %s", len(noMedia), spec.GroundTruth, spec.Clips, table.ListNames(noMedia, maxListed)))
	}
	var unnamed []string
	for name := range files {
		if !used[name] {
			unnamed = append(unnamed, name)
		}
	}
	slices.Sort(unnamed)
	if len(unnamed) > 0 {
		warns = append(warns, fmt.Sprintf("%d media files of %s are not in the ground truth and are left out: %s", len(unnamed), spec.Clips, table.ListNames(unnamed, maxListed)))
	}
	if len(errs) > 0 {
		return d, warns, errors.Join(errs...)
	}
	w, err := addSubtitles(ctx, d.Clips)
	warns = append(warns, w...)
	if err != nil {
		return d, warns, err
	}
	return d, warns, d.Check()
}

// readReasons reads an EMER CSV with a reasons or chi_reasons column.
func readReasons(path string) (*table.Table, error) {
	t, err := table.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := t.RequireOneOf("reasons", "chi_reasons"); err != nil {
		return nil, err
	}
	return t, nil
}

// clipFiles returns the media files of dir by clip name.
func clipFiles(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("clips folder: %w", err)
	}
	out := map[string]string{}
	var twice []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if _, ok := mediaTypes[ext]; !ok || !e.Type().IsRegular() {
			continue
		}
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if _, ok := out[name]; ok {
			twice = append(twice, name)
			continue
		}
		out[name] = filepath.Join(dir, e.Name())
	}
	if len(twice) > 0 {
		return nil, fmt.Errorf("clips folder %s: %d clips have two media files (one per clip, please): %s", dir, len(twice), table.ListNames(twice, maxListed))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("clips folder %s holds no media files (%s)", dir, strings.Join(slices.Sorted(maps.Keys(mediaTypes)), " "))
	}
	return out, nil
}

// addSubtitles gives each clip the timed cues of its sidecar .srt/.vtt
// file or embedded text track, where it has one; the ground truth's
// subtitle text stays as the text when there is one.
func addSubtitles(ctx context.Context, clips []study.DraftClip) ([]string, error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	var mu sync.Mutex
	var noFFmpeg bool
	var bad []error
	for i := range clips {
		c := &clips[i]
		g.Go(func() error {
			subs, err := media.FindSubtitles(ctx, c.Media)
			switch {
			case errors.Is(err, media.ErrNoStream):
				return nil
			case errors.Is(err, media.ErrNoFFmpeg):
				mu.Lock()
				noFFmpeg = true
				mu.Unlock()
				return nil
			case err != nil:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				mu.Lock()
				bad = append(bad, err)
				mu.Unlock()
				return nil
			}
			for _, q := range subs.Cues {
				c.Subtitles.Cues = append(c.Subtitles.Cues, study.Cue{Start: q.Start, End: q.End, Text: q.Text})
			}
			if c.Subtitles.Text == "" {
				c.Subtitles.Text = subs.Text()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var warns []string
	if noFFmpeg {
		warns = append(warns, "ffprobe is not installed: subtitle tracks inside the clips were not read")
	}
	if len(bad) > maxListed {
		bad = append(bad[:maxListed], fmt.Errorf("and %d more clips", len(bad)-maxListed))
	}
	return warns, errors.Join(bad...)
}

// excerpt returns at most the first 40 characters of s.
func excerpt(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
