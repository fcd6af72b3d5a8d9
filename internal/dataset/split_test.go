package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRulePoints pins the rule to values computed outside Go (Python's
// hmac and struct modules, from the rule as Rule documents it), so that
// the split stays the same on every machine and in every later version.
func TestRulePoints(t *testing.T) {
	for _, tc := range []struct {
		seed   uint64
		clip   string
		point  uint64
		inTest bool
	}{
		{1, "sample_00000648", 5637005646447810164, false},
		{1, "sample_00000680", 1465658914739370112, true},
		{1, "клип", 6137430886953608223, false},
		{1, "片段一", 6305195039251134395, false},
		{42, "sample_00000648", 17185031255453923774, false},
		{42, "sample_00000680", 7490027781970571479, false},
		{42, "клип", 3740218899000255273, false},
		{42, "片段一", 2576210919445894596, true},
	} {
		t.Run(fmt.Sprintf("%d/%s", tc.seed, tc.clip), func(t *testing.T) {
			r := Rule{Seed: tc.seed, Test: 0.2}
			if got := r.Point(tc.clip); got != tc.point {
				t.Errorf("Point = %d, want %d", got, tc.point)
			}
			if got := r.InTest(tc.clip); got != tc.inTest {
				t.Errorf("InTest = %v, want %v", got, tc.inTest)
			}
		})
	}
	if got := uint64(math.Ldexp(0.2, 64)); got != 3689348814741910528 {
		t.Errorf("threshold of 0.2 = %d", got)
	}
}

func TestRuleNFC(t *testing.T) {
	r := Rule{Seed: 7, Test: 0.5}
	if r.Point("caf\u00e9") != r.Point("cafe\u0301") {
		t.Error("composed and decomposed forms of a name hash differently")
	}
}

func TestRuleEdges(t *testing.T) {
	for _, name := range []string{"a", "b", "sample_00000001"} {
		if (Rule{Test: 0}).InTest(name) {
			t.Errorf("test 0: %s in test", name)
		}
		if !(Rule{Test: 1}).InTest(name) {
			t.Errorf("test 1: %s not in test", name)
		}
	}
	for _, f := range []float64{-0.1, 1.5, math.NaN()} {
		if err := (Rule{Test: f}).Validate(); err == nil {
			t.Errorf("Validate(%v) = nil", f)
		}
	}
}

func clipNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s_%08d", prefix, i)
	}
	return out
}

func examplesOf(names []string) []Example {
	out := make([]Example, len(names))
	for i, n := range names {
		out[i] = Example{Clip: n, Text: "text of " + n, Pos: Pos{File: "d.csv", Line: i + 2}}
	}
	return out
}

func testNames(s *Split) map[string]bool {
	out := map[string]bool{}
	for _, ex := range s.Test {
		out[ex.Clip] = true
	}
	return out
}

// TestSplitStableWhenClipsAdded: adding clips, in any order, moves no old
// clip between train and test.
func TestSplitStableWhenClipsAdded(t *testing.T) {
	old := clipNames("sample", 1000)
	rule := Rule{Seed: 3, Test: 0.2}
	before, err := MakeSplit(examplesOf(old), SplitOptions{Rule: rule})
	if err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(old), clipNames("added", 10)...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	after, err := MakeSplit(examplesOf(all), SplitOptions{Rule: rule})
	if err != nil {
		t.Fatal(err)
	}
	wasTest, isTest := testNames(before), testNames(after)
	for _, n := range old {
		if wasTest[n] != isTest[n] {
			t.Errorf("%s moved: test %v -> %v", n, wasTest[n], isTest[n])
		}
	}
	if len(before.Train)+len(before.Test) != 1000 || len(after.Train)+len(after.Test) != 1010 {
		t.Errorf("sizes %d+%d, %d+%d", len(before.Train), len(before.Test), len(after.Train), len(after.Test))
	}
	if !before.Tolerance.Contains(len(before.Test)) {
		t.Errorf("1000 clips: %d test, outside %+v", len(before.Test), before.Tolerance)
	}
}

func TestSplitOrderIndependent(t *testing.T) {
	names := clipNames("c", 200)
	a, err := MakeSplit(examplesOf(names), SplitOptions{Rule: Rule{Seed: 9, Test: 0.3}})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(names)
	b, err := MakeSplit(examplesOf(names), SplitOptions{Rule: Rule{Seed: 9, Test: 0.3}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(clipsOf(a.Test), clipsOf(b.Test)); diff != "" {
		t.Errorf("test set depends on row order:\n%s", diff)
	}
	if !slices.IsSorted(clipsOf(a.Train)) || !slices.IsSorted(clipsOf(a.Test)) {
		t.Error("sides not sorted")
	}
}

func clipsOf(exs []Example) []string { return names(exs) }

func TestBinomialTolerance(t *testing.T) {
	for _, tc := range []struct {
		n    int
		p    float64
		want Tolerance
	}{
		{100, 0.2, Tolerance{N: 100, Expected: 20, Low: 8, High: 32, Sigmas: 3}},
		{110, 0.2, Tolerance{N: 110, Expected: 22, Low: 10, High: 34, Sigmas: 3}}, // σ = √17.6 = 4.195: 22 ± 12.59
		{10, 0.5, Tolerance{N: 10, Expected: 5, Low: 1, High: 9, Sigmas: 3}},
		{0, 0.2, Tolerance{N: 0, Expected: 0, Low: 0, High: 0, Sigmas: 3}},
		{50, 1, Tolerance{N: 50, Expected: 50, Low: 50, High: 50, Sigmas: 3}},
	} {
		t.Run(fmt.Sprintf("%d/%g", tc.n, tc.p), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, BinomialTolerance(tc.n, tc.p, 3)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMakeSplitSettings(t *testing.T) {
	exs := examplesOf(clipNames("s", 40))
	for i := range exs {
		exs[i].Duration = 1 + float64(i%4) // 1, 2, 3, 4 s
	}
	rule := Rule{Seed: 5, Test: 0.25}
	plain, err := MakeSplit(exs, SplitOptions{Rule: rule})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("remove-short", func(t *testing.T) {
		s, err := MakeSplit(exs, SplitOptions{Rule: rule, MinDuration: 2})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(clipsOf(plain.Test), clipsOf(s.Test)); diff != "" {
			t.Errorf("the test set changed:\n%s", diff)
		}
		for _, ex := range s.Train {
			if ex.Duration < 2 {
				t.Errorf("%s (%v s) trained on", ex.Clip, ex.Duration)
			}
		}
		for _, ex := range s.Removed {
			if ex.Duration >= 2 || rule.InTest(ex.Clip) {
				t.Errorf("%s (%v s) removed", ex.Clip, ex.Duration)
			}
		}
		if len(s.Train)+len(s.Removed) != len(plain.Train) {
			t.Errorf("%d trained + %d removed != %d", len(s.Train), len(s.Removed), len(plain.Train))
		}
	})
	t.Run("gt-eng", func(t *testing.T) {
		s, err := MakeSplit(exs, SplitOptions{Rule: rule, GTEng: true})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(clipNames("s", 40), clipsOf(s.Train)); diff != "" {
			t.Errorf("train is not every clip:\n%s", diff)
		}
		if diff := cmp.Diff(clipsOf(plain.Test), clipsOf(s.Test)); diff != "" {
			t.Errorf("the test set changed:\n%s", diff)
		}
	})
	t.Run("unmeasured", func(t *testing.T) {
		bad := slices.Clone(exs)
		bad[0].Duration, bad[1].Duration = 0, 0
		_, err := MakeSplit(bad, SplitOptions{Rule: Rule{Seed: 5, Test: 0}, MinDuration: 2})
		if err == nil || !strings.Contains(err.Error(), "the duration of 2 clips is not known") || !strings.Contains(err.Error(), "s_00000000, s_00000001") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("duplicates", func(t *testing.T) {
		dup := append(slices.Clone(exs[:2]), exs[0])
		dup[2].Pos.Line = 9
		mix := []MixItem{{ID: "m", Pos: Pos{File: "m.jsonl", Line: 1}}, {ID: "m", Pos: Pos{File: "m.jsonl", Line: 2}}}
		_, err := MakeSplit(dup, SplitOptions{Rule: rule, Mix: mix})
		want := []string{
			`d.csv:9: clip "s_00000000" given twice (also at d.csv:2)`,
			`m.jsonl:2: id "m" is also at m.jsonl:1`,
		}
		if err == nil {
			t.Fatal("no error")
		}
		if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
