//go:build !amd64 || purego

package voice

// dot returns the dot product of a and b[:len(a)].
func dot(a, b []float32) float64 { return dotGo(a, b) }
