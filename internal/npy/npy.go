package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors; wrapped errors carry the file and member.
var (
	ErrFormat          = errors.New("not a valid .npy array")
	ErrForbiddenGlobal = errors.New("forbidden pickle global")
	ErrUnsupported     = errors.New("unsupported array type")
)

// maxElements bounds the element count a header may announce, and
// maxItemSize the size of one element, so that a corrupt header cannot make
// the reader allocate without limit.
const (
	maxElements = 1 << 31
	maxItemSize = 1 << 20
)

// Array is one NumPy array.
type Array struct {
	Descr   string // dtype descriptor as written in the header, e.g. "<f8", "|O", "<U12"
	Shape   []int
	Fortran bool
	// Data holds the elements in storage order, one of []float64 (float
	// kinds), []int64 (signed integers), []uint64 (unsigned), []bool,
	// []string (unicode and byte strings) or []any (objects).
	Data any
}

// Len returns the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Objects returns the elements of any array as []any.
func (a *Array) Objects() []any {
	switch d := a.Data.(type) {
	case []any:
		return d
	case []float64:
		return toAny(d)
	case []int64:
		return toAny(d)
	case []uint64:
		return toAny(d)
	case []bool:
		return toAny(d)
	case []string:
		return toAny(d)
	}
	return nil
}

func toAny[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Item returns the single element of a 0-d (or one-element) array, as
// np.ndarray.item() does.
func (a *Array) Item() (any, error) {
	obj := a.Objects()
	if len(obj) != 1 {
		return nil, fmt.Errorf("array of shape %v has %d elements, want one", a.Shape, len(obj))
	}
	return obj[0], nil
}

// Strings returns the elements as strings; every element must be one.
func (a *Array) Strings() ([]string, error) {
	if s, ok := a.Data.([]string); ok {
		return s, nil
	}
	obj, ok := a.Data.([]any)
	if !ok {
		if a.Len() == 0 {
			return []string{}, nil // np.array([]) is of floats
		}
		// Numbers are not boxed one by one only to be refused.
		return nil, fmt.Errorf("array of dtype %s, want strings", a.Descr)
	}
	out := make([]string, len(obj))
	for i, o := range obj {
		s, ok := o.(string)
		if !ok {
			return nil, fmt.Errorf("element %d is %s, want a string", i, TypeName(o))
		}
		out[i] = s
	}
	return out, nil
}

var magic = []byte("\x93NUMPY")

// Read decodes one .npy stream of at most MaxMemberSize bytes.
func Read(r io.Reader) (*Array, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxMemberSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxMemberSize {
		return nil, fmt.Errorf("%w: more than %d MiB", ErrFormat, MaxMemberSize>>20)
	}
	return Decode(data)
}

// Decode decodes one .npy file held in memory.
func Decode(data []byte) (arr *Array, err error) {
	if len(data) < 10 || !bytes.Equal(data[:6], magic) {
		return nil, fmt.Errorf("%w: missing magic string \\x93NUMPY", ErrFormat)
	}
	major := data[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(data[8:10])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, fmt.Errorf("%w: truncated header", ErrFormat)
		}
		hlen, off = int(binary.LittleEndian.Uint32(data[8:12])), 12
	default:
		return nil, fmt.Errorf("%w: format version %d.%d", ErrUnsupported, major, data[7])
	}
	if hlen < 0 || off+hlen > len(data) {
		return nil, fmt.Errorf("%w: header of %d bytes runs past the end of the data (%d bytes)", ErrFormat, hlen, len(data))
	}
	h, err := parseHeader(string(data[off : off+hlen]))
	if err != nil {
		return nil, err
	}
	body := data[off+hlen:]
	arr = &Array{Descr: h.descr, Shape: h.shape, Fortran: h.fortran}
	n := 1
	for _, d := range h.shape {
		if d < 0 || (d > 0 && n > maxElements/d) {
			return nil, fmt.Errorf("%w: shape %v too large", ErrFormat, h.shape)
		}
		n *= d
	}
	if h.descr == "|O" || h.descr == "O" || h.descr == "<O" || h.descr == ">O" {
		v, err := Unpickle(body)
		if err != nil {
			return nil, fmt.Errorf("object array: %w", err)
		}
		inner, ok := v.(*Array)
		if !ok {
			return nil, fmt.Errorf("%w: object array payload is %s, want ndarray", ErrFormat, TypeName(v))
		}
		if inner.Len() != n {
			return nil, fmt.Errorf("%w: header shape %v but pickled array has shape %v", ErrFormat, h.shape, inner.Shape)
		}
		arr.Data = inner.Data
		return arr, nil
	}
	dt, err := parseDescr(h.descr)
	if err != nil {
		return nil, err
	}
	if n > 0 && dt.size > len(body)/n {
		return nil, fmt.Errorf("%w: data holds %d bytes, shape %v of %s needs %d", ErrFormat, len(body), h.shape, h.descr, uint64(n)*uint64(dt.size))
	}
	arr.Data, err = dt.decode(body[:n*dt.size], n)
	if err != nil {
		return nil, err
	}
	if h.fortran {
		arr.Data = toCOrder(arr.Data, arr.Shape)
	}
	return arr, nil
}

// toCOrder reorders elements stored in Fortran (column-major) order into
// C (row-major) order, the order Data always has.
func toCOrder(data any, shape []int) any {
	if len(shape) < 2 {
		return data
	}
	switch d := data.(type) {
	case []float64:
		return reorder(d, shape)
	case []int64:
		return reorder(d, shape)
	case []uint64:
		return reorder(d, shape)
	case []bool:
		return reorder(d, shape)
	case []string:
		return reorder(d, shape)
	case []any:
		return reorder(d, shape)
	}
	return data
}

func reorder[T any](in []T, shape []int) []T {
	out := make([]T, len(in))
	idx := make([]int, len(shape))
	for p := range in { // p walks Fortran storage: the first index fastest
		c := 0
		for j := range shape {
			c = c*shape[j] + idx[j]
		}
		out[c] = in[p]
		for j := range idx {
			idx[j]++
			if idx[j] < shape[j] {
				break
			}
			idx[j] = 0
		}
	}
	return out
}

type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader reads the Python dict literal of a .npy header, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }.
func parseHeader(s string) (header, error) {
	var h header
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return h, fmt.Errorf("%w: header %q is not a dict", ErrFormat, s)
	}
	get := func(key string) (string, bool) {
		i := strings.Index(s, "'"+key+"'")
		if i < 0 {
			return "", false
		}
		rest := strings.TrimSpace(s[i+len(key)+2:])
		rest = strings.TrimPrefix(rest, ":")
		return strings.TrimSpace(rest), true
	}
	d, ok := get("descr")
	if !ok || !strings.HasPrefix(d, "'") {
		return h, fmt.Errorf("%w: header %q has no string 'descr' (structured dtypes are not supported)", ErrFormat, s)
	}
	end := strings.IndexByte(d[1:], '\'')
	if end < 0 {
		return h, fmt.Errorf("%w: header %q: unterminated descr", ErrFormat, s)
	}
	h.descr = d[1 : end+1]
	f, ok := get("fortran_order")
	if !ok {
		return h, fmt.Errorf("%w: header %q has no 'fortran_order'", ErrFormat, s)
	}
	h.fortran = strings.HasPrefix(f, "True")
	sh, ok := get("shape")
	if !ok || !strings.HasPrefix(sh, "(") {
		return h, fmt.Errorf("%w: header %q has no 'shape' tuple", ErrFormat, s)
	}
	end = strings.IndexByte(sh, ')')
	if end < 0 {
		return h, fmt.Errorf("%w: header %q: unterminated shape", ErrFormat, s)
	}
	for _, p := range strings.Split(sh[1:end], ",") {
		p = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(p), "L"))
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return h, fmt.Errorf("%w: header %q: bad dimension %q", ErrFormat, s, p)
		}
		h.shape = append(h.shape, v)
	}
	if h.shape == nil {
		h.shape = []int{}
	}
	return h, nil
}

// dtype is a decoded simple (non-structured) dtype.
type dtype struct {
	order byte // '<', '>' or '|'
	kind  byte // 'f', 'i', 'u', 'b', 'U', 'S', 'O'
	size  int  // bytes per element
}

func (d dtype) String() string { return fmt.Sprintf("%c%c%d", d.order, d.kind, d.size) }

func parseDescr(s string) (dtype, error) {
	if s == "" {
		return dtype{}, fmt.Errorf("%w: empty dtype", ErrFormat)
	}
	d := dtype{order: '|'}
	switch s[0] {
	case '<', '>', '|', '=':
		d.order = s[0]
		if d.order == '=' {
			d.order = '<'
		}
		s = s[1:]
	}
	if s == "" {
		return d, fmt.Errorf("%w: dtype without a kind", ErrFormat)
	}
	d.kind = s[0]
	if d.kind == '?' {
		d.kind, s = 'b', "b1"
	}
	size := 1
	if len(s) > 1 {
		v, err := strconv.Atoi(s[1:])
		if err != nil || v < 0 || v > maxItemSize/4 {
			return d, fmt.Errorf("%w: dtype %q", ErrUnsupported, s)
		}
		size = v
	}
	d.size = size
	switch d.kind {
	case 'f':
		if size != 2 && size != 4 && size != 8 {
			return d, fmt.Errorf("%w: float of %d bytes", ErrUnsupported, size)
		}
	case 'i', 'u':
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return d, fmt.Errorf("%w: integer of %d bytes", ErrUnsupported, size)
		}
	case 'b':
		if size != 1 {
			return d, fmt.Errorf("%w: bool of %d bytes", ErrUnsupported, size)
		}
	case 'U', 'S':
		if size == 0 {
			return d, fmt.Errorf("%w: string dtype of zero length", ErrUnsupported)
		}
		if d.kind == 'U' {
			d.size = size * 4
		}
	case 'O':
	default:
		return d, fmt.Errorf("%w: dtype kind %q", ErrUnsupported, string(d.kind))
	}
	return d, nil
}

func (d dtype) byteOrder() binary.ByteOrder {
	if d.order == '>' {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// decode turns n packed elements into a typed slice.
func (d dtype) decode(b []byte, n int) (any, error) {
	bo := d.byteOrder()
	switch d.kind {
	case 'f':
		out := make([]float64, n)
		for i := range out {
			out[i] = d.float(b[i*d.size:], bo)
		}
		return out, nil
	case 'i':
		out := make([]int64, n)
		for i := range out {
			out[i] = d.int(b[i*d.size:], bo)
		}
		return out, nil
	case 'u':
		out := make([]uint64, n)
		for i := range out {
			out[i] = d.uint(b[i*d.size:], bo)
		}
		return out, nil
	case 'b':
		out := make([]bool, n)
		for i := range out {
			out[i] = b[i] != 0
		}
		return out, nil
	case 'U':
		out := make([]string, n)
		for i := range out {
			s, err := d.unicode(b[i*d.size : (i+1)*d.size])
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	case 'S':
		out := make([]string, n)
		for i := range out {
			out[i] = string(bytes.TrimRight(b[i*d.size:(i+1)*d.size], "\x00"))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, d)
}

// scalar decodes one element, as a pickled numpy scalar carries it.
func (d dtype) scalar(b []byte) (any, error) {
	if d.kind == 'O' {
		return nil, fmt.Errorf("%w: object scalar", ErrUnsupported)
	}
	if len(b) != d.size {
		return nil, fmt.Errorf("%w: scalar of %s has %d bytes", ErrFormat, d, len(b))
	}
	v, err := d.decode(b, 1)
	if err != nil {
		return nil, err
	}
	switch s := v.(type) {
	case []float64:
		return s[0], nil
	case []int64:
		return s[0], nil
	case []uint64:
		return s[0], nil
	case []bool:
		return s[0], nil
	case []string:
		return s[0], nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, d)
}

func (d dtype) float(b []byte, bo binary.ByteOrder) float64 {
	switch d.size {
	case 2:
		return halfToFloat(bo.Uint16(b))
	case 4:
		return float64(math.Float32frombits(bo.Uint32(b)))
	}
	return math.Float64frombits(bo.Uint64(b))
}

func (d dtype) int(b []byte, bo binary.ByteOrder) int64 {
	switch d.size {
	case 1:
		return int64(int8(b[0]))
	case 2:
		return int64(int16(bo.Uint16(b)))
	case 4:
		return int64(int32(bo.Uint32(b)))
	}
	return int64(bo.Uint64(b))
}

func (d dtype) uint(b []byte, bo binary.ByteOrder) uint64 {
	switch d.size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(bo.Uint16(b))
	case 4:
		return uint64(bo.Uint32(b))
	}
	return bo.Uint64(b)
}

func (d dtype) unicode(b []byte) (string, error) {
	bo := d.byteOrder()
	out := make([]byte, 0, len(b)/4)
	for i := 0; i+4 <= len(b); i += 4 {
		r := rune(bo.Uint32(b[i:]))
		if r == 0 {
			break
		}
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		if !utf8.ValidRune(r) {
			return "", fmt.Errorf("%w: invalid code point %#x in %s string", ErrFormat, uint32(r), d)
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out), nil
}

// halfToFloat converts an IEEE 754 half-precision value.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
