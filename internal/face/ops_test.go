package face

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// naiveConv computes a k×k convolution directly (HWIO filters), with
// optional depthwise mode, TF "same" or "valid" padding.
func naiveConv(x fmap, f []float32, k, cout, stride int, same, dw bool) fmap {
	oh, pt := padding(x.h, k, stride, same)
	ow, pl := padding(x.w, k, stride, same)
	if dw {
		cout = x.c
	}
	y := newFmap(x.n, oh, ow, cout)
	for n := 0; n < x.n; n++ {
		in, out := x.image(n), y.image(n)
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for co := 0; co < cout; co++ {
					var s float64
					for ky := 0; ky < k; ky++ {
						for kx := 0; kx < k; kx++ {
							iy, ix := oy*stride+ky-pt, ox*stride+kx-pl
							if iy < 0 || iy >= x.h || ix < 0 || ix >= x.w {
								continue
							}
							if dw {
								s += float64(in[(iy*x.w+ix)*x.c+co]) * float64(f[(ky*k+kx)*x.c+co])
								continue
							}
							for ci := 0; ci < x.c; ci++ {
								s += float64(in[(iy*x.w+ix)*x.c+ci]) * float64(f[((ky*k+kx)*x.c+ci)*cout+co])
							}
						}
					}
					out[(oy*ow+ox)*cout+co] = float32(s)
				}
			}
		}
	}
	return y
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestGEMM(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {4, 16, 3}, {7, 25, 27}, {130, 48, 64}, {257, 7, 256}, {9, 512, 33}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, braw := randSlice(r, m*k), randSlice(r, k*n)
		c := randSlice(r, m*n)
		want := append([]float32(nil), c...)
		gemmRef(m, k, a, k, braw, n, n, want, n)
		gemm(m, a, k, newMatB(k, n, braw), c, n)
		if d := maxDiff(c, want); d > 1e-3 {
			t.Errorf("%dx%dx%d: max difference %g", m, n, k, d)
		}
		// With a bias, C is overwritten with exactly the sums of filling
		// it with the bias and accumulating.
		bias := randSlice(r, n)
		filled := make([]float32, m*n)
		fillBias(filled, bias)
		gemm(m, a, k, newMatB(k, n, braw), filled, n)
		got := randSlice(r, m*n)
		gemmBias(m, a, k, newMatB(k, n, braw), bias, got, n)
		if d := maxDiff(got, filled); d != 0 {
			t.Errorf("%dx%dx%d with bias: differs by %g", m, n, k, d)
		}
	}
}

func TestConvLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		h, w, cin, cout, k, stride int
		same                       bool
	}{
		{11, 9, 3, 16, 3, 1, false},
		{12, 12, 3, 32, 3, 2, true},
		{13, 13, 8, 24, 1, 1, false},
	} {
		x := fmap{n: 2, h: tc.h, w: tc.w, c: tc.cin, d: randSlice(r, 2*tc.h*tc.w*tc.cin)}
		f := randSlice(r, tc.k*tc.k*tc.cin*tc.cout)
		cv := newConv(tc.k, tc.cin, tc.cout, tc.stride, tc.same, f, make([]float32, tc.cout))
		got := cv.forward(x, actNone)
		want := naiveConv(x, f, tc.k, tc.cout, tc.stride, tc.same, false)
		if got.h != want.h || got.w != want.w || maxDiff(got.d, want.d) > 1e-3 {
			t.Errorf("conv %+v: %dx%d vs %dx%d, max difference %g", tc, got.h, got.w, want.h, want.w, maxDiff(got.d, want.d))
		}
	}
	for _, tc := range []struct{ h, w, c, stride int }{
		{9, 7, 16, 1}, {10, 10, 8, 2}, {7, 7, 32, 2}, {56, 56, 32, 2}, {3, 3, 8, 2}, {2, 2, 8, 2}, {2, 5, 16, 1}, {5, 4, 12, 1},
	} {
		x := fmap{n: 2, h: tc.h, w: tc.w, c: tc.c, d: randSlice(r, 2*tc.h*tc.w*tc.c)}
		f := randSlice(r, 9*tc.c)
		got := depthwise(x, f, tc.stride)
		want := naiveConv(x, f, 3, tc.c, tc.stride, true, true)
		if got.h != want.h || got.w != want.w || maxDiff(got.d, want.d) > 1e-4 {
			t.Errorf("depthwise %+v: %dx%d vs %dx%d, max difference %g", tc, got.h, got.w, want.h, want.w, maxDiff(got.d, want.d))
		}
	}
}

func TestMaxPool(t *testing.T) {
	x := fmap{n: 1, h: 3, w: 3, c: 1, d: []float32{1, 2, 3, 4, 5, 6, 7, 8, -9}}
	got := maxPool2(x, 2)
	if want := []float32{5, 6, 8, -9}; got.h != 2 || maxDiff(got.d, want) != 0 {
		t.Errorf("stride 2: %v, want %v", got.d, want)
	}
	got = maxPool2(x, 1)
	if want := []float32{5, 6, 6, 8, 8, 6, 8, 8, -9}; got.h != 3 || maxDiff(got.d, want) != 0 {
		t.Errorf("stride 1: %v, want %v", got.d, want)
	}
}

func naiveMaxPool(x fmap, stride int) fmap {
	oh, pt := padding(x.h, 2, stride, true)
	ow, pl := padding(x.w, 2, stride, true)
	y := newFmap(x.n, oh, ow, x.c)
	for n := 0; n < x.n; n++ {
		in, out := x.image(n), y.image(n)
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < x.c; c++ {
					m := float32(math.Inf(-1))
					for ky := 0; ky < 2; ky++ {
						for kx := 0; kx < 2; kx++ {
							iy, ix := oy*stride+ky-pt, ox*stride+kx-pl
							if iy >= 0 && iy < x.h && ix >= 0 && ix < x.w {
								m = max(m, in[(iy*x.w+ix)*x.c+c])
							}
						}
					}
					out[(oy*ow+ox)*x.c+c] = m
				}
			}
		}
	}
	return y
}

func TestMaxPoolVector(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ h, w, c, stride int }{{13, 13, 16, 1}, {13, 11, 32, 2}, {8, 8, 16, 2}, {7, 9, 3, 2}} {
		x := fmap{n: 2, h: tc.h, w: tc.w, c: tc.c, d: randSlice(r, 2*tc.h*tc.w*tc.c)}
		got, want := maxPool2(x, tc.stride), naiveMaxPool(x, tc.stride)
		if got.h != want.h || got.w != want.w || maxDiff(got.d, want.d) != 0 {
			t.Errorf("%+v: %dx%d vs %dx%d, max difference %g", tc, got.h, got.w, want.h, want.w, maxDiff(got.d, want.d))
		}
	}
}

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 7, 8, 29, 64} {
		a, b := randSlice(r, n), randSlice(r, n)
		dst := make([]float32, n)
		add(dst, a, b, true)
		x := append([]float32(nil), a...)
		activate(x, actLeaky)
		for i := range dst {
			if want := max(a[i]+b[i], 0); dst[i] != want {
				t.Fatalf("n=%d: relu(a+b)[%d] = %g, want %g", n, i, dst[i], want)
			}
			want := a[i]
			if want < 0 {
				want *= 0.1
			}
			if math.Abs(float64(x[i]-want)) > 1e-7 {
				t.Fatalf("n=%d: leaky[%d] = %g, want %g", n, i, x[i], want)
			}
		}
	}
}

// TestKernelsAgree runs each vector kernel and its plain Go counterpart on
// the same data, so that both paths are checked whichever one the machine
// uses.
func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, k := range []int{1, 3, 27, 256} {
		a, panel := randSlice(r, kernelRows*(k+1)), randSlice(r, k*panelWidth)
		c1 := randSlice(r, (kernelRows-1)*40+panelWidth)
		c2 := append([]float32(nil), c1...)
		kernelTile(k, a, k+1, panel, c1, 40)
		kernelTileGo(k, a, k+1, panel, c2, 40)
		if d := maxDiff(c1, c2); d > 1e-4 {
			t.Errorf("kernelTile k=%d: differs by %g", k, d)
		}
		bias := randSlice(r, panelWidth)
		kernelTileBias(k, a, k+1, panel, c1, 40, bias)
		kernelTileBiasGo(k, a, k+1, panel, c2, 40, bias)
		if d := maxDiff(c1, c2); d > 1e-4 {
			t.Errorf("kernelTileBias k=%d: differs by %g", k, d)
		}
	}
	for _, ch := range []int{8, 16, 24} {
		rows := [3][]float32{randSlice(r, 10*2*ch+ch), randSlice(r, 10*2*ch+ch), randSlice(r, 10*2*ch+ch)}
		f9 := randSlice(r, 9*ch)
		w1, w2 := make([]float32, 10*ch), make([]float32, 10*ch)
		dw3x3(w1, rows[0], rows[1], rows[2], f9, 10, ch, 2*ch)
		dw3x3Go(w2, rows[0], rows[1], rows[2], f9, 10, ch, 2*ch)
		if d := maxDiff(w1, w2); d > 1e-5 {
			t.Errorf("dw3x3 ch=%d: differs by %g", ch, d)
		}
		r0, r1 := randSlice(r, 10*2*ch), randSlice(r, 10*2*ch)
		p1, p2 := make([]float32, 5*ch), make([]float32, 5*ch)
		pool2Row(p1, r0, r1, 5, ch, 2*ch)
		pool2RowGo(p2, r0, r1, 5, ch, 2*ch)
		if d := maxDiff(p1, p2); d != 0 {
			t.Errorf("pool2Row ch=%d: differs by %g", ch, d)
		}
	}
	a, b := randSlice(r, 37), randSlice(r, 37)
	s1, s2 := make([]float32, 37), make([]float32, 37)
	add(s1, a, b, true)
	addGo(s2, a, b, true)
	x1, x2 := append([]float32(nil), a...), append([]float32(nil), a...)
	activate(x1, actReLU)
	activateGo(x2, actReLU)
	if maxDiff(s1, s2) != 0 || maxDiff(x1, x2) != 0 {
		t.Error("add or activate differs from the plain Go version")
	}
}

// TestFusedPool checks the convolutions that pool strip by strip against
// the plain layers followed by maxPool2, on odd and even sizes and on
// maps split into several strips.
func TestFusedPool(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct{ h, w, cin, cout, stride int }{
		{9, 7, 8, 16, 1}, {8, 8, 16, 32, 1}, {35, 33, 16, 32, 1}, {61, 60, 32, 64, 1}, {14, 15, 8, 24, 2},
	} {
		x := fmap{n: 2, h: tc.h, w: tc.w, c: tc.cin, d: randSlice(r, 2*tc.h*tc.w*tc.cin)}
		s := &sepConv{c: tc.cin, cout: tc.cout, stride: tc.stride, dw: randSlice(r, 9*tc.cin),
			pw: newMatB(tc.cin, tc.cout, randSlice(r, tc.cin*tc.cout)), bias: randSlice(r, tc.cout)}
		got, want := s.forwardPool(x, actLeaky, true), maxPool2(s.forward(x, actLeaky), 2)
		if got.h != want.h || got.w != want.w || maxDiff(got.d, want.d) > 1e-5 {
			t.Errorf("separable %+v: %dx%d vs %dx%d, max difference %g", tc, got.h, got.w, want.h, want.w, maxDiff(got.d, want.d))
		}
	}
	for _, tc := range []struct{ h, w int }{{10, 10}, {11, 9}, {34, 34}} {
		x := fmap{n: 2, h: tc.h, w: tc.w, c: 3, d: randSlice(r, 2*tc.h*tc.w*3)}
		cv := newConv(3, 3, 16, 1, false, randSlice(r, 27*16), randSlice(r, 16))
		got, want := cv.forwardValidPool(x, actLeaky), maxPool2(cv.forwardValid(x, actLeaky), 2)
		if got.h != want.h || got.w != want.w || maxDiff(got.d, want.d) > 1e-5 {
			t.Errorf("conv %+v: %dx%d vs %dx%d, max difference %g", tc, got.h, got.w, want.h, want.w, maxDiff(got.d, want.d))
		}
	}
}
