package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/batch/batchtest"
	"emer/internal/judge"
	"emer/internal/store"
)

// scanAll returns the records of run and kind, in the order Scan gives.
func scanAll(t *testing.T, l batch.Ledger, run, kind string) []batch.Record {
	t.Helper()
	var out []batch.Record
	if err := l.Scan(context.Background(), run, kind, func(r batch.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func rec(run, kind, key, status string, class batch.Class) batch.Record {
	return batch.Record{Run: run, Kind: kind, Key: key, Input: "in-" + key, Class: class, Status: status, Payload: []byte(`{"k":"` + key + `"}`)}
}

// TestRecords puts records concurrently and reads them back: by run and
// kind, in bytewise key order, one per key, each as put.
func TestRecords(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "emer.db"))
	in := []batch.Record{
		rec("r", "k", "b", "ok", batch.Final),
		rec("r", "k", "a\x01z", "ok", batch.Final),
		rec("r", "k", "é", "ok", batch.Final), // 0xc3 0xa9: after every ASCII key
		rec("r", "k", "B", "request_error", batch.Retry),
		rec("r", "k", "a", "parse_error", batch.Final),
		rec("r", "other", "a", "ok", batch.Final),
		rec("r2", "k", "a", "ok", batch.Final),
	}
	var wg sync.WaitGroup
	for _, r := range in {
		wg.Go(func() {
			if err := s.Put(ctx, r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if diff := cmp.Diff([]batch.Record{in[3], in[4], in[1], in[0], in[2]}, scanAll(t, s, "r", "k")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]batch.Record{in[5]}, scanAll(t, s, "r", "other")); diff != "" {
		t.Errorf("records of another kind (-want +got):\n%s", diff)
	}
	if got := scanAll(t, s, "none", "k"); len(got) != 0 {
		t.Errorf("records of an unknown run: %v", got)
	}
	// Replacing keeps one record per key.
	again := in[3]
	again.Class, again.Status, again.Payload = batch.Final, "ok", []byte(`{"again":true}`)
	if err := s.Put(ctx, again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]batch.Record{again, in[4], in[1], in[0], in[2]}, scanAll(t, s, "r", "k")); diff != "" {
		t.Errorf("after a replace (-want +got):\n%s", diff)
	}
}

// TestRecordsPaged scans more records than a page holds, in key order,
// each once, and stops at the first error of fn.
func TestRecordsPaged(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "emer.db"))
	const n = 1300 // two full pages and a part
	var want []string
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		key := fmt.Sprintf("key%05d", i)
		if err := s.Put(ctx, rec("r", "k", key, "ok", batch.Final)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		want = append(want, fmt.Sprintf("key%05d", i))
	}
	var got []string
	for _, r := range scanAll(t, s, "r", "k") {
		got = append(got, r.Key)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	stop := fmt.Errorf("stop")
	seen := 0
	err := s.Scan(ctx, "r", "k", func(batch.Record) error {
		if seen++; seen == 600 {
			return stop
		}
		return nil
	})
	if err != stop || seen != 600 {
		t.Errorf("scan stopped with %v after %d records, want stop after 600", err, seen)
	}
}

// TestRecordsPageByKeyRange checks that a page of Scan reads a range of
// the primary key from the last key of the page before, not every record
// of the run up to it (which made a scan quadratic in the run's length).
func TestRecordsPageByKeyRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emer.db")
	open(t, path)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, c := range map[string]struct {
		q    string
		args []any
		want string
	}{
		"first page": {store.ScanFirstSQL, []any{"r", "k", 512}, "(run=? AND kind=? AND key>?)"},
		"next page":  {store.ScanNextSQL, []any{"r", "k", "after", 512}, "(run=? AND kind=? AND key>?)"},
	} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+c.q, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, c.want) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: query plan %q, want a search of %s in key order", name, p, c.want)
		}
	}
}

// TestRecordsPutDuringScan puts records from the scan's callback, as a
// caller that rewrites what it reads does: the store has one connection,
// which Scan must not hold while fn runs.
func TestRecordsPutDuringScan(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "emer.db"))
	for i := range 3 {
		if err := s.Put(ctx, rec("r", "k", fmt.Sprint(i), "ok", batch.Final)); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Scan(ctx, "r", "k", func(r batch.Record) error {
		r.Kind = "copy"
		return s.Put(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, s, "r", "copy"); len(got) != 3 {
		t.Errorf("%d records copied, want 3", len(got))
	}
}

// TestRecordsPutChecks stores an empty payload as empty (not NULL, which
// the table refuses) and refuses a class the engine does not know.
func TestRecordsPutChecks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "emer.db")
	s := open(t, path)
	empty := batch.Record{Run: "r", Kind: "k", Key: "a", Class: batch.Retry, Status: "request_error"}
	if err := s.Put(ctx, empty); err != nil {
		t.Fatalf("nil payload: %v", err)
	}
	got := scanAll(t, s, "r", "k")
	if len(got) != 1 || len(got[0].Payload) != 0 || got[0].Class != batch.Retry {
		t.Errorf("records %+v, want one with an empty payload", got)
	}
	for _, class := range []batch.Class{"", "done"} {
		r := rec("r", "k", "b", "ok", class)
		err := s.Put(ctx, r)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("class %q", class)) {
			t.Errorf("class %q: err = %v, want a refusal naming the class and %s", class, err, path)
		}
	}
}

// legacyDB writes a database of schema version (1 or 2) as the emer of
// that schema made it, holding results.
func legacyDB(t *testing.T, path string, version int, results []store.Result) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	qs := []string{`PRAGMA journal_mode = WAL`}
	for i := 1; i <= version; i++ {
		qs = append(qs, store.MigrationSQL(i))
	}
	qs = append(qs, fmt.Sprintf(`PRAGMA user_version = %d`, version))
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, r := range results {
		var score any
		if r.Score != nil {
			score = *r.Score
		}
		args := []any{r.Sample, r.System, r.Metric, r.Repeat, r.Status, score, r.Raw, r.Attempts, r.LatencyMS, r.Tokens}
		cols := "sample, system, metric, repeat, status, score, raw, attempts, latency_ms, tokens"
		marks := "?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
		if version >= 2 {
			args, cols, marks = append(args, r.InputSHA256), cols+", input_sha256", marks+", ?"
		}
		if _, err := db.Exec(`INSERT INTO results (`+cols+`) VALUES (`+marks+`)`, args...); err != nil {
			t.Fatal(err)
		}
	}
}

// legacyResults are results of every kind an older emer stored, in the
// order results.jsonl listed them, and their lines there.
func legacyResults() ([]store.Result, []string) {
	seven, half := 7.0, 0.5
	rs := []store.Result{
		{Sample: "s1", System: "a", Metric: "clue", Status: "ok", Score: &seven, Raw: "'预测分数'：7 <b>&", Attempts: 1, LatencyMS: 50, Tokens: 30, InputSHA256: store.InputSHA256("他生气", "他难过")},
		{Sample: "s1", System: "a", Metric: "clue", Repeat: 1, Status: "parse_error", Raw: "no number", Attempts: 1, InputSHA256: store.InputSHA256("他生气", "他难过")},
		{Sample: "s1", System: "a", Metric: "emotion", Repeat: 0, Status: "request_error", Raw: "HTTP 500: upstream", Attempts: 4, InputSHA256: store.InputSHA256("x", "y")},
		{Sample: "s2", System: "a", Metric: "clue", Repeat: 10, Status: "ok", Score: &half, Raw: "Score: 0.5", Attempts: 0, InputSHA256: store.InputSHA256("x", "z")},
		{Sample: "s1", System: "a b", Metric: "clue", Status: "refused", Raw: "抱歉", Attempts: 2},
		{Sample: "s0", System: "b", Metric: "modality", Status: "out_of_range", Raw: "15", Attempts: 1},
	}
	lines := []string{
		`{"sample":"s1","system":"a","metric":"clue","repeat":0,"status":"ok","score":7,"raw":"'预测分数'：7 <b>&","attempts":1,"latency_ms":50,"tokens":30}`,
		`{"sample":"s1","system":"a","metric":"clue","repeat":1,"status":"parse_error","raw":"no number","attempts":1,"latency_ms":0,"tokens":0}`,
		`{"sample":"s1","system":"a","metric":"emotion","repeat":0,"status":"request_error","raw":"HTTP 500: upstream","attempts":4,"latency_ms":0,"tokens":0}`,
		`{"sample":"s2","system":"a","metric":"clue","repeat":10,"status":"ok","score":0.5,"raw":"Score: 0.5","attempts":0,"latency_ms":0,"tokens":0}`,
		`{"sample":"s1","system":"a b","metric":"clue","repeat":0,"status":"refused","raw":"抱歉","attempts":2,"latency_ms":0,"tokens":0}`,
		`{"sample":"s0","system":"b","metric":"modality","repeat":0,"status":"out_of_range","raw":"15","attempts":1,"latency_ms":0,"tokens":0}`,
	}
	return rs, lines
}

// wantLegacyRecords returns the judge records the migration must make of
// legacyResults, in key order; inputs are dropped for schema 1, which had
// none.
func wantLegacyRecords(version int) []batch.Record {
	rs, lines := legacyResults()
	var out []batch.Record
	for i, r := range rs {
		in := r.InputSHA256
		if version < 2 {
			in = ""
		}
		class := batch.Final
		if r.Status == "request_error" {
			class = batch.Retry
		}
		out = append(out, batch.Record{Run: store.JudgeRun, Kind: store.JudgeKind, Key: r.Key().String(), Input: in,
			Class: class, Status: r.Status, Payload: []byte(lines[i])})
	}
	return out
}

// TestMigrateResults opens databases of schemas 1 and 2 holding results:
// the migration makes each result a judge record with its line of
// results.jsonl as payload, in the order of results.jsonl, and drops the
// old table; a read-only store of the old schema reads the same records
// without migrating.
func TestMigrateResults(t *testing.T) {
	if judge.StatusRequestError != "request_error" {
		t.Fatalf("the judge's status of a call with no reply is %q; the store retries %q", judge.StatusRequestError, "request_error")
	}
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("schema %d", version), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "emer.db")
			rs, _ := legacyResults()
			legacyDB(t, path, version, rs)
			want := wantLegacyRecords(version)

			ro, err := store.OpenReadOnly(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, scanAll(t, ro, store.JudgeRun, store.JudgeKind)); diff != "" {
				t.Errorf("read-only records of schema %d (-want +got):\n%s", version, diff)
			}
			if got := scanAll(t, ro, "infer", "infer"); len(got) != 0 {
				t.Errorf("read-only records of another kind: %v", got)
			}
			if v, _ := ro.SchemaVersion(ctx); v != version {
				t.Errorf("schema %d after a read-only open", v)
			}
			ro.Close()

			s := open(t, path)
			if v, _ := s.SchemaVersion(ctx); v != store.NumMigrations() {
				t.Errorf("schema %d after migration, want %d", v, store.NumMigrations())
			}
			if diff := cmp.Diff(want, scanAll(t, s, store.JudgeRun, store.JudgeKind)); diff != "" {
				t.Errorf("migrated records (-want +got):\n%s", diff)
			}
			for _, r := range scanAll(t, s, store.JudgeRun, store.JudgeKind) {
				res, err := store.ParseResult(r)
				if err != nil {
					t.Fatal(err)
				}
				if line, _ := res.Line(); string(line) != string(r.Payload) || res.InputSHA256 != r.Input || res.Key().String() != r.Key {
					t.Errorf("record %q does not read back: %+v", r.Key, res)
				}
			}
			db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'results'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("the results table is still there (%d, %v)", n, err)
			}
		})
	}
}

// TestResultKeyOrder checks that record keys sort bytewise as their
// tuples (system, sample, metric, repeat) do, whatever bytes the names
// hold, and read back.
func TestResultKeyOrder(t *testing.T) {
	alphabet := []string{"", "a", "b", "\x00", "\x01", "\x02", "\x03", " ", "é", "\xff", "0", "1"}
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	keys := make([]store.ResultKey, 3000)
	for i := range keys {
		keys[i] = store.ResultKey{System: word(), Sample: word(), Metric: word(), Repeat: []int{0, 1, 9, 10, 99, 100, store.MaxRepeats - 1}[rng.IntN(7)]}
	}
	byTuple := slices.Clone(keys)
	slices.SortFunc(byTuple, func(a, b store.ResultKey) int {
		if c := strings.Compare(a.System, b.System); c != 0 {
			return c
		}
		if c := strings.Compare(a.Sample, b.Sample); c != 0 {
			return c
		}
		if c := strings.Compare(a.Metric, b.Metric); c != 0 {
			return c
		}
		return a.Repeat - b.Repeat
	})
	byKey := slices.Clone(keys)
	slices.SortFunc(byKey, func(a, b store.ResultKey) int { return strings.Compare(a.String(), b.String()) })
	if diff := cmp.Diff(byTuple, byKey); diff != "" {
		t.Errorf("key order differs from tuple order (-tuple +key):\n%s", diff)
	}
	for _, k := range keys {
		s := k.String()
		if strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("key %q holds a NUL byte", s)
		}
		got, err := store.ParseResultKey(s)
		if err != nil || got != k {
			t.Fatalf("ParseResultKey(%q) = %+v, %v; want %+v", s, got, err, k)
		}
	}
	for _, bad := range []string{"", "a\x01b\x01c", "a\x01b\x01c\x0112345", "a\x01b\x01c\x011234567", "a\x029\x01b\x01c\x01000000", "a\x01b\x01c\x01-00001"} {
		if _, err := store.ParseResultKey(bad); err == nil {
			t.Errorf("ParseResultKey(%q) accepted", bad)
		}
	}
}

// TestLedgerContract runs the batch engine's ledger contract on the store.
func TestLedgerContract(t *testing.T) {
	batchtest.Ledger(t, func(t *testing.T) batch.Ledger { return open(t, filepath.Join(t.TempDir(), "emer.db")) })
}
