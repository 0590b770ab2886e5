//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

// This file implements the data directory lock where flock(2) is missing.

package store

import (
	"errors"
	"fmt"
	"os"
)

// lockDir creates path exclusively. Unlike flock, the file outlives a
// crashed process and must then be removed by hand; the error says so.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("store: %s exists (remove it if no engine is running): %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	return f, nil
}

func unlockDir(f *os.File) error {
	name := f.Name()
	err := f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
