// This file tests multiple instances beyond a fixed list: instances added
// by a signal (more on, WCP 15), a computed quorum (WCP 36) and keep
// (WCP 34), with its blocking of a re-entered loop and of the return.

package engine

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

// waitBody adds a body net whose instance waits as many minutes as its
// element (a timer t) and returns the element doubled.
func waitBody(x *fixture) *ir.NetBuilder {
	body := x.p.NewNet("Wait", ir.Int, ir.Param{Name: "item", Type: ir.Int})
	bp := body.Place("p")
	tm := body.Step("t", ir.TTimer, body.N.Start, bp)
	body.T(tm).Value = x.fn("minutes", ir.Duration, func(e Env) (any, error) {
		return time.Duration(num(e, 0)) * time.Minute, nil
	})
	ret(body, bp, x.fn("double", ir.Int, func(e Env) (any, error) { return 2 * num(e, 0), nil }))
	return body
}

// multi adds to n a TMulti "each" from in to out over items, running
// body.
func multi(x *fixture, n, body *ir.NetBuilder, in, out int32, items ...any) int32 {
	mi := n.Step("each", ir.TMulti, in, out)
	n.T(mi).Call = &ir.Call{Kind: ir.CallWorkflow, Target: body.Index, Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc}
	n.T(mi).Value = x.constFn("items", x.p.ListOf(ir.Int), items)
	return mi
}

// advance moves the clock of x by d and runs case id.
func (x *fixture) advance(id string, d time.Duration) {
	x.t.Helper()
	x.clock.Advance(d)
	if err := x.eng.Run(ctx, id); err != nil {
		x.t.Fatal(err)
	}
}

func (x *fixture) signal(id, name string, payload ...any) {
	x.t.Helper()
	if err := x.eng.Signal(ctx, id, name, payload); err != nil {
		x.t.Fatal(err)
	}
}

// WCP 34: join 2 keep. The loop completes at the second instance and
// after() runs while the third runs on; the return waits for it.
func TestMultiKeep(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Keep", ir.Void)
	res := n.Var("res", x.p.ListOf(ir.Int))
	p, q := n.Place("p"), n.Place("q")
	mi := multi(x, n, body, n.N.Start, p, int64(1), int64(2), int64(5))
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(2))
	n.T(mi).Keep = true
	n.T(mi).Result = res
	taskStep(n, "A", call(x.task("after", 0)), p, q)
	ret(n, q, ir.NoFunc)
	x.start("c", "Keep")
	x.advance("c", 2*time.Minute)
	s := x.wantStatus("c", Running)
	if got := s.Root().Vars[res]; !reflect.DeepEqual(plain(got), []any{int64(2), int64(4), nil}) {
		t.Errorf("results at the quorum %v, want [2 4 nil]", got)
	}
	if len(s.Frames) != 2 || len(s.Root().Groups) != 1 || !s.Root().Groups[0].Joined {
		t.Fatalf("the third instance is not kept: %d frames, groups %+v", len(s.Frames), s.Root().Groups)
	}
	x.advance("c", 3*time.Minute)
	x.wantTrace("c", "start", "each", "arm t[1]", "arm t[2]", "arm t[3]",
		"timer t[1]", "end[1]", "timer t[2]", "end[2]", "A", "done A",
		"timer t[3]", "end[3]", "end")
	s = x.wantStatus("c", Completed)
	if len(s.Frames) != 1 || len(s.Root().Groups) != 0 {
		t.Errorf("left: %d frames, %d groups", len(s.Frames), len(s.Root().Groups))
	}
}

// Without keep the same loop withdraws the third instance (WCP 35).
func TestMultiQuorumCancels(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Cancel", ir.Void)
	p := n.Place("p")
	mi := multi(x, n, body, n.N.Start, p, int64(1), int64(2), int64(5))
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(2))
	ret(n, p, ir.NoFunc)
	x.start("c", "Cancel")
	x.advance("c", 2*time.Minute)
	x.wantTrace("c", "start", "each", "arm t[1]", "arm t[2]", "arm t[3]",
		"timer t[1]", "end[1]", "timer t[2]", "end[2]", "end")
	x.wantStatus("c", Completed)
}

// A fail after the quorum withdraws the kept instances.
func TestMultiKeepFail(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Fail", ir.Void)
	p := n.Place("p")
	mi := multi(x, n, body, n.N.Start, p, int64(1), int64(5))
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(1))
	n.T(mi).Keep = true
	f := n.Step("boom", ir.TFail, p, n.N.End)
	n.T(f).Value = x.constFn("msg", ir.String, "boom")
	x.start("c", "Fail")
	x.advance("c", time.Minute)
	x.wantTrace("c", "start", "each", "arm t[1]", "arm t[2]", "timer t[1]", "end[1]", "boom")
	s := x.wantStatus("c", Failed)
	if s.Error != "boom" || len(s.Frames) != 1 || len(s.Timers) != 0 {
		t.Errorf("error %q, %d frames, %d timers", s.Error, len(s.Frames), len(s.Timers))
	}
}

// WCP 28/31's blocking: a loop re-entered (by a cycle) while the
// instances kept from its previous activation run waits for them.
func TestMultiKeepBlocksReentry(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Again", ir.Void)
	round := n.Var("round", ir.Int)
	p0, p1, p2, p3 := n.Place("p0"), n.Place("p1"), n.Place("p2"), n.Place("p3")
	z := n.Step("zero", ir.TAssign, n.N.Start, p0)
	n.T(z).Result, n.T(z).Value = round, x.constFn("zero", ir.Int, int64(0))
	mi := multi(x, n, body, p0, p1, int64(1), int64(3))
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(1))
	n.T(mi).Keep = true
	inc := n.Step("inc", ir.TAssign, p1, p2)
	n.T(inc).Result = round
	n.T(inc).Value = x.fn("inc", ir.Int, func(e Env) (any, error) { return num(e, round) + 1, nil })
	test := n.Trans("test", ir.TNop)
	n.In(p2, test)
	n.T(test).Split = ir.SplitXor
	n.OutIf(test, p0, x.fn("again", ir.Bool, func(e Env) (any, error) { return num(e, round) < 2, nil }))
	n.Out(test, p3)
	ret(n, p3, ir.NoFunc)
	x.start("c", "Again")
	x.advance("c", time.Minute)
	s := x.wantStatus("c", Running)
	if s.Root().Marking[p0] != 1 || len(s.Root().Groups) != 1 {
		t.Fatalf("the loop did not wait at its head: marking %v, %d groups", s.Root().Marking, len(s.Root().Groups))
	}
	x.advance("c", 2*time.Minute) // the kept instance ends; the loop starts again
	x.advance("c", time.Minute)
	x.advance("c", 2*time.Minute)
	x.wantTrace("c", "start", "zero", "each", "arm t[1]", "arm t[2]",
		"timer t[1]", "end[1]", "inc", "test",
		"timer t[2]", "end[2]", "each", "arm t[3]", "arm t[4]",
		"timer t[3]", "end[3]", "inc", "test",
		"timer t[4]", "end[4]", "end")
	x.wantStatus("c", Completed)
}

// WCP 15: every arrival of More while the instances run adds one; a
// persistent More that came before the loop started is taken when it
// starts, a transient one is dropped.
func TestMultiMoreOn(t *testing.T) {
	for _, transient := range []bool{false, true} {
		x := newFixture(t)
		body := waitBody(x)
		n := x.p.NewNet("More", ir.Void)
		n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "More", Params: []ir.Param{{Name: "x", Type: ir.Int}}, Transient: transient})
		res := n.Var("res", x.p.ListOf(ir.Int))
		w, p := n.Place("w"), n.Place("p")
		delay := n.Step("delay", ir.TTimer, n.N.Start, w)
		n.T(delay).Value = x.constFn("min", ir.Duration, time.Minute)
		mi := multi(x, n, body, w, p, int64(2))
		n.T(mi).Label = "More"
		n.T(mi).Result = res
		ret(n, p, ir.NoFunc)
		x.start("c", "More")
		x.signal("c", "More", int64(4)) // before the loop
		x.advance("c", time.Minute)
		x.signal("c", "More", int64(1)) // while it runs
		x.advance("c", 2*time.Minute)
		if transient {
			x.wantTrace("c", "start", "arm delay", "signal More", "timer delay", "each", "arm t[1]",
				"signal More", "arm t[2]", "timer t[2]", "end[2]", "timer t[1]", "end[1]", "end")
			s := x.wantStatus("c", Completed)
			if got := s.Root().Vars[res]; !reflect.DeepEqual(plain(got), []any{int64(4), int64(2)}) {
				t.Errorf("transient: results %v, want [4 2]", got)
			}
			continue
		}
		x.wantStatus("c", Running)
		x.advance("c", 2*time.Minute)
		x.wantTrace("c", "start", "arm delay", "signal More", "timer delay", "each", "arm t[1]", "arm t[2]",
			"signal More", "arm t[3]", "timer t[3]", "end[3]", "timer t[1]", "end[1]", "timer t[2]", "end[2]", "end")
		s := x.wantStatus("c", Completed)
		if got := s.Root().Vars[res]; !reflect.DeepEqual(plain(got), []any{int64(4), int64(8), int64(2)}) {
			t.Errorf("persistent: results %v, want [4 8 2]", got)
		}
		if len(s.Inbox) != 0 {
			t.Errorf("inbox %v, want the buffered More taken", s.Inbox)
		}
	}
}

// A More after the loop completed is buffered for a later loop, not
// added to the finished one; with join all and nothing to run, the loop
// completes at once.
func TestMultiMoreAfter(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("After", ir.Void)
	n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "More", Params: []ir.Param{{Name: "x", Type: ir.Int}}})
	p, w := n.Place("p"), n.Place("w")
	mi := multi(x, n, body, n.N.Start, p)
	n.T(mi).Label = "More"
	delay := n.Step("delay", ir.TTimer, p, w)
	n.T(delay).Value = x.constFn("min", ir.Duration, time.Minute)
	ret(n, w, ir.NoFunc)
	x.start("c", "After")
	x.signal("c", "More", int64(1))
	s := x.wantStatus("c", Running)
	if len(s.Inbox) != 1 || len(s.Frames) != 1 {
		t.Errorf("inbox %v, %d frames: want the More buffered", s.Inbox, len(s.Frames))
	}
	x.advance("c", time.Minute)
	x.wantTrace("c", "start", "each", "arm delay", "signal More", "timer delay", "end")
}

// WCP 36: a computed join count with more on waits for that many
// instances even when none is running, and keeps the rest.
func TestMultiDynamicQuorum(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Dyn", ir.Void, ir.Param{Name: "need", Type: ir.Int})
	n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "More", Params: []ir.Param{{Name: "x", Type: ir.Int}}})
	p, q := n.Place("p"), n.Place("q")
	mi := multi(x, n, body, n.N.Start, p, int64(1))
	n.T(mi).Label = "More"
	n.T(mi).Quorum = x.varFn("need", ir.Int, 0)
	n.T(mi).Keep = true
	taskStep(n, "A", call(x.task("after", 0)), p, q)
	ret(n, q, ir.NoFunc)
	x.start("c", "Dyn", int64(2))
	x.advance("c", time.Minute) // the first instance ends; one more is needed
	x.wantStatus("c", Running)
	x.signal("c", "More", int64(1))
	x.signal("c", "More", int64(3))
	x.advance("c", time.Minute)     // the second ends: the quorum
	x.signal("c", "More", int64(1)) // the window is closed: buffered
	s := x.wantStatus("c", Running)
	if len(s.Inbox) != 1 {
		t.Errorf("inbox %v, want the late More buffered", s.Inbox)
	}
	x.advance("c", 2*time.Minute)
	x.wantTrace("c", "start", "each", "arm t[1]", "timer t[1]", "end[1]",
		"signal More", "arm t[2]", "signal More", "arm t[3]",
		"timer t[2]", "end[2]", "A", "done A", "signal More",
		"timer t[3]", "end[3]", "end")
	x.wantStatus("c", Completed)
}

// A computed join count below 1 fails the case at the count.
func TestMultiQuorumBelowOne(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Zero", ir.Void, ir.Param{Name: "need", Type: ir.Int})
	p := n.Place("p")
	mi := multi(x, n, body, n.N.Start, p, int64(1))
	n.T(mi).Quorum = x.varFn("need", ir.Int, 0)
	at := ir.Loc{File: 0, Span: source.Span{Start: 40, End: 44}}
	x.p.Funcs[n.T(mi).Quorum].Loc = at
	ret(n, p, ir.NoFunc)
	x.start("c", "Zero", int64(0))
	s := x.wantStatus("c", Failed)
	if !strings.Contains(s.Error, "join count must be at least 1, found 0") || s.ErrorLoc != at {
		t.Errorf("error %q at %v, want the join count at %v", s.Error, s.ErrorLoc, at)
	}
}

// A cancelled region holding the loop withdraws its kept instances, and
// the return no longer waits.
func TestMultiKeepCancelRegion(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Region", ir.Void)
	p, q := n.Place("p"), n.Place("q")
	mi := multi(x, n, body, n.N.Start, p, int64(1), int64(5))
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(1))
	n.T(mi).Keep = true
	stop := n.Step("stop", ir.TCancel, p, q)
	n.T(stop).Cancel = ir.CancelRegion
	n.T(stop).Region = n.Region("loop", nil, []int32{mi})
	ret(n, q, ir.NoFunc)
	x.start("c", "Region")
	x.advance("c", time.Minute)
	x.wantTrace("c", "start", "each", "arm t[1]", "arm t[2]", "timer t[1]", "end[1]", "stop", "end")
	s := x.wantStatus("c", Completed)
	if len(s.Frames) != 1 || len(s.Timers) != 0 {
		t.Errorf("left: %d frames, %d timers", len(s.Frames), len(s.Timers))
	}
}

// A join count above the number of instances completes the loop when
// all are done (without more on, none can be added).
func TestMultiQuorumAboveInstances(t *testing.T) {
	x := newFixture(t)
	body := waitBody(x)
	n := x.p.NewNet("Few", ir.Void)
	p := n.Place("p")
	mi := multi(x, n, body, n.N.Start, p, int64(1), int64(2))
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(5))
	n.T(mi).Keep = true
	ret(n, p, ir.NoFunc)
	x.start("c", "Few")
	x.advance("c", 2*time.Minute)
	x.wantTrace("c", "start", "each", "arm t[1]", "arm t[2]", "timer t[1]", "end[1]", "timer t[2]", "end[2]", "end")
	x.wantStatus("c", Completed)
}
