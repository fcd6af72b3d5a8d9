package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"emer/internal/table"
	"emer/internal/textenc"
)

// ErrInvalid marks a file whose records break the rules of its layout;
// the error lists every problem with its file and line.
var ErrInvalid = errors.New("invalid records")

// AnnotationFile is the annotation records of one file.
type AnnotationFile struct {
	Path string
	// HasAnnotator is whether the file has an annotator column (CSV) or
	// field (JSONL): drafts written by a program may have none.
	HasAnnotator bool
	Records      []Annotation // in file order
}

// ReadOptions are the rules a file of annotation records is read under.
type ReadOptions struct {
	// Encoding of the file; the zero value is UTF-8 (a UTF-8 or UTF-16
	// byte-order mark is always obeyed).
	Encoding textenc.Encoding
	// RequireAnnotator makes the annotator column or field required.
	RequireAnnotator bool
	// Clips, when not nil, is the list of clips the file annotates: each
	// must have at least one record and no record may name another clip.
	Clips []string
}

// The columns (CSV) or fields (JSONL) of an annotation record.
const (
	colClip      = "clip"
	colAnnotator = "annotator"
	colAspect    = "aspect"
	colText      = "text"
	colLang      = "lang"
)

// maxProblems is how many problems of one file an error lists.
const maxProblems = 20

// ReadAnnotationsFile reads the annotation records of a CSV (.csv) or
// JSON Lines (.jsonl, .ndjson) file. Both hold the same record: clip,
// annotator, aspect (visual, audio, content or context), text and lang (a
// BCP 47 tag such as en or zh). A CSV file has a header naming the
// columns, in any order; other columns are ignored. A JSONL file has one
// object per line with exactly those fields (annotator may be absent from
// every line); blank lines are skipped.
//
// Every problem is reported, each with its file and line: a missing
// column or field, an unknown aspect, empty text, a lang that is not a
// language tag, a second record for the same clip, annotator and aspect,
// and, when opts.Clips is set, clips without records and records of clips
// not listed. The error then wraps ErrInvalid.
func ReadAnnotationsFile(path string, opts ReadOptions) (*AnnotationFile, error) {
	var read func(io.Reader, string, ReadOptions) (*AnnotationFile, error)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		read = ReadAnnotationsCSV
	case ".jsonl", ".ndjson":
		read = ReadAnnotationsJSONL
	default:
		return nil, fmt.Errorf("%s: annotation records are read from .csv or .jsonl files", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, path, opts)
}

// rawRecord is a record as read, before it is checked.
type rawRecord struct {
	fields  [5]string // clip, annotator, aspect, text, lang
	missing []string  // fields absent from a JSONL line
	pos     Pos
}

var recordFields = [5]string{colClip, colAnnotator, colAspect, colText, colLang}

// ReadAnnotationsCSV reads annotation records in CSV from r; name is used
// in error messages. See ReadAnnotationsFile.
func ReadAnnotationsCSV(r io.Reader, name string, opts ReadOptions) (*AnnotationFile, error) {
	tr := textenc.NewReader(r, name, opts.Encoding, textenc.Limits{})
	budget := &recordBudget{r: tr}
	cr := csv.NewReader(budget)
	cr.FieldsPerRecord = 0
	budget.reset(table.MaxHeader)
	header, err := cr.Read()
	if terr := tr.Err(); terr != nil {
		return nil, terr
	}
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s: empty file: expected a header line naming the columns %s", name, strings.Join(recordFields[:], ", "))
	case errors.Is(err, errOverBudget):
		return nil, fmt.Errorf("%s:1: header longer than %s", name, textenc.FormatSize(table.MaxHeader))
	case err != nil:
		return nil, csvError(name, err)
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := index[h]; dup && h != "" {
			return nil, fmt.Errorf("%s:1: column %s appears twice", name, table.ListNames([]string{h}, 1))
		}
		index[h] = i
	}
	var missing []string
	for _, c := range recordFields {
		if _, ok := index[c]; !ok && (c != colAnnotator || opts.RequireAnnotator) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: missing column %s (the columns are %s)", name,
			table.ListNames(missing, 8), table.ListNames(header, 8))
	}
	_, hasAnnotator := index[colAnnotator]
	var raws []rawRecord
	var problems []error
	for {
		budget.reset(table.MaxRecord)
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if terr := tr.Err(); terr != nil {
				problems = append(problems, terr)
				break
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				problems = append(problems, csvError(name, err))
				continue
			}
			if errors.Is(err, errOverBudget) {
				line, _ := cr.FieldPos(0)
				problems = append(problems, fmt.Errorf("%s:%d: record longer than %s (a quoted field left open?)", name, line, textenc.FormatSize(table.MaxRecord)))
				break
			}
			problems = append(problems, csvError(name, err))
			break // a quoting error leaves the reader unable to resynchronise
		}
		line, _ := cr.FieldPos(0)
		raw := rawRecord{pos: Pos{File: name, Line: line}}
		for i, c := range recordFields {
			if j, ok := index[c]; ok {
				raw.fields[i] = rec[j]
			}
		}
		raws = append(raws, raw)
	}
	return finish(name, hasAnnotator, raws, problems, opts)
}

// jsonRecord is one line of a JSONL annotation file; pointers tell a
// missing field from an empty one.
type jsonRecord struct {
	Clip      *string `json:"clip"`
	Annotator *string `json:"annotator"`
	Aspect    *string `json:"aspect"`
	Text      *string `json:"text"`
	Lang      *string `json:"lang"`
}

// ReadAnnotationsJSONL reads annotation records in JSON Lines from r;
// name is used in error messages. See ReadAnnotationsFile.
func ReadAnnotationsJSONL(r io.Reader, name string, opts ReadOptions) (*AnnotationFile, error) {
	tr := textenc.NewReader(r, name, opts.Encoding, textenc.Limits{})
	var raws []rawRecord
	var problems []error
	annotated, unannotated := 0, 0
	err := eachLine(tr, func(line int, b []byte) {
		var jr jsonRecord
		if err := decodeStrict(b, &jr); err != nil {
			problems = append(problems, fmt.Errorf("%s:%d: %v", name, line, err))
			return
		}
		raw := rawRecord{pos: Pos{File: name, Line: line}}
		for i, p := range []*string{jr.Clip, jr.Annotator, jr.Aspect, jr.Text, jr.Lang} {
			if p == nil {
				if i != 1 || opts.RequireAnnotator {
					raw.missing = append(raw.missing, recordFields[i])
				}
				continue
			}
			raw.fields[i] = *p
		}
		if jr.Annotator != nil {
			annotated++
		} else {
			unannotated++
		}
		raws = append(raws, raw)
	})
	if err != nil {
		return nil, err
	}
	if annotated > 0 && unannotated > 0 {
		// Either every record names its annotator or none does: a match
		// by annotator would otherwise depend on which lines lack it.
		problems = append(problems, fmt.Errorf("%s: %d records name an annotator and %d do not; give it on every line or on none", name, annotated, unannotated))
	}
	return finish(name, annotated > 0, raws, problems, opts)
}

// eachLine calls fn with every line of r that is not blank, and its
// 1-based number. Lines are bounded by the text reader.
func eachLine(tr *textenc.Reader, fn func(line int, b []byte)) error {
	br := bufio.NewReader(tr)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if terr := tr.Err(); terr != nil {
			return terr
		}
		if len(bytes.TrimSpace(b)) > 0 {
			fn(line, b)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// decodeStrict decodes one JSON value from b into v, refusing unknown
// fields and anything after the value.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a JSON object of the expected fields: %w", err)
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// finish checks raw records and returns the file, or every problem found.
func finish(name string, hasAnnotator bool, raws []rawRecord, problems []error, opts ReadOptions) (*AnnotationFile, error) {
	af := &AnnotationFile{Path: name, HasAnnotator: hasAnnotator}
	first := map[Key]int{} // key -> line of its first record
	for _, raw := range raws {
		a, errs := checkRecord(raw, hasAnnotator)
		problems = append(problems, errs...)
		if len(errs) > 0 {
			continue
		}
		if line, dup := first[a.Key()]; dup {
			what := "aspect " + string(a.Aspect)
			if a.Annotator != "" {
				what = "annotator " + textenc.Excerpt(a.Annotator, 40) + " × " + what
			}
			problems = append(problems, fmt.Errorf("%s: second record for %s of clip %s (first on line %d)", raw.pos, what, textenc.Excerpt(a.Clip, 60), line))
			continue
		}
		first[a.Key()] = raw.pos.Line
		af.Records = append(af.Records, a)
	}
	if opts.Clips != nil {
		listed := make(map[string]bool, len(opts.Clips))
		for _, c := range opts.Clips {
			listed[norm.NFC.String(strings.TrimSpace(c))] = true
		}
		has := map[string]bool{}
		for _, a := range af.Records {
			has[a.Clip] = true
			if !listed[a.Clip] {
				problems = append(problems, fmt.Errorf("%s: clip %s is not in the clip list", a.Pos, textenc.Excerpt(a.Clip, 60)))
			}
		}
		var without []string
		for _, c := range opts.Clips {
			if c := norm.NFC.String(strings.TrimSpace(c)); !has[c] {
				without = append(without, c)
			}
		}
		if len(without) > 0 {
			problems = append(problems, fmt.Errorf("%s: %d clips of the clip list have no annotations: %s", name, len(without), table.ListNames(without, 8)))
		}
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return af, nil
}

// checkRecord turns a raw record into an annotation, or says everything
// wrong with it.
func checkRecord(raw rawRecord, hasAnnotator bool) (Annotation, []error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{raw.pos}, args...)...))
	}
	if len(raw.missing) > 0 {
		bad("missing field %s", strings.Join(raw.missing, ", "))
	}
	f := raw.fields
	a := Annotation{
		Clip:      norm.NFC.String(strings.TrimSpace(f[0])),
		Annotator: norm.NFC.String(strings.TrimSpace(f[1])),
		Text:      norm.NFC.String(strings.TrimSpace(f[3])),
		Pos:       raw.pos,
	}
	if a.Clip == "" && !slices.Contains(raw.missing, colClip) {
		bad("empty clip")
	}
	if hasAnnotator && a.Annotator == "" && !slices.Contains(raw.missing, colAnnotator) {
		bad("empty annotator")
	}
	if asp, ok := ParseAspect(f[2]); ok {
		a.Aspect = asp
	} else if !slices.Contains(raw.missing, colAspect) {
		bad("unknown aspect %s (want visual, audio, content or context)", textenc.Excerpt(f[2], 40))
	}
	if a.Text == "" && !slices.Contains(raw.missing, colText) {
		bad("empty text")
	}
	if !slices.Contains(raw.missing, colLang) {
		if lang, err := parseLang(f[4]); err != nil {
			bad("%v", err)
		} else {
			a.Lang = lang
		}
	}
	return a, errs
}

// parseLang checks a BCP 47 tag naming a language and returns its
// canonical form.
func parseLang(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty lang (want a language tag such as en or zh)")
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", fmt.Errorf("bad lang %s: not a language tag such as en or zh", textenc.Excerpt(s, 40))
	}
	if _, conf := tag.Base(); conf != language.Exact { // und, x-private
		return "", fmt.Errorf("bad lang %s: it names no language (want a tag such as en or zh)", textenc.Excerpt(s, 40))
	}
	return tag.String(), nil
}

// joinProblems joins up to maxProblems problems under ErrInvalid.
func joinProblems(errs []error) error {
	if len(errs) > maxProblems {
		errs = append(errs[:maxProblems:maxProblems], fmt.Errorf("and %d more problems", len(errs)-maxProblems))
	}
	return &problemsError{errs: errs}
}

// problemsError lists problems one a line and wraps ErrInvalid and each
// problem.
type problemsError struct{ errs []error }

func (e *problemsError) Error() string {
	var b strings.Builder
	for i, err := range e.errs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *problemsError) Unwrap() []error { return append([]error{ErrInvalid}, e.errs...) }

// recordBudget fails once more than a budget of bytes is read since the
// last reset, so that one CSV record cannot grow without bound (the CSV
// reader buffers up to csvBuffer bytes ahead, which the budget allows for).
type recordBudget struct {
	r    io.Reader
	left int64
}

const csvBuffer = 4096

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
