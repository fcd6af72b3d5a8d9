package npy

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// ErrPickle reports a pickle stream that cannot be read as plain data.
var ErrPickle = errors.New("bad pickle")

// maxDepth bounds the nesting of pickled containers.
const maxDepth = 512

// Unpickle decodes a pickle stream holding plain data (see the package
// documentation for what is allowed and what it returns).
func Unpickle(data []byte) (v any, err error) {
	defer func() {
		// The pickle machine indexes its stacks without checks on some
		// malformed streams; turn that into an error, not a crash.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: malformed stream (%v)", ErrPickle, r)
		}
	}()
	if err := scan(data); err != nil {
		return nil, err
	}
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = findClass
	u.PersistentLoad = func(any) (any, error) {
		return nil, fmt.Errorf("%w: persistent ids are not plain data", ErrForbiddenGlobal)
	}
	u.GetExtension = func(code int) (any, error) {
		return nil, fmt.Errorf("%w: extension code %d", ErrForbiddenGlobal, code)
	}
	raw, err := u.Load()
	if err != nil {
		if errors.Is(err, ErrForbiddenGlobal) || errors.Is(err, ErrFormat) || errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrPickle, err)
	}
	c := converter{seen: map[any]any{}, active: map[any]bool{}}
	return c.plain(raw, 0)
}

// findClass resolves the globals that numpy writes for plain arrays and
// refuses all others.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
		return reconstructFunc{}, nil
	case "numpy.ndarray":
		return ndarrayClass{}, nil
	case "numpy.dtype":
		return dtypeClass{}, nil
	case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
		return scalarFunc{}, nil
	case "_codecs.encode":
		return codecsEncode{}, nil
	}
	return nil, fmt.Errorf("%w %s.%s: only numpy's ndarray, dtype and scalar globals are allowed", ErrForbiddenGlobal, module, name)
}

type ndarrayClass struct{}

// reconstructFunc is numpy.core.multiarray._reconstruct(subtype, shape, dtype).
type reconstructFunc struct{}

func (reconstructFunc) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("%w: _reconstruct takes 3 arguments, got %d", ErrPickle, len(args))
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("%w: _reconstruct of %s, want numpy.ndarray", ErrForbiddenGlobal, TypeName(args[0]))
	}
	return &pickledArray{}, nil
}

// pickledArray is an ndarray under construction; BUILD sets its state.
type pickledArray struct {
	shape   []int
	dt      *pickledDtype
	fortran bool
	raw     any // []byte for packed data, []any for object arrays
	built   bool
}

// PySetState receives (version, shape, dtype, is_fortran, rawdata).
func (a *pickledArray) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || (t.Len() != 5 && t.Len() != 4) {
		return fmt.Errorf("%w: ndarray state is %s, want a 5-tuple", ErrPickle, TypeName(state))
	}
	i := 0
	if t.Len() == 5 {
		i = 1
	}
	shape, err := intTuple(t.Get(i))
	if err != nil {
		return fmt.Errorf("%w: ndarray shape: %v", ErrPickle, err)
	}
	dt, ok := t.Get(i + 1).(*pickledDtype)
	if !ok {
		return fmt.Errorf("%w: ndarray dtype is %s", ErrPickle, TypeName(t.Get(i+1)))
	}
	f, ok := t.Get(i + 2).(bool)
	if !ok {
		return fmt.Errorf("%w: ndarray fortran flag is %s", ErrPickle, TypeName(t.Get(i+2)))
	}
	a.shape, a.dt, a.fortran, a.built = shape, dt, f, true
	switch raw := t.Get(i + 3).(type) {
	case []byte:
		a.raw = raw
	case string: // protocol 0-2 pickles carry packed data as latin-1 text
		b := make([]byte, 0, len(raw))
		for _, r := range raw {
			if r > 0xff {
				return fmt.Errorf("%w: ndarray data string is not latin-1", ErrPickle)
			}
			b = append(b, byte(r))
		}
		a.raw = b
	case *types.List:
		a.raw = []any(*raw)
	default:
		return fmt.Errorf("%w: ndarray data is %s", ErrPickle, TypeName(raw))
	}
	return nil
}

func intTuple(v any) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("%s, want a tuple", TypeName(v))
	}
	out := make([]int, t.Len())
	n := 1
	for i := range out {
		d, ok := t.Get(i).(int)
		if !ok || d < 0 {
			return nil, fmt.Errorf("dimension %v", t.Get(i))
		}
		if d > 0 && n > maxElements/d {
			return nil, fmt.Errorf("shape too large")
		}
		n *= d
		out[i] = d
	}
	return out, nil
}

// dtypeClass is numpy.dtype(spec, align, copy).
type dtypeClass struct{}

func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("%w: dtype() without arguments", ErrPickle)
	}
	spec, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("%w: dtype spec is %s", ErrPickle, TypeName(args[0]))
	}
	return &pickledDtype{spec: spec}, nil
}

// pickledDtype is a dtype whose byte order and item size arrive by BUILD.
type pickledDtype struct {
	spec   string
	order  string
	elsize int
}

// PySetState receives (version, byteorder, subarray, names, fields, elsize, alignment, flags).
func (d *pickledDtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || t.Len() < 6 {
		return fmt.Errorf("%w: dtype state is %s", ErrPickle, TypeName(state))
	}
	order, ok := t.Get(1).(string)
	if !ok {
		return fmt.Errorf("%w: dtype byte order is %s", ErrPickle, TypeName(t.Get(1)))
	}
	if t.Get(3) != nil || t.Get(2) != nil {
		return fmt.Errorf("%w: structured or sub-array dtype", ErrUnsupported)
	}
	d.order = order
	// The state is (version, byteorder, subarray, names, fields, elsize,
	// alignment, flags[, metadata]).
	if es, ok := t.Get(5).(int); ok {
		d.elsize = es
	}
	return nil
}

// dtype returns the decoded dtype.
func (d *pickledDtype) dtype() (dtype, error) {
	spec := d.spec
	// numpy pickles a unicode dtype as ('U', ...) with the element size in
	// its state, in bytes.
	if (spec == "U" || spec == "S") && d.elsize > 0 {
		n := d.elsize
		if spec == "U" {
			n /= 4
		}
		spec += strconv.Itoa(n)
	}
	order := d.order
	if order == "" || order == "=" {
		order = "<"
	}
	return parseDescr(order + spec)
}

// scalarFunc is numpy.core.multiarray.scalar(dtype, data).
type scalarFunc struct{}

func (scalarFunc) Call(args ...any) (any, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("%w: scalar() takes 1 or 2 arguments, got %d", ErrPickle, len(args))
	}
	pd, ok := args[0].(*pickledDtype)
	if !ok {
		return nil, fmt.Errorf("%w: scalar dtype is %s", ErrPickle, TypeName(args[0]))
	}
	dt, err := pd.dtype()
	if err != nil {
		return nil, err
	}
	if dt.kind == 'O' {
		if len(args) != 2 {
			return nil, fmt.Errorf("%w: object scalar without a value", ErrPickle)
		}
		return args[1], nil
	}
	var raw []byte
	if len(args) == 2 {
		switch b := args[1].(type) {
		case []byte:
			raw = b
		case string:
			for _, r := range b {
				raw = append(raw, byte(r))
			}
		default:
			return nil, fmt.Errorf("%w: scalar data is %s", ErrPickle, TypeName(args[1]))
		}
	}
	return dt.scalar(raw)
}

// codecsEncode is _codecs.encode(text, "latin1"), which protocol-2 pickles
// use to carry bytes.
type codecsEncode struct{}

func (codecsEncode) Call(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%w: _codecs.encode takes 2 arguments", ErrPickle)
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
		return nil, fmt.Errorf("%w: _codecs.encode only for latin1 text", ErrForbiddenGlobal)
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("%w: _codecs.encode of non-latin1 text", ErrPickle)
		}
		b = append(b, byte(r))
	}
	return b, nil
}

// converter turns the pickle machine's values into plain Go values,
// converting each shared container once and refusing cycles.
type converter struct {
	seen   map[any]any
	active map[any]bool
}

func (c *converter) plain(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nesting deeper than %d", ErrPickle, maxDepth)
	}
	switch x := v.(type) {
	case nil, string, bool, float64, int64, uint64, []byte:
		return x, nil
	case int:
		return int64(x), nil
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
		return x, nil
	case *types.Dict, *types.List, *types.Tuple, *types.OrderedDict, *pickledArray:
		if out, ok := c.seen[x]; ok {
			return out, nil
		}
		if c.active[x] {
			return nil, fmt.Errorf("%w: self-referencing container", ErrPickle)
		}
		c.active[x] = true
		out, err := c.container(x, depth)
		delete(c.active, x)
		if err != nil {
			return nil, err
		}
		c.seen[x] = out
		return out, nil
	}
	return nil, fmt.Errorf("%w: value of type %s is not plain data", ErrPickle, TypeName(v))
}

func (c *converter) container(v any, depth int) (any, error) {
	switch x := v.(type) {
	case *types.Dict:
		out := make(map[string]any, len(*x))
		for _, e := range *x {
			if err := c.setKey(out, e.Key, e.Value, depth); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *types.OrderedDict:
		out := make(map[string]any, x.Len())
		for k, e := range x.Map {
			if err := c.setKey(out, k, e.Value, depth); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *types.List:
		return c.slice(*x, depth)
	case *types.Tuple:
		return c.slice(*x, depth)
	case *pickledArray:
		return c.array(x, depth)
	}
	panic("unreachable")
}

func (c *converter) setKey(out map[string]any, k, v any, depth int) error {
	var key string
	switch kk := k.(type) {
	case string:
		key = kk
	case int:
		key = strconv.Itoa(kk)
	case int64:
		key = strconv.FormatInt(kk, 10)
	default:
		return fmt.Errorf("%w: dict key of type %s", ErrUnsupported, TypeName(k))
	}
	pv, err := c.plain(v, depth+1)
	if err != nil {
		return err
	}
	out[key] = pv
	return nil
}

func (c *converter) slice(in []any, depth int) ([]any, error) {
	out := make([]any, len(in))
	for i, e := range in {
		pv, err := c.plain(e, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = pv
	}
	return out, nil
}

func (c *converter) array(a *pickledArray, depth int) (*Array, error) {
	if !a.built {
		return nil, fmt.Errorf("%w: ndarray without state", ErrPickle)
	}
	dt, err := a.dt.dtype()
	if err != nil {
		return nil, err
	}
	out := &Array{Descr: dt.String(), Shape: a.shape, Fortran: a.fortran}
	n := out.Len()
	defer func() {
		if a.fortran && out.Data != nil {
			out.Data = toCOrder(out.Data, out.Shape)
		}
	}()
	switch raw := a.raw.(type) {
	case []any:
		if dt.kind != 'O' {
			return nil, fmt.Errorf("%w: %s array with a list payload", ErrPickle, dt)
		}
		out.Descr = "|O"
		if len(raw) != n {
			return nil, fmt.Errorf("%w: object array of shape %v holds %d items", ErrPickle, a.shape, len(raw))
		}
		objs, err := c.slice(raw, depth)
		if err != nil {
			return nil, err
		}
		out.Data = objs
	case []byte:
		if dt.kind == 'O' {
			return nil, fmt.Errorf("%w: object array with packed bytes", ErrPickle)
		}
		if n > 0 && dt.size > len(raw)/n {
			return nil, fmt.Errorf("%w: %s array of shape %v has %d bytes", ErrPickle, dt, a.shape, len(raw))
		}
		out.Data, err = dt.decode(raw[:n*dt.size], n)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TypeName names the Python-side type of a decoded value for messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case string:
		return "str"
	case bool:
		return "bool"
	case int, int64, uint64, *big.Int:
		return "int"
	case float64:
		return "float"
	case []byte:
		return "bytes"
	case []any, *types.List:
		return "list"
	case *types.Tuple:
		return "tuple"
	case map[string]any, *types.Dict, *types.OrderedDict:
		return "dict"
	case *Array, *pickledArray:
		return "ndarray"
	case *pickledDtype:
		return "dtype"
	}
	return fmt.Sprintf("%T", v)
}
