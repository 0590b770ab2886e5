// This file tests live runs (the engine's default) with compiled workflows
// and a worker whose calls block until released: the first call to
// finish wins, timers fire while calls run, signals reach a case whose
// call is still running, and withdrawn calls see their context cancelled.

package host

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// gate is a worker whose task "slow" blocks until its context ends; every
// other task returns at once. It records the calls and the slow calls
// that were cancelled.
type gate struct {
	mu        sync.Mutex
	calls     []string
	cancelled int
	started   chan struct{} // receives once per slow call
}

func newGate() *gate { return &gate{started: make(chan struct{}, 8)} }

func (g *gate) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	name := inv.Task.Name
	g.mu.Lock()
	g.calls = append(g.calls, name)
	g.mu.Unlock()
	if name != "slow" {
		return eval.Value{}, nil
	}
	g.started <- struct{}{}
	<-ctx.Done()
	g.mu.Lock()
	g.cancelled++
	g.mu.Unlock()
	return eval.Value{}, ctx.Err()
}

func (g *gate) snapshot() ([]string, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.calls), g.cancelled
}

// startLive starts workflow net of src in a live engine and returns the
// engine and a channel that receives Start's error.
func startLive(t *testing.T, src, net string, g *gate) (*engine.Engine, chan error) {
	t.Helper()
	e, err := engine.New(engine.Config{Program: compile(t, src), Eval: &Evaluator{}, Worker: g, Log: engine.NewMemLog()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Start(context.Background(), "c1", net, nil) }()
	return e, done
}

// await waits for Start to return; a live run that never returns is the
// failure this guards against (a round would wait for slow forever).
func await(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the case is still waiting for the slow call")
	}
}

func TestLiveFirstToFinishWins(t *testing.T) {
	g := newGate()
	e, done := startLive(t, `package t
task slow() extern
task fast() extern
task after() extern
workflow W() {
  parallel {
    slow()
    fast()
  } join any
  after()
}
`, "W", g)
	await(t, done)
	s, err := e.Snapshot("c1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != engine.Completed {
		t.Fatalf("status %s, want completed (%s)", s.Status, s.Error)
	}
	calls, cancelled := g.snapshot()
	if !slices.Contains(calls, "after") || cancelled != 1 {
		t.Errorf("calls %v, %d slow calls cancelled; want after called and the slow call cancelled", calls, cancelled)
	}
}

func TestLiveTimerBeatsCall(t *testing.T) {
	g := newGate()
	e, done := startLive(t, `package t
task slow() extern
task late() extern
task ok() extern
workflow W() {
  select {
    on timer 20ms -> late()
    on done slow() -> ok()
  }
}
`, "W", g)
	await(t, done)
	s, _ := e.Snapshot("c1")
	calls, cancelled := g.snapshot()
	if s.Status != engine.Completed || !slices.Contains(calls, "late") || slices.Contains(calls, "ok") || cancelled != 1 {
		t.Errorf("status %s, calls %v, %d cancelled; want completed through the timer, the slow call cancelled", s.Status, calls, cancelled)
	}
}

func TestLiveSignalDuringCall(t *testing.T) {
	g := newGate()
	e, done := startLive(t, `package t
task slow() extern
task stopped() extern
workflow W() {
  signal Stop
  select {
    on signal Stop -> stopped()
    on done slow() -> {}
  }
}
`, "W", g)
	select {
	case <-g.started:
	case <-time.After(30 * time.Second):
		t.Fatal("slow was never called")
	}
	if err := e.Signal(context.Background(), "c1", "Stop", nil); err != nil {
		t.Fatal(err)
	}
	await(t, done)
	s, _ := e.Snapshot("c1")
	calls, cancelled := g.snapshot()
	if s.Status != engine.Completed || !slices.Contains(calls, "stopped") || cancelled != 1 {
		t.Errorf("status %s, calls %v, %d cancelled; want completed through the signal, the slow call cancelled", s.Status, calls, cancelled)
	}
}

func TestLiveCancelDuringCall(t *testing.T) {
	g := newGate()
	e, done := startLive(t, `package t
task slow() extern
workflow W() {
  slow()
}
`, "W", g)
	<-g.started
	if err := e.Cancel(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	await(t, done)
	s, _ := e.Snapshot("c1")
	if _, cancelled := g.snapshot(); s.Status != engine.Cancelled || cancelled != 1 {
		t.Errorf("status %s, %d cancelled; want the case cancelled and its call stopped", s.Status, cancelled)
	}
}

// saga answers reserve after a while and declines charge at once, and
// records the calls.
type saga struct {
	mu    sync.Mutex
	calls []string
}

func (w *saga) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	w.mu.Lock()
	w.calls = append(w.calls, inv.Task.Name)
	w.mu.Unlock()
	switch inv.Task.Name {
	case "reserve":
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return eval.Value{}, ctx.Err()
		}
		return eval.Str("R-1"), nil
	case "charge":
		return eval.Value{}, errors.New("card declined")
	}
	return eval.Value{}, nil
}

// TestLiveFailureWaitsForCallsInFlight: the charge fails while the
// reservation beside it is still running; the case lets the reservation
// finish before it fails, so the saga releases it.
func TestLiveFailureWaitsForCallsInFlight(t *testing.T) {
	w := &saga{}
	e, err := engine.New(engine.Config{Program: compile(t, `package t
task reserve() -> string extern
task release(r: string) extern
task charge() -> string extern
workflow Pay() -> string {
  parallel {
    let r = reserve() undo release(r)
    let p = charge()
  } join all
  return p
}
`), Eval: &Evaluator{}, Worker: w, Log: engine.NewMemLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), "c1", "Pay", nil); err != nil {
		t.Fatal(err)
	}
	s, _ := e.Snapshot("c1")
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.Status != engine.Failed || !slices.Contains(w.calls, "release") {
		t.Errorf("status %s (%s), calls %v; want failed with the reservation released", s.Status, s.Error, w.calls)
	}
}
