//go:build amd64 && !purego

package face

//go:noescape
func clampAVX2(x *float32, n int, hi float32)

//go:noescape
func biasClampAVX2(x, bias *float32, npix, ch int, hi float32)

// relu6 clips x to [0, 6] in place.
func relu6(x []float32) {
	if useAVX2 && len(x) >= 8 {
		n8 := len(x) &^ 7
		clampAVX2(&x[0], n8, 6)
		x = x[n8:]
	}
	relu6Go(x)
}

// biasReLU6 adds bias, one value per channel, to each pixel of x and
// clips the result to [0, 6].
func biasReLU6(x, bias []float32) {
	c := len(bias)
	if !useAVX2 || c == 0 || c%8 != 0 || len(x) < c {
		biasReLU6Go(x, bias)
		return
	}
	npix := len(x) / c
	_ = x[npix*c-1]
	biasClampAVX2(&x[0], &bias[0], npix, c, 6)
}
