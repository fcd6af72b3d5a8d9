package face

import (
	"math"
	"sync"
)

// act is an activation applied after a layer.
type act int

const (
	actNone act = iota
	actReLU
	actLeaky // max(x, 0.1x), as face-api's leaky()
)

func activateGo(x []float32, a act) {
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

// newFmap returns a feature map whose storage comes from the buffer pool:
// its contents are arbitrary, and every layer writes all of its output.
func newFmap(n, h, w, c int) fmap {
	return fmap{n: n, h: h, w: w, c: c, d: getBuf(n * h * w * c)}
}

// release returns f's storage to the pool; f must not be used again.
func (f fmap) release() { putBuf(f.d) }

// buffers recycles layer outputs between layers and between calls, one
// pool per size, so that a forward pass does not ask the allocator (and
// the OS) for fresh zeroed memory each time.
var buffers sync.Map // int → *sync.Pool of *[]float32

func getBuf(n int) []float32 {
	if p, ok := buffers.Load(n); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]float32); ok {
			return *b
		}
	}
	return make([]float32, n)
}

func putBuf(b []float32) {
	if cap(b) == 0 {
		return
	}
	b = b[:cap(b)]
	p, _ := buffers.LoadOrStore(len(b), &sync.Pool{})
	p.(*sync.Pool).Put(&b)
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
	w                    *matB   // (k·k·cin)×cout
	rows                 []*matB // k blocks of w, one per filter row, each (k·cin)×cout
	bias                 []float32
}

func newConv(k, cin, cout, stride int, same bool, filters, bias []float32) *conv {
	cv := &conv{k: k, cin: cin, cout: cout, stride: stride, same: same, w: newMatB(k*k*cin, cout, filters), bias: bias}
	kc := k * cin
	for ky := 0; ky < k; ky++ {
		cv.rows = append(cv.rows, newMatB(kc, cout, filters[ky*kc*cout:(ky+1)*kc*cout]))
	}
	return cv
}

// stripRows is the number of output rows whose im2col patches are built at
// once, so that the patch buffer stays in cache.
const stripRows = 8

func (cv *conv) forward(x fmap, a act) fmap {
	if !cv.same && cv.stride == 1 {
		return cv.forwardValid(x, a)
	}
	oh, pt := padding(x.h, cv.k, cv.stride, cv.same)
	ow, pl := padding(x.w, cv.k, cv.stride, cv.same)
	y := newFmap(x.n, oh, ow, cv.cout)
	k, cin := cv.k, cv.cin
	kc := k * k * cin
	cols := getBuf(min(stripRows, oh) * ow * kc)
	defer putBuf(cols)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy0 := 0; oy0 < oh; oy0 += stripRows {
			rows := min(stripRows, oh-oy0)
			strip := out[oy0*ow*cv.cout : (oy0+rows)*ow*cv.cout]
			for oy := oy0; oy < oy0+rows; oy++ {
				for ox := 0; ox < ow; ox++ {
					row := cols[((oy-oy0)*ow+ox)*kc:][:kc]
					ix0 := ox*cv.stride - pl
					inside := ix0 >= 0 && ix0+k <= x.w
					for ky := 0; ky < k; ky++ {
						dst := row[ky*k*cin : (ky+1)*k*cin]
						iy := oy*cv.stride + ky - pt
						if iy < 0 || iy >= x.h {
							clear(dst)
							continue
						}
						if inside {
							src := in[(iy*x.w+ix0)*cin:][:len(dst)]
							for t := range dst {
								dst[t] = src[t]
							}
							continue
						}
						for kx := 0; kx < k; kx++ {
							d := dst[kx*cin : (kx+1)*cin]
							if ix := ix0 + kx; ix >= 0 && ix < x.w {
								copy(d, in[(iy*x.w+ix)*cin:])
							} else {
								clear(d)
							}
						}
					}
				}
			}
			gemmBias(rows*ow, cols, kc, cv.w, cv.bias, strip, cv.cout)
			activate(strip, a)
		}
	}
	return y
}

// forwardValid computes an unpadded stride-1 convolution without im2col:
// in HWC layout the k·cin inputs under one filter row are contiguous, and
// those of neighbouring output pixels start cin apart, so each filter row
// is one GEMM whose left matrix is the input row read with stride cin.
func (cv *conv) forwardValid(x fmap, a act) fmap {
	oh, ow := x.h-cv.k+1, x.w-cv.k+1
	y := newFmap(x.n, oh, ow, cv.cout)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy := 0; oy < oh; oy++ {
			cv.validRow(out[oy*ow*cv.cout:(oy+1)*ow*cv.cout], in, x.w, oy, a)
		}
	}
	return y
}

// validRow computes output row oy of the unpadded stride-1 convolution of
// one image in of width w into o: bias, the k filter rows and the
// activation while the row is in cache.
func (cv *conv) validRow(o, in []float32, w, oy int, a act) {
	for ky, b := range cv.rows {
		bias := cv.bias // the first filter row's sums go to the bias
		if ky > 0 {
			bias = nil
		}
		gemmBias(len(o)/cv.cout, in[(oy+ky)*w*cv.cin:], cv.cin, b, bias, o, cv.cout)
	}
	activate(o, a)
}

// forwardValidPool is forwardValid followed by a 2×2 stride-2 max pool,
// computed two rows at a time so that the full-size output, the largest
// map of the detector, never leaves the cache.
func (cv *conv) forwardValidPool(x fmap, a act) fmap {
	oh, ow := x.h-cv.k+1, x.w-cv.k+1
	ph, _ := padding(oh, 2, 2, true)
	pw, _ := padding(ow, 2, 2, true)
	y := newFmap(x.n, ph, pw, cv.cout)
	rowLen := ow * cv.cout
	strip := getBuf(2 * rowLen)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy := 0; oy < oh; oy += 2 {
			rows := min(2, oh-oy)
			for r := range rows {
				cv.validRow(strip[r*rowLen:(r+1)*rowLen], in, x.w, oy+r, a)
			}
			poolStrip(out, strip, oy, rows, oh, ow, cv.cout)
		}
	}
	putBuf(strip)
	return y
}

func fillBias(out, bias []float32) {
	// Copy the bias once, then double the filled prefix: a whole number
	// of bias periods each time.
	n := copy(out, bias)
	for n < len(out) {
		n += copy(out[n:], out[:n])
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

// A separable convolution whose maps are larger than sepWholeValues is
// computed sepStripValues at a time, so that the depthwise result, the
// pointwise output, its bias and its activation are all handled while they
// are in cache; smaller maps stay in cache whole and go in one piece.
const (
	sepWholeValues = 128 << 10
	sepStripValues = 32 << 10
)

func (s *sepConv) forward(x fmap, a act) fmap { return s.forwardPool(x, a, false) }

// forwardPool is forward, followed when pool is set by a 2×2 stride-2 max
// pool applied strip by strip, before the full-size output leaves the
// cache.
func (s *sepConv) forwardPool(x fmap, a act, pool bool) fmap {
	oh, _ := padding(x.h, 3, s.stride, true)
	ow, _ := padding(x.w, 3, s.stride, true)
	rows := oh
	if oh*ow*max(s.c, s.cout) > sepWholeValues {
		rows = max(1, min(oh, sepStripValues/(ow*max(s.c, s.cout))))
	}
	var y fmap
	var o []float32
	if pool {
		rows = max(2, rows&^1)
		ph, _ := padding(oh, 2, 2, true)
		pw, _ := padding(ow, 2, 2, true)
		y = newFmap(x.n, ph, pw, s.cout)
		o = getBuf(rows * ow * s.cout)
	} else {
		y = newFmap(x.n, oh, ow, s.cout)
	}
	d := getBuf(rows * ow * s.c)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy0 := 0; oy0 < oh; oy0 += rows {
			r := min(rows, oh-oy0)
			dw := d[:r*ow*s.c]
			depthwiseRows(dw, in, x.h, x.w, s.c, s.dw, s.stride, oy0, r)
			var strip []float32
			if pool {
				strip = o[:r*ow*s.cout]
			} else {
				strip = out[oy0*ow*s.cout : (oy0+r)*ow*s.cout]
			}
			gemmBias(r*ow, dw, s.c, s.pw, s.bias, strip, s.cout)
			activate(strip, a)
			if pool {
				poolStrip(out, strip, oy0, r, oh, ow, s.cout)
			}
		}
	}
	putBuf(d)
	if pool {
		putBuf(o)
	}
	return y
}

// depthwise applies a 3×3 per-channel filter with "same" padding.
func depthwise(x fmap, f []float32, stride int) fmap {
	oh, _ := padding(x.h, 3, stride, true)
	ow, _ := padding(x.w, 3, stride, true)
	y := newFmap(x.n, oh, ow, x.c)
	for i := 0; i < x.n; i++ {
		depthwiseRows(y.image(i), x.image(i), x.h, x.w, x.c, f, stride, 0, oh)
	}
	return y
}

// depthwiseRows sets dst to rows oy0 to oy0+rows-1 of the 3×3 depthwise
// convolution ("same" padding) of one h×w×c image in. A row above or below
// the image reads as a row of zeros; the pixels at the left and right
// edges, whose taps reach outside the image, each go through a 3×3 patch
// padded with zeros. Zero taps add nothing, so every pixel is the sum of
// its taps inside the image.
func depthwiseRows(dst, in []float32, h, w, c int, f []float32, stride, oy0, rows int) {
	_, pt := padding(h, 3, stride, true)
	ow, pl := padding(w, 3, stride, true)
	// Output columns whose three taps in a row are all inside.
	lo, hi := (pl+stride-1)/stride, -1
	if w-3+pl >= 0 {
		hi = min(ow-1, (w-3+pl)/stride)
	}
	var zero, patch []float32
	for oy := oy0; oy < oy0+rows; oy++ {
		out := dst[(oy-oy0)*ow*c : (oy-oy0+1)*ow*c]
		var src [3][]float32 // nil outside the image
		for ky := range src {
			if iy := oy*stride + ky - pt; iy >= 0 && iy < h {
				src[ky] = in[iy*w*c : (iy+1)*w*c]
			}
		}
		if hi >= lo {
			ix := lo*stride - pl
			var r [3][]float32
			for ky, s := range src {
				if s == nil {
					if zero == nil {
						zero = getBuf(w * c)
						clear(zero)
					}
					s = zero
				}
				r[ky] = s[ix*c:]
			}
			dw3x3(out[lo*c:], r[0], r[1], r[2], f, hi-lo+1, c, stride*c)
		}
		for ox := 0; ox < ow; ox++ {
			if ox >= lo && ox <= hi {
				continue
			}
			if patch == nil {
				patch = getBuf(9 * c)
			}
			for ky, s := range src {
				for kx := 0; kx < 3; kx++ {
					p := patch[(ky*3+kx)*c : (ky*3+kx+1)*c]
					if ix := ox*stride + kx - pl; s != nil && ix >= 0 && ix < w {
						copy(p, s[ix*c:(ix+1)*c])
					} else {
						clear(p)
					}
				}
			}
			dw3x3(out[ox*c:], patch[:3*c], patch[3*c:6*c], patch[6*c:], f, 1, c, 3*c)
		}
	}
	if zero != nil {
		putBuf(zero)
	}
	if patch != nil {
		putBuf(patch)
	}
}

// maxPool2 is a 2×2 max pool with "same" padding (padded cells ignored).
func maxPool2(x fmap, stride int) fmap {
	oh, pt := padding(x.h, 2, stride, true)
	ow, _ := padding(x.w, 2, stride, true)
	c := x.c
	y := newFmap(x.n, oh, ow, c)
	for i := 0; i < x.n; i++ {
		in, out := x.image(i), y.image(i)
		for oy := 0; oy < oh; oy++ {
			iy0 := oy*stride - pt
			iy1 := iy0 + 1
			if iy0 < 0 {
				iy0 = iy1
			}
			if iy1 >= x.h {
				iy1 = iy0
			}
			r0, r1 := in[iy0*x.w*c:(iy0+1)*x.w*c], in[iy1*x.w*c:(iy1+1)*x.w*c]
			poolRow(out[oy*ow*c:(oy+1)*ow*c], r0, r1, x.w, c, stride)
		}
	}
	return y
}

// poolRow sets out, one row of a 2×2 max pool with "same" padding, from
// the two input rows r0 and r1 (the same row twice at an edge), each w
// pixels of c channels.
func poolRow(out, r0, r1 []float32, w, c, stride int) {
	ow, pl := padding(w, 2, stride, true)
	// Output columns whose 2-wide window lies inside: ox*stride-pl >= 0
	// and ox*stride-pl+1 < w.
	lo := (pl + stride - 1) / stride
	hi := min(ow, (w-2+pl)/stride+1)
	if hi > lo {
		ix := lo*stride - pl
		pool2Row(out[lo*c:], r0[ix*c:], r1[ix*c:], hi-lo, c, stride*c)
	}
	for ox := 0; ox < ow; ox++ {
		if ox >= lo && ox < hi {
			continue
		}
		o := out[ox*c : (ox+1)*c]
		for j := range o {
			o[j] = float32(math.Inf(-1))
		}
		for kx := 0; kx < 2; kx++ {
			ix := ox*stride + kx - pl
			if ix < 0 || ix >= w {
				continue
			}
			for _, r := range [2][]float32{r0, r1} {
				for j, v := range r[ix*c : (ix+1)*c] {
					o[j] = max(o[j], v)
				}
			}
		}
	}
}

// poolStrip pools rows row0 to row0+rows-1 of an h×w×c map, held in strip,
// into out, the whole 2×2 stride-2 pooled image. row0 is even, and rows is
// even unless the strip ends the map: with stride 2 TF pads at the bottom
// and right only, so output row oy comes from rows 2oy and 2oy+1.
func poolStrip(out, strip []float32, row0, rows, h, w, c int) {
	ow, _ := padding(w, 2, 2, true)
	for r := 0; r < rows; r += 2 {
		r0 := strip[r*w*c : (r+1)*w*c]
		r1 := r0
		if r+1 < rows {
			r1 = strip[(r+1)*w*c : (r+2)*w*c]
		}
		oy := (row0 + r) / 2
		poolRow(out[oy*ow*c:(oy+1)*ow*c], r0, r1, w, c, 2)
	}
}

// pool2RowGo sets dst[p*ch+j] to the largest of r0 and r1 at pixels
// p*step/ch and the next one, for npix output pixels.
func pool2RowGo(dst, r0, r1 []float32, npix, ch, step int) {
	for p := 0; p < npix; p++ {
		d := dst[p*ch : (p+1)*ch]
		a, b := r0[p*step:p*step+2*ch], r1[p*step:p*step+2*ch]
		for j := range d {
			d[j] = max(a[j], a[ch+j], b[j], b[ch+j])
		}
	}
}

// addTo computes dst += src elementwise.
func addTo(dst, src []float32) { add(dst, dst, src, false) }

func addGo(dst, a, b []float32, relu bool) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		v := a[i] + b[i]
		if relu && v < 0 {
			v = 0
		}
		dst[i] = v
	}
}
