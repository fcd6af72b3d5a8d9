//go:build !amd64 || purego

package face

func kernelTile(k int, a []float32, lda int, panel []float32, c []float32, ldc int) {
	kernelTileGo(k, a, lda, panel, c, ldc)
}

func kernelTileBias(k int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	kernelTileBiasGo(k, a, lda, panel, c, ldc, bias)
}

func dw3x3(dst, r0, r1, r2, f []float32, npix, ch, step int) {
	dw3x3Go(dst, r0, r1, r2, f, npix, ch, step)
}

func add(dst, a, b []float32, relu bool) { addGo(dst, a, b, relu) }

func activate(x []float32, a act) { activateGo(x, a) }

func pool2Row(dst, r0, r1 []float32, npix, ch, step int) { pool2RowGo(dst, r0, r1, npix, ch, step) }
