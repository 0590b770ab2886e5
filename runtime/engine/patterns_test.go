// This file tests the control-flow patterns on hand-built nets.

package engine

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

var ctx = context.Background()

// WCP 1: sequence.
func TestSequence(t *testing.T) {
	x := newFixture(t)
	a, b := x.task("a", 0), x.task("b", 0)
	n := x.p.NewNet("Seq", ir.String)
	p1, p2, p3 := n.Place("p1"), n.Place("p2"), n.Place("p3")
	n.Step("begin", ir.TNop, n.N.Start, p1)
	taskStep(n, "A", call(a), p1, p2)
	r := n.Var("r", ir.String)
	tb := taskStep(n, "B", call(b), p2, p3)
	n.T(tb).Result = r
	ret(n, p3, x.varFn("ret", ir.String, r))
	x.start("c1", "Seq")
	x.wantTrace("c1", "start", "begin", "A", "done A", "B", "done B", "end")
	s := x.wantStatus("c1", Completed)
	if s.Result != eval.Str("b-ok") {
		t.Errorf("result %v, want b-ok", s.Result)
	}
	if got := x.w.names(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("invocations %q", got)
	}
}

// WCP 2-3: parallel split and synchronisation.
func TestParallelSync(t *testing.T) {
	x := newFixture(t)
	a, b := x.task("a", 0), x.task("b", 0)
	n := x.p.NewNet("Par", ir.Void)
	pa, pb, qa, qb, j := n.Place("pa"), n.Place("pb"), n.Place("qa"), n.Place("qb"), n.Place("j")
	split := n.Trans("split", ir.TNop)
	n.In(n.N.Start, split)
	n.Out(split, pa)
	n.Out(split, pb)
	taskStep(n, "A", call(a), pa, qa)
	taskStep(n, "B", call(b), pb, qb)
	join := n.Trans("join", ir.TNop)
	n.In(qa, join)
	n.In(qb, join)
	n.Out(join, j)
	ret(n, j, ir.NoFunc)
	barrier := make(chan struct{}, 2)
	both := func(context.Context, Invocation) (any, error) {
		barrier <- struct{}{}
		for deadline := time.Now().Add(time.Second); len(barrier) < 2 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		return 1, nil
	}
	x.w.behave["a"], x.w.behave["b"] = both, both
	x.start("c", "Par")
	x.wantTrace("c", "start", "split", "A", "B", "done A", "done B", "join", "end")
	x.wantStatus("c", Completed)
	if x.w.maxEver != 2 {
		t.Errorf("A and B ran %d at a time, want 2", x.w.maxEver)
	}
}

// WCP 4-5: exclusive choice and simple merge, with a guard on a variable.
func TestExclusiveChoice(t *testing.T) {
	x := newFixture(t)
	n := x.p.NewNet("Choice", ir.String, ir.Param{Name: "amount", Type: ir.Int})
	big := x.fn("big", ir.Bool, func(e Env) (any, error) { return num(e, 0) > 100, nil })
	pa, pb, m := n.Place("pa"), n.Place("pb"), n.Place("merge")
	choose := n.Trans("choose", ir.TNop)
	n.T(choose).Split = ir.SplitXor
	n.In(n.N.Start, choose)
	n.OutIf(choose, pa, big)
	n.Out(choose, pb)
	n.Step("approve", ir.TNop, pa, m)
	n.Step("auto", ir.TNop, pb, m)
	ret(n, m, ir.NoFunc)
	x.start("big", "Choice", int64(500))
	x.start("small", "Choice", int64(5))
	x.wantTrace("big", "start", "choose", "approve", "end")
	x.wantTrace("small", "start", "choose", "auto", "end")
}

// WCP 6-7: multi-choice and synchronising merge: the OR join waits for
// the running call of a chosen branch, and fires without the branch not
// chosen.
func TestMultiChoiceSyncMerge(t *testing.T) {
	x := newFixture(t)
	ta, tb := x.task("a", 0), x.task("b", 0)
	n := x.p.NewNet("Multi", ir.Void, ir.Param{Name: "mask", Type: ir.Int})
	bit := func(k int64) ir.FuncID {
		return x.fn("bit", ir.Bool, func(e Env) (any, error) { return num(e, 0)&k != 0, nil })
	}
	pa, pb, pc := n.Place("pa"), n.Place("pb"), n.Place("pc")
	qa, qb, qc, j := n.Place("qa"), n.Place("qb"), n.Place("qc"), n.Place("j")
	split := n.Trans("split", ir.TNop)
	n.T(split).Split = ir.SplitOr
	n.In(n.N.Start, split)
	n.OutIf(split, pa, bit(1))
	n.OutIf(split, pb, bit(2))
	n.OutIf(split, pc, bit(4))
	taskStep(n, "A", call(ta), pa, qa)
	mid := n.Place("mid")
	taskStep(n, "B1", call(tb), pb, mid)
	taskStep(n, "B2", call(tb), mid, qb)
	n.Step("C", ir.TNop, pc, qc)
	join := n.Trans("join", ir.TNop)
	n.T(join).Join = ir.JoinOr
	n.In(qa, join)
	n.In(qb, join)
	n.In(qc, join)
	n.Out(join, j)
	ret(n, j, ir.NoFunc)
	x.start("ab", "Multi", int64(3))
	x.wantTrace("ab", "start", "split", "A", "B1", "done A", "done B1", "B2", "done B2", "join", "end")
	x.start("c", "Multi", int64(4))
	x.wantTrace("c", "start", "split", "C", "join", "end")
	x.start("ac", "Multi", int64(5))
	x.wantTrace("ac", "start", "split", "A", "C", "done A", "join", "end")
}

// parallelJoin builds split -> three task branches -> a partial join of
// n cancelling the branches' region.
func parallelJoin(x *fixture, name string, need int32) {
	n := x.p.NewNet(name, ir.Void)
	split := n.Trans("split", ir.TNop)
	n.In(n.N.Start, split)
	join := n.Trans("join", ir.TNop)
	n.T(join).Join = ir.JoinPartial
	n.T(join).JoinN = need
	var places, trans []int32
	for _, b := range []string{"a", "b", "c"} {
		p, q := n.Place("p"+b), n.Place("q"+b)
		n.Out(split, p)
		tk := taskStep(n, strings.ToUpper(b), call(x.task(b, 0)), p, q)
		n.In(q, join)
		places = append(places, p, q)
		trans = append(trans, tk)
	}
	n.T(join).Cancel = ir.CancelRegion
	n.T(join).Region = n.Region("branches", places, trans)
	j := n.Place("j")
	n.Out(join, j)
	ret(n, j, ir.NoFunc)
}

// WCP 9, 29: discriminator (join any) cancelling the other branches.
func TestDiscriminatorCancels(t *testing.T) {
	x := newFixture(t)
	parallelJoin(x, "Any", 1)
	x.start("c", "Any")
	x.wantTrace("c", "start", "split", "A", "B", "C", "done A", "join", "end")
	s := x.wantStatus("c", Completed)
	if len(s.Invs) != 0 {
		t.Errorf("calls left: %d", len(s.Invs))
	}
}

// WCP 30-31: partial join of 2 of 3, cancelling the third; the first
// branch fails once and retries, so B and C finish first.
func TestPartialJoin(t *testing.T) {
	x := newFixture(t)
	parallelJoin(x, "Two", 2)
	x.p.Tasks[0].Retry = 1
	x.w.behave["a"] = func(_ context.Context, inv Invocation) (any, error) {
		return nil, errors.New("busy")
	}
	x.start("c", "Two")
	x.wantTrace("c", "start", "split", "A", "B", "C", "failed A@1", "retry A", "done B", "done C", "join", "end")
	s := x.wantStatus("c", Completed)
	if len(s.Invs) != 0 {
		t.Errorf("the backing-off call of A was not cancelled")
	}
}

// WCP 16: deferred choice between a signal and a timer, with a fake clock.
func TestDeferredChoice(t *testing.T) {
	build := func() *fixture {
		x := newFixture(t)
		n := x.p.NewNet("Wait", ir.String)
		w := n.Place("wait")
		n.Step("begin", ir.TNop, n.N.Start, w)
		got := n.Var("who", ir.String)
		n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "Go", Params: []ir.Param{{Name: "who", Type: ir.String}}})
		sig := n.Step("on_go", ir.TSignal, w, n.Place("a"))
		n.T(sig).Label = "Go"
		n.T(sig).Bind = []int32{got}
		tm := n.Step("on_timer", ir.TTimer, w, n.Place("b"))
		n.T(tm).Value = x.constFn("hour", ir.Duration, time.Hour)
		m := n.Place("m")
		n.Step("signalled", ir.TNop, 2+1, m)
		n.Step("timed_out", ir.TNop, 2+2, m)
		ret(n, m, x.varFn("who", ir.String, got))
		return x
	}
	x := build()
	x.start("sig", "Wait")
	if due, ok := x.eng.NextDue("sig"); !ok || !due.Equal(x.clock.Now().Add(time.Hour)) {
		t.Errorf("next due %v %v, want in an hour", due, ok)
	}
	x.clock.Advance(30 * time.Minute)
	if err := x.eng.Run(ctx, "sig"); err != nil {
		t.Fatal(err)
	}
	x.wantStatus("sig", Running)
	if err := x.eng.Signal(ctx, "sig", "Go", []any{"ann"}); err != nil {
		t.Fatal(err)
	}
	x.wantTrace("sig", "start", "begin", "arm on_timer", "signal Go", "signalled", "end")
	if s := x.wantStatus("sig", Completed); s.Result != eval.Str("ann") || len(s.Timers) != 0 {
		t.Errorf("result %v timers %v", s.Result, s.Timers)
	}

	y := build()
	y.start("timer", "Wait")
	y.clock.Advance(2 * time.Hour)
	if err := y.eng.Run(ctx, "timer"); err != nil {
		t.Fatal(err)
	}
	if err := y.eng.Signal(ctx, "timer", "Go", []any{"late"}); err != nil {
		t.Fatal(err)
	}
	y.wantTrace("timer", "start", "begin", "arm on_timer", "timer on_timer", "timed_out", "end")
	if err := y.eng.Signal(ctx, "timer", "Go", nil); err != nil {
		t.Errorf("a signal to a completed case: %v", err)
	}
	y.start("other", "Wait")
	if err := y.eng.Signal(ctx, "other", "Stop", nil); err == nil || err.Error() != "workflow Wait has no signal Stop" {
		t.Errorf("an undeclared signal: %v", err)
	}
	if s := y.wantStatus("timer", Completed); s.Result != (eval.Value{}) {
		t.Errorf("result %v, want none", s.Result)
	}
}

// A signal that arrives before its wait is buffered, unless transient.
func TestSignalBuffered(t *testing.T) {
	for _, transient := range []bool{false, true} {
		x := newFixture(t)
		n := x.p.NewNet("Later", ir.Void)
		n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "Go", Transient: transient})
		w := n.Place("w")
		tm := n.Step("delay", ir.TTimer, n.N.Start, w)
		n.T(tm).Value = x.constFn("min", ir.Duration, time.Minute)
		e := n.Place("e")
		n.T(n.Step("go", ir.TSignal, w, e)).Label = "Go"
		ret(n, e, ir.NoFunc)
		x.start("c", "Later")
		if err := x.eng.Signal(ctx, "c", "Go", nil); err != nil {
			t.Fatal(err)
		}
		x.clock.Advance(time.Minute)
		if err := x.eng.Run(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if transient {
			x.wantTrace("c", "start", "arm delay", "signal Go", "timer delay")
			x.wantStatus("c", Running)
		} else {
			x.wantTrace("c", "start", "arm delay", "signal Go", "timer delay", "go", "end")
			x.wantStatus("c", Completed)
		}
	}
}

// WCP 19-20, 25: a cancel transition clears a region holding an open
// signal wait; a return inside a parallel cancels the case; cancelling
// from outside drops running calls.
func TestCancelRegionAndCase(t *testing.T) {
	x := newFixture(t)
	tb := x.task("b", 0)
	n := x.p.NewNet("Region", ir.Void)
	pa, pb, pc, qa, pd, j := n.Place("pa"), n.Place("pb"), n.Place("pc"), n.Place("qa"), n.Place("pd"), n.Place("j")
	split := n.Trans("split", ir.TNop)
	n.In(n.N.Start, split)
	n.Out(split, pa)
	n.Out(split, pb)
	wait := n.Step("wait", ir.TSignal, pa, qa)
	n.T(wait).Label = "Never"
	taskStep(n, "B", call(tb), pb, pc)
	kill := n.Step("kill", ir.TCancel, pc, qa)
	n.Out(kill, pd)
	n.T(kill).Cancel = ir.CancelRegion
	n.T(kill).Region = n.Region("r", []int32{pa, qa}, []int32{wait})
	join := n.Trans("join", ir.TNop)
	n.In(qa, join)
	n.In(pd, join)
	n.Out(join, j)
	ret(n, j, ir.NoFunc)
	x.start("region", "Region")
	x.wantTrace("region", "start", "split", "B", "done B", "kill", "join", "end")
	x.wantStatus("region", Completed)

	c := x.p.NewNet("Early", ir.Int)
	pa, pb = c.Place("pa"), c.Place("pb")
	split = c.Trans("split", ir.TNop)
	c.In(c.N.Start, split)
	c.Out(split, pa)
	c.Out(split, pb)
	c.T(c.Step("wait", ir.TSignal, pa, c.Place("never"))).Label = "Never"
	r := ret(c, pb, x.constFn("seven", ir.Int, int64(7)))
	c.T(r).Cancel = ir.CancelCase
	x.eng = nil
	x.start("case", "Early")
	x.wantTrace("case", "start", "split", "end")
	if s := x.wantStatus("case", Completed); s.Result != eval.Int(7) || s.Root().Marking[pa] != 0 {
		t.Errorf("result %v marking %v", s.Result, s.Root().Marking)
	}

	block := make(chan struct{})
	x.w.behave["b"] = func(ctx context.Context, _ Invocation) (any, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- x.eng.Start(cctx, "outside", "Region", nil) }()
	for {
		x.w.mu.Lock()
		n := x.w.inFlight
		x.w.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel() // stop driving the case (as on shutdown); the call is abandoned
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run ended with %v", err)
	}
	if err := x.eng.Cancel(ctx, "outside"); err != nil {
		t.Fatal(err)
	}
	s := x.wantStatus("outside", Cancelled)
	if len(s.Invs) != 0 {
		t.Errorf("calls left after cancel: %d", len(s.Invs))
	}
	x.wantTrace("outside", "start", "split", "B", "cancel")
}

// WCP 10: arbitrary cycles: a loop with a counter.
func TestCycle(t *testing.T) {
	x := newFixture(t)
	tw := x.task("work", 0)
	n := x.p.NewNet("Loop", ir.Int)
	i := n.Var("i", ir.Int)
	top, mid, test, out := n.Place("top"), n.Place("mid"), n.Place("test"), n.Place("out")
	init := n.Step("init", ir.TAssign, n.N.Start, top)
	n.T(init).Result, n.T(init).Value = i, x.constFn("zero", ir.Int, int64(0))
	taskStep(n, "W", call(tw), top, mid)
	inc := n.Step("inc", ir.TAssign, mid, test)
	n.T(inc).Result = i
	n.T(inc).Value = x.fn("inc", ir.Int, func(e Env) (any, error) { return num(e, i) + 1, nil })
	again := n.Trans("again", ir.TNop)
	n.T(again).Split = ir.SplitXor
	n.In(test, again)
	n.OutIf(again, top, x.fn("more", ir.Bool, func(e Env) (any, error) { return num(e, i) < 3, nil }))
	n.Out(again, out)
	ret(n, out, x.varFn("i", ir.Int, i))
	x.start("c", "Loop")
	x.wantTrace("c", "start", "init", "W", "done W", "inc", "again", "W", "done W", "inc", "again", "W", "done W", "inc", "again", "end")
	if s := x.wantStatus("c", Completed); s.Result != eval.Int(3) {
		t.Errorf("result %v", s.Result)
	}
	keys := map[string]bool{}
	for _, c := range x.w.calls {
		keys[c.IdempotencyKey] = true
	}
	if len(keys) != 3 {
		t.Errorf("the loop's three calls share idempotency keys: %v", keys)
	}
}

// WCP 12-14: multiple instances with a limit, sharing a variable.
func TestMultiInstanceLimit(t *testing.T) {
	x := newFixture(t)
	tw := x.task("work", 0)
	body := x.p.NewNet("Body", ir.Int, ir.Param{Name: "item", Type: ir.Int}, ir.Param{Name: "sum", Type: ir.Int})
	bp, bq := body.Place("p"), body.Place("q")
	taskStep(body, "W", call(tw, x.varFn("item", ir.Int, 0)), body.N.Start, bp)
	add := body.Step("add", ir.TAssign, bp, bq)
	body.T(add).Result = 1
	body.T(add).Value = x.fn("add", ir.Int, func(e Env) (any, error) { return num(e, 0) + num(e, 1), nil })
	ret(body, bq, x.fn("double", ir.Int, func(e Env) (any, error) { return 2 * num(e, 0), nil }))

	n := x.p.NewNet("Fan", ir.Int)
	sum := n.Var("sum", ir.Int)
	res := n.Var("res", ir.Int)
	p0, p1 := n.Place("p0"), n.Place("p1")
	z := n.Step("zero", ir.TAssign, n.N.Start, p0)
	n.T(z).Result, n.T(z).Value = sum, x.constFn("zero", ir.Int, int64(0))
	mi := n.Step("each", ir.TMulti, p0, p1)
	n.T(mi).Call = &ir.Call{Kind: ir.CallWorkflow, Target: body.Index, Args: []ir.FuncID{x.varFn("sum", ir.Int, sum)}, Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc}
	n.T(mi).Bind = []int32{sum}
	n.T(mi).Result = res
	n.T(mi).Value = x.constFn("items", x.p.ListOf(ir.Int), []any{int64(1), int64(2), int64(3), int64(4)})
	n.T(mi).Limit = x.constFn("limit", ir.Int, int64(2))
	ret(n, p1, x.varFn("sum", ir.Int, sum))
	x.start("c", "Fan")
	x.wantTrace("c", "start", "zero", "each", "W[1]", "W[2]",
		"done W[1]", "add[1]", "end[1]", "W[3]", "done W[2]", "add[2]", "end[2]", "W[4]",
		"done W[3]", "add[3]", "end[3]", "done W[4]", "add[4]", "end[4]", "end")
	s := x.wantStatus("c", Completed)
	if s.Result != eval.Int(10) {
		t.Errorf("shared sum %v, want 10", s.Result)
	}
	if got := s.Root().Vars[res]; !reflect.DeepEqual(plain(got), []any{int64(2), int64(4), int64(6), int64(8)}) {
		t.Errorf("results %v", got)
	}
	if x.w.maxEver > 2 {
		t.Errorf("%d instances ran at once, limit 2", x.w.maxEver)
	}
	var args []int64
	for _, c := range x.w.calls {
		args = append(args, c.Args[0].AsInt())
	}
	slices.Sort(args)
	if !reflect.DeepEqual(args, []int64{1, 2, 3, 4}) {
		t.Errorf("instance args %v", args)
	}
}

// A learned route asks the policy and calls the chosen candidate.
func TestRoute(t *testing.T) {
	x := newFixture(t)
	ups, dhl := x.task("ups", 0), x.task("dhl", 0)
	n := x.p.NewNet("Ship", ir.String)
	p := n.Place("p")
	r := n.Step("carrier", ir.TRoute, n.N.Start, p)
	v := n.Var("via", ir.String)
	n.T(r).Label, n.T(r).Result = "carrier", v
	n.T(r).Features = []ir.FuncID{x.constFn("weight", ir.Int, int64(12))}
	n.T(r).Candidates = []*ir.Call{call(ups), call(dhl, x.constFn("arg", ir.String, "parcel"))}
	ret(n, p, x.varFn("via", ir.String, v))
	x.engine()
	x.eng.policy = policyFunc(func(route string, features []eval.Value, n int) (int, error) {
		if route != "carrier" || !reflect.DeepEqual(plains(features), []any{int64(12)}) || n != 2 {
			return 0, errors.New("unexpected features")
		}
		return 1, nil
	})
	x.start("c", "Ship")
	x.wantTrace("c", "start", "carrier", "done carrier", "end")
	if s := x.wantStatus("c", Completed); s.Result != eval.Str("dhl-ok") {
		t.Errorf("result %v", s.Result)
	}
	if got := plains(x.w.calls[0].Args); !reflect.DeepEqual(got, []any{"parcel"}) {
		t.Errorf("args %v", got)
	}
}

type policyFunc func(string, []eval.Value, int) (int, error)

func (f policyFunc) Choose(_ context.Context, route string, features []eval.Value, n int) (int, error) {
	return f(route, features, n)
}

// The lowering's cancel pairs: when both the TCancel and its idle twin
// are enabled, the TCancel fires, although it comes later.
func TestCancelPreferred(t *testing.T) {
	x := newFixture(t)
	n := x.p.NewNet("Pair", ir.Void)
	active, p, out := n.Place("active"), n.Place("p"), n.Place("out")
	begin := n.Step("begin", ir.TNop, n.N.Start, p)
	n.Out(begin, active)
	n.Step("kill_idle", ir.TNop, p, out)
	kill := n.Step("kill", ir.TCancel, p, out)
	n.In(active, kill)
	n.T(kill).Cancel = ir.CancelRegion
	n.T(kill).Region = n.Region("r", []int32{active}, nil)
	ret(n, out, ir.NoFunc)
	x.start("c", "Pair")
	x.wantTrace("c", "start", "begin", "kill", "end")
	x.wantStatus("c", Completed)
}

// WCP 34: multiple instances completing after a quorum, cancelling the
// rest.
func TestMultiInstanceQuorum(t *testing.T) {
	x := newFixture(t)
	tw := x.task("work", 0)
	body := x.p.NewNet("Body", ir.Void, ir.Param{Name: "item", Type: ir.Int})
	bp := body.Place("p")
	taskStep(body, "W", call(tw, x.varFn("item", ir.Int, 0)), body.N.Start, bp)
	ret(body, bp, ir.NoFunc)
	n := x.p.NewNet("Quorum", ir.Void)
	p := n.Place("p")
	mi := n.Step("each", ir.TMulti, n.N.Start, p)
	n.T(mi).Call = &ir.Call{Kind: ir.CallWorkflow, Target: body.Index, Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc}
	n.T(mi).Value = x.constFn("items", x.p.ListOf(ir.Int), []any{int64(1), int64(2), int64(3)})
	n.T(mi).Quorum = x.constFn("quorum", ir.Int, int64(2))
	ret(n, p, ir.NoFunc)
	x.start("c", "Quorum")
	x.wantTrace("c", "start", "each", "W[1]", "W[2]", "W[3]", "done W[1]", "end[1]", "done W[2]", "end[2]", "end")
	s := x.wantStatus("c", Completed)
	if len(s.Frames) != 1 || len(s.Invs) != 0 {
		t.Errorf("instances left: %d frames, %d calls", len(s.Frames), len(s.Invs))
	}
}

// Saga: when a step fails, the undo calls of the completed steps run in
// reverse order with arguments computed from their results.
func TestSagaCompensation(t *testing.T) {
	x := newFixture(t)
	undoA, undoB := x.task("undoA", 0), x.task("undoB", 1)
	ta, tb, tc := x.task("a", 0), x.task("b", 0), x.task("c", 0)
	arg := x.fn("result", ir.String, func(e Env) (any, error) { return "undo " + e.Args[0].AsString(), nil },
		ir.Param{Name: "r", Type: ir.String})
	x.p.Tasks[ta].Undo = call(undoA, arg)
	n := x.p.NewNet("Saga", ir.Void)
	p1, p2, p3 := n.Place("p1"), n.Place("p2"), n.Place("p3")
	taskStep(n, "A", call(ta), n.N.Start, p1)
	cb := call(tb)
	cb.Undo = call(undoB, arg)
	taskStep(n, "B", cb, p1, p2)
	taskStep(n, "C", call(tc), p2, p3)
	ret(n, p3, ir.NoFunc)
	x.w.behave["c"] = func(context.Context, Invocation) (any, error) { return nil, errors.New("card declined") }
	undos := 0
	x.w.behave["undoB"] = func(_ context.Context, inv Invocation) (any, error) {
		if undos++; undos == 1 {
			return nil, errors.New("flaky")
		}
		return nil, nil
	}
	x.start("c", "Saga")
	x.wantTrace("c", "start", "A", "done A", "B", "done B", "C", "failed C@1",
		"failed undo undoB@1", "retry undo undoB", "done undo undoB", "done undo undoA")
	s := x.wantStatus("c", Failed)
	if s.Error != "card declined" {
		t.Errorf("error %q", s.Error)
	}
	if got := x.w.names(); !reflect.DeepEqual(got, []string{"a", "b", "c", "undoB", "undoB@2", "undoA"}) {
		t.Errorf("invocations %q", got)
	}
	if got := plains(x.w.calls[5].Args); !reflect.DeepEqual(got, []any{"undo a-ok"}) || !x.w.calls[5].Compensation {
		t.Errorf("undoA args %v", got)
	}
}

// Retry with backoff: the backoff is an armed deadline, so the case waits
// for the clock.
func TestRetryBackoff(t *testing.T) {
	x := newFixture(t)
	tf := x.task("flaky", 2)
	x.p.Tasks[tf].Backoff = x.fn("backoff", ir.Duration, func(e Env) (any, error) {
		return time.Duration(e.Args[0].AsInt()) * 10 * time.Second, nil
	}, ir.Param{Name: "attempt", Type: ir.Int})
	n := x.p.NewNet("Retry", ir.Void)
	p := n.Place("p")
	taskStep(n, "F", call(tf), n.N.Start, p)
	ret(n, p, ir.NoFunc)
	x.w.behave["flaky"] = func(_ context.Context, inv Invocation) (any, error) {
		if inv.Attempt < 3 {
			return nil, errors.New("unavailable")
		}
		return "ok", nil
	}
	x.start("c", "Retry")
	x.wantStatus("c", Running)
	due, _ := x.eng.NextDue("c")
	if want := x.clock.Now().Add(10 * time.Second); !due.Equal(want) {
		t.Errorf("first retry due %v, want %v", due, want)
	}
	x.clock.Advance(9 * time.Second)
	if err := x.eng.Run(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if len(x.w.calls) != 1 {
		t.Fatalf("retried before the backoff ended")
	}
	x.clock.Advance(time.Second)
	x.eng.Run(ctx, "c")
	x.clock.Advance(20 * time.Second)
	x.eng.Run(ctx, "c")
	x.wantTrace("c", "start", "F", "failed F@1", "retry F", "failed F@2", "retry F", "done F", "end")
	x.wantStatus("c", Completed)
	if k := x.w.calls; k[0].IdempotencyKey == k[1].IdempotencyKey || k[1].IdempotencyKey == k[2].IdempotencyKey {
		t.Errorf("attempts share an idempotency key")
	}
}

// Timeout: an attempt that runs past its timeout fails.
func TestTimeout(t *testing.T) {
	x := newFixture(t)
	ts := x.task("slow", 0)
	c := call(ts)
	c.Timeout = x.constFn("timeout", ir.Duration, 5*time.Millisecond)
	n := x.p.NewNet("Slow", ir.Void)
	p := n.Place("p")
	taskStep(n, "S", c, n.N.Start, p)
	ret(n, p, ir.NoFunc)
	x.w.behave["slow"] = func(ctx context.Context, _ Invocation) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	x.start("c", "Slow")
	x.wantTrace("c", "start", "S", "failed S@1")
	if s := x.wantStatus("c", Failed); !strings.Contains(s.Error, "timed out after 5ms") {
		t.Errorf("error %q", s.Error)
	}
}

// A loop of routing steps that never waits is stopped, intact.
func TestBusyLoop(t *testing.T) {
	x := newFixture(t)
	n := x.p.NewNet("Spin", ir.Void)
	p := n.Place("p")
	n.Step("a", ir.TNop, n.N.Start, p)
	n.Step("b", ir.TNop, p, n.N.Start)
	x.engine().steps = 1000
	err := x.eng.Start(ctx, "c", "Spin", nil)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("start: %v", err)
	}
	if got := len(x.log.Events("c")); got != 1001 {
		t.Errorf("%d events", got)
	}
	if err := x.eng.Run(ctx, "c"); !errors.Is(err, ErrBusy) {
		t.Errorf("run: %v", err)
	}
	x.wantStatus("c", Running)
}

// An evaluation error fails the case at the transition.
func TestEvalErrorFails(t *testing.T) {
	x := newFixture(t)
	n := x.p.NewNet("Bad", ir.Void)
	a := n.Step("a", ir.TAssign, n.N.Start, n.Place("p"))
	n.T(a).Result = n.Var("v", ir.Int)
	n.T(a).Value = x.fn("boom", ir.Int, func(Env) (any, error) { return nil, errors.New("division by zero") })
	ret(n, 2, ir.NoFunc)
	x.start("c", "Bad")
	x.wantTrace("c", "start", "fail")
	if s := x.wantStatus("c", Failed); s.Error != "a: division by zero" {
		t.Errorf("error %q", s.Error)
	}
}

// Apply rejects events that do not fit and leaves the state alone.
func TestApplyRejects(t *testing.T) {
	x := newFixture(t)
	n := x.p.NewNet("Seq", ir.Void)
	p := n.Place("p")
	n.Step("a", ir.TNop, n.N.Start, p)
	ret(n, p, ir.NoFunc)
	m, err := NewMachine(x.p)
	if err != nil {
		t.Fatal(err)
	}
	var s State
	for _, ev := range []Event{{Kind: EvFire}, {Kind: EvStart, Trans: 9}} {
		if err := m.Apply(&s, &ev); !errors.Is(err, ErrNotApplicable) {
			t.Errorf("%v: %v", ev.Kind, err)
		}
	}
	if err := m.Apply(&s, &Event{Kind: EvStart}); err != nil {
		t.Fatal(err)
	}
	before := s.Clone()
	for _, ev := range []Event{{Kind: EvFire, Trans: 1}, {Kind: EvFire, Frame: 3}, {Kind: EvDone, Inv: 0}, {Kind: EvRetry}, {Kind: EvStart}, {Kind: EvTimer, Trans: 0}} {
		if err := m.Apply(&s, &ev); !errors.Is(err, ErrNotApplicable) {
			t.Errorf("%v %d: %v", ev.Kind, ev.Trans, err)
		}
	}
	if !reflect.DeepEqual(before, &s) {
		t.Errorf("a rejected event changed the state")
	}
}
