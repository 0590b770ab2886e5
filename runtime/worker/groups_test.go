//go:build linux

// This file tests the process-group records: only the groups of a dead
// owner are killed, and never a process that merely reuses an id.

package worker

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// proc is a process a test started, waited for by one goroutine.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startGroup starts a sleeping process leading its own group.
func startGroup(t *testing.T) *proc {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done })
	return p
}

// exited reports whether p ends within 2 s.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	case <-time.After(2 * time.Second):
		return false
	}
}

func TestReapGroups(t *testing.T) {
	dir := t.TempDir()
	w := New(nil, Options{GroupDir: dir})

	// A group this (live) process owns is left alone.
	mine := startGroup(t)
	forget := w.recordGroup(mine.cmd.Process.Pid)
	b, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(mine.cmd.Process.Pid)))
	if err != nil {
		t.Fatalf("no record of the group: %v", err)
	}
	if got, ok := parseGroupRecord(string(b)); !ok || got.owner != int64(os.Getpid()) {
		t.Fatalf("record %q does not name this process as the owner", b)
	}
	if killed, err := ReapGroups(dir); err != nil || len(killed) != 0 {
		t.Fatalf("live owner: killed %v, %v", killed, err)
	}

	// The same record with an owner that has died is reaped.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	leader, _ := startTime(mine.cmd.Process.Pid)
	rec := groupRecord{owner: int64(dead.Process.Pid), ownerStart: 1, leaderStart: leader}
	name := filepath.Join(dir, strconv.Itoa(mine.cmd.Process.Pid))
	if err := os.WriteFile(name, []byte(rec.text()), 0o644); err != nil {
		t.Fatal(err)
	}
	killed, err := ReapGroups(dir)
	if err != nil || len(killed) != 1 || killed[0] != mine.cmd.Process.Pid {
		t.Fatalf("dead owner: killed %v, %v", killed, err)
	}
	if !mine.exited() {
		t.Fatalf("group %d still runs", mine.cmd.Process.Pid)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("record kept: %v", err)
	}
	forget()

	// A process that has the recorded leader's id but started at
	// another time is not the task's: it is not killed.
	other := startGroup(t)
	otherStart, _ := startTime(other.cmd.Process.Pid)
	rec.leaderStart = otherStart + 12345
	name = filepath.Join(dir, strconv.Itoa(other.cmd.Process.Pid))
	if err := os.WriteFile(name, []byte(rec.text()), 0o644); err != nil {
		t.Fatal(err)
	}
	if killed, err := ReapGroups(dir); err != nil || len(killed) != 0 {
		t.Fatalf("reused id: killed %v, %v", killed, err)
	}
	if other.exited() {
		t.Fatal("a process that reused the id was killed")
	}
}
