package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm"
	"emer/internal/store"
)

func open(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrateAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	s := open(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v != store.NumMigrations() {
		t.Fatalf("schema version %d, %v", v, err)
	}
	if err := s.PutReply(ctx, "k", llm.Reply{Text: "Score: 8", FinishReason: "stop", Usage: llm.Usage{TotalTokens: 12}, Raw: []byte(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path) // migrations are not applied twice
	r, ok, err := s.GetReply(ctx, "k")
	if err != nil || !ok {
		t.Fatalf("reply lost on reopen: %v %v", ok, err)
	}
	want := llm.Reply{Text: "Score: 8", FinishReason: "stop", Usage: llm.Usage{TotalTokens: 12}, Raw: []byte(`{"x":1}`)}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	if _, ok, _ := s.GetReply(ctx, "absent"); ok {
		t.Error("absent key found")
	}
	if n, _ := s.CacheSize(ctx); n != 1 {
		t.Errorf("cache size %d", n)
	}
}

func TestMeta(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "emer.db"))
	if _, ok, err := s.Meta(ctx, "judge"); ok || err != nil {
		t.Fatalf("empty meta: %v %v", ok, err)
	}
	if err := s.SetMeta(ctx, "judge", `{"model":"m"}`); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Meta(ctx, "judge"); !ok || err != nil || v != `{"model":"m"}` {
		t.Fatalf("meta = %q %v %v", v, ok, err)
	}
}

func TestInputSHA256(t *testing.T) {
	a := store.InputSHA256("他生气", "他难过")
	for name, b := range map[string]string{
		"other prediction": store.InputSHA256("他生气", "他高兴"),
		"other truth":      store.InputSHA256("他高兴", "他难过"),
		"moved boundary":   store.InputSHA256("他生气他", "难过"),
	} {
		if a == b {
			t.Errorf("%s: same digest", name)
		}
	}
	if a != store.InputSHA256("他生气", "他难过") || len(a) != 64 {
		t.Errorf("digest %q not stable", a)
	}
}

// TestOpenOddNames opens databases whose names hold the characters a URI
// gives meaning to: each is created under its own name, and nothing else.
func TestOpenOddNames(t *testing.T) {
	for _, name := range []string{"a#b", "a?b", "a%20b", "a b", "a;b,c", "a:b", "100%"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "runs")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			s := open(t, filepath.Join(dir, name))
			if err := s.SetMeta(context.Background(), "k", "v"); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if len(got) == 0 || got[0] != name {
				t.Fatalf("files in the directory: %q, want %q and its WAL files", got, name)
			}
			for _, g := range got {
				if !strings.HasPrefix(g, name) {
					t.Errorf("stray file %q", g)
				}
			}
		})
	}
	// A relative name works as well.
	t.Chdir(t.TempDir())
	s := open(t, "rel#1")
	s.Close()
	if _, err := os.Stat("rel#1"); err != nil {
		t.Error(err)
	}
}
