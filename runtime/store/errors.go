// This file implements the errors the store returns.

package store

import (
	"errors"
	"fmt"
)

var (
	// ErrLocked is returned by [Open] when another Store, in this or another
	// process, holds the data directory.
	ErrLocked = errors.New("data directory is in use by another engine")

	// ErrClosed is returned by calls on a closed Store.
	ErrClosed = errors.New("store is closed")

	// ErrCompacted is returned by [Store.Scan] when the records asked for
	// were removed by [Store.Compact]; replay from the latest snapshot
	// instead.
	ErrCompacted = errors.New("records were compacted away")
)

// CorruptError reports damage in the data directory at a byte offset of one
// file. Open returns it before modifying anything, so the operator can copy
// the directory away and inspect it.
type CorruptError struct {
	File   string // path of the damaged file
	Offset int64  // byte offset of the damage within File
	Reason string // what is wrong there
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("corrupt data directory: %s at offset %d: %s", e.File, e.Offset, e.Reason)
}

func corrupt(file string, off int64, format string, args ...any) *CorruptError {
	return &CorruptError{File: file, Offset: off, Reason: fmt.Sprintf(format, args...)}
}
