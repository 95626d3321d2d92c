//go:build linux

package live

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// lowerPriority pins the calling goroutine to its OS thread and lowers that
// thread's scheduling priority (nice +10), so that CPU-heavy training on it
// yields to session loops when cores are short. The caller must not
// unlock the thread afterwards (the priority would stay with a thread the
// runtime reuses); it returns when its goroutine ends and the runtime
// retires the locked thread.
func lowerPriority() {
	runtime.LockOSThread()
	unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 10) //nolint:errcheck // best effort: without it training only competes equally
}
