package openset

import (
	"fmt"

	"emer/internal/metric"
	"emer/internal/wheel"
)

// LevelScores is a score per wheel level.
type LevelScores struct {
	Level1 metric.PRF `json:"level1"`
	Level2 metric.PRF `json:"level2"`
}

// Table is the 12-column OV-MER result: M1, M2 and the ten M3 columns
// (five wheels at two levels), with the wheel means and the mean F.
type Table struct {
	Samples int                    `json:"samples"`
	M1      metric.PRF             `json:"m1"`
	M2      metric.PRF             `json:"m2"`
	M3      map[string]LevelScores `json:"m3"`
	M3Mean  LevelScores            `json:"m3_mean"`
	MAvg    float64                `json:"m_avg"`
}

// Columns returns the twelve columns in table order with their names.
func (t *Table) Columns() (names []string, scores []metric.PRF) {
	names = append(names, "M1", "M2")
	scores = append(scores, t.M1, t.M2)
	for i := 0; i < wheel.NumWheels; i++ {
		ls := t.M3[fmt.Sprintf("wheel%d", i+1)]
		names = append(names, fmt.Sprintf("W%d-L1", i+1), fmt.Sprintf("W%d-L2", i+1))
		scores = append(scores, ls.Level1, ls.Level2)
	}
	return names, scores
}

// Overlap maps both sides of every pair through m and scores their set
// overlap.
func Overlap(x *wheel.Lexicon, m wheel.Mapping, pairs []Pair) metric.SetResult {
	gt := make([][]string, len(pairs))
	pred := make([][]string, len(pairs))
	for i, p := range pairs {
		gt[i] = x.MapSet(m, p.GT)
		pred[i] = x.MapSet(m, p.Pred)
	}
	return metric.SetOverlap(gt, pred)
}

// Score computes the OV-MER table. The wheel mean of a level averages the
// five wheels' F, precision and recall, as the reference does (so its F
// is the mean of F-scores, not the F of the mean precision and recall).
func Score(x *wheel.Lexicon, pairs []Pair) *Table {
	t := &Table{Samples: len(pairs), M3: map[string]LevelScores{}}
	var fs []float64
	levels := map[wheel.Level][3][]float64{}
	for _, m := range wheel.Mappings() {
		r := Overlap(x, m, pairs).PRF
		fs = append(fs, r.F)
		switch m.Kind {
		case 1:
			t.M1 = r
		case 2:
			t.M2 = r
		case 3:
			name := fmt.Sprintf("wheel%d", m.Wheel+1)
			ls := t.M3[name]
			if m.Level == wheel.Level1 {
				ls.Level1 = r
			} else {
				ls.Level2 = r
			}
			t.M3[name] = ls
			acc := levels[m.Level]
			acc[0] = append(acc[0], r.F)
			acc[1] = append(acc[1], r.Precision)
			acc[2] = append(acc[2], r.Recall)
			levels[m.Level] = acc
		}
	}
	mean := func(l wheel.Level) metric.PRF {
		a := levels[l]
		return metric.PRF{F: metric.Mean(a[0]), Precision: metric.Mean(a[1]), Recall: metric.Mean(a[2])}
	}
	t.M3Mean = LevelScores{Level1: mean(wheel.Level1), Level2: mean(wheel.Level2)}
	t.MAvg = metric.Mean(fs)
	return t
}
