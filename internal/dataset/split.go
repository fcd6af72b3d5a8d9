package dataset

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"golang.org/x/text/unicode/norm"
)

// RuleName names the split rule; it is part of the hash key, so that a
// later rule can never be mistaken for this one.
const RuleName = "emer-split/1"

// Rule decides, clip by clip, which clips form the test set of the random
// train/test split of AffectGPT's data selection.
//
// A clip is in the test set when the first 8 bytes of
// HMAC-SHA256(key = "emer-split/1 seed=" + the seed in decimal,
// message = the clip name in Unicode NFC), read as a big-endian unsigned
// integer u, are below floor(Test × 2^64), where Test is the float64 test
// fraction (with Test = 1 every clip is in the test set).
//
// Membership depends on nothing but the seed, the fraction and the clip's
// own name: the split is the same on every run and machine and in any
// order of the rows, and adding clips to a dataset moves no old clip
// between train and test. The price is that the test count is binomial,
// about Test × n but not exactly: no rule that looks only at the set of
// clips can give exact counts for every set and also never move an old
// clip (start from a set whose count is exact, add two clips a and b one
// at a time where the count must grow by one: it must grow at the first
// addition whichever of a or b comes first, so both would be test clips
// and the count would grow by two). Tolerance says how far from Test × n
// the count may be.
type Rule struct {
	Seed uint64
	Test float64 // fraction of clips in the test set, in [0, 1]
}

// Validate reports a test fraction outside [0, 1].
func (r Rule) Validate() error {
	if math.IsNaN(r.Test) || r.Test < 0 || r.Test > 1 {
		return fmt.Errorf("test fraction %v is not in [0, 1]", r.Test)
	}
	return nil
}

// Point returns the clip's position u in [0, 2^64), the integer the rule
// compares with its threshold.
func (r Rule) Point(clip string) uint64 {
	mac := hmac.New(sha256.New, []byte(RuleName+" seed="+strconv.FormatUint(r.Seed, 10)))
	mac.Write([]byte(norm.NFC.String(clip)))
	return binary.BigEndian.Uint64(mac.Sum(nil)[:8])
}

// InTest reports whether clip is in the test set.
func (r Rule) InTest(clip string) bool {
	if r.Test >= 1 {
		return true
	}
	if r.Test <= 0 {
		return false
	}
	// Ldexp scales by a power of two exactly; the value is below 2^64.
	return r.Point(clip) < uint64(math.Ldexp(r.Test, 64))
}

// Describe states the rule with its parameters, for a manifest.
func (r Rule) Describe() string {
	return fmt.Sprintf(`a clip is in the test set when the first 8 bytes of HMAC-SHA256(key %q, message: the clip name in Unicode NFC), read as a big-endian unsigned integer, are below floor(%s * 2^64)`,
		RuleName+" seed="+strconv.FormatUint(r.Seed, 10), strconv.FormatFloat(r.Test, 'g', -1, 64))
}

// Tolerance is the range a binomial count is expected in.
type Tolerance struct {
	N        int     `json:"n"`
	Expected float64 `json:"expected"` // p × n
	Low      int     `json:"low"`      // ceil(p·n − z·σ), at least 0
	High     int     `json:"high"`     // floor(p·n + z·σ), at most n
	Sigmas   float64 `json:"sigmas"`   // z
}

// ToleranceSigmas is the z of the tolerance a split's test count is
// checked against: outside it by chance about 3 times in 1000.
const ToleranceSigmas = 3

// BinomialTolerance returns the range within z standard deviations
// (σ = √(n·p·(1−p))) of the mean count p·n of n draws of probability p.
func BinomialTolerance(n int, p, z float64) Tolerance {
	mean := p * float64(n)
	sd := math.Sqrt(float64(n) * p * (1 - p))
	lo := math.Max(0, math.Ceil(mean-z*sd-1e-9))
	hi := math.Min(float64(n), math.Floor(mean+z*sd+1e-9))
	return Tolerance{N: n, Expected: mean, Low: int(lo), High: int(hi), Sigmas: z}
}

// Contains reports whether count is within the tolerance.
func (t Tolerance) Contains(count int) bool { return count >= t.Low && count <= t.High }
