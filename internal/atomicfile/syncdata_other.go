//go:build !linux

package atomicfile

import "os"

// SyncData flushes f with the platform's strongest sync (on macOS,
// os.File.Sync uses F_FULLFSYNC).
func SyncData(f *os.File) error { return f.Sync() }
