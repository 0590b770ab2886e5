//go:build unix && !linux

// This file stands in for the parent-death signal on Unix systems other
// than Linux, which have none: [ReapGroups] is what remains.

package worker

import "syscall"

func parentDeath(*syscall.SysProcAttr) {}
