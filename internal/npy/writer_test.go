package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
)

// pk writes pickle opcodes (protocol 2/3) for building test inputs the
// way numpy.save writes object arrays.
type pk struct{ bytes.Buffer }

func (p *pk) proto()                  { p.Write([]byte{0x80, 3}) }
func (p *pk) global(mod, name string) { fmt.Fprintf(p, "c%s\n%s\n", mod, name) }
func (p *pk) mark()                   { p.WriteByte('(') }
func (p *pk) tuple()                  { p.WriteByte('t') }
func (p *pk) reduce()                 { p.WriteByte('R') }
func (p *pk) build()                  { p.WriteByte('b') }
func (p *pk) stop()                   { p.WriteByte('.') }
func (p *pk) none()                   { p.WriteByte('N') }
func (p *pk) boolean(b bool) {
	if b {
		p.WriteByte(0x88)
	} else {
		p.WriteByte(0x89)
	}
}
func (p *pk) str(s string) {
	p.WriteByte('X')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
}
func (p *pk) bytes(b []byte) {
	p.WriteByte('B')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(b)))
	p.Write(b)
}
func (p *pk) int(i int32) {
	p.WriteByte('J')
	binary.Write(&p.Buffer, binary.LittleEndian, i)
}
func (p *pk) float(f float64) {
	p.WriteByte('G')
	binary.Write(&p.Buffer, binary.BigEndian, math.Float64bits(f))
}

// value writes a plain Go value: string, int, float64, bool, nil,
// []any, map[string]any (keys sorted) or a numpy scalar (npScalar).
func (p *pk) value(v any) {
	switch x := v.(type) {
	case nil:
		p.none()
	case string:
		p.str(x)
	case int:
		p.int(int32(x))
	case float64:
		p.float(x)
	case bool:
		p.boolean(x)
	case []any:
		p.WriteByte(']')
		p.mark()
		for _, e := range x {
			p.value(e)
		}
		p.WriteByte('e')
	case map[string]any:
		p.WriteByte('}')
		p.mark()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p.str(k)
			p.value(x[k])
		}
		p.WriteByte('u')
	case npScalar:
		p.global("numpy.core.multiarray", "scalar")
		p.dtype(x.spec, "<", 0)
		p.bytes(x.raw)
		p.WriteByte(0x86) // TUPLE2
		p.reduce()
	default:
		panic(fmt.Sprintf("pk.value: %T", v))
	}
}

type npScalar struct {
	spec string
	raw  []byte
}

func f8(v float64) npScalar {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, math.Float64bits(v))
	return npScalar{"f8", b}
}

// dtype writes numpy.dtype(spec, False, True) with its BUILD state.
func (p *pk) dtype(spec, order string, elsize int) {
	p.global("numpy", "dtype")
	p.mark()
	p.str(spec)
	p.boolean(false)
	p.boolean(true)
	p.tuple()
	p.reduce()
	p.mark()
	p.int(3)
	p.str(order)
	p.none()
	p.none()
	p.none()
	p.int(int32(elsize))
	p.int(1)
	p.int(0)
	p.tuple()
	p.build()
}

// objectArray writes a pickled object ndarray of the given shape.
func (p *pk) objectArray(shape []int, items []any) {
	p.global("numpy.core.multiarray", "_reconstruct")
	p.mark()
	p.global("numpy", "ndarray")
	p.mark()
	p.int(0)
	p.tuple()
	p.bytes([]byte("b"))
	p.tuple()
	p.reduce()
	p.mark()
	p.int(1)
	p.mark()
	for _, d := range shape {
		p.int(int32(d))
	}
	p.tuple()
	p.dtype("O8", "|", -1)
	p.boolean(false)
	p.value(items)
	p.tuple()
	p.build()
}

// npyFile wraps a header and body into .npy bytes (format 1.0).
func npyFile(descr string, shape []int, body []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.Write(magic)
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(body)
	return b.Bytes()
}

// objectNpy is numpy.save of an object array holding items.
func objectNpy(shape []int, items []any) []byte {
	var p pk
	p.proto()
	p.objectArray(shape, items)
	p.stop()
	return npyFile("|O", shape, p.Bytes())
}

// npzFile zips named .npy members.
func npzFile(members map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, _ := zw.Create(n + ".npy")
		w.Write(members[n])
	}
	zw.Close()
	return b.Bytes()
}

func unicodeBody(ss []string, width int) []byte {
	var b bytes.Buffer
	for _, s := range ss {
		r := []rune(s)
		for i := 0; i < width; i++ {
			var c uint32
			if i < len(r) {
				c = uint32(r[i])
			}
			binary.Write(&b, binary.LittleEndian, c)
		}
	}
	return b.Bytes()
}
