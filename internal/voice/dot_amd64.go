//go:build amd64 && !purego

package voice

// useAVX2 is true when the CPU and OS support AVX2 and FMA3.
var useAVX2 = hasAVX2FMA()

func hasAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state saved by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

func cpuid(eax, ecx uint32) (a, b, c, d uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func dotAVX2(a, b *float32, n int) float32

// dot returns the dot product of a and b[:len(a)]: the YIN difference
// function's inner loop, 32 products at a time in 32 float32 sums.
func dot(a, b []float32) float64 {
	b = b[:len(a)]
	if !useAVX2 || len(a) < 32 {
		return dotGo(a, b)
	}
	n := len(a) &^ 31
	return float64(dotAVX2(&a[0], &b[0], n)) + dotGo(a[n:], b[n:])
}
