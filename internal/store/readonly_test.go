package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm"
	"emer/internal/store"
)

// dirState returns every file of dir with its mode, time, size and digest.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fmt.Sprintf("%v %d %d %x", fi.Mode(), fi.ModTime().UnixNano(), fi.Size(), sha256.Sum256(b))
	}
	return out
}

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "emer.db")
	w := open(t, path)
	seven := 7.0
	res := []store.Result{{Sample: "s1", System: "a", Metric: "clue", Status: "ok", Score: &seven, Raw: "Score: 7", Attempts: 1, InputSHA256: store.InputSHA256("x", "y")}}
	reply := llm.Reply{Text: "Score: 7", FinishReason: "stop"}
	if err := w.PutResult(ctx, res[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.PutReply(ctx, "k", reply); err != nil {
		t.Fatal(err)
	}
	if err := w.SetMeta(ctx, "judge", "j"); err != nil {
		t.Fatal(err)
	}

	// Beside a writer, what it has committed is seen.
	check := func(t *testing.T, s *store.Store) {
		t.Helper()
		got, err := s.Results(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(res, got); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		if r, ok, err := s.GetReply(ctx, "k"); err != nil || !ok || r.Text != reply.Text {
			t.Errorf("reply %+v %v %v", r, ok, err)
		}
		if v, ok, err := s.Meta(ctx, "judge"); err != nil || !ok || v != "j" {
			t.Errorf("meta %q %v %v", v, ok, err)
		}
		if n, err := s.CacheSize(ctx); err != nil || n != 1 {
			t.Errorf("cache size %d, %v", n, err)
		}
		for name, err := range map[string]error{
			"PutResult":     s.PutResult(ctx, res[0]),
			"PutReply":      s.PutReply(ctx, "k2", reply),
			"SetMeta":       s.SetMeta(ctx, "judge", "other"),
			"DeleteResults": func() error { _, err := s.DeleteResults(ctx, "ok"); return err }(),
		} {
			if !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("%s: err = %v, want ErrReadOnly", name, err)
			}
		}
	}
	ro, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	check(t, ro)
	ro.Close()
	w.Close()

	// Alone, it leaves the folder as it found it: no -wal or -shm file
	// made or removed, nothing changed.
	before := dirState(t, dir)
	ro, err = store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	check(t, ro)
	ro.Close()
	if diff := cmp.Diff(before, dirState(t, dir)); diff != "" {
		t.Errorf("the folder changed (-before +after):\n%s", diff)
	}
}

func TestOpenReadOnlyMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emer.db")
	if _, err := store.OpenReadOnly(context.Background(), path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReadOnly created %s", path)
	}
}

// TestOpenReadOnlyOldSchema reads a database of the first schema without
// migrating it: its results come without an input digest, as migration 2
// would leave them.
func TestOpenReadOnlyOldSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA journal_mode = WAL`,
		`CREATE TABLE cache (key TEXT PRIMARY KEY, reply TEXT NOT NULL, created_at TEXT NOT NULL)`,
		`CREATE TABLE results (sample TEXT NOT NULL, system TEXT NOT NULL, metric TEXT NOT NULL, repeat INTEGER NOT NULL,
			status TEXT NOT NULL, score REAL, raw TEXT NOT NULL, attempts INTEGER NOT NULL, latency_ms INTEGER NOT NULL,
			tokens INTEGER NOT NULL, PRIMARY KEY (sample, system, metric, repeat))`,
		`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`INSERT INTO results VALUES ('s1', 'a', 'clue', 0, 'ok', 7, 'Score: 7', 1, 5, 9)`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Results(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seven := 7.0
	want := []store.Result{{Sample: "s1", System: "a", Metric: "clue", Status: "ok", Score: &seven, Raw: "Score: 7", Attempts: 1, LatencyMS: 5, Tokens: 9}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	s.Close()
	db, err = sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 1 {
		t.Errorf("schema version %d after OpenReadOnly (%v), want 1: migrated", v, err)
	}
}
