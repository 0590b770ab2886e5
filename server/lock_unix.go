//go:build unix

package server

import (
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on path, failing at once when another
// process holds it: one server per data directory.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another knhk serve has %s open (%v)", path, err)
	}
	return f, nil
}
