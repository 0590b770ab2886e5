// This file tests the lookups by id and the order they rely on.

package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

func TestRemoveAtKeepsOrder(t *testing.T) {
	for n := 1; n <= 9; n++ {
		for i := range n {
			xs := make([]int, n)
			for k := range xs {
				xs[k] = k
			}
			want := slices.Delete(slices.Clone(xs), i, i+1)
			if got := removeAt(xs, i); !slices.Equal(got, want) {
				t.Errorf("removeAt(%d of %d) = %v, want %v", i, n, got, want)
			}
		}
	}
}

// TestFramesFoundAfterRemovals runs instances that end out of order
// (each waits as many minutes as its element) and checks, at every
// step, that every frame and call is found by its id and that the
// frames and calls stay in id order.
func TestFramesFoundAfterRemovals(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Many", ir.Void)
	p := n.Place("p")
	multi(x, n, body, n.N.Start, p, int64(3), int64(1), int64(4), int64(1), int64(5), int64(2), int64(6))
	ret(n, p, ir.NoFunc)
	x.start("c", "Many")
	for range 8 {
		s := x.state("c")
		if !sortedByID(s) {
			t.Fatalf("frames or calls out of id order")
		}
		for _, f := range s.Frames {
			if s.frame(f.ID) != f {
				t.Fatalf("frame %d not found by its id", f.ID)
			}
		}
		for i, v := range s.Invs {
			if w, k := s.inv(v.ID); w != v || k != i {
				t.Fatalf("invocation %d not found by its id", v.ID)
			}
		}
		x.advance("c", time.Minute)
	}
	x.wantStatus("c", Completed)
}

// twoWaiting starts case c of a net that runs two instances of a body
// that waits (a timer), and returns the fixture and the case's state.
func twoWaiting(t *testing.T) (*fixture, *State) {
	t.Helper()
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Two", ir.Void)
	p := n.Place("p")
	multi(x, n, body, n.N.Start, p, int64(1), int64(2))
	ret(n, p, ir.NoFunc)
	x.start("c", "Two")
	return x, x.state("c")
}

// TestDecodeRejectsFramesOutOfOrder: the lookups by id are binary
// searches, so a snapshot whose frames are out of order is refused
// rather than restored into a state where frames cannot be found.
func TestDecodeRejectsFramesOutOfOrder(t *testing.T) {
	x, s := twoWaiting(t)
	if len(s.Frames) != 3 {
		t.Fatalf("%d frames, want the root and two instances", len(s.Frames))
	}
	m := x.engine().Machine()
	if b, err := m.EncodeState(s, 1); err != nil {
		t.Fatal(err)
	} else if _, _, err := m.DecodeState(b); err != nil {
		t.Fatalf("decoding the state in order: %v", err)
	}
	s.Frames[1], s.Frames[2] = s.Frames[2], s.Frames[1]
	b, err := m.EncodeState(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.DecodeState(b); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("decoding frames out of order: %v, want ErrBadSnapshot", err)
	}
}

// TestLiveWatch runs many instances live (each call in the background),
// half of whose calls fail once and are retried and a quorum of which
// withdraws the rest, with the watch checked at every step: a live run
// starts only the calls events added or retried and withdraws only after
// an event dropped some (see liveRun.start and withdraw).
func TestLiveWatch(t *testing.T) {
	x := newFixture(t)
	work := x.task("work", 1)
	body := x.p.NewNet("Body", ir.String, ir.Param{Name: "item", Type: ir.Int})
	bp := body.Place("p")
	taskStep(body, "W", call(work), body.N.Start, bp)
	ret(body, bp, ir.NoFunc)
	n := x.p.NewNet("Fan", ir.Void)
	p := n.Place("p")
	items := make([]any, 40)
	for i := range items {
		items[i] = int64(i)
	}
	mi := multi(x, n, body, n.N.Start, p, items...)
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(30))
	ret(n, p, ir.NoFunc)
	var mu sync.Mutex
	seen := 0
	x.w.behave["work"] = func(_ context.Context, inv Invocation) (any, error) {
		mu.Lock()
		seen++
		odd := seen%2 == 1
		mu.Unlock()
		if inv.Attempt == 1 && odd {
			return nil, errors.New("busy")
		}
		return "ok", nil
	}
	e, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: x.log, Clock: x.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.checkWatch = true
	x.eng = e
	x.start("c", "Fan")
	s := x.wantStatus("c", Completed)
	if len(s.Frames) != 1 || len(s.Invs) != 0 {
		t.Errorf("%d frames and %d calls left after the quorum", len(s.Frames), len(s.Invs))
	}
	retried := 0
	for _, c := range x.w.calls {
		if c.Attempt == 2 {
			retried++
		}
	}
	if retried == 0 {
		t.Errorf("no call was retried")
	}
}

// TestMaxStepsCountsSinceWait: a case that waits for a call between its
// steps is not busy, however many events it makes in all (a loop over
// many items with a task in its body), in either mode; Config.MaxSteps
// bounds only the events made without waiting (ErrBusy).
func TestMaxStepsCountsSinceWait(t *testing.T) {
	for _, rounds := range []bool{true, false} {
		x := newFixture(t)
		a := x.task("a", 0)
		n := x.p.NewNet("Chain", ir.Void)
		prev := n.N.Start
		for i := range 40 {
			next := n.Place(fmt.Sprintf("p%d", i))
			taskStep(n, fmt.Sprintf("A%d", i), call(a), prev, next)
			prev = next
		}
		ret(n, prev, ir.NoFunc)
		e, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: x.log, Clock: x.clock, MaxSteps: 10, Rounds: rounds})
		if err != nil {
			t.Fatal(err)
		}
		x.eng = e
		if err := e.Start(ctx, "c", "Chain", nil); err != nil {
			t.Fatalf("rounds %v: %v", rounds, err)
		}
		x.wantStatus("c", Completed)
		if k := len(x.log.Events("c")); k <= 10 {
			t.Fatalf("rounds %v: only %d events", rounds, k)
		}
	}
}

// TestDecodeSortsTimers: a snapshot written when timers were kept in
// the order they were armed decodes with them in frame and transition
// order, which the lookups of timers need.
func TestDecodeSortsTimers(t *testing.T) {
	x, s := twoWaiting(t)
	if len(s.Timers) != 2 {
		t.Fatalf("%d timers armed, want one per instance", len(s.Timers))
	}
	want := slices.Clone(s.Timers)
	s.Timers[0], s.Timers[1] = s.Timers[1], s.Timers[0]
	m := x.engine().Machine()
	b, err := m.EncodeState(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := m.DecodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Timers, want) {
		t.Errorf("decoded timers %v, want %v", d.Timers, want)
	}
}
