//go:build amd64 && !purego

package voice

import "golang.org/x/sys/cpu"

// useAVX2 is true when the CPU and OS support AVX2 and FMA3.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

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
