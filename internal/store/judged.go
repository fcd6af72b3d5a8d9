package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"emer/internal/batch"
)

// The records of emer eval. An output folder has a store of its own and
// one judge (kept in its meta table, and checked by every run), so all its
// judge results are one run, JudgeRun; a ledger shared by several folders
// would name each folder's run instead.
const (
	JudgeRun  = "eval"
	JudgeKind = "judge"
)

// statusRequestError is the judge's status of a call that got no reply
// (judge.StatusRequestError): such a result is done again by the next run.
const statusRequestError = "request_error"

// MaxRepeats is the most repeats per item a ResultKey can tell apart.
const MaxRepeats = 1_000_000

// Result is one judged item: a sample of a system on a metric, one repeat.
// Its JSON form is a line of results.jsonl and the payload of its record.
type Result struct {
	Sample    string   `json:"sample"`
	System    string   `json:"system"`
	Metric    string   `json:"metric"`
	Repeat    int      `json:"repeat"`
	Status    string   `json:"status"`
	Score     *float64 `json:"score,omitempty"` // set only when Status is ok
	Raw       string   `json:"raw"`
	Attempts  int      `json:"attempts"`
	LatencyMS int64    `json:"latency_ms"`
	Tokens    int      `json:"tokens"`

	// InputSHA256 identifies the ground-truth and prediction texts judged
	// (see InputSHA256): the record's input, not part of results.jsonl.
	InputSHA256 string `json:"-"`
}

// InputSHA256 returns the digest of the texts a result judges.
func InputSHA256(gt, pred string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d\x00%s", len(gt), gt, len(pred), pred)
	return hex.EncodeToString(h.Sum(nil))
}

// ResultKey identifies a Result.
type ResultKey struct {
	Sample, System, Metric string
	Repeat                 int
}

// Key returns r's identity.
func (r Result) Key() ResultKey { return ResultKey{r.Sample, r.System, r.Metric, r.Repeat} }

// Record key encoding: system, sample and metric, each escaped, then the
// repeat in six digits, joined by keySep. Escaping maps the bytes 0x00,
// 0x01 and 0x02 to keyEsc and '0', '1' or '2', so that keySep (below any
// byte an escaped part holds) ends a part before anything that continues
// it: keys compare bytewise as the tuples (system, sample, metric,
// repeat) do, the order results.jsonl has always had. Keys hold no NUL
// byte, which some databases refuse in text.
const (
	keySep byte = 0x01
	keyEsc byte = 0x02
)

// String returns the key of k's record. It panics on a repeat outside
// 0..MaxRepeats-1, which the caller must have refused.
func (k ResultKey) String() string {
	if k.Repeat < 0 || k.Repeat >= MaxRepeats {
		panic(fmt.Sprintf("store: repeat %d out of range", k.Repeat))
	}
	var b strings.Builder
	for _, part := range []string{k.System, k.Sample, k.Metric} {
		for i := 0; i < len(part); i++ {
			if c := part[i]; c <= keyEsc {
				b.WriteByte(keyEsc)
				b.WriteByte('0' + c)
			} else {
				b.WriteByte(c)
			}
		}
		b.WriteByte(keySep)
	}
	fmt.Fprintf(&b, "%06d", k.Repeat)
	return b.String()
}

// ParseResultKey reads a key made by ResultKey.String.
func ParseResultKey(s string) (ResultKey, error) {
	bad := func(why string) (ResultKey, error) {
		return ResultKey{}, fmt.Errorf("judge record key %.60q: %s", s, why)
	}
	var parts [3]string
	rest := s
	for i := range parts {
		var b strings.Builder
		for {
			if rest == "" {
				return bad("too few parts")
			}
			c := rest[0]
			rest = rest[1:]
			if c == keySep {
				break
			}
			if c == keyEsc {
				if rest == "" || rest[0] < '0' || rest[0] > '2' {
					return bad("bad escape")
				}
				c, rest = rest[0]-'0', rest[1:]
			}
			b.WriteByte(c)
		}
		parts[i] = b.String()
	}
	if len(rest) != 6 {
		return bad("the repeat is not six digits")
	}
	rep, err := strconv.Atoi(rest)
	if err != nil || rep < 0 {
		return bad("the repeat is not six digits")
	}
	return ResultKey{System: parts[0], Sample: parts[1], Metric: parts[2], Repeat: rep}, nil
}

// Line returns r as a line of results.jsonl, without the newline.
func (r Result) Line() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Class returns the batch class of r: Retry for a call that got no reply,
// Final for every other result.
func (r Result) Class() batch.Class {
	if r.Status == statusRequestError {
		return batch.Retry
	}
	return batch.Final
}

// Record returns r as the record of its item.
func (r Result) Record() (batch.Record, error) {
	line, err := r.Line()
	if err != nil {
		return batch.Record{}, err
	}
	return batch.Record{Run: JudgeRun, Kind: JudgeKind, Key: r.Key().String(), Input: r.InputSHA256,
		Class: r.Class(), Status: r.Status, Payload: line}, nil
}

// ParseResult reads the Result of a judge record.
func ParseResult(rec batch.Record) (Result, error) {
	var r Result
	dec := json.NewDecoder(bytes.NewReader(rec.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Result{}, fmt.Errorf("judge record %.60q: %w", rec.Key, err)
	}
	r.InputSHA256 = rec.Input
	return r, nil
}

// legacyColumns are the columns of the results table of schemas 1 and 2,
// the digest being ” in schema 1.
func legacyColumns(version int) string {
	input := "input_sha256"
	if version < 2 {
		input = "''"
	}
	return "rowid, sample, system, metric, repeat, status, score, raw, attempts, latency_ms, tokens, " + input
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readLegacy runs q (selecting legacyColumns) and returns its results by
// rowid, the rows closed.
func readLegacy(ctx context.Context, db queryer, q string, args ...any) ([]int64, []Result, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids []int64
	var out []Result
	for rows.Next() {
		var id int64
		var r Result
		var score sql.NullFloat64
		if err := rows.Scan(&id, &r.Sample, &r.System, &r.Metric, &r.Repeat, &r.Status, &score, &r.Raw, &r.Attempts, &r.LatencyMS, &r.Tokens, &r.InputSHA256); err != nil {
			return nil, nil, err
		}
		if score.Valid {
			v := score.Float64
			r.Score = &v
		}
		if r.Repeat < 0 || r.Repeat >= MaxRepeats {
			return nil, nil, fmt.Errorf("result %s/%s/%s: repeat %d out of range", r.System, r.Sample, r.Metric, r.Repeat)
		}
		ids = append(ids, id)
		out = append(out, r)
	}
	return ids, out, rows.Err()
}

// moveResults is the Go step of the records migration: it copies every
// row of the results table into a judge record (same key order, its line
// of results.jsonl as payload, request_error as Retry), a page at a time,
// and drops the table.
func moveResults(ctx context.Context, tx *sql.Tx) error {
	put, err := tx.PrepareContext(ctx, putRecordSQL)
	if err != nil {
		return err
	}
	defer put.Close()
	q := `SELECT ` + legacyColumns(2) + ` FROM results WHERE rowid > ? ORDER BY rowid LIMIT 1000`
	var last int64 = -1 << 63
	for {
		ids, rs, err := readLegacy(ctx, tx, q, last)
		if err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		for _, r := range rs {
			rec, err := r.Record()
			if err != nil {
				return err
			}
			if _, err := put.ExecContext(ctx, rec.Run, rec.Kind, rec.Key, rec.Input, string(rec.Class), rec.Status, rec.Payload); err != nil {
				return fmt.Errorf("copy result %s/%s/%s/%d: %w", r.System, r.Sample, r.Metric, r.Repeat, err)
			}
		}
		if len(ids) < 1000 {
			break
		}
		last = ids[len(ids)-1]
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE results`)
	return err
}

// scanResults calls fn with the results of a read-only store of schema 1
// or 2 as the records migration would make them, in key order: it sorts
// their keys, then reads the results a page at a time.
func (s *Store) scanResults(ctx context.Context, fn func(batch.Record) error) error {
	type keyed struct {
		key string
		id  int64
	}
	var order []keyed
	rows, err := s.db.QueryContext(ctx, `SELECT rowid, system, sample, metric, repeat FROM results`)
	if err != nil {
		return fmt.Errorf("%s: read results: %w", s.path, err)
	}
	for rows.Next() {
		var k ResultKey
		var id int64
		if err := rows.Scan(&id, &k.System, &k.Sample, &k.Metric, &k.Repeat); err != nil {
			rows.Close()
			return fmt.Errorf("%s: read results: %w", s.path, err)
		}
		if k.Repeat < 0 || k.Repeat >= MaxRepeats {
			rows.Close()
			return fmt.Errorf("%s: result %s/%s/%s: repeat %d out of range", s.path, k.System, k.Sample, k.Metric, k.Repeat)
		}
		order = append(order, keyed{k.String(), id})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: read results: %w", s.path, err)
	}
	slices.SortFunc(order, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })

	for len(order) > 0 {
		page := order[:min(len(order), scanPage)]
		order = order[len(page):]
		args := make([]any, len(page))
		for i, k := range page {
			args[i] = k.id
		}
		q := `SELECT ` + legacyColumns(s.version) + ` FROM results WHERE rowid IN (?` + strings.Repeat(", ?", len(page)-1) + `)`
		ids, rs, err := readLegacy(ctx, s.db, q, args...)
		if err != nil {
			return fmt.Errorf("%s: read results: %w", s.path, err)
		}
		byID := make(map[int64]Result, len(ids))
		for i, id := range ids {
			byID[id] = rs[i]
		}
		for _, k := range page {
			r, ok := byID[k.id]
			if !ok {
				continue // gone since its key was read
			}
			rec, err := r.Record()
			if err != nil {
				return err
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return nil
}
