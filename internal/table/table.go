package table

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"emer/internal/textenc"
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
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s:1: %w %s (%s)", t.Path, ErrColumn, plainName(missing[0]), t.columnList())
	}
	return fmt.Errorf("%s:1: %ws %s (%s)", t.Path, ErrColumn, ListNames(missing, maxListed), t.columnList())
}

// RequireOneOf returns the first of cols the table has, or an error naming
// them all.
func (t *Table) RequireOneOf(cols ...string) (string, error) {
	for _, c := range cols {
		if t.Has(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s:1: %w: need one of %s (%s)", t.Path, ErrColumn, ListNames(cols, maxListed), t.columnList())
}

// maxListed is how many names an error message lists.
const maxListed = 8

// columnList describes the header for an error message.
func (t *Table) columnList() string {
	if len(t.Columns) == 0 {
		return "the header has no columns"
	}
	return "the columns are " + ListNames(t.Columns, maxListed)
}

// ListNames joins up to max names for an error message, each shown
// plainly when it can be and quoted and cut short otherwise, and counts
// the rest: "a, b, c and 12 more".
func ListNames(names []string, max int) string {
	var b strings.Builder
	for i, n := range names {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(names)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(plainName(n))
	}
	return b.String()
}

// plainName shows a column or clip name as it is when it is short and
// holds only letters, digits and simple punctuation, and quoted otherwise.
func plainName(s string) string {
	const max = 40
	if s == "" || len(s) > max {
		return textenc.Excerpt(s, max)
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.:/()[]", r)) {
			return textenc.Excerpt(s, max)
		}
	}
	return s
}

// Limits on one table, beyond those of textenc.DefaultLimits on a line
// and the whole file.
const (
	MaxHeader = 64 << 10 // bytes of the header record
	MaxRecord = 16 << 20 // bytes of one record, quoted line breaks included
)

// ReadFile reads the CSV file at path in the default text encoding
// (textenc.Default). The file must have a key column (see KeyColumns) and
// every column in required.
func ReadFile(path string, required ...string) (*Table, error) {
	return ReadFileEncoded(path, textenc.Default(), required...)
}

// ReadFileEncoded is ReadFile for a file in encoding enc.
func ReadFileEncoded(path string, enc textenc.Encoding, required ...string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadEncoded(f, path, enc, required...)
}

// Read reads CSV from r in the default text encoding; name is used in
// error messages.
func Read(r io.Reader, name string, required ...string) (*Table, error) {
	return ReadEncoded(r, name, textenc.Default(), required...)
}

// ReadEncoded reads CSV in encoding enc from r; name is used in error
// messages. Text that is not valid in enc, a NUL byte, a line or file
// longer than textenc.DefaultLimits, a header longer than MaxHeader and a
// record longer than MaxRecord are errors.
func ReadEncoded(r io.Reader, name string, enc textenc.Encoding, required ...string) (*Table, error) {
	tr := textenc.NewReader(r, name, enc, textenc.Limits{})
	budget := &recordBudget{r: tr}
	cr := csv.NewReader(budget)
	cr.FieldsPerRecord = 0 // every record has as many fields as the header
	budget.reset(MaxHeader)
	header, err := cr.Read()
	if terr := tr.Err(); terr != nil {
		// Reported first: the CSV reader may have met a line cut short
		// where the text went bad.
		return nil, terr
	}
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: expected a header line", name)
	}
	if errors.Is(err, errOverBudget) {
		return nil, fmt.Errorf("%s:1: header longer than %s", name, textenc.FormatSize(MaxHeader))
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
			return nil, fmt.Errorf("%s:1: column %s appears twice", name, plainName(h))
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
	next := endLine(cr, header) + 1 // where the next record starts, at the earliest
	for {
		budget.reset(MaxRecord)
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			terr := tr.Err()
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				// A whole record, not one cut short where the text went bad.
				if end := endLine(cr, rec); terr == nil || terr.Line > end {
					errs = append(errs, csvError(name, err))
					next = end + 1
					continue
				}
			}
			switch {
			case terr != nil:
				errs = append(errs, terr)
			case errors.Is(err, errOverBudget):
				errs = append(errs, fmt.Errorf("%s:%d: record longer than %s (a quoted field left open?)", name, next, textenc.FormatSize(MaxRecord)))
			default:
				errs = append(errs, csvError(name, err))
			}
			break // a quoting error leaves the reader unable to resynchronise
		}
		line, _ := cr.FieldPos(0)
		next = endLine(cr, rec) + 1
		row := Row{Line: line, fields: rec, t: t}
		k := strings.TrimSpace(rec[t.index[key]])
		rec[t.index[key]] = k
		if k == "" {
			errs = append(errs, fmt.Errorf("%s:%d: empty %s", name, line, key))
			continue
		}
		if prev, dup := t.byKey[k]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: %w %s (first on line %d)", name, line, ErrDuplicate, textenc.Excerpt(k, 60), t.Rows[prev].Line))
			continue
		}
		t.byKey[k] = len(t.Rows)
		t.Rows = append(t.Rows, row)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return t, nil
}

// maxErrors is how many problems of one file are reported.
const maxErrors = 20

func joinErrors(errs []error) error {
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors], fmt.Errorf("and %d more problems", len(errs)-maxErrors))
	}
	return errors.Join(errs...)
}

// endLine returns the line on which rec, just read, ends.
func endLine(cr *csv.Reader, rec []string) int {
	if len(rec) == 0 {
		return 1
	}
	line, _ := cr.FieldPos(len(rec) - 1)
	return line + strings.Count(rec[len(rec)-1], "\n")
}

// recordBudget fails once more than a budget of bytes is read since the
// last reset, so that one record cannot grow without bound. The CSV
// reader buffers up to csvBuffer bytes ahead, which the budget allows
// for: a record over budget is longer than the limit, and a record within
// it is never refused.
type recordBudget struct {
	r    io.Reader
	left int64
}

const csvBuffer = 4096 // encoding/csv reads through a default bufio.Reader

var errOverBudget = errors.New("record over budget")

func (b *recordBudget) reset(limit int64) { b.left = limit + csvBuffer }

func (b *recordBudget) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errOverBudget
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %w", name, pe.Line, pe.Column, pe.Err)
	}
	var te *textenc.Error
	if errors.As(err, &te) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}
