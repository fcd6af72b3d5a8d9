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
	"strings"
)

// ErrArchive reports a file that is not a readable .npz (zip) archive.
var ErrArchive = errors.New("not a readable .npz archive")

// maxMemberSize bounds one archive member's uncompressed size (2 GiB);
// the size a zip header claims only sizes the first buffer, up to
// maxInitialBuffer, since a hostile header may lie.
const (
	maxMemberSize    = 2 << 30
	maxInitialBuffer = 64 << 20
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

// Get returns the named array or an error listing the names present.
func (a *Archive) Get(name string) (*Array, error) {
	arr, ok := a.Arrays[name]
	if !ok && slices.Contains(a.skipped, name) {
		return nil, fmt.Errorf("%s: array %q was not read", a.Path, name)
	}
	if !ok {
		return nil, fmt.Errorf("%s: no array %q (it holds %s)", a.Path, name, strings.Join(a.Names(), ", "))
	}
	return arr, nil
}

// ReadArchive reads the arrays of the .npz file at path: all of them, or
// only those named in only (others are listed by Names but not decoded).
func ReadArchive(path string, only ...string) (*Archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeArchive(data, path, only...)
}

// DecodeArchive reads a .npz archive held in memory; name is used in
// errors. With only, just the named arrays are decoded.
func DecodeArchive(data []byte, name string, only ...string) (*Archive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (truncated or not a zip file): %v", name, ErrArchive, err)
	}
	arc := &Archive{Path: name, Arrays: make(map[string]*Array, len(zr.File))}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if len(only) > 0 && !slices.Contains(only, strings.TrimSuffix(f.Name, ".npy")) {
			arc.skipped = append(arc.skipped, strings.TrimSuffix(f.Name, ".npy"))
			continue
		}
		arr, err := readMember(f)
		if err != nil {
			return nil, fmt.Errorf("%s: member %s: %w", name, f.Name, err)
		}
		arc.Arrays[strings.TrimSuffix(f.Name, ".npy")] = arr
	}
	return arc, nil
}

func readMember(f *zip.File) (*Array, error) {
	if f.UncompressedSize64 > maxMemberSize {
		return nil, fmt.Errorf("%w: member of %d bytes is too large", ErrArchive, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrArchive, err)
	}
	defer rc.Close()
	b := bytes.NewBuffer(make([]byte, 0, min(f.UncompressedSize64, maxInitialBuffer)))
	n, err := io.Copy(b, io.LimitReader(rc, maxMemberSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrArchive, err)
	}
	if n > maxMemberSize {
		return nil, fmt.Errorf("%w: member larger than %d bytes", ErrArchive, int64(maxMemberSize))
	}
	return Decode(b.Bytes())
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
