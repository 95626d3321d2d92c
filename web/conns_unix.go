//go:build unix

package web

import "syscall"

// defaultMaxConns derives the connection cap from the process's
// descriptor limit (which the Go runtime raises to the hard limit at
// start): half of it, the rest for the store, exports, devices and the
// reserve; at most 8192, at least 64.
func defaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1024
	}
	return int(min(max(rl.Cur/2, 64), 8192))
}
