package server

import (
	"context"
	"strings"
	"testing"
	"time"
)

const paySrc = `package billing

type Receipt = { id: string, cents: int }

task charge(amount: int, who: string) -> Receipt queue "billing" retry 2

workflow Pay(amount: int) -> string {
  let r = charge(amount, "ann")
  return r.id
}
`

// TestQueueTask: an external worker polls the attempt of a queue task,
// a bad result and a stale token are refused, the retry is completed,
// and a second completion is refused without changing the case.
func TestQueueTask(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	if _, err := s.Deploy("pay.knhk", []byte(paySrc), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, _, err := s.Start(ctx, StartRequest{Workflow: "Pay", Input: []byte("250")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.PollTask(ctx, "other", "w1", 10*time.Millisecond); ok || err != nil {
		t.Fatalf("poll of an empty queue: %v %v", ok, err)
	}
	task, ok, err := s.PollTask(ctx, "billing", "w1", 5*time.Second)
	if err != nil || !ok {
		t.Fatalf("poll: %v %v", ok, err)
	}
	if task.CaseID != id || task.Task != "charge" || string(task.Input) != `{"amount":250,"who":"ann"}` {
		t.Fatalf("task %+v", task)
	}
	if _, err := s.Heartbeat(ctx, task.ID, "wrong"); CodeOf(err) != CodeFailedPrecondition {
		t.Fatalf("heartbeat with a wrong token: %v", err)
	}
	err = s.CompleteTask(ctx, task.ID, task.Token, []byte(`{"id": 7}`))
	if CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), "bad result") {
		t.Fatalf("a mistyped result: %v", err)
	}
	// The refused result failed the attempt; the retry comes with a new id.
	again, ok, err := s.PollTask(ctx, "billing", "w2", 5*time.Second)
	if err != nil || !ok || again.ID == task.ID || again.Attempt != 2 {
		t.Fatalf("the retry: %+v %v %v", again, ok, err)
	}
	if err := s.CompleteTask(ctx, again.ID, again.Token, []byte(`{"id":"r-1","cents":250}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteTask(ctx, again.ID, again.Token, []byte(`{"id":"r-2","cents":250}`)); CodeOf(err) != CodeFailedPrecondition {
		t.Fatalf("a second completion: %v", err)
	}
	if sum := wait(t, s, id); sum.Status != "completed" || sum.Result != `"r-1"` {
		t.Fatalf("Pay: %+v", sum)
	}
	if err := s.FailTask(ctx, "nope", "x", "m"); CodeOf(err) != CodeNotFound {
		t.Fatalf("fail of an unknown task: %v", err)
	}
}
