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

	"emer/internal/batch"
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
	recs := []batch.Record{{Run: "r", Kind: "k", Key: "a", Input: "x", Class: batch.Final, Status: "ok", Payload: []byte(`{"score":7}`)}}
	reply := llm.Reply{Text: "Score: 7", FinishReason: "stop"}
	if err := w.Put(ctx, recs[0]); err != nil {
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
		if diff := cmp.Diff(recs, scanAll(t, s, "r", "k")); diff != "" {
			t.Errorf("records (-want +got):\n%s", diff)
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
			"Put":      s.Put(ctx, recs[0]),
			"PutReply": s.PutReply(ctx, "k2", reply),
			"SetMeta":  s.SetMeta(ctx, "judge", "other"),
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
// migrating it (TestMigrateResults checks what it reads).
func TestOpenReadOnlyOldSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	rs, _ := legacyResults()
	legacyDB(t, path, 1, rs)
	s, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, s, store.JudgeRun, store.JudgeKind); len(got) != len(rs) {
		t.Errorf("%d records, want %d", len(got), len(rs))
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 1 {
		t.Errorf("schema version %d after OpenReadOnly (%v), want 1: migrated", v, err)
	}
}
