//go:build !unix

package tenant

import "syscall"

// ownSession: no sessions here; the neighbour is only a process apart.
func ownSession() *syscall.SysProcAttr { return nil }
