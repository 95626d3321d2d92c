//go:build unix

package nn

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time this process has used, all threads, user and
// system: benchmarks report throughput per CPU-second too, which load from
// other processes disturbs far less than wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
