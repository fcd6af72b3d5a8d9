package face

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// Tensor is a dense float32 array in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// size returns the number of elements of shape.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Manifest is a TF.js weights manifest: groups of tensors stored in order
// in the group's binary files.
type Manifest []struct {
	Paths   []string `json:"paths"`
	Weights []struct {
		Name         string `json:"name"`
		Shape        []int  `json:"shape"`
		DType        string `json:"dtype"`
		Quantization *struct {
			DType string  `json:"dtype"`
			Scale float64 `json:"scale"`
			Min   float64 `json:"min"`
		} `json:"quantization"`
	} `json:"weights"`
}

// LoadWeights decodes a TF.js weights manifest and the concatenation of its
// binary files. Quantized uint8 tensors are restored as q*scale+min; float32
// tensors are read little-endian. Other encodings are refused.
func LoadWeights(manifest, bin []byte) (map[string]*Tensor, error) {
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("weights manifest: %w", err)
	}
	out := map[string]*Tensor{}
	off := 0
	for _, g := range m {
		for _, w := range g.Weights {
			if w.DType != "float32" {
				return nil, fmt.Errorf("weights manifest: %s: dtype %q is not supported", w.Name, w.DType)
			}
			for _, d := range w.Shape {
				if d <= 0 {
					return nil, fmt.Errorf("weights manifest: %s: bad shape %v", w.Name, w.Shape)
				}
			}
			n := size(w.Shape)
			t := &Tensor{Shape: append([]int(nil), w.Shape...), Data: make([]float32, n)}
			switch {
			case w.Quantization == nil:
				if off+4*n > len(bin) {
					return nil, fmt.Errorf("weights: %s needs %d bytes at offset %d, the file has %d", w.Name, 4*n, off, len(bin))
				}
				for i := range t.Data {
					t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[off+4*i:]))
				}
				off += 4 * n
			case w.Quantization.DType == "uint8":
				if off+n > len(bin) {
					return nil, fmt.Errorf("weights: %s needs %d bytes at offset %d, the file has %d", w.Name, n, off, len(bin))
				}
				q := w.Quantization
				for i := range t.Data {
					t.Data[i] = float32(float64(bin[off+i])*q.Scale + q.Min)
				}
				off += n
			default:
				return nil, fmt.Errorf("weights manifest: %s: quantization %q is not supported", w.Name, w.Quantization.DType)
			}
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("weights manifest: %s appears twice", w.Name)
			}
			out[w.Name] = t
		}
	}
	if off != len(bin) {
		return nil, fmt.Errorf("weights: the manifest describes %d bytes, the file has %d", off, len(bin))
	}
	return out, nil
}

// take returns the tensor name with the given shape, or an error.
func take(w map[string]*Tensor, name string, shape ...int) ([]float32, error) {
	t, ok := w[name]
	if !ok {
		return nil, fmt.Errorf("weights: no tensor %s", name)
	}
	if len(t.Shape) != len(shape) {
		return nil, fmt.Errorf("weights: %s has shape %v, want %v", name, t.Shape, shape)
	}
	for i := range shape {
		if t.Shape[i] != shape[i] {
			return nil, fmt.Errorf("weights: %s has shape %v, want %v", name, t.Shape, shape)
		}
	}
	return t.Data, nil
}
