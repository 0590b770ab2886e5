package server

import (
	"context"
	"testing"
	"time"
)

const slowSrc = `package slow

task work(n: int) -> int exec "sh" "-c" "cat >/dev/null; sleep 0.5; echo 7"

workflow Slow(n: int) -> int {
  let a = work(n)
  return n + a
}
`

// TestDrainDuringTask: Close while a task runs abandons the attempt
// without recording it as failed; the next Open invokes it again and the
// case completes.
func TestDrainDuringTask(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := s.Deploy("slow.knhk", []byte(slowSrc), nil); err != nil {
		t.Fatal(err)
	}
	id, _, err := s.Start(context.Background(), StartRequest{Workflow: "Slow", Input: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the task is running
	closeSvc(t, s)
	s = open(t, dir)
	defer closeSvc(t, s)
	if sum := wait(t, s, id); sum.Status != "completed" || sum.Result != "8" {
		t.Fatalf("after the drain: %+v", sum)
	}
	h, _, err := s.History(context.Background(), id, 0, 100, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h {
		if e.Kind == "failed" || e.Kind == "retry" {
			t.Fatalf("the drain was recorded as a failed attempt: %+v", h)
		}
	}
}
