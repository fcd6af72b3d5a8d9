package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/llm/llmtest"
	"emer/internal/store"
)

// oldSchema is the schema of emer.db before the batch engine's records,
// as its migrations 1 and 2 made it: results in a table of their own.
var oldSchema = []string{
	`CREATE TABLE cache (
		key        TEXT PRIMARY KEY,
		reply      TEXT NOT NULL,
		created_at TEXT NOT NULL
	);
	CREATE TABLE results (
		sample     TEXT    NOT NULL,
		system     TEXT    NOT NULL,
		metric     TEXT    NOT NULL,
		repeat     INTEGER NOT NULL,
		status     TEXT    NOT NULL,
		score      REAL,
		raw        TEXT    NOT NULL,
		attempts   INTEGER NOT NULL,
		latency_ms INTEGER NOT NULL,
		tokens     INTEGER NOT NULL,
		PRIMARY KEY (sample, system, metric, repeat)
	);
	CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);`,
	`ALTER TABLE results ADD COLUMN input_sha256 TEXT NOT NULL DEFAULT '';`,
}

// rebuildAsOldSchema replaces the store at dbPath with one of schema
// version 1 or 2 holding the same cache, meta entries and judge results,
// as the emer of that schema would have left the folder.
func rebuildAsOldSchema(t *testing.T, dbPath string, version int) {
	t.Helper()
	ctx := context.Background()
	s, err := store.OpenReadOnly(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var results []store.Result
	err = s.Scan(ctx, store.JudgeRun, store.JudgeKind, func(rec batch.Record) error {
		r, err := store.ParseResult(rec)
		results = append(results, r)
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	cur, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	for _, q := range []string{`SELECT 'cache', key, reply, created_at FROM cache`, `SELECT 'meta', key, value, '' FROM meta`} {
		rs, err := cur.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var table, a, b, c string
			if err := rs.Scan(&table, &a, &b, &c); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, []any{table, a, b, c})
		}
		rs.Close()
	}
	cur.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}

	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`PRAGMA journal_mode = WAL`)
	for _, q := range oldSchema[:version] {
		exec(q)
	}
	for _, r := range rows {
		if r[0] == "cache" {
			exec(`INSERT INTO cache (key, reply, created_at) VALUES (?, ?, ?)`, r[1], r[2], r[3])
		} else {
			exec(`INSERT INTO meta (key, value) VALUES (?, ?)`, r[1], r[2])
		}
	}
	for _, r := range results {
		var score any
		if r.Score != nil {
			score = *r.Score
		}
		args := []any{r.Sample, r.System, r.Metric, r.Repeat, r.Status, score, r.Raw, r.Attempts, r.LatencyMS, r.Tokens}
		if version >= 2 {
			exec(`INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, r.InputSHA256)...)
		} else {
			exec(`INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		}
	}
	exec(fmt.Sprintf(`PRAGMA user_version = %d`, version))
}

// TestEvalResumesOldFolder resumes folders judged by the emer of schema
// 2, which kept results in a table of their own: a finished one reruns
// with no request and the same files, and one with a call that got no
// reply judges that item only (its reply came since, from the cache). A dry run, which migrates nothing, counts
// as the run then does.
func TestEvalResumesOldFolder(t *testing.T) {
	for _, c := range []struct {
		name     string
		edit     string // SQL run on the old store
		wantDone int    // of 12 results
	}{
		{"finished", "", 12},
		{"a call got no reply", `UPDATE results SET status = 'request_error', score = NULL, raw = 'HTTP 500: busy'
			WHERE sample = 'sample_00001' AND system = 'b' AND metric = 'clue'`, 11},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			gt, preds := killData(t, dir, 3)
			srv := llmtest.NewServer(releaseJudge)
			defer srv.Close()
			out := filepath.Join(dir, "out")
			if _, err := evalInto(t, srv, gt, out, 1, preds...); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for _, name := range []string{"results.jsonl", "summary.json", "summary.md", "run.json"} {
				files[name] = readFileWithout(t, filepath.Join(out, name), "")
			}
			dbPath := filepath.Join(out, "emer.db")
			rebuildAsOldSchema(t, dbPath, 2)
			if c.edit != "" {
				db, err := sql.Open("sqlite", "file:"+dbPath)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(c.edit); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}

			var plan bytes.Buffer
			if err := runEval(context.Background(), evalOptions{GT: gt, Preds: preds, Protocol: "release", Out: out, Repeats: 1, DryRun: true,
				Config: judgeTestConfig(srv.BaseURL()), Stdout: &plan, Stderr: io.Discard}); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("dry run: 12 results, %d already done, %d to judge", c.wantDone, 12-c.wantDone); !strings.Contains(plan.String(), want) {
				t.Errorf("dry run of the old folder: %q, want %q", plan.String(), want)
			}

			before := srv.Count()
			stderr, err := evalInto(t, srv, gt, out, 1, preds...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			if want := fmt.Sprintf("this run: %d judged", 12-c.wantDone); !strings.Contains(stderr, want) {
				t.Errorf("stderr %q does not say %q", stderr, want)
			}
			if c.edit == "" && srv.Count() != before {
				t.Errorf("the rerun of a finished old folder sent %d requests", srv.Count()-before)
			}
			for name, want := range files {
				got := readFileWithout(t, filepath.Join(out, name), "")
				if name == "results.jsonl" && c.edit != "" {
					// The call judged again has a latency of its own.
					if diff := cmpResults(readResultsJSONL(t, filepath.Join(out, name)), readResultsJSONLText(t, want)); diff != "" {
						t.Errorf("%s (-before +after):\n%s", name, diff)
					}
					continue
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s (-before +after):\n%s", name, diff)
				}
			}
			s, err := store.OpenReadOnly(context.Background(), dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, _ := s.SchemaVersion(context.Background()); v < 3 {
				t.Errorf("schema %d after the run, want it migrated", v)
			}
		})
	}
}

// readResultsJSONLText is readResultsJSONL of the text of a results.jsonl.
func readResultsJSONLText(t *testing.T, text string) map[store.ResultKey]store.Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "results.jsonl")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return readResultsJSONL(t, path)
}
