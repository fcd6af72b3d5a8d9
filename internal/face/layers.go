package face

import "math"

// act is an activation applied after a layer.
type act int

const (
	actNone act = iota
	actReLU
	actLeaky // max(x, 0.1x), as face-api's leaky()
)

func activate(x []float32, a act) {
	switch a {
	case actReLU:
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case actLeaky:
		for i, v := range x {
			if v < 0 {
				x[i] = v * 0.1
			}
		}
	}
}

// fmap is a batch of feature maps, n images of h×w×c, stored NHWC.
type fmap struct {
	n, h, w, c int
	d          []float32
}

func newFmap(n, h, w, c int) fmap {
	return fmap{n: n, h: h, w: w, c: c, d: make([]float32, n*h*w*c)}
}

func (f fmap) image(i int) []float32 {
	s := f.h * f.w * f.c
	return f.d[i*s : (i+1)*s]
}

// padding gives the output size and the leading pad of a k-wide window
// with the given stride over in values, for TF's "same" or "valid".
func padding(in, k, stride int, same bool) (out, before int) {
	if !same {
		return (in-k)/stride + 1, 0
	}
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+k-in, 0)
	return out, total / 2
}

// conv is a k×k convolution with bias (filters HWIO), computed as im2col
// followed by GEMM.
type conv struct {
	k, cin, cout, stride int
	same                 bool
	w                    *matB // (k·k·cin)×cout
	bias                 []float32
}

func (cv *conv) forward(x fmap, a act) fmap {
	oh, pt := padding(x.h, cv.k, cv.stride, cv.same)
	ow, pl := padding(x.w, cv.k, cv.stride, cv.same)
	y := newFmap(x.n, oh, ow, cv.cout)
	kc := cv.k * cv.k * cv.cin
	cols := make([]float32, oh*ow*kc)
	for i := 0; i < x.n; i++ {
		in := x.image(i)
		clear(cols)
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				row := cols[(oy*ow+ox)*kc:]
				for ky := 0; ky < cv.k; ky++ {
					iy := oy*cv.stride + ky - pt
					if iy < 0 || iy >= x.h {
						continue
					}
					for kx := 0; kx < cv.k; kx++ {
						ix := ox*cv.stride + kx - pl
						if ix < 0 || ix >= x.w {
							continue
						}
						copy(row[(ky*cv.k+kx)*cv.cin:(ky*cv.k+kx+1)*cv.cin], in[(iy*x.w+ix)*cv.cin:])
					}
				}
			}
		}
		out := y.image(i)
		fillBias(out, cv.bias)
		gemm(oh*ow, cols, kc, cv.w, out, cv.cout)
	}
	activate(y.d, a)
	return y
}

func fillBias(out, bias []float32) {
	c := len(bias)
	for p := 0; p+c <= len(out); p += c {
		copy(out[p:p+c], bias)
	}
}

// sepConv is a 3×3 depthwise convolution followed by a 1×1 pointwise
// convolution and a bias: TF's separableConv2d with padding "same".
type sepConv struct {
	c, cout, stride int
	dw              []float32 // 3×3×c
	pw              *matB     // c×cout
	bias            []float32
}

func (s *sepConv) forward(x fmap, a act) fmap {
	d := depthwise(x, s.dw, s.stride)
	y := newFmap(d.n, d.h, d.w, s.cout)
	fillBias(y.d, s.bias)
	gemm(d.n*d.h*d.w, d.d, s.c, s.pw, y.d, s.cout)
	activate(y.d, a)
	return y
}

// depthwise applies a 3×3 per-channel filter with "same" padding.
func depthwise(x fmap, f []float32, stride int) fmap {
	oh, pt := padding(x.h, 3, stride, true)
	ow, pl := padding(x.w, 3, stride, true)
	c := x.c
	y := newFmap(x.n, oh, ow, c)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy := 0; oy < oh; oy++ {
			for ky := 0; ky < 3; ky++ {
				iy := oy*stride + ky - pt
				if iy < 0 || iy >= x.h {
					continue
				}
				for kx := 0; kx < 3; kx++ {
					// Output columns whose input column ox*stride+kx-pl is inside.
					lo := max(0, (pl-kx+stride-1)/stride)
					hi := min(ow-1, (x.w-1+pl-kx)/stride)
					if hi < lo {
						continue
					}
					ix := lo*stride + kx - pl
					dwAccum(out[(oy*ow+lo)*c:], in[(iy*x.w+ix)*c:], f[(ky*3+kx)*c:], hi-lo+1, c, stride*c)
				}
			}
		}
	}
	return y
}

// maxPool2 is a 2×2 max pool with "same" padding (padded cells ignored).
func maxPool2(x fmap, stride int) fmap {
	oh, pt := padding(x.h, 2, stride, true)
	ow, pl := padding(x.w, 2, stride, true)
	c := x.c
	y := newFmap(x.n, oh, ow, c)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				o := out[(oy*ow+ox)*c : (oy*ow+ox+1)*c]
				for j := range o {
					o[j] = float32(math.Inf(-1))
				}
				for ky := 0; ky < 2; ky++ {
					iy := oy*stride + ky - pt
					if iy < 0 || iy >= x.h {
						continue
					}
					for kx := 0; kx < 2; kx++ {
						ix := ox*stride + kx - pl
						if ix < 0 || ix >= x.w {
							continue
						}
						s := in[(iy*x.w+ix)*c : (iy*x.w+ix+1)*c]
						for j, v := range s {
							if v > o[j] {
								o[j] = v
							}
						}
					}
				}
			}
		}
	}
	return y
}

// addTo computes dst += src elementwise.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}
