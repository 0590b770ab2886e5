// This file implements the parent-death signal on Linux: an exec task's
// process is killed when the knhk that started it dies, even by SIGKILL,
// which no handler sees.

package worker

import "syscall"

// parentDeath asks the kernel to SIGKILL the task's process when the
// thread that started it exits. Go never ends its threads on its own
// (only a goroutine that exits while locked to its thread does, and
// knhk locks none), so in practice this is the death of knhk. The signal
// reaches the task's process only; what it started in its group is
// killed by [ReapGroups] when a later knhk opens the data directory.
func parentDeath(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGKILL
}
