package judge

import (
	"math"
	"sort"
)

// Judged is one judged item as Summarize reads it.
type Judged struct {
	Sample, System string
	Metric         Metric
	Status         Status
	Score          *float64 // set only when Status is ok
}

// MetricSummary sums up one system on one metric.
type MetricSummary struct {
	Mean    *float64 `json:"mean"`   // null when no sample has a score
	Stderr  *float64 `json:"stderr"` // standard error of the mean; null with fewer than two scores
	NScored int      `json:"n_scored"`
	NFailed int      `json:"n_failed"` // samples judged but with no ok reply
}

// SampleScores returns each sample's score for one system and metric: the
// median of its ok repeats. Samples without an ok repeat are absent.
func SampleScores(items []Judged, system string, m Metric) map[string]float64 {
	oks := map[string][]float64{}
	for _, it := range items {
		if it.System == system && it.Metric == m && it.Status == StatusOK && it.Score != nil {
			oks[it.Sample] = append(oks[it.Sample], *it.Score)
		}
	}
	out := make(map[string]float64, len(oks))
	for s, v := range oks {
		out[s] = Median(v)
	}
	return out
}

// Median returns the median of v (the mean of the two middle values when
// len(v) is even). v must not be empty.
func Median(v []float64) float64 {
	v = append([]float64(nil), v...)
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Summarize computes, per system and metric, the mean and standard error
// of the sample scores (see SampleScores), how many samples have a score
// and how many were judged without getting one.
func Summarize(items []Judged, systems []string, metrics []Metric) map[string]map[Metric]MetricSummary {
	judged := map[string]map[Metric]map[string]bool{} // system -> metric -> samples
	for _, it := range items {
		if judged[it.System] == nil {
			judged[it.System] = map[Metric]map[string]bool{}
		}
		if judged[it.System][it.Metric] == nil {
			judged[it.System][it.Metric] = map[string]bool{}
		}
		judged[it.System][it.Metric][it.Sample] = true
	}
	out := make(map[string]map[Metric]MetricSummary, len(systems))
	for _, sys := range systems {
		per := make(map[Metric]MetricSummary, len(metrics))
		for _, m := range metrics {
			scores := SampleScores(items, sys, m)
			ms := MetricSummary{NScored: len(scores), NFailed: len(judged[sys][m]) - len(scores)}
			vals := make([]float64, 0, len(scores))
			for _, v := range scores {
				vals = append(vals, v)
			}
			sort.Float64s(vals) // a fixed order, so the sums do not depend on map order
			if n := len(vals); n > 0 {
				var total float64
				for _, v := range vals {
					total += v
				}
				mean := total / float64(n)
				ms.Mean = &mean
				if n > 1 {
					var ss float64
					for _, v := range vals {
						ss += (v - mean) * (v - mean)
					}
					se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
					ms.Stderr = &se
				}
			}
			per[m] = ms
		}
		out[sys] = per
	}
	return out
}
