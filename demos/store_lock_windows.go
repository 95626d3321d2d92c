//go:build windows

package demos

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// The writer lock on Windows is LockFileEx on the first byte of the lock
// file: exclusive while crash recovery runs, shared afterwards. Windows
// cannot convert a lock in place, so the exclusive lock is released before
// the shared one is taken; a second writer opening in that instant may run
// recovery as well, which is harmless (it marks the same episodes).

func tryLockExclusive(f *os.File) (bool, error) {
	var ol windows.Overlapped
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return false, err
}

func lockShared(f *os.File) error {
	h := windows.Handle(f.Fd())
	var ol windows.Overlapped
	if err := windows.UnlockFileEx(h, 0, 1, 0, &ol); err != nil && !errors.Is(err, windows.ERROR_NOT_LOCKED) {
		return err
	}
	ol = windows.Overlapped{}
	return windows.LockFileEx(h, 0, 0, 1, 0, &ol)
}
