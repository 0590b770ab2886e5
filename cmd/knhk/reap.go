// This file implements the cleanup of task processes that a killed knhk
// left running: the commands that run tasks record their exec tasks'
// process groups in DATA/procs and kill those of a dead knhk first.

package main

import (
	"fmt"
	"path/filepath"

	"github.com/knhk/knhk/runtime/worker"
)

// groupDir is where the exec tasks' process groups of data directory
// data are recorded.
func groupDir(data string) string { return filepath.Join(data, "procs") }

// reapGroups kills the task process groups that a knhk killed outright
// (SIGKILL, a crash) left in data, and says so; a failure to look is
// reported and does not stop the command.
func reapGroups(e *env, data string) {
	killed, err := worker.ReapGroups(groupDir(data))
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: looking for task processes left by a killed knhk: %v\n", err)
	}
	if len(killed) > 0 {
		fmt.Fprintf(e.stderr, "knhk: killed %d task process group(s) left by a knhk that died (%v)\n", len(killed), killed)
	}
}
