package unibench

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"emer/internal/npy"
)

// Labels is one dataset's test labels.
type Labels struct {
	Path    string
	Names   []string           // sorted
	Emotion map[string]string  // clip -> emotion word (lower case)
	Valence map[string]float64 // clip -> valence, where the file has one
}

// ReadLabels reads the dataset's split from a MER-UniBench label file: a
// dict from clip name to {"emo": str or class index, "val": number}.
func ReadLabels(d Dataset, path string) (*Labels, error) {
	arc, err := npy.ReadArchive(path, d.Split)
	if err != nil {
		return nil, err
	}
	a, err := arc.Get(d.Split)
	if err != nil {
		return nil, err
	}
	v, err := a.Item()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", path, d.Split, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s is %s, want a dict of clips", path, d.Split, npy.TypeName(v))
	}
	l := &Labels{Path: path, Emotion: map[string]string{}, Valence: map[string]float64{}}
	var errs []string
	for name, e := range m {
		if d.NamePrefix != "" && !strings.HasPrefix(name, d.NamePrefix) {
			continue
		}
		entry, ok := e.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s is %s, want a dict", name, npy.TypeName(e)))
			continue
		}
		l.Names = append(l.Names, name)
		if d.Kind == Emotion {
			emo, err := emotion(d, entry["emo"])
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: emo: %v", name, err))
				continue
			}
			l.Emotion[name] = emo
		} else {
			val, ok := number(entry["val"])
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: val is %s, want a number", name, npy.TypeName(entry["val"])))
				continue
			}
			l.Valence[name] = val
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		if len(errs) > 5 {
			errs = append(errs[:5], fmt.Sprintf("and %d more", len(errs)-5))
		}
		return nil, fmt.Errorf("%s: %s: %s", path, d.Split, strings.Join(errs, "; "))
	}
	if len(l.Names) == 0 {
		return nil, fmt.Errorf("%s: %s holds no clips%s", path, d.Split, prefixNote(d))
	}
	sort.Strings(l.Names)
	return l, nil
}

func prefixNote(d Dataset) string {
	if d.NamePrefix == "" {
		return ""
	}
	return fmt.Sprintf(" named %s*", d.NamePrefix)
}

func emotion(d Dataset, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return strings.ToLower(strings.TrimSpace(x)), nil
	case int64:
		if d.Classes == nil {
			return "", fmt.Errorf("class index %d, but %s labels are words", x, d.Title)
		}
		if x < 0 || int(x) >= len(d.Classes) {
			return "", fmt.Errorf("class index %d outside 0..%d", x, len(d.Classes)-1)
		}
		return d.Classes[x], nil
	}
	return "", fmt.Errorf("is %s, want a word or a class index", npy.TypeName(v))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case int64:
		return float64(x), true
	}
	return 0, false
}
