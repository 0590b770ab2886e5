//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// This file implements the receipt log's lock with flock(2): one process
// at a time appends to a data directory's receipt log, since the chain
// (sequence numbers, previous hashes, each case's state) lives in the
// appending process.

package receipt

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockLog takes the exclusive lock of the receipt log in dir, failing at
// once when another process holds it. The kernel drops it when the
// process dies.
func lockLog(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir+"/LOCK", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("the receipt log %s is in use by another process: one process at a time keeps receipts in a data directory", dir)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
