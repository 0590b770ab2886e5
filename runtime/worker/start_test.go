package worker

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/queue"
)

// TestQueueCallsParkNoGoroutine: a case with many queue calls in flight
// on a queue.Broker holds no goroutine per call (the worker Starts them
// on the broker's SubmitThen), and each call's outcome still reaches
// the case.
func TestQueueCallsParkNoGoroutine(t *testing.T) {
	const calls = 200
	b, eng, errc, before := manyCalls(t, calls)
	// The case's goroutine and a few of the runtime's, not one per call.
	if n := runtime.NumGoroutine() - before; n > calls/4 {
		t.Fatalf("%d calls in flight hold %d more goroutines", calls, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range calls {
		tk, err := b.Poll(ctx, "nop", "w1")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the case did not end")
	}
	s, err := eng.Snapshot("c1")
	if err != nil || s.Status != engine.Completed {
		t.Fatalf("case: %v %v", s.Status, err)
	}
}

// TestQueueCallsWithdrawnOnCancel: cancelling a case withdraws its
// started calls, pending or leased, before Cancel returns: a worker
// holding one loses its lease.
func TestQueueCallsWithdrawnOnCancel(t *testing.T) {
	const calls = 20
	b, eng, errc, _ := manyCalls(t, calls)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tk, err := b.Poll(ctx, "nop", "w1")
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Cancel(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s[0].Pending != 0 || s[0].Leased != 0 || s[0].Withdrawn != calls {
		t.Fatalf("after the cancel: %+v", s)
	}
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`1`)); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("completing a withdrawn call: %v", err)
	}
}

// manyCalls starts case c1 of a workflow with calls queue calls in
// parallel and returns once all are on the queue, with the goroutine
// count from before the start.
func manyCalls(t *testing.T, calls int) (*queue.Broker, *engine.Engine, <-chan error, int) {
	t.Helper()
	src := `package many

task nop(i: int) -> int queue "nop"

workflow Many(xs: [int]) -> int {
  for i in xs parallel {
    nop(i)
  } join all
  return len(xs)
}
`
	p := compileSource(t, "many.knhk", src)
	b := queue.New(queue.Options{})
	eng, err := engine.New(engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: New(p, Options{Queue: b}), Log: engine.NewMemLog()})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	errc := make(chan error, 1)
	xs := make([]any, calls)
	for i := range xs {
		xs[i] = int64(i)
	}
	go func() { errc <- eng.Start(context.Background(), "c1", "Many", []any{xs}) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := b.Stats()
		if len(s) == 1 && s[0].Pending == calls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the calls did not all reach the queue: %+v", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return b, eng, errc, before
}
