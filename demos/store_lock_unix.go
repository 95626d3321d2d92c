//go:build unix && !aix

package demos

import (
	"os"

	"golang.org/x/sys/unix"
)

// tryLockExclusive takes an exclusive flock on f without waiting and
// reports whether it got it (false: another writer holds the file).
func tryLockExclusive(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	switch err {
	case nil:
		return true, nil
	case unix.EWOULDBLOCK:
		return false, nil
	}
	return false, err
}

// lockShared takes (or converts to) a shared flock on f, waiting while
// another process holds it exclusively.
func lockShared(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_SH) }
