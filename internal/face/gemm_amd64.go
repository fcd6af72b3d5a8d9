//go:build amd64 && !purego

package face

import "golang.org/x/sys/cpu"

// useAVX2 is true when the CPU and OS support AVX2 and FMA3, for the
// assembly kernels.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kernel6x16AVX2(k int, a *float32, lda int, panel *float32, c *float32, ldc int)

//go:noescape
func kernel6x16BiasAVX2(k int, a *float32, lda int, panel *float32, c *float32, ldc int, bias *float32)

// kernelTileBias computes a 6×16 tile of C = bias + A·B from a packed
// panel, bias holding the tile's 16 columns.
func kernelTileBias(k int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	if !useAVX2 || k <= 0 {
		kernelTileBiasGo(k, a, lda, panel, c, ldc, bias)
		return
	}
	_ = a[(kernelRows-1)*lda+k-1]
	_ = panel[k*panelWidth-1]
	_ = c[(kernelRows-1)*ldc+panelWidth-1]
	_ = bias[panelWidth-1]
	kernel6x16BiasAVX2(k, &a[0], lda, &panel[0], &c[0], ldc, &bias[0])
}

// kernelTile computes a 6×16 tile of C += A·B from a packed panel.
func kernelTile(k int, a []float32, lda int, panel []float32, c []float32, ldc int) {
	if !useAVX2 || k <= 0 {
		kernelTileGo(k, a, lda, panel, c, ldc)
		return
	}
	// Bounds the assembly relies on; out of range panics here instead.
	_ = a[(kernelRows-1)*lda+k-1]
	_ = panel[k*panelWidth-1]
	_ = c[(kernelRows-1)*ldc+panelWidth-1]
	kernel6x16AVX2(k, &a[0], lda, &panel[0], &c[0], ldc)
}

//go:noescape
func dw3x3AVX2(dst, r0, r1, r2, f *float32, npix, ch, step int)

// dw3x3 computes npix pixels of a 3×3 depthwise convolution whose nine
// taps all lie inside the image: dst[p*ch+j] is the sum over ky, kx of
// rky[p*step+kx*ch+j] * f[(3ky+kx)*ch+j], rows r0, r1, r2 from the top.
func dw3x3(dst, r0, r1, r2, f []float32, npix, ch, step int) {
	if !useAVX2 || ch%8 != 0 || npix <= 0 {
		dw3x3Go(dst, r0, r1, r2, f, npix, ch, step)
		return
	}
	_ = dst[(npix-1)*ch+ch-1]
	_ = r0[(npix-1)*step+3*ch-1]
	_ = r1[(npix-1)*step+3*ch-1]
	_ = r2[(npix-1)*step+3*ch-1]
	_ = f[9*ch-1]
	dw3x3AVX2(&dst[0], &r0[0], &r1[0], &r2[0], &f[0], npix, ch, step)
}

//go:noescape
func addAVX2(dst, a, b *float32, n int)

//go:noescape
func addReluAVX2(dst, a, b *float32, n int)

//go:noescape
func leakyAVX2(x *float32, n int, slope float32)

// add sets dst = a + b elementwise; relu then clamps at zero.
func add(dst, a, b []float32, relu bool) {
	n := len(dst)
	a, b = a[:n], b[:n]
	if useAVX2 && n >= 8 {
		n8 := n &^ 7
		if relu {
			addReluAVX2(&dst[0], &a[0], &b[0], n8)
		} else {
			addAVX2(&dst[0], &a[0], &b[0], n8)
		}
		dst, a, b = dst[n8:], a[n8:], b[n8:]
	}
	addGo(dst, a, b, relu)
}

// activate applies a in place.
func activate(x []float32, a act) {
	if a == actNone {
		return
	}
	if useAVX2 && len(x) >= 8 {
		n8 := len(x) &^ 7
		slope := float32(0)
		if a == actLeaky {
			slope = 0.1
		}
		leakyAVX2(&x[0], n8, slope)
		x = x[n8:]
	}
	activateGo(x, a)
}

//go:noescape
func pool2RowAVX2(dst, r0, r1 *float32, npix, ch, step int)

func pool2Row(dst, r0, r1 []float32, npix, ch, step int) {
	if !useAVX2 || ch%8 != 0 || npix <= 0 {
		pool2RowGo(dst, r0, r1, npix, ch, step)
		return
	}
	_ = dst[(npix-1)*ch+ch-1]
	_ = r0[(npix-1)*step+2*ch-1]
	_ = r1[(npix-1)*step+2*ch-1]
	pool2RowAVX2(&dst[0], &r0[0], &r1[0], npix, ch, step)
}
