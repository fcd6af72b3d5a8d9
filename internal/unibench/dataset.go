package unibench

import (
	"fmt"
	"sort"
	"strings"
)

// Kind tells how a dataset is scored.
type Kind int

// Dataset kinds.
const (
	Emotion   Kind = iota // hit rate over the emotion wheels
	Sentiment             // weighted F1 and accuracy of valence sign
)

// Metric names as they appear in results.
const (
	MetricHitRate    = "hit_rate"
	MetricWeightedF1 = "weighted_f1"
)

// Dataset describes one MER-UniBench test set and where its files are.
type Dataset struct {
	Name       string   // command-line name: "mer2023", "mosi", ...
	Title      string   // name in tables: "MER2023", "MOSI", ...
	LabelFile  string   // file in the labels folder
	Split      string   // array of the label file to read
	NamePrefix string   // keep only clips whose name starts with it ("" for all)
	Classes    []string // emotion names of integer labels (nil for string labels)
	Kind       Kind
	Outputs    string // folder of a model's outputs: "results-mer2023"
}

// Metric returns the dataset's main metric name.
func (d Dataset) Metric() string {
	if d.Kind == Sentiment {
		return MetricWeightedF1
	}
	return MetricHitRate
}

// Suffix is the ending of a checkpoint's prediction file for the dataset.
func (d Dataset) Suffix() string {
	if d.Kind == Sentiment {
		return "-openset-sentiment.npz"
	}
	return "-openset.npz"
}

// Datasets lists MER-UniBench in the column order of Table 2.
var Datasets = []Dataset{
	{Name: "mer2023", Title: "MER2023", LabelFile: "mer2023-dataset-process_label-6way.npz", Split: "test1_corpus", Kind: Emotion, Outputs: "results-mer2023"},
	{Name: "meld", Title: "MELD", LabelFile: "meld-process_label.npz", Split: "test_corpus", Kind: Emotion, Outputs: "results-meld",
		Classes: []string{"anger", "joy", "sadness", "neutral", "disgust", "fear", "surprise"}},
	{Name: "iemocap", Title: "IEMOCAP", LabelFile: "iemocap-process_label_4way.npz", Split: "whole_corpus", NamePrefix: "Ses05", Kind: Emotion, Outputs: "results-iemocapfour",
		Classes: []string{"happy", "sad", "neutral", "anger"}},
	{Name: "mosi", Title: "MOSI", LabelFile: "cmumosi-process_label.npz", Split: "test_corpus", Kind: Sentiment, Outputs: "results-cmumosi"},
	{Name: "mosei", Title: "MOSEI", LabelFile: "cmumosei-process_label.npz", Split: "test_corpus", Kind: Sentiment, Outputs: "results-cmumosei"},
	{Name: "sims", Title: "SIMS", LabelFile: "sims-process_label.npz", Split: "test_corpus", Kind: Sentiment, Outputs: "results-sims"},
	{Name: "simsv2", Title: "SIMSv2", LabelFile: "simsv2-process_label.npz", Split: "test_corpus", Kind: Sentiment, Outputs: "results-simsv2"},
}

// unlabelled names output folders of sets whose labels are not among the
// released MER-UniBench label files, with the reason.
var unlabelled = map[string]string{
	"results-mer2024":     "MER2024 is scored by hit rate, but its test labels are not among the released MER-UniBench label files",
	"results-ovmerd":      "OV-MERD is an open-vocabulary set: score it with `emer score ov`",
	"results-ovmerdplus":  "OV-MERD+ is an open-vocabulary set: score it with `emer score ov`",
	"results-mercaptionp": "MER-Caption+ is an open-vocabulary set: score it with `emer score ov`",
}

// Names returns the dataset names in table order.
func Names() []string {
	out := make([]string, len(Datasets))
	for i, d := range Datasets {
		out[i] = d.Name
	}
	return out
}

// Lookup finds a dataset by its command-line name (case-insensitive).
func Lookup(name string) (Dataset, error) {
	for _, d := range Datasets {
		if strings.EqualFold(d.Name, name) {
			return d, nil
		}
	}
	return Dataset{}, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
}

// ForOutputs finds the dataset of a model-output folder name, or says why
// there is none.
func ForOutputs(dir string) (Dataset, string) {
	for _, d := range Datasets {
		if d.Outputs == dir {
			return d, ""
		}
	}
	if why, ok := unlabelled[dir]; ok {
		return Dataset{}, why
	}
	known := make([]string, len(Datasets))
	for i, d := range Datasets {
		known[i] = d.Outputs
	}
	sort.Strings(known)
	return Dataset{}, fmt.Sprintf("not a MER-UniBench output folder (known: %s)", strings.Join(known, ", "))
}
