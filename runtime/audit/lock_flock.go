//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// This file implements the audit log's lock with flock(2): each batch is
// written by one process at a time, after reading what the others
// appended, so that knhk serve and the admin CLI share one chain.

package audit

import (
	"os"
	"syscall"
)

func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
