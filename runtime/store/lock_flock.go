//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// This file implements the data directory's locks with flock(2).

package store

import (
	"errors"
	"os"
	"syscall"
)

// openLock opens, creating it if needed, the lock file at path. The
// kernel drops a flock when its process dies, so a SIGKILLed engine never
// leaves a stale lock.
func openLock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

// lockEx takes f's exclusive lock, waiting for it.
func lockEx(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// tryLockEx takes f's exclusive lock if it is free and reports whether
// it did.
func tryLockEx(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case err != syscall.EINTR:
			return false, err
		}
	}
}

// unlock releases f's lock.
func unlock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		if err != syscall.EINTR {
			return err
		}
	}
}
