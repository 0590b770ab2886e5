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

// startGroup starts a sleeping process leading its own group.
func startGroup(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func exited(cmd *exec.Cmd) bool {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
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
	forget := w.recordGroup(mine.Process.Pid)
	if killed, err := ReapGroups(dir); err != nil || len(killed) != 0 {
		t.Fatalf("live owner: killed %v, %v", killed, err)
	}

	// The same record with an owner that has died is reaped.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	leader, _ := startTime(mine.Process.Pid)
	rec := groupRecord{owner: int64(dead.Process.Pid), ownerStart: 1, leaderStart: leader}
	name := filepath.Join(dir, strconv.Itoa(mine.Process.Pid))
	if err := os.WriteFile(name, []byte(rec.text()), 0o644); err != nil {
		t.Fatal(err)
	}
	killed, err := ReapGroups(dir)
	if err != nil || len(killed) != 1 || killed[0] != mine.Process.Pid {
		t.Fatalf("dead owner: killed %v, %v", killed, err)
	}
	if !exited(mine) {
		t.Fatalf("group %d still runs", mine.Process.Pid)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("record kept: %v", err)
	}
	forget()

	// A process that has the recorded leader's id but started at
	// another time is not the task's: it is not killed.
	other := startGroup(t)
	rec.leaderStart++
	name = filepath.Join(dir, strconv.Itoa(other.Process.Pid))
	if err := os.WriteFile(name, []byte(rec.text()), 0o644); err != nil {
		t.Fatal(err)
	}
	if killed, err := ReapGroups(dir); err != nil || len(killed) != 0 {
		t.Fatalf("reused id: killed %v, %v", killed, err)
	}
	if exited(other) {
		t.Fatal("a process that reused the id was killed")
	}
}
