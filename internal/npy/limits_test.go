package npy

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zeroMember adds a member of n zero bytes, deflated, to zw.
func zeroMember(t *testing.T, zw *zip.Writer, name string, n int64) {
	t.Helper()
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeroReader{}, n); err != nil {
		t.Fatal(err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// rawMember adds a member whose header claims size bytes but whose data
// is deflated from data, as a hostile archive may.
func rawMember(t *testing.T, zw *zip.Writer, name string, data []byte, size uint64) {
	t.Helper()
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, flate.BestSpeed)
	fw.Write(data)
	fw.Close()
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate,
		CRC32: crc32.ChecksumIEEE(data), CompressedSize64: uint64(c.Len()), UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(c.Bytes())
}

func writeZip(t *testing.T, build func(zw *zip.Writer)) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	build(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bomb.npz")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Archives that inflate past the limits are refused before they are
// inflated, or as soon as a member runs past the size its header gives.
func TestArchiveLimits(t *testing.T) {
	good := npyFile("<f8", []int{2}, make([]byte, 16))
	for _, tc := range []struct {
		name  string
		build func(t *testing.T, zw *zip.Writer)
		want  string
	}{
		{"bomb member", func(t *testing.T, zw *zip.Writer) {
			zeroMember(t, zw, "a.npy", MaxMemberSize+1)
		}, "bomb.npz: member a.npy: not a readable .npz archive: member of 33554433 bytes uncompressed, more than the 32 MiB limit"},
		{"many members", func(t *testing.T, zw *zip.Writer) {
			for i := range 5 {
				rawMember(t, zw, fmt.Sprintf("m%d.npy", i), good, 30<<20)
			}
		}, "bomb.npz: not a readable .npz archive: its arrays hold more than the 128 MiB limit uncompressed"},
		{"header lies", func(t *testing.T, zw *zip.Writer) {
			rawMember(t, zw, "a.npy", make([]byte, 1<<20), uint64(len(good)))
		}, "bomb.npz: member a.npy: not a readable .npz archive: member longer than its header says (zip: not a valid zip file)"},
		{"header short of the data", func(t *testing.T, zw *zip.Writer) {
			rawMember(t, zw, "a.npy", good, uint64(len(good)+10))
		}, "bomb.npz: member a.npy: not a readable .npz archive: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeZip(t, func(zw *zip.Writer) { tc.build(t, zw) })
			_, err := ReadArchive(p)
			if !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n %v\nwant ErrArchive containing\n %s", err, tc.want)
			}
		})
	}
	// Members not asked for are neither inflated nor counted.
	p := writeZip(t, func(zw *zip.Writer) {
		w, _ := zw.Create("x.npy")
		w.Write(good)
		zeroMember(t, zw, "big.npy", MaxMemberSize+1)
	})
	if arc, err := ReadArchive(p, "x"); err != nil || arc.Arrays["x"] == nil {
		t.Errorf("reading x only: %v", err)
	}
}

// A file that is not a regular file (a device that never ends) is refused
// without being read.
func TestArchiveNotRegular(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skip(err)
	}
	_, err := ReadArchive(os.DevNull)
	if !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("error %v, want ErrArchive: not a regular file", err)
	}
}

// A missing array's error names a few of the arrays present and counts the
// rest, however many there are.
func TestArchiveGetListsFew(t *testing.T) {
	members := map[string][]byte{}
	for i := range 50 {
		members[fmt.Sprintf("sample_%04d", i)] = npyFile("<f8", []int{1}, make([]byte, 8))
	}
	arc, err := DecodeArchive(npzFile(members), "s.zip")
	if err != nil {
		t.Fatal(err)
	}
	_, err = arc.Get("format_mapping")
	want := `s.zip: no array "format_mapping" (it holds 50 arrays: sample_0000, sample_0001, sample_0002, sample_0003, sample_0004 and 45 more)`
	if err == nil || err.Error() != want {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}
}

// Strings refuses an array of numbers without boxing every element, and
// reads an empty one (np.array([]) is of floats) as no strings.
func TestStringsOfNumbers(t *testing.T) {
	a, err := Decode(npyFile("<f8", []int{3}, make([]byte, 24)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Strings(); err == nil || err.Error() != "array of dtype <f8, want strings" {
		t.Errorf("Strings of floats: %v", err)
	}
	empty, err := Decode(npyFile("<f8", []int{0}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := empty.Strings(); err != nil || len(s) != 0 {
		t.Errorf("Strings of an empty array = %q, %v", s, err)
	}
}
