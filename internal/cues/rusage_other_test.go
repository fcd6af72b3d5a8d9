//go:build !unix

package cues

// cpuSeconds is not measured here.
func cpuSeconds() float64 { return -1 }
