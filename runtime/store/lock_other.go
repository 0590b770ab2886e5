//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

// This file implements the data directory's locks where flock(2) is
// missing.

package store

import (
	"errors"
	"os"
	"time"
)

// openLock opens, creating it if needed, the lock file at path. The lock
// itself is a second file, path+".held", created exclusively: unlike a
// flock it outlives a crashed process and must then be removed by hand.
func openLock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

func lockEx(f *os.File) error {
	for {
		ok, err := tryLockEx(f)
		if ok || err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

func tryLockEx(f *os.File) (bool, error) {
	h, err := os.OpenFile(f.Name()+".held", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, h.Close()
}

func unlock(f *os.File) error { return os.Remove(f.Name() + ".held") }
