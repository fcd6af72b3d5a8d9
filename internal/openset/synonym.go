package openset

import (
	"archive/zip"
	"fmt"
	"path"
	"strings"

	"emer/internal/labels"
	"emer/internal/metric"
	"emer/internal/npy"
)

// Synonyms holds, per sample, the GPT synonym groups of the MER2024
// open-vocabulary evaluation: every label of the sample's ground truth and
// prediction belongs to one group, and a group stands for its first member.
type Synonyms map[string][][]string

// Limits on a synonym zip, in uncompressed bytes: a released member holds
// under 1 KB, the whole archive 130 KB.
const (
	maxSynonymMember = 1 << 20
	maxSynonymTotal  = 128 << 20
)

// ReadSynonyms reads a zip of per-sample .npy files (one string each, a
// list of label lists), named after their samples.
func ReadSynonyms(file string) (Synonyms, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (truncated or not a zip file): %v", file, npy.ErrArchive, err)
	}
	defer zr.Close()
	var members []*zip.File
	var total uint64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".npy") {
			continue
		}
		members = append(members, f)
		total += min(f.UncompressedSize64, maxSynonymTotal+1)
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("%s: no .npy members: not a zip of synonym groups (it holds %d other files)", file, len(zr.File))
	}
	if total > maxSynonymTotal {
		return nil, fmt.Errorf("%s: %w: its members hold more than the %d MiB limit uncompressed", file, npy.ErrArchive, maxSynonymTotal>>20)
	}
	out := make(Synonyms, len(members))
	for _, f := range members {
		name := strings.TrimSuffix(path.Base(f.Name), ".npy")
		groups, err := readGroups(f)
		if err != nil {
			return nil, fmt.Errorf("%s: member %s: %w", file, f.Name, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s: member %s: second file for sample %q", file, f.Name, name)
		}
		out[name] = groups
	}
	return out, nil
}

func readGroups(f *zip.File) ([][]string, error) {
	data, err := npy.ReadMember(f, maxSynonymMember)
	if err != nil {
		return nil, err
	}
	a, err := npy.Decode(data)
	if err != nil {
		return nil, err
	}
	v, err := a.Item()
	if err != nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("holds %s, want a string", npy.TypeName(v))
	}
	return labels.ParseGroups(s)
}

// Canonical maps each label to the first member of the first group that
// holds it, dropping labels no group holds, and returns the distinct
// results.
func Canonical(groups [][]string, ls []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range ls {
		for _, g := range groups {
			if contains(g, l) {
				if !seen[g[0]] {
					seen[g[0]] = true
					out = append(out, g[0])
				}
				break
			}
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// SynonymResult is the MER2024 open-vocabulary score.
type SynonymResult struct {
	Samples   int     `json:"samples"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Mean      float64 `json:"mean"`
}

// WarnNoGroups counts samples that have no synonym file.
const WarnNoGroups = "samples without synonym groups, scored without them"

// ScoreSynonyms computes the MER2024 metric: labels replaced by their
// group's first member, set precision and recall averaged over samples,
// and their arithmetic mean.
func ScoreSynonyms(syn Synonyms, pairs []Pair, w *Warnings) SynonymResult {
	gt := make([][]string, len(pairs))
	pred := make([][]string, len(pairs))
	for i, p := range pairs {
		groups, ok := syn[p.Name]
		if !ok {
			w.Add(WarnNoGroups, p.Name)
			groups = singletons(p.GT, p.Pred)
		}
		gt[i] = Canonical(groups, p.GT)
		pred[i] = Canonical(groups, p.Pred)
	}
	r := metric.SetOverlap(gt, pred)
	return SynonymResult{Samples: r.Samples, Precision: r.Precision, Recall: r.Recall, Mean: (r.Precision + r.Recall) / 2}
}

// singletons gives every label a group of its own, so that a sample
// without synonym groups is scored by exact label match.
func singletons(lists ...[]string) [][]string {
	var out [][]string
	for _, l := range lists {
		for _, x := range l {
			out = append(out, []string{x})
		}
	}
	return out
}
