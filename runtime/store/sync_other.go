//go:build !linux

// This file implements data syncing where fdatasync(2) is not available.

package store

import "os"

// syncData flushes the file with the platform's strongest sync (on macOS,
// os.File.Sync uses F_FULLFSYNC).
func syncData(f *os.File) error { return f.Sync() }
