package agreement

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Two clips scored 0 and 1: a resample's mean is 0, 0.5 or 1 with
// probabilities 1/4, 1/2, 1/4, so the 2.5 % and 97.5 % quantiles of 10 000
// resampled means are 0 and 1 (it would take fewer than 251 resamples of
// two zeros, or of two ones, out of an expected 2 500 to move them).
func TestSystemMeanTwoClips(t *testing.T) {
	m, err := SystemMean([][]float64{{0}, {1}}, DefaultBootstrap)
	if err != nil {
		t.Fatal(err)
	}
	want := &MeanInterval{Mean: 0.5, Low: 0, High: 1, Level: 0.95, Clips: 2, Resamples: 10000, Seed: 1}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// A clip's score is the mean of its ratings, each clip weighing the same;
// clips without ratings are dropped and counted; equal clip scores give an
// interval of width 0.
func TestSystemMeanClips(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		clips                [][]float64
		mean, low, high      float64
		clipsKept, clipsLeft int
	}{
		{"clip means weigh the same", [][]float64{{1, 1, 1, 1}, {3}}, 2, 1, 3, 2, 0},
		{"missing ratings and unrated clips", [][]float64{{2, nan, 4}, {nan, nan}, {3}, {}}, 3, 3, 3, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := SystemMean(tc.clips, DefaultBootstrap)
			if err != nil {
				t.Fatal(err)
			}
			if m.Mean != tc.mean || m.Low != tc.low || m.High != tc.high || m.Clips != tc.clipsKept || m.Dropped != tc.clipsLeft {
				t.Errorf("got %+v; want mean %v in [%v, %v] over %d clips, %d dropped", m, tc.mean, tc.low, tc.high, tc.clipsKept, tc.clipsLeft)
			}
		})
	}
}

// The same seed draws the same resamples; another seed others. Systems on
// the same clips with the same seed are resampled on the same clips: a
// system scoring every clip 2 more has its bounds 2 higher.
func TestSystemMeanSeeded(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	a := make([][]float64, 40)
	b := make([][]float64, len(a))
	for i := range a {
		v := float64(r.IntN(4) + 1)
		a[i] = []float64{v}
		b[i] = []float64{v + 2}
	}
	x, err := SystemMean(a, DefaultBootstrap)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := SystemMean(a, DefaultBootstrap)
	if diff := cmp.Diff(x, again); diff != "" {
		t.Errorf("same seed, other result (-first +second)\n%s", diff)
	}
	other := DefaultBootstrap
	other.Seed = 2
	y, _ := SystemMean(a, other)
	if y.Low == x.Low && y.High == x.High {
		t.Errorf("seeds 1 and 2 give the same interval [%v, %v]", x.Low, x.High)
	}
	if !(x.Low < x.Mean && x.Mean < x.High) {
		t.Errorf("interval [%v, %v] does not hold the mean %v", x.Low, x.High, x.Mean)
	}
	z, _ := SystemMean(b, DefaultBootstrap)
	for _, d := range [][2]float64{{z.Mean, x.Mean}, {z.Low, x.Low}, {z.High, x.High}} {
		if math.Abs(d[0]-d[1]-2) > 1e-12 {
			t.Errorf("shifted system: %v against %v, want 2 more", d[0], d[1])
		}
	}
}

func TestSystemMeanErrors(t *testing.T) {
	two := [][]float64{{1}, {2}}
	for _, tc := range []struct {
		name      string
		clips     [][]float64
		b         Bootstrap
		msg       string
		undefined bool
	}{
		{"one clip", [][]float64{{1, 2}, {nan}}, DefaultBootstrap, "1 clips with ratings, a bootstrap interval needs two", true},
		{"few resamples", two, Bootstrap{Resamples: 10, Level: 0.95}, "10 resamples, want at least 100", false},
		{"level as a percentage", two, Bootstrap{Resamples: 1000, Level: 95}, "confidence level 95, want a number between 0 and 1", false},
		{"no level", two, Bootstrap{Resamples: 1000}, "confidence level 0", false},
		{"infinite rating", [][]float64{{1}, {2, math.Inf(1)}}, DefaultBootstrap, "units[1][1] is +Inf", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := SystemMean(tc.clips, tc.b)
			if err == nil {
				t.Fatalf("%+v, want an error", m)
			}
			if !strings.Contains(err.Error(), tc.msg) || errors.Is(err, ErrUndefined) != tc.undefined {
				t.Errorf("error %q (undefined: %v), want %q (undefined: %v)", err, errors.Is(err, ErrUndefined), tc.msg, tc.undefined)
			}
		})
	}
}

// quantile interpolates as NumPy's default: np.quantile([1, 2, 3, 4], q)
// is 1, 1.75, 2.5, 3.25, 4 at q = 0, 0.25, 0.5, 0.75, 1, and 3.925 at
// 0.975.
func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.25, 1.75}, {0.5, 2.5}, {0.75, 3.25}, {1, 4}, {0.975, 3.925}} {
		if got := quantile(s, c.p); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("quantile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}

// uniform stays below its bound and reaches every index.
func TestUniform(t *testing.T) {
	src := rand.NewPCG(1, 2)
	for _, n := range []uint64{1, 2, 3, 7, 1 << 40} {
		seen := map[uint64]bool{}
		for range 2000 {
			v := uniform(src, n)
			if v >= n {
				t.Fatalf("uniform(%d) = %d", n, v)
			}
			seen[v] = true
		}
		if n <= 7 && len(seen) != int(n) {
			t.Errorf("uniform(%d) drew %d distinct indices in 2000, want all", n, len(seen))
		}
	}
}
