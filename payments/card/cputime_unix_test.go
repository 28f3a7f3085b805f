//go:build unix

package card

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, user and system. On a
// shared machine it measures a benchmark's own work where wall time also
// counts the other processes' turns.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
