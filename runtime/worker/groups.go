// This file implements the record of running exec tasks' process groups
// kept in a directory, so that the groups a killed process left behind
// can be found and killed by the next process ([ReapGroups]).

package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// selfStart is this process's start time, read once: it does not change
// while the process runs, and every exec task's record names it.
var selfStart = sync.OnceValues(func() (int64, bool) { return startTime(os.Getpid()) })

// groupRecord is what a group's file holds: the process that started
// the task (the owner) and when the owner and the group's leader started,
// in the kernel's clock ticks since boot, so that a reused process id is
// never mistaken for either of them.
type groupRecord struct {
	owner, ownerStart int64
	leaderStart       int64
}

func (r groupRecord) text() string {
	return fmt.Sprintf("%d %d %d\n", r.owner, r.ownerStart, r.leaderStart)
}

func parseGroupRecord(s string) (groupRecord, bool) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return groupRecord{}, false
	}
	var n [3]int64
	for i, x := range f {
		v, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return groupRecord{}, false
		}
		n[i] = v
	}
	return groupRecord{owner: n[0], ownerStart: n[1], leaderStart: n[2]}, true
}

// recordGroup notes that the task process pid leads a group of its own;
// it returns the function that removes the note when the group is gone.
// Without a directory, or where process start times cannot be read,
// nothing is recorded. The file need not be synced: what kills the
// machine kills the group too.
func (w *Worker) recordGroup(pid int) func() {
	dir := w.o.GroupDir
	if dir == "" {
		return func() {}
	}
	self, ok1 := selfStart()
	leader, ok2 := startTime(pid)
	if !ok1 || !ok2 {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() {}
	}
	name := filepath.Join(dir, strconv.Itoa(pid))
	rec := groupRecord{owner: int64(os.Getpid()), ownerStart: self, leaderStart: leader}
	if err := os.WriteFile(name, []byte(rec.text()), 0o644); err != nil {
		return func() {}
	}
	return func() { _ = os.Remove(name) }
}

// ReapGroups kills the process groups of exec tasks recorded in dir
// whose owner has died (knhk killed by SIGKILL, a crash) and removes
// their records; groups of a live owner, such as another knhk running a
// case in the same data directory, are left alone. A group whose leader
// has exited but whose members remain is still killed: its id cannot be
// reused while members hold it. A process with the leader's id but
// another start time is someone else's and is not touched. It returns
// the ids of the groups killed.
func ReapGroups(dir string) ([]int, error) {
	if dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var killed []int
	for _, ent := range ents {
		pgid, err := strconv.Atoi(ent.Name())
		if err != nil || pgid <= 1 {
			continue
		}
		name := filepath.Join(dir, ent.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		rec, ok := parseGroupRecord(string(b))
		if !ok {
			_ = os.Remove(name)
			continue
		}
		if st, ok := startTime(int(rec.owner)); ok && st == rec.ownerStart {
			continue // its owner still runs it
		}
		if st, ok := startTime(pgid); !ok || st == rec.leaderStart {
			if killGroupID(pgid) {
				killed = append(killed, pgid)
			}
		}
		_ = os.Remove(name)
	}
	return killed, nil
}
