package agreement

import (
	"errors"
	"fmt"
	"math"
)

// ErrUndefined reports a statistic the data leave undefined: no variation
// to measure agreement against, or too few ratings.
var ErrUndefined = errors.New("undefined")

// ErrIncomplete reports a design that a statistic needs complete: Fleiss' κ
// with clips rated by different numbers of raters.
var ErrIncomplete = errors.New("incomplete design")

// present returns the ratings of a clip that are not missing (NaN), or an
// error naming the first infinite one as units[unit][i].
func present(unit int, ratings []float64) ([]float64, error) {
	out := make([]float64, 0, len(ratings))
	for i, v := range ratings {
		switch {
		case math.IsNaN(v):
		case math.IsInf(v, 0):
			return nil, fmt.Errorf("units[%d][%d] is %v, not a rating", unit, i, v)
		default:
			out = append(out, v)
		}
	}
	return out, nil
}
