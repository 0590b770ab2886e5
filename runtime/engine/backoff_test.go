package engine

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// TestRetryDelay checks the doubling of a backoff and its cap.
func TestRetryDelay(t *testing.T) {
	s := int64(time.Second)
	for _, c := range []struct {
		base    int64
		attempt int32
		want    int64
	}{
		{s, 1, s}, {s, 2, 2 * s}, {s, 3, 4 * s}, {s, 4, 8 * s},
		{s, 12, 2048 * s}, {s, 13, int64(MaxBackoff)}, // 4096 s is past the cap
		{s, math.MaxInt32, int64(MaxBackoff)},
		{2 * int64(time.Hour), 5, 2 * int64(time.Hour)}, // a base above the cap stays
		{0, 9, 0},
		{int64(45 * time.Minute), 2, int64(MaxBackoff)},
	} {
		if got := retryDelay(c.base, c.attempt); got != c.want {
			t.Errorf("retryDelay(%v, %d) = %v, want %v", time.Duration(c.base), c.attempt, time.Duration(got), time.Duration(c.want))
		}
	}
}

// A task's backoff clause (a function without parameters, as the
// compiler makes it) waits 1 s, 2 s, 4 s before the second, third and
// fourth attempts, on the engine's clock.
func TestBackoffClauseDoubles(t *testing.T) {
	x := newFixture(t)
	tf := x.task("flaky", 3)
	x.p.Tasks[tf].Backoff = x.constFn("backoff", ir.Duration, time.Second)
	n := x.p.NewNet("Retry", ir.Void)
	p := n.Place("p")
	taskStep(n, "F", call(tf), n.N.Start, p)
	ret(n, p, ir.NoFunc)
	var at []time.Duration
	t0 := x.clock.Now()
	x.w.behave["flaky"] = func(_ context.Context, inv Invocation) (any, error) {
		at = append(at, x.clock.Now().Sub(t0))
		if inv.Attempt < 4 {
			return nil, errors.New("unavailable")
		}
		return "ok", nil
	}
	x.start("c", "Retry")
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		due, ok := x.eng.NextDue("c")
		if want := x.clock.Now().Add(wait); !ok || !due.Equal(want) {
			t.Fatalf("after %d attempts: next due %v, want %v", len(at), due.Sub(t0), want.Sub(t0))
		}
		x.advance("c", wait)
	}
	x.wantStatus("c", Completed)
	if want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}; !slices.Equal(at, want) {
		t.Errorf("attempts at %v, want %v", at, want)
	}
}
