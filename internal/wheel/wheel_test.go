package wheel

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/sharedtest"
)

func sharedWheels(t testing.TB, version string) string {
	t.Helper()
	return sharedtest.Data(t, "emotion-wheel", version)
}

// The mer2026 release ships the mapping precomputed; rebuilding it from
// the spreadsheets must give the same maps.
func TestRebuiltMappingEqualsOfficial(t *testing.T) {
	dir := sharedWheels(t, "mer2026")
	built, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	official, err := LoadMapping(filepath.Join(dir, MappingFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(official.Format) != 7356 || len(official.Raw) != 1255 {
		t.Errorf("official mapping has %d forms and %d synonyms, want 7356 and 1255", len(official.Format), len(official.Raw))
	}
	if d := cmp.Diff(official.Format, built.Format); d != "" {
		t.Errorf("format mapping (-official +built):\n%s", d)
	}
	if d := cmp.Diff(official.Raw, built.Raw); d != "" {
		t.Errorf("raw mapping (-official +built):\n%s", d)
	}
	for i := range built.Wheels {
		for _, l := range []Level{Level1, Level2} {
			if d := cmp.Diff(official.Wheels[i].Map(l), built.Wheels[i].Map(l)); d != "" {
				t.Errorf("%s %s (-official +built):\n%s", built.Wheels[i].Name, l, d)
			}
		}
	}
}

func TestMappings(t *testing.T) {
	x, err := Load(sharedWheels(t, "affectgpt2025"))
	if err != nil {
		t.Fatal(err)
	}
	// Every base word of the format map has synonyms, so M2 and M3 never
	// meet a word the reference would fail on.
	for form, bases := range x.Format {
		for _, b := range bases {
			if _, ok := x.Raw[b]; !ok {
				t.Errorf("format %q -> %q, which has no synonym entry", form, b)
			}
		}
	}
	for _, tc := range []struct {
		label string
		m     Mapping
		want  string
	}{
		{"abandonment", Mapping{Kind: 1}, "abandoned"},
		{"happy", Mapping{Kind: 3, Wheel: 0, Level: Level1}, "happy"},
		{"furious", Mapping{Kind: 3, Wheel: 0, Level: Level1}, "mad"},
		{"furious", Mapping{Kind: 3, Wheel: 0, Level: Level2}, "anger"},
	} {
		got, ok := x.Apply(tc.m, tc.label)
		if !ok || got != tc.want {
			t.Errorf("%s(%q) = %q, %v; want %q", tc.m.Name(), tc.label, got, ok, tc.want)
		}
	}
	if _, ok := x.M1("not-an-emotion-word"); ok {
		t.Error("an unknown label was mapped")
	}
	if got := x.MapSet(Mapping{Kind: 3, Wheel: 0, Level: Level1}, []string{"furious", "angry", "xyz"}); !cmp.Equal(got, []string{"mad"}) {
		t.Errorf("MapSet = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("empty folder loaded")
	}
}

func BenchmarkLoad(b *testing.B) {
	dir := sharedWheels(b, "affectgpt2025")
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
