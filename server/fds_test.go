//go:build linux

package server

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestRestartHoldsNoFilePerCase restarts a server with many running
// cases and checks that its open files do not grow with them: it used to
// keep each recovered case's lock file open, and a server restarted with
// more running cases than the open-file limit (20,000 here) never became
// ready.
func TestRestartHoldsNoFilePerCase(t *testing.T) {
	const cases = 300
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	var ids []string
	for i := range cases {
		id, _, err := s.Start(context.Background(), StartRequest{Workflow: "Hold", Input: []byte(fmt.Sprintf("%q", fmt.Sprint("o-", i)))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	closeSvc(t, s)
	before := openFiles(t)
	s = open(t, dir)
	defer closeSvc(t, s)
	for _, id := range ids {
		if sum := waitFor(t, s, id, func(sum Summary) bool { return sum.Status == "waiting" || sum.Status == "running" }); sum.Status == "failed" {
			t.Fatalf("case %s after the restart: %+v", id, sum)
		}
	}
	if grown := openFiles(t) - before; grown >= cases/2 {
		t.Fatalf("the restarted server holds %d more open files with %d running cases: one per case", grown, cases)
	}
}
