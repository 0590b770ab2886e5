// This file implements the errors the store returns.

package store

import (
	"errors"
	"fmt"
)

var (
	// ErrReadOnly is returned by writes to a Store opened with
	// [OpenReadOnly].
	ErrReadOnly = errors.New("store is open read-only")

	// ErrCaseBusy is returned by [Store.LockCase] when another process, or
	// another lock in this one, holds the case.
	ErrCaseBusy = errors.New("case is being run by another process")

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
