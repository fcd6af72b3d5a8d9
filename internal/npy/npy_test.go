package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.bad.* files")

func TestDecodeNumeric(t *testing.T) {
	le := binary.LittleEndian
	f8 := make([]byte, 24)
	for i, v := range []float64{1.5, -2, math.Inf(1)} {
		le.PutUint64(f8[i*8:], math.Float64bits(v))
	}
	be4 := make([]byte, 8)
	binary.BigEndian.PutUint32(be4, math.Float32bits(0.25))
	binary.BigEndian.PutUint32(be4[4:], math.Float32bits(-3))
	i2 := make([]byte, 4)
	le.PutUint16(i2, uint16(0xFFFF)) // -1
	le.PutUint16(i2[2:], 7)
	for _, tc := range []struct {
		name  string
		data  []byte
		shape []int
		want  any
	}{
		{"float64", npyFile("<f8", []int{3}, f8), []int{3}, []float64{1.5, -2, math.Inf(1)}},
		{"big-endian float32 2x1", npyFile(">f4", []int{2, 1}, be4), []int{2, 1}, []float64{0.25, -3}},
		{"int16", npyFile("<i2", []int{2}, i2), []int{2}, []int64{-1, 7}},
		{"uint8", npyFile("|u1", []int{3}, []byte{0, 128, 255}), []int{3}, []uint64{0, 128, 255}},
		{"bool", npyFile("|b1", []int{2}, []byte{1, 0}), []int{2}, []bool{true, false}},
		{"half", npyFile("<f2", []int{1}, []byte{0x00, 0x3c}), []int{1}, []float64{1}},
		{"unicode", npyFile("<U5", []int{2}, unicodeBody([]string{"héllo", "ab"}, 5)), []int{2}, []string{"héllo", "ab"}},
		{"bytes", npyFile("|S3", []int{2}, []byte("abcx\x00\x00")), []int{2}, []string{"abc", "x"}},
		{"0-d unicode", npyFile("<U3", []int{}, unicodeBody([]string{"[a]"}, 3)), []int{}, []string{"[a]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Decode(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, a.Data); d != "" {
				t.Errorf("data (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.shape, a.Shape); d != "" {
				t.Errorf("shape (-want +got):\n%s", d)
			}
		})
	}
}

func TestObjectArray(t *testing.T) {
	labels := map[string]any{
		"sample_1": map[string]any{"emo": "happy", "val": f8(1.5)},
		"sample_2": map[string]any{"emo": 3, "val": -10},
	}
	data := objectNpy([]int{}, []any{labels})
	a, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Item()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sample_1": map[string]any{"emo": "happy", "val": 1.5},
		"sample_2": map[string]any{"emo": int64(3), "val": int64(-10)},
	}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	// A 1-d object array of strings, as some prediction files hold names.
	a, err = Decode(objectNpy([]int{2}, []any{"x", "y"}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.Strings()
	if err != nil || !cmp.Equal(s, []string{"x", "y"}) {
		t.Errorf("Strings() = %q, %v", s, err)
	}
}

func TestArchive(t *testing.T) {
	data := npzFile(map[string][]byte{
		"filenames": npyFile("<U2", []int{2}, unicodeBody([]string{"a1", "b2"}, 2)),
		"fileitems": npyFile("<U8", []int{2}, unicodeBody([]string{"[happy]", "[sad]"}, 8)),
	})
	arc, err := DecodeArchive(data, "x.npz")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"fileitems", "filenames"}, arc.Names()); d != "" {
		t.Error(d)
	}
	if _, err := arc.Get("name2reason"); err == nil || !strings.Contains(err.Error(), `x.npz: no array "name2reason" (it holds 2 arrays: fileitems, filenames)`) {
		t.Errorf("Get of a missing array: %v", err)
	}
}

// badFiles builds the inputs of TestBadFiles; `go test -update` writes them.
func badFiles() map[string][]byte {
	good := npyFile("<f8", []int{2}, make([]byte, 16))
	npz := npzFile(map[string][]byte{"a": good, "b": objectNpy([]int{1}, []any{"x"})})

	var forbidden pk
	forbidden.proto()
	forbidden.global("os", "system")
	forbidden.mark()
	forbidden.str("echo owned")
	forbidden.tuple()
	forbidden.reduce()
	forbidden.stop()

	var builtin pk
	builtin.proto()
	builtin.global("numpy.core.multiarray", "_reconstruct")
	builtin.mark()
	builtin.global("builtins", "eval")
	builtin.mark()
	builtin.int(0)
	builtin.tuple()
	builtin.bytes([]byte("b"))
	builtin.tuple()
	builtin.reduce()
	builtin.stop()

	var dict pk
	dict.proto()
	dict.value(map[string]any{"a": 1})
	dict.stop()

	return map[string][]byte{
		"truncated.bad.npz":        npz[:len(npz)/2],
		"forbidden-global.bad.npy": npyFile("|O", []int{}, forbidden.Bytes()),
		"builtins-eval.bad.npy":    npyFile("|O", []int{}, builtin.Bytes()),
		"not-an-array.bad.npy":     npyFile("|O", []int{}, dict.Bytes()),
		"short-data.bad.npy":       npyFile("<f8", []int{10}, make([]byte, 24)),
		"bad-magic.bad.npy":        []byte("name,openset\nx,[happy]\n"),
		"header-overflow.bad.npy":  good[:40],
		"structured.bad.npy":       append([]byte("\x93NUMPY\x01\x00\x46\x00{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }    \n"), make([]byte, 8)...),
		"complex.bad.npy":          npyFile("<c16", []int{1}, make([]byte, 16)),
	}
}

func TestBadFiles(t *testing.T) {
	if *update {
		for name, data := range badFiles() {
			if err := os.WriteFile(filepath.Join("testdata", name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]struct {
		sentinel error
		text     string
	}{
		"truncated.bad.npz":        {ErrArchive, "truncated or not a zip file"},
		"forbidden-global.bad.npy": {ErrForbiddenGlobal, "os.system"},
		"builtins-eval.bad.npy":    {ErrForbiddenGlobal, "builtins.eval"},
		"not-an-array.bad.npy":     {ErrFormat, "payload is dict, want ndarray"},
		"short-data.bad.npy":       {ErrFormat, "data holds 24 bytes, shape [10] of <f8 needs 80"},
		"bad-magic.bad.npy":        {ErrFormat, "missing magic"},
		"header-overflow.bad.npy":  {ErrFormat, "runs past the end"},
		"structured.bad.npy":       {ErrFormat, "structured dtypes are not supported"},
		"complex.bad.npy":          {ErrUnsupported, `dtype kind "c"`},
	}
	files, _ := filepath.Glob("testdata/*.bad.*")
	if len(files) != len(want) {
		t.Errorf("testdata has %d bad files, want %d (run go test -update)", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			var err error
			if strings.HasSuffix(name, ".npz") {
				_, err = ReadArchive(f)
			} else {
				var data []byte
				data, err = os.ReadFile(f)
				if err == nil {
					_, err = Decode(data)
				}
			}
			if !errors.Is(err, w.sentinel) || !strings.Contains(err.Error(), w.text) {
				t.Errorf("error %v, want %v containing %q", err, w.sentinel, w.text)
			}
		})
	}
}

var sharedDir = sharedtest.Data

func TestReleasedLabels(t *testing.T) {
	dir := sharedDir(t, "merbench-labels")
	for _, tc := range []struct {
		file, split string
		n           int
	}{
		{"cmumosi-process_label.npz", "test_corpus", 686},
		{"mer2023-dataset-process_label-6way.npz", "test1_corpus", 411},
		{"iemocap-process_label_4way.npz", "whole_corpus", 5531},
		{"cmumosei-process_label.npz", "train_corpus", 16326},
	} {
		t.Run(tc.file, func(t *testing.T) {
			arc, err := ReadArchive(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			a, err := arc.Get(tc.split)
			if err != nil {
				t.Fatal(err)
			}
			v, err := a.Item()
			if err != nil {
				t.Fatal(err)
			}
			m, ok := v.(map[string]any)
			if !ok || len(m) != tc.n {
				t.Fatalf("%s is %s with %d entries, want a dict of %d", tc.split, TypeName(v), len(m), tc.n)
			}
			for name, e := range m {
				if _, ok := e.(map[string]any)["emo"]; !ok {
					t.Fatalf("%s: entry %s has no emo", tc.split, name)
				}
			}
		})
	}
}

func TestReleasedPredictions(t *testing.T) {
	dir := sharedDir(t, "affectgpt-outputs", "AffectGPT", "output", "results-mer2023")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "checkpoint_000030_loss_0.602*.npz"))
	if len(files) != 2 {
		t.Fatalf("found %d checkpoint files, want 2", len(files))
	}
	for _, f := range files {
		arc, err := ReadArchive(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "-openset.npz") {
			names, _ := arc.Get("filenames")
			items, _ := arc.Get("fileitems")
			if names == nil || items == nil || names.Len() != 411 || items.Len() != 411 {
				t.Fatalf("%s: arrays %v", f, arc.Names())
			}
			continue
		}
		m, err := arc.StringDict("name2reason")
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 411 || !strings.HasPrefix(m["sample_00004188"], "The character's emotional state is") {
			t.Fatalf("name2reason has %d entries; sample_00004188: %q", len(m), m["sample_00004188"])
		}
	}
}

func FuzzReadNpy(f *testing.F) {
	for _, seed := range badFiles() {
		f.Add(seed)
	}
	f.Add(objectNpy([]int{}, []any{map[string]any{"a": map[string]any{"emo": "happy", "val": f8(2)}}}))
	f.Add(objectNpy([]int{2}, []any{[]any{"x", 1, 2.5, nil, true}, "y"}))
	f.Add(npyFile("<U3", []int{2}, unicodeBody([]string{"abc", "d"}, 3)))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data)
		if err != nil {
			return
		}
		if n := len(a.Objects()); n != a.Len() {
			t.Fatalf("array of shape %v holds %d elements", a.Shape, n)
		}
		_, _ = DecodeArchive(data, "fuzz.npz")
	})
}

func TestFortranOrder(t *testing.T) {
	le := binary.LittleEndian
	body := make([]byte, 6*8)
	// A 2x3 array [[1 2 3] [4 5 6]] stored column by column.
	for i, v := range []float64{1, 4, 2, 5, 3, 6} {
		le.PutUint64(body[i*8:], math.Float64bits(v))
	}
	data := npyFile("<f8", []int{2, 3}, body)
	data = bytes.Replace(data, []byte("'fortran_order': False"), []byte("'fortran_order': True "), 1)
	a, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]float64{1, 2, 3, 4, 5, 6}, a.Data); d != "" {
		t.Errorf("C order (-want +got):\n%s", d)
	}
}

// Protocol 4 pickles as numpy 2 writes them: a FRAME, MEMOIZE after each
// object, and numpy._core globals.
func TestProtocol4Frame(t *testing.T) {
	var body pk
	body.global("numpy._core.multiarray", "_reconstruct")
	body.WriteByte(0x94) // MEMOIZE
	body.mark()
	body.global("numpy", "ndarray")
	body.WriteByte(0x94)
	body.mark()
	body.int(0)
	body.tuple()
	body.bytes([]byte("b"))
	body.tuple()
	body.reduce()
	body.mark()
	body.int(1)
	body.mark()
	body.int(2)
	body.tuple()
	body.dtype("O8", "|", -1)
	body.boolean(false)
	body.value([]any{"a", map[string]any{"emo": "happy"}})
	body.tuple()
	body.build()
	body.stop()
	var p pk
	p.Write([]byte{0x80, 4, 0x95})
	binary.Write(&p.Buffer, binary.LittleEndian, uint64(body.Len()))
	p.Write(body.Bytes())
	a, err := Decode(npyFile("|O", []int{2}, p.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]any{"a", map[string]any{"emo": "happy"}}, a.Data); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestHostileSizes(t *testing.T) {
	for name, data := range map[string][]byte{
		"item size overflow": npyFile("<U4611686018427387904", []int{1 << 30}, nil),
		"huge string dtype":  npyFile("|S99999999", []int{4}, make([]byte, 16)),
	} {
		if _, err := Decode(data); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	var p pk
	p.proto()
	p.WriteString("I" + strings.Repeat("9", 5000) + "\n")
	p.stop()
	if _, err := Unpickle(p.Bytes()); !errors.Is(err, ErrPickle) || !strings.Contains(err.Error(), "number of 5001 characters") {
		t.Errorf("long integer text: %v", err)
	}
}

func FuzzReadNpz(f *testing.F) {
	f.Add(npzFile(map[string][]byte{"a": npyFile("<f8", []int{1}, make([]byte, 8))}))
	f.Add(npzFile(map[string][]byte{"filenames": objectNpy([]int{1}, []any{"x"}), "fileitems": npyFile("<U1", []int{1}, unicodeBody([]string{"y"}, 1))}))
	f.Fuzz(func(t *testing.T, data []byte) {
		arc, err := DecodeArchive(data, "fuzz.npz")
		if err != nil {
			return
		}
		for _, name := range arc.Names() {
			if _, err := arc.Get(name); err != nil {
				t.Fatalf("listed array %q: %v", name, err)
			}
		}
	})
}
