package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrArchive reports a file that is not a readable .npz (zip) archive.
var ErrArchive = errors.New("not a readable .npz archive")

// Limits on the arrays read from one archive, in uncompressed bytes: the
// largest member of the released files holds 2.8 MB. A member's size is
// checked against its zip header before it is inflated, and archive/zip
// stops inflating at that size, so that a zip bomb costs no more memory
// than the limit.
const (
	MaxMemberSize  = 32 << 20  // one member
	MaxArchiveSize = 128 << 20 // all members decoded from one archive
)

// Archive is a .npz file: named arrays.
type Archive struct {
	Path   string
	Arrays map[string]*Array // keyed by member name without ".npy"

	skipped []string // members present but not decoded
}

// Names returns the array names in sorted order.
func (a *Archive) Names() []string {
	out := make([]string, 0, len(a.Arrays)+len(a.skipped))
	for k := range a.Arrays {
		out = append(out, k)
	}
	out = append(out, a.skipped...)
	sort.Strings(out)
	return out
}

// Get returns the named array or an error listing a few of the names
// present.
func (a *Archive) Get(name string) (*Array, error) {
	arr, ok := a.Arrays[name]
	if !ok && slices.Contains(a.skipped, name) {
		return nil, fmt.Errorf("%s: array %q was not read", a.Path, name)
	}
	if !ok {
		return nil, fmt.Errorf("%s: no array %q (%s)", a.Path, name, a.Holds())
	}
	return arr, nil
}

// maxListed is how many array names an error message lists.
const maxListed = 5

// Holds describes the archive's contents for an error message: how many
// arrays it holds and the first few names.
func (a *Archive) Holds() string {
	names := a.Names()
	switch len(names) {
	case 0:
		return "it holds no arrays"
	case 1:
		return "it holds one array, " + showName(names[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "it holds %d arrays: ", len(names))
	for i, n := range names {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(names)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(showName(n))
	}
	return b.String()
}

// showName shows a member or array name as it is when it is short and
// plain, quoted and cut short otherwise.
func showName(s string) string {
	const max = 60
	plain := s != "" && len(s) <= max
	for _, r := range s {
		if !plain {
			break
		}
		plain = unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.:/()[]+", r)
	}
	if plain {
		return s
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// ReadArchive reads the arrays of the .npz file at path: all of them, or
// only those named in only (others are listed by Names but not decoded).
// Members are inflated one at a time from the file, within MaxMemberSize
// and MaxArchiveSize.
func ReadArchive(path string, only ...string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrArchive)
	}
	return readArchive(f, st.Size(), path, only)
}

// DecodeArchive reads a .npz archive held in memory; name is used in
// errors. With only, just the named arrays are decoded.
func DecodeArchive(data []byte, name string, only ...string) (*Archive, error) {
	return readArchive(bytes.NewReader(data), int64(len(data)), name, only)
}

func readArchive(r io.ReaderAt, size int64, name string, only []string) (*Archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (truncated or not a zip file): %v", name, ErrArchive, err)
	}
	arc := &Archive{Path: name, Arrays: make(map[string]*Array, len(zr.File))}
	var read []*zip.File
	var total uint64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if len(only) > 0 && !slices.Contains(only, strings.TrimSuffix(f.Name, ".npy")) {
			arc.skipped = append(arc.skipped, strings.TrimSuffix(f.Name, ".npy"))
			continue
		}
		read = append(read, f)
		total += min(f.UncompressedSize64, MaxArchiveSize+1) // no overflow
	}
	if total > MaxArchiveSize {
		return nil, fmt.Errorf("%s: %w: its arrays hold more than the %d MiB limit uncompressed", name, ErrArchive, MaxArchiveSize>>20)
	}
	for _, f := range read {
		data, err := ReadMember(f, MaxMemberSize)
		if err != nil {
			return nil, fmt.Errorf("%s: member %s: %w", name, showName(f.Name), err)
		}
		arr, err := Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: member %s: %w", name, showName(f.Name), err)
		}
		arc.Arrays[strings.TrimSuffix(f.Name, ".npy")] = arr
	}
	return arc, nil
}

// ReadMember inflates one zip member of at most limit bytes. The size its
// header gives is checked first, and archive/zip fails as soon as the
// data runs past that size, so that no more than limit bytes are ever
// held.
func ReadMember(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%w: member of %d bytes uncompressed, more than the %d MiB limit", ErrArchive, f.UncompressedSize64, limit>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrArchive, err)
	}
	defer rc.Close()
	data := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrArchive, err)
	}
	// The header's size was the whole of the data: archive/zip would
	// report a longer member on this read.
	if n, err := rc.Read(make([]byte, 1)); n > 0 || err != nil && err != io.EOF {
		return nil, fmt.Errorf("%w: member longer than its header says (%v)", ErrArchive, err)
	}
	return data, nil
}

// StringDict returns a 0-d object array holding a dict of strings, such as
// AffectGPT's name2reason, as a Go map.
func (a *Archive) StringDict(name string) (map[string]string, error) {
	arr, err := a.Get(name)
	if err != nil {
		return nil, err
	}
	v, err := arr.Item()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", a.Path, name, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s is %s, want a dict", a.Path, name, TypeName(v))
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %s[%q] is %s, want str", a.Path, name, k, TypeName(e))
		}
		out[k] = s
	}
	return out, nil
}
