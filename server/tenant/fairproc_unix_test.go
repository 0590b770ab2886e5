//go:build unix

package tenant

import "syscall"

// ownSession puts the neighbour process in a session of its own, so that
// the kernel's autogroup scheduling gives it a CPU share of its own, as
// a client on another machine would have, and not half the server's.
func ownSession() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
