//go:build !unix

// This file implements killing an exec task where there are no process
// groups: only the process itself is killed.

package worker

import "os/exec"

func ownGroup(*exec.Cmd) {}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
