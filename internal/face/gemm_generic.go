package face

func kernel4x16(k int, a []float32, lda int, panel []float32, c []float32, ldc int) {
	kernel4x16Go(k, a, lda, panel, c, ldc)
}

func dwAccum(dst, src, f []float32, npix, ch, step int) { dwAccumGo(dst, src, f, npix, ch, step) }
