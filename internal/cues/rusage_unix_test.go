//go:build unix

package cues

import "syscall"

// cpuSeconds returns the CPU time, user and system, used so far by this
// process and by the child processes it has waited for (ffmpeg).
func cpuSeconds() float64 {
	var total float64
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			return -1
		}
		total += float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	return total
}
