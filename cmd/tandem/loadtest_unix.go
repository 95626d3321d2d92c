//go:build unix

package main

import (
	"os/exec"
	"strconv"
	"syscall"
)

// raiseNofile raises this process's descriptor limit towards need (past
// the hard limit only with the privilege to) and returns the limit now.
func raiseNofile(need int) int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	want := uint64(need)
	if rl.Cur >= want {
		return int(rl.Cur)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: max(rl.Max, want)}); err != nil {
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: rl.Max, Max: rl.Max})
	}
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return int(rl.Cur)
}

// limitNofile makes cmd run under a descriptor limit of n (soft and hard,
// as ulimit -n does), through the shell.
func limitNofile(cmd *exec.Cmd, n int) {
	args := append([]string{"-c", `ulimit -n ` + strconv.Itoa(n) + ` && exec "$0" "$@"`, cmd.Path}, cmd.Args[1:]...)
	cmd.Path, cmd.Args = "/bin/sh", append([]string{"/bin/sh"}, args...)
}
