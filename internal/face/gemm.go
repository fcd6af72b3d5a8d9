package face

// panelWidth is the number of columns of B a GEMM micro-kernel handles.
const panelWidth = 16

// matB is the right-hand matrix of C += A·B, a K×N weight matrix, kept
// both as given (row-major) and packed into K×16 column panels for the
// micro-kernel. Columns past the last full panel are handled from raw.
type matB struct {
	k, n   int
	raw    []float32 // k×n row-major
	packed []float32 // npanel panels, each k×16 row-major, the last zero-padded
	nfull  int       // panels with 16 real columns
	npanel int
}

func newMatB(k, n int, raw []float32) *matB {
	b := &matB{k: k, n: n, raw: raw, nfull: n / panelWidth, npanel: (n + panelWidth - 1) / panelWidth}
	b.packed = make([]float32, b.npanel*k*panelWidth)
	for p := 0; p < b.npanel; p++ {
		dst := b.packed[p*k*panelWidth:]
		cols := min(panelWidth, n-p*panelWidth)
		for r := 0; r < k; r++ {
			copy(dst[r*panelWidth:r*panelWidth+cols], raw[r*n+p*panelWidth:])
		}
	}
	return b
}

// kernelRows is the number of rows of C the micro-kernel computes at once.
const kernelRows = 6

// rowChunk is the number of rows of A handled against every panel before
// moving on, so that the chunk of A stays in cache.
const rowChunk = kernelRows * 21

// gemm computes C += A·B where A is m×k (row stride lda) and C is m×n (row
// stride ldc). Full 6×16 tiles go straight to the micro-kernel; the edges
// (m not a multiple of 6, n not a multiple of 16) go through a small
// zero-padded tile so that they use the same kernel.
func gemm(m int, a []float32, lda int, b *matB, c []float32, ldc int) {
	gemmBias(m, a, lda, b, nil, c, ldc)
}

// gemmBias computes C = bias + A·B, bias holding one value per column of
// C, when bias is not nil, and C += A·B when it is: the sums are those of
// filling C with the bias and then calling gemm, without the pass over C
// that filling it takes.
func gemmBias(m int, a []float32, lda int, b *matB, bias []float32, c []float32, ldc int) {
	k, n := b.k, b.n
	if m == 0 || k == 0 {
		if bias != nil {
			for i := 0; i < m; i++ {
				copy(c[i*ldc:i*ldc+n], bias)
			}
		}
		return
	}
	// store puts the first rows of a zero-based tile into C.
	store := func(row, p, rows int, tile []float32) {
		cols := min(panelWidth, n-p*panelWidth)
		for r := 0; r < rows; r++ {
			dst := c[(row+r)*ldc+p*panelWidth:][:cols]
			if bias != nil {
				add(dst, bias[p*panelWidth:], tile[r*panelWidth:], false)
			} else {
				addTo(dst, tile[r*panelWidth:])
			}
		}
	}
	m4 := m - m%kernelRows
	var tile [kernelRows * panelWidth]float32
	for r0 := 0; r0 < m4; r0 += rowChunk {
		r1 := min(r0+rowChunk, m4)
		for p := 0; p < b.nfull; p++ {
			panel := b.packed[p*k*panelWidth : (p+1)*k*panelWidth]
			for i := r0; i < r1; i += kernelRows {
				if bias != nil {
					kernelTileBias(k, a[i*lda:], lda, panel, c[i*ldc+p*panelWidth:], ldc, bias[p*panelWidth:])
				} else {
					kernelTile(k, a[i*lda:], lda, panel, c[i*ldc+p*panelWidth:], ldc)
				}
			}
		}
		if b.nfull < b.npanel {
			p := b.nfull
			panel := b.packed[p*k*panelWidth : (p+1)*k*panelWidth]
			for i := r0; i < r1; i += kernelRows {
				clear(tile[:])
				kernelTile(k, a[i*lda:], lda, panel, tile[:], panelWidth)
				store(i, p, kernelRows, tile[:])
			}
		}
	}
	if m4 == m {
		return
	}
	// The last rows, copied into a zero-padded block.
	rows := m - m4
	apad := getBuf(kernelRows * k)
	clear(apad)
	for r := 0; r < rows; r++ {
		copy(apad[r*k:(r+1)*k], a[(m4+r)*lda:])
	}
	for p := 0; p < b.npanel; p++ {
		panel := b.packed[p*k*panelWidth : (p+1)*k*panelWidth]
		clear(tile[:])
		kernelTile(k, apad, k, panel, tile[:], panelWidth)
		store(m4, p, rows, tile[:])
	}
	putBuf(apad)
}

// gemmRef computes C += A·B plainly: A m×k, B k×n (row stride ldb).
func gemmRef(m, k int, a []float32, lda int, b []float32, ldb, n int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		ai := a[i*lda : i*lda+k]
		for kk, av := range ai {
			if av == 0 {
				continue
			}
			bk := b[kk*ldb : kk*ldb+n]
			for j, bv := range bk {
				ci[j] += av * bv
			}
		}
	}
}

// kernelTileGo computes a 6×16 tile of C += A·B from a packed panel.
func kernelTileGo(k int, a []float32, lda int, panel []float32, c []float32, ldc int) {
	var acc [kernelRows][panelWidth]float32
	rows := [kernelRows][]float32{}
	for r := range rows {
		rows[r] = a[r*lda : r*lda+k]
	}
	for kk := 0; kk < k; kk++ {
		bk := (*[panelWidth]float32)(panel[kk*panelWidth:])
		v0, v1, v2 := rows[0][kk], rows[1][kk], rows[2][kk]
		v3, v4, v5 := rows[3][kk], rows[4][kk], rows[5][kk]
		for j, bv := range bk {
			acc[0][j] += v0 * bv
			acc[1][j] += v1 * bv
			acc[2][j] += v2 * bv
			acc[3][j] += v3 * bv
			acc[4][j] += v4 * bv
			acc[5][j] += v5 * bv
		}
	}
	for r := 0; r < kernelRows; r++ {
		cr := (*[panelWidth]float32)(c[r*ldc:])
		for j := range cr {
			cr[j] += acc[r][j]
		}
	}
}

// kernelTileBiasGo computes a 6×16 tile of C = bias + A·B from a packed
// panel.
func kernelTileBiasGo(k int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	var tile [kernelRows * panelWidth]float32
	kernelTileGo(k, a, lda, panel, tile[:], panelWidth)
	for r := 0; r < kernelRows; r++ {
		addGo(c[r*ldc:r*ldc+panelWidth], bias[:panelWidth], tile[r*panelWidth:], false)
	}
}

// dw3x3Go sets dst[p*ch+j], for npix pixels p and channels j < ch, to the
// sum of the nine taps of a 3×3 depthwise filter over rows r0, r1, r2,
// summed row by row, left to right.
func dw3x3Go(dst, r0, r1, r2, f []float32, npix, ch, step int) {
	rows := [3][]float32{r0, r1, r2}
	for p := 0; p < npix; p++ {
		d := dst[p*ch : p*ch+ch]
		clear(d)
		for ky, r := range rows {
			for kx := 0; kx < 3; kx++ {
				s := r[p*step+kx*ch : p*step+kx*ch+ch]
				fk := f[(ky*3+kx)*ch : (ky*3+kx)*ch+ch]
				for j := range d {
					d[j] += s[j] * fk[j]
				}
			}
		}
	}
}
