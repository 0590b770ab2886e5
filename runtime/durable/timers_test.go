// This file tests that the waits of a case are durable timers on the
// case's clock: time.sleep ends at the time it was due, across a crash,
// and retry backoffs double from their base.

package durable

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/worker"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// timerEngine returns an engine over log with the real evaluator and
// worker, on clock, applying outcomes in rounds.
func timerEngine(t *testing.T, p *ir.Program, reg *worker.Registry, log engine.EventLog, clock engine.Clock) *engine.Engine {
	t.Helper()
	cfg := engineConfig(p, reg, log)
	cfg.Clock, cfg.Rounds = clock, true
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// wantDue checks that case id waits, with its next due time at want.
func wantDue(t *testing.T, e *engine.Engine, id string, want time.Time) {
	t.Helper()
	s, err := e.Snapshot(id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Done() {
		t.Fatalf("case %s is %v, want it waiting until %v", id, s.Status, want)
	}
	due, ok := e.NextDue(id)
	if !ok || !due.Equal(want) {
		t.Fatalf("case %s is due at %v (%v), want %v", id, due, ok, want)
	}
}

// A sleep of 4 s killed after 3 s ends 1 s after recovery, at the time it
// was due, and not 4 s later; the worker never blocks on it.
func TestSleepSurvivesCrash(t *testing.T) {
	const src = `package timers

import "std/time"

task mark(n: int) -> int extern

workflow Nap() -> int {
  let a = mark(1)
  time.sleep(4s)
  let b = mark(2)
  return a + b
}
`
	p := mustCompile(t, src)
	reg := worker.NewRegistry()
	reg.Register("mark", func(_ context.Context, c worker.Call) (eval.Value, error) { return c.Args[0], nil })
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	t0 := clock.Now()
	log := engine.NewMemLog()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	e := timerEngine(t, p, reg, log, clock)
	begun := time.Now()
	if err := e.Start(ctx, "c", "Nap", nil); err != nil {
		t.Fatal(err)
	}
	if real := time.Since(begun); real > 2*time.Second {
		t.Fatalf("Start blocked for %v: the sleep ran in the worker", real)
	}
	wantDue(t, e, "c", t0.Add(4*time.Second))
	clock.advance(3 * time.Second)
	if err := e.Run(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	wantDue(t, e, "c", t0.Add(4*time.Second))

	// The process dies; another engine recovers the case from the log.
	e2 := timerEngine(t, p, reg, log, clock)
	if err := e2.Recover(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	wantDue(t, e2, "c", t0.Add(4*time.Second))
	clock.advance(time.Second - time.Nanosecond)
	if err := e2.Run(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	wantDue(t, e2, "c", t0.Add(4*time.Second))
	clock.advance(time.Nanosecond)
	if err := e2.Run(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	s, err := e2.Snapshot("c")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != engine.Completed || s.Result != eval.Int(3) {
		t.Fatalf("case is %v with %v (%s), want completed with 3", s.Status, s.Result, s.Error)
	}
}

// A backoff clause of 1 s waits 1 s, 2 s, then 4 s between attempts.
func TestBackoffDoubles(t *testing.T) {
	const src = `package timers

task flaky() -> int extern

workflow Retry() -> int {
  let r = flaky() retry 3 backoff 1s
  return r
}
`
	p := mustCompile(t, src)
	reg := worker.NewRegistry()
	var attempts []time.Time
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reg.Register("flaky", func(_ context.Context, c worker.Call) (eval.Value, error) {
		attempts = append(attempts, clock.Now())
		if c.Attempt < 4 {
			return eval.Value{}, errors.New("unavailable")
		}
		return eval.Int(7), nil
	})
	t0 := clock.Now()
	ctx := context.Background()
	e := timerEngine(t, p, reg, engine.NewMemLog(), clock)
	if err := e.Start(ctx, "c", "Retry", nil); err != nil {
		t.Fatal(err)
	}
	at := t0
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		at = at.Add(wait)
		wantDue(t, e, "c", at)
		clock.advance(wait)
		if err := e.Run(ctx, "c"); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Time{t0, t0.Add(time.Second), t0.Add(3 * time.Second), t0.Add(7 * time.Second)}
	if len(attempts) != len(want) {
		t.Fatalf("%d attempts at %v, want %d", len(attempts), attempts, len(want))
	}
	for i := range want {
		if !attempts[i].Equal(want[i]) {
			t.Errorf("attempt %d at +%v, want +%v", i+1, attempts[i].Sub(t0), want[i].Sub(t0))
		}
	}
	if s, _ := e.Snapshot("c"); s.Status != engine.Completed || s.Result != eval.Int(7) {
		t.Fatalf("case is %v with %v, want completed with 7", s.Status, s.Result)
	}
}
