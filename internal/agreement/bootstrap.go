package agreement

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Bootstrap configures a percentile bootstrap.
type Bootstrap struct {
	Resamples int     // how many resamples; at least 100
	Level     float64 // the interval's confidence level, in (0, 1)
	Seed      uint64  // the same seed draws the same resamples
}

// DefaultBootstrap is 10 000 resamples for a 95 % interval.
var DefaultBootstrap = Bootstrap{Resamples: 10000, Level: 0.95, Seed: 1}

// MeanInterval is a system's mean rating with its bootstrap interval.
type MeanInterval struct {
	// Mean is the mean over clips of each clip's mean rating, so that
	// every clip weighs the same however many raters it had.
	Mean float64
	// Low and High bound the percentile interval at Level.
	Low, High float64
	Level     float64
	// Clips counts the clips with at least one rating, the resampling
	// unit; Dropped those with none, left out.
	Clips, Dropped int
	Resamples      int
	Seed           uint64
}

// SystemMean computes a system's mean rating and its percentile-bootstrap
// interval. clips holds one slice of ratings per clip, NaN for a missing
// one; a clip's score is the mean of its ratings.
//
// The resampling unit is the clip: each resample draws as many clips as
// there are, with replacement, keeping each clip's ratings together, and
// takes the mean of their scores. Raters are not resampled, so the
// interval speaks of other clips rated by these raters. The interval's
// bounds are the (1−Level)/2 and (1+Level)/2 quantiles of the resampled
// means, interpolated linearly between order statistics (NumPy's default).
//
// The draws depend only on the seed and the number of clips: systems
// rated on the same clips, in the same order, with the same seed, are
// resampled on the same clips, which keeps their intervals paired.
// It needs two clips with ratings (ErrUndefined otherwise).
func SystemMean(clips [][]float64, b Bootstrap) (*MeanInterval, error) {
	if b.Resamples < 100 {
		return nil, fmt.Errorf("bootstrap: %d resamples, want at least 100", b.Resamples)
	}
	if !(b.Level > 0 && b.Level < 1) {
		return nil, fmt.Errorf("bootstrap: confidence level %v, want a number between 0 and 1 (0.95 for 95 %%)", b.Level)
	}
	out := &MeanInterval{Level: b.Level, Resamples: b.Resamples, Seed: b.Seed}
	var scores []float64
	for u, r := range clips {
		p, err := present(u, r)
		if err != nil {
			return nil, fmt.Errorf("system mean: %w", err)
		}
		if len(p) == 0 {
			out.Dropped++
			continue
		}
		scores = append(scores, mean(p))
	}
	out.Clips = len(scores)
	if out.Clips < 2 {
		return nil, fmt.Errorf("system mean: %d clips with ratings, a bootstrap interval needs two: %w", out.Clips, ErrUndefined)
	}
	out.Mean = mean(scores)
	src := rand.NewPCG(b.Seed, pcgStream)
	means := make([]float64, b.Resamples)
	n := uint64(len(scores))
	for r := range means {
		var s float64
		for range n {
			s += scores[uniform(src, n)]
		}
		means[r] = s / float64(n)
	}
	slices.Sort(means)
	out.Low = quantile(means, (1-b.Level)/2)
	out.High = quantile(means, (1+b.Level)/2)
	return out, nil
}

// pcgStream is the second PCG seed word, fixed so that Seed alone picks
// the draws.
const pcgStream = 0x656d6572 // "emer"

// uniform draws an index in [0, n) without bias (Lemire's multiply and
// reject), from the PCG's output alone so that the draws stay the same
// whatever math/rand/v2 does with its own helpers.
func uniform(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		floor := -n % n
		for lo < floor {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// quantile is the p quantile of sorted, linearly interpolated between the
// order statistics around (len−1)p.
func quantile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
