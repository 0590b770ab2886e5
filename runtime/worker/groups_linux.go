// This file implements what the group records need from Linux: process
// start times from /proc and killing a group by id.

package worker

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// startTime returns when process pid started, in clock ticks since boot
// (field 22 of /proc/PID/stat).
func startTime(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces; fields are
	// counted after it. The state is field 3, the start time field 22.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return 0, false
	}
	st, err := strconv.ParseInt(string(f[19]), 10, 64)
	return st, err == nil
}

// killGroupID kills every process of group pgid; it reports whether the
// group existed.
func killGroupID(pgid int) bool {
	return syscall.Kill(-pgid, syscall.SIGKILL) == nil
}
