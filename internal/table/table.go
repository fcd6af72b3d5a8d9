package table

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// KeyColumns are the names accepted for the column that identifies a clip,
// in order of preference.
var KeyColumns = []string{"names", "name"}

// ErrColumn reports a column that a caller requires but the file lacks.
var ErrColumn = errors.New("missing column")

// ErrDuplicate reports a clip name that occurs on two rows.
var ErrDuplicate = errors.New("duplicate name")

// Table is a CSV file read whole: its header and its rows in file order.
type Table struct {
	Path    string
	Columns []string
	Key     string // the key column's name ("names" or "name")
	Rows    []Row

	index map[string]int // column name -> position
	byKey map[string]int // key value -> row index
}

// Row is one record of a Table.
type Row struct {
	Line   int // 1-based line where the record starts
	fields []string
	t      *Table
}

// Name returns the row's key (the clip name).
func (r Row) Name() string { return r.fields[r.t.index[r.t.Key]] }

// Get returns the value of column col, or "" when the table has no such
// column.
func (r Row) Get(col string) string {
	i, ok := r.t.index[col]
	if !ok {
		return ""
	}
	return r.fields[i]
}

// Has reports whether the table has column col.
func (t *Table) Has(col string) bool { _, ok := t.index[col]; return ok }

// Lookup returns the row whose key is name.
func (t *Table) Lookup(name string) (Row, bool) {
	i, ok := t.byKey[name]
	if !ok {
		return Row{}, false
	}
	return t.Rows[i], true
}

// Names returns the keys of all rows in file order.
func (t *Table) Names() []string {
	out := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		out[i] = r.Name()
	}
	return out
}

// Map returns key -> value of column col for every row.
func (t *Table) Map(col string) map[string]string {
	out := make(map[string]string, len(t.Rows))
	for _, r := range t.Rows {
		out[r.Name()] = r.Get(col)
	}
	return out
}

// Require returns an error naming the file when any of cols is absent.
func (t *Table) Require(cols ...string) error {
	var missing []string
	for _, c := range cols {
		if !t.Has(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s:1: %w %q (columns are %s)", t.Path, ErrColumn, strings.Join(missing, `", "`), strings.Join(t.Columns, ","))
	}
	return nil
}

// RequireOneOf returns the first of cols the table has, or an error naming
// them all.
func (t *Table) RequireOneOf(cols ...string) (string, error) {
	for _, c := range cols {
		if t.Has(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s:1: %w: need one of %q (columns are %s)", t.Path, ErrColumn, cols, strings.Join(t.Columns, ","))
}

// ReadFile reads the CSV file at path. The file must have a key column
// (see KeyColumns) and every column in required.
func ReadFile(path string, required ...string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, required...)
}

// Read reads CSV from r; name is used in error messages.
func Read(r io.Reader, name string, required ...string) (*Table, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = 0 // every record has as many fields as the header
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: expected a header line", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	t := &Table{Path: name, index: make(map[string]int, len(header))}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" && i == 0 {
			h = "index" // pandas writes an unnamed index column
		}
		if _, dup := t.index[h]; dup {
			return nil, fmt.Errorf("%s:1: column %q appears twice", name, h)
		}
		t.index[h] = i
		t.Columns = append(t.Columns, h)
	}
	key, err := t.RequireOneOf(KeyColumns...)
	if err != nil {
		return nil, err
	}
	t.Key = key
	if err := t.Require(required...); err != nil {
		return nil, err
	}
	t.byKey = make(map[string]int)
	var errs []error
	for {
		line, _ := cr.FieldPos(0)
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, csvError(name, err))
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			break // a quoting error leaves the reader unable to resynchronise
		}
		line, _ = cr.FieldPos(0)
		row := Row{Line: line, fields: rec, t: t}
		k := strings.TrimSpace(rec[t.index[key]])
		rec[t.index[key]] = k
		if k == "" {
			errs = append(errs, fmt.Errorf("%s:%d: empty %s", name, line, key))
			continue
		}
		if prev, dup := t.byKey[k]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: %w %q (first on line %d)", name, line, ErrDuplicate, k, t.Rows[prev].Line))
			continue
		}
		t.byKey[k] = len(t.Rows)
		t.Rows = append(t.Rows, row)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %w", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}
