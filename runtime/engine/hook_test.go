// This file tests hooks: each event kind, conditions, failing actions,
// the closing of a case whose hooks still run, and recovery.

package engine

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// addHook adds hook name on ev to workflow net, running action.
func (x *fixture) addHook(net, name string, ev ir.HookEvent, action *ir.Call) *ir.Hook {
	x.t.Helper()
	n := x.p.Net(net)
	if n == nil {
		x.t.Fatalf("no workflow %s", net)
	}
	h := &ir.Hook{Name: name, Event: ev, Task: -1, Cond: ir.NoFunc, Action: action, Loc: ir.NoLoc}
	n.Hooks = append(n.Hooks, h)
	return h
}

// hookCalls returns the arguments of every invocation of a hook's action.
func (w *fakeWorker) hookCalls(hook string) [][]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out [][]any
	for _, c := range w.calls {
		if c.Transition == "hook "+hook {
			out = append(out, plains(c.Args))
		}
	}
	return out
}

// seqNet builds Seq(who: string) -> string: A -> end, returning A's
// result, and a task audit for hook actions.
func seqNet(x *fixture) (audit int32) {
	audit = x.task("audit", 0)
	ta := x.task("a", 0)
	n := x.p.NewNet("Seq", ir.String, ir.Param{Name: "who", Type: ir.String})
	r := n.Var("r", ir.String)
	p := n.Place("p")
	n.T(taskStep(n, "A", call(ta), n.N.Start, p)).Result = r
	ret(n, p, x.varFn("r", ir.String, r))
	return audit
}

// stateAfter replays the first k events of case id.
func (x *fixture) stateAfter(id string, k int) *State {
	x.t.Helper()
	s := &State{ID: id}
	for i, ev := range x.log.Events(id)[:k] {
		if err := x.engine().Machine().Apply(s, &ev); err != nil {
			x.t.Fatalf("event %d: %v", i, err)
		}
	}
	return s
}

func TestHookStart(t *testing.T) {
	x := newFixture(t)
	audit := seqNet(x)
	x.addHook("Seq", "opened", ir.HookStart, call(audit, x.varFn("who", ir.String, 0)))
	x.start("c", "Seq", "ann")
	// The hook is resolved before anything else happens; its action runs
	// in the same round as A.
	x.wantTrace("c", "start", "hook opened", "A", "done hook opened", "done A", "end")
	if s := x.wantStatus("c", Completed); s.Result != eval.Str("a-ok") || len(s.HookErrors) != 0 {
		t.Errorf("result %v, hook errors %q", s.Result, s.HookErrors)
	}
	if got := x.w.hookCalls("opened"); !reflect.DeepEqual(got, [][]any{{"ann"}}) {
		t.Errorf("hook calls %v", got)
	}
	// Both in one round: the worker sees them in either order.
	if got := slices.Sorted(slices.Values(x.w.names())); !reflect.DeepEqual(got, []string{"a", "audit"}) {
		t.Errorf("invocations %q", got)
	}
}

func TestHookEnd(t *testing.T) {
	x := newFixture(t)
	audit := seqNet(x)
	x.addHook("Seq", "closed", ir.HookEnd, call(audit, x.varFn("r", ir.String, 1)))
	x.start("c", "Seq", "ann")
	x.wantTrace("c", "start", "A", "done A", "end", "hook closed", "done hook closed")
	if s := x.wantStatus("c", Completed); s.Result != eval.Str("a-ok") || s.Closing != Running {
		t.Errorf("result %v, closing %s", s.Result, s.Closing)
	}
	// The end hook saw the variables of the completed root frame.
	if got := x.w.hookCalls("closed"); !reflect.DeepEqual(got, [][]any{{"a-ok"}}) {
		t.Errorf("hook calls %v", got)
	}
	// Between the end of the main path and the end of the hook's action
	// the case is still running, closing towards Completed, its result
	// known.
	for _, k := range []int{4, 5} {
		s := x.stateAfter("c", k)
		if s.Status != Running || s.Closing != Completed || s.Result != eval.Str("a-ok") {
			t.Errorf("after %d events: %s closing %s result %v", k, s.Status, s.Closing, s.Result)
		}
	}
}

func TestHookFailBeforeCompensation(t *testing.T) {
	x := newFixture(t)
	audit := seqNet(x)
	undo := x.task("undo", 0)
	tb := x.task("b", 0)
	x.p.Tasks[1].Undo = call(undo) // a's compensation
	// Seq2: A -> B (fails) -> end.
	n := x.p.NewNet("Seq2", ir.Void)
	p, q := n.Place("p"), n.Place("q")
	taskStep(n, "A", call(1), n.N.Start, p)
	taskStep(n, "B", call(tb), p, q)
	ret(n, q, ir.NoFunc)
	x.addHook("Seq2", "failed", ir.HookFail, call(audit))
	x.w.behave["b"] = func(context.Context, Invocation) (any, error) { return nil, errors.New("declined") }
	x.start("c", "Seq2")
	x.wantTrace("c", "start", "A", "done A", "B", "failed B@1", "hook failed", "done hook failed", "done undo undo")
	s := x.wantStatus("c", Failed)
	if s.Error != "declined" {
		t.Errorf("error %q", s.Error)
	}
	// The compensation starts only after the fail hook's action is done.
	if got := x.w.names(); !reflect.DeepEqual(got, []string{"a", "b", "audit", "undo"}) {
		t.Errorf("invocations %q", got)
	}
	if s := x.stateAfter("c", 6); s.Status != Running || s.Closing != Failing || len(s.Invs) != 1 || !s.Invs[0].Hook {
		t.Errorf("while the fail hook runs: %s closing %s, %d calls", s.Status, s.Closing, len(s.Invs))
	}
}

func TestHookCompleteAfterResult(t *testing.T) {
	x := newFixture(t)
	audit := x.task("audit", 0)
	ta := x.task("a", 0)
	n := x.p.NewNet("Twice", ir.Void)
	r := n.Var("r", ir.String)
	p, q := n.Place("p"), n.Place("q")
	n.T(taskStep(n, "A1", call(ta), n.N.Start, p)).Result = r
	n.T(taskStep(n, "A2", call(ta), p, q)).Result = r
	ret(n, q, ir.NoFunc)
	h := x.addHook("Twice", "seen", ir.HookComplete, call(audit, x.varFn("r", ir.String, r)))
	h.Task = ta
	// The condition reads the result just assigned: false after the
	// first call, true after the second.
	h.Cond = x.fn("second", ir.Bool, func(e Env) (any, error) { return e.Vars.Var(r) == eval.Str("second"), nil })
	calls := 0
	x.w.behave["a"] = func(context.Context, Invocation) (any, error) {
		if calls++; calls == 1 {
			return "first", nil
		}
		return "second", nil
	}
	x.start("c", "Twice")
	x.wantTrace("c", "start", "A1", "done A1", "hook seen skipped", "A2", "done A2", "hook seen", "end", "done hook seen")
	x.wantStatus("c", Completed)
	if got := x.w.hookCalls("seen"); !reflect.DeepEqual(got, [][]any{{"second"}}) {
		t.Errorf("hook calls %v", got)
	}
}

// A hook on the completion of a task fires for its calls in every frame
// of the case (here the instances of a parallel for), and a hook's
// workflow action runs as a frame of its own.
func TestHookCompleteInChildFramesWorkflowAction(t *testing.T) {
	x := newFixture(t)
	richNet(x)
	audit := x.task("audit", 0)
	act := x.p.NewNet("Rich.hook_each", ir.Void, ir.Param{Name: "res", Type: ir.String})
	ap := act.Place("p")
	taskStep(act, "Audit", call(audit, x.varFn("res", ir.String, 0)), act.N.Start, ap)
	ret(act, ap, ir.NoFunc)
	h := x.addHook("Rich", "each", ir.HookComplete, &ir.Call{Kind: ir.CallWorkflow, Target: act.Index, Retry: -1,
		Backoff: ir.NoFunc, Timeout: ir.NoFunc, Args: []ir.FuncID{x.constFn("tag", ir.String, "w")}})
	h.Task = 3 // w
	x.start("c", "Rich")
	// Frames 3, 5 and 6 are the hook's actions; the last one is still
	// running when the main path ends.
	x.wantTrace("c", "start", "split", "A", "B", "failed A@1", "retry A", "done B", "done A", "join", "each",
		"W[1]", "W[2]", "done W[1]", "hook each", "end[1]", "Audit[3]", "W[4]", "done W[2]", "hook each", "end[2]",
		"Audit[5]", "done Audit[3]", "end[3]", "done W[4]", "hook each", "end[4]", "C", "Audit[6]", "done Audit[5]",
		"end[5]", "done C", "end", "done Audit[6]", "end[6]")
	s := x.wantStatus("c", Completed)
	if s.Result != eval.Str("c-ok") || len(s.Frames) != 1 {
		t.Errorf("result %v, %d frames left", s.Result, len(s.Frames))
	}
	if got := x.w.names(); len(slices.DeleteFunc(got, func(n string) bool { return n != "audit" })) != 3 {
		t.Errorf("invocations %q, want audit three times", x.w.names())
	}
}

// A hook on the completion of a workflow fires when the call of that
// workflow returns.
func TestHookCompleteWorkflow(t *testing.T) {
	x := newFixture(t)
	audit := seqNet(x)
	n := x.p.NewNet("Outer", ir.Void)
	p := n.Place("p")
	sub := n.Step("sub", ir.TWorkflow, n.N.Start, p)
	n.T(sub).Call = &ir.Call{Kind: ir.CallWorkflow, Target: 0, Args: []ir.FuncID{x.constFn("who", ir.String, "bo")},
		Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc}
	ret(n, p, ir.NoFunc)
	h := x.addHook("Outer", "returned", ir.HookComplete, call(audit))
	h.Label = "Seq"
	x.addHook("Outer", "never", ir.HookComplete, call(audit)).Label = "Outer"
	x.start("c", "Outer")
	x.wantTrace("c", "start", "sub", "A[1]", "done A[1]", "end[1]", "hook returned", "end", "done hook returned")
	x.wantStatus("c", Completed)
}

func TestHookSignal(t *testing.T) {
	x := newFixture(t)
	audit := x.task("audit", 0)
	n := x.p.NewNet("Wait", ir.Void)
	n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "Go"}, &ir.Signal{Name: "Note"}, &ir.Signal{Name: "Ping", Transient: true})
	w, e := n.Place("w"), n.Place("e")
	n.Step("begin", ir.TNop, n.N.Start, w)
	n.T(n.Step("go", ir.TSignal, w, e)).Label = "Go"
	ret(n, e, ir.NoFunc)
	for _, sig := range []string{"Go", "Note", "Ping"} {
		x.addHook("Wait", "on"+sig, ir.HookSignal, call(audit)).Label = sig
	}
	x.start("c", "Wait")
	for _, sig := range []string{"Note", "Ping", "Go"} {
		if err := x.eng.Signal(ctx, "c", sig, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Buffered (Note), dropped (Ping, transient) or consumed (Go): the
	// hook fires each time and consumes nothing.
	x.wantTrace("c", "start", "begin", "signal Note", "hook onNote", "done hook onNote", "signal Ping", "hook onPing",
		"done hook onPing", "signal Go", "hook onGo", "end", "done hook onGo")
	s := x.wantStatus("c", Completed)
	if len(s.Inbox) != 1 || s.Inbox[0].Name != "Note" {
		t.Errorf("inbox %v, want Note still buffered", s.Inbox)
	}
}

// A failing action, an erroring condition and a failing workflow action
// are recorded; the case completes.
func TestHookFailuresDoNotFailTheCase(t *testing.T) {
	x := newFixture(t)
	audit := seqNet(x)
	flaky := x.task("flaky", 1)
	x.addHook("Seq", "retried", ir.HookStart, call(flaky))
	x.addHook("Seq", "bad", ir.HookStart, call(audit)).Cond =
		x.fn("boom", ir.Bool, func(Env) (any, error) { return nil, errors.New("division by zero") })
	x.addHook("Seq", "notbool", ir.HookEnd, call(audit)).Cond = x.constFn("n", ir.Int, int64(1))
	act := x.p.NewNet("Seq.hook_wf", ir.Void)
	ap := act.Place("p")
	taskStep(act, "Flaky", call(flaky), act.N.Start, ap)
	ret(act, ap, ir.NoFunc)
	x.addHook("Seq", "wf", ir.HookEnd, &ir.Call{Kind: ir.CallWorkflow, Target: act.Index, Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc})
	x.w.behave["flaky"] = func(context.Context, Invocation) (any, error) { return nil, errors.New("down") }
	x.start("c", "Seq", "ann")
	x.wantTrace("c", "start", "hook retried", "hook bad error", "A", "failed hook retried@1", "retry hook retried", "done A",
		"end", "hook notbool error", "hook wf", "Flaky[1]", "failed hook retried@2", "failed Flaky[1]@1", "retry Flaky[1]",
		"failed Flaky[1]@2")
	s := x.wantStatus("c", Completed)
	want := []string{"hook bad: division by zero", "hook notbool: condition is a int, not bool", "hook retried: down", "hook wf: down"}
	if s.Result != eval.Str("a-ok") || !reflect.DeepEqual(s.HookErrors, want) {
		t.Errorf("result %v, hook errors %q, want %q", s.Result, s.HookErrors, want)
	}
	if len(s.Frames) != 1 || len(s.Invs) != 0 {
		t.Errorf("%d frames, %d calls left", len(s.Frames), len(s.Invs))
	}
}

// Cancelling a case withdraws its hook actions.
func TestHookCancel(t *testing.T) {
	x := newFixture(t)
	audit := seqNet(x)
	x.p.Tasks[audit].Retry = 1
	x.p.Tasks[audit].Backoff = x.constFn("hour", ir.Duration, int64(3600e9))
	x.addHook("Seq", "closed", ir.HookEnd, call(audit))
	x.w.behave["audit"] = func(context.Context, Invocation) (any, error) { return nil, errors.New("down") }
	x.start("c", "Seq", "ann")
	if s := x.wantStatus("c", Running); s.Closing != Completed || len(s.Invs) != 1 || !s.Invs[0].Waiting {
		t.Fatalf("closing %s, calls %v", s.Closing, s.Invs)
	}
	if err := x.eng.Cancel(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	x.wantTrace("c", "start", "A", "done A", "end", "hook closed", "failed hook closed@1", "cancel")
	if s := x.wantStatus("c", Cancelled); len(s.Invs) != 0 || s.Closing != Running || s.HookQ != nil {
		t.Errorf("calls %v, closing %s, queue %v", s.Invs, s.Closing, s.HookQ)
	}
}

// hookedRich is richNet with a start hook, a hook on every completion of
// w and an end hook whose action is a workflow.
func hookedRich(x *fixture) {
	richNet(x)
	audit := x.task("audit", 0)
	act := x.p.NewNet("Rich.hook_closed", ir.Void, ir.Param{Name: "res", Type: ir.String})
	ap := act.Place("p")
	taskStep(act, "Audit", call(audit, x.varFn("res", ir.String, 0)), act.N.Start, ap)
	ret(act, ap, ir.NoFunc)
	x.addHook("Rich", "opened", ir.HookStart, call(audit, x.constFn("open", ir.String, "open")))
	x.addHook("Rich", "each", ir.HookComplete, call(audit, x.constFn("w", ir.String, "w"))).Task = 3
	x.addHook("Rich", "closed", ir.HookEnd, &ir.Call{Kind: ir.CallWorkflow, Target: act.Index, Retry: -1,
		Backoff: ir.NoFunc, Timeout: ir.NoFunc, Args: []ir.FuncID{x.varFn("res", ir.String, 0)}})
}

// A crash at every event boundary of a hooked case, then recovery (from
// the latest snapshot), gives the state of a run without a crash, and
// invokes every hook action at least once with the same keys.
func TestHookRecoverAtEveryEvent(t *testing.T) {
	clean := newFixture(t)
	hookedRich(clean)
	clean.start("c", "Rich")
	want := clean.wantStatus("c", Completed)
	events := clean.log.Events("c")
	wantKeys := slices.Sorted(slices.Values(keys(clean.w)))
	hooks := 0
	for _, ev := range events {
		if ev.Kind == EvHook {
			hooks++
		}
	}
	if hooks != 5 {
		t.Fatalf("%d hook events, want 5", hooks)
	}
	for k := range len(events) {
		x, keys1 := crashAndRecover(t, hookedRich, clean.clock, k, nil)
		if got := x.state("c"); !reflect.DeepEqual(got, want) {
			t.Errorf("crash at %d: final state differs:\n got %+v\nwant %+v", k, got, want)
		}
		if got, want := slices.Sorted(slices.Values(x.trace("c"))), slices.Sorted(slices.Values(clean.trace("c"))); !slices.Equal(got, want) {
			t.Errorf("crash at %d: events differ:\n got %q\nwant %q", k, got, want)
		}
		all := slices.Compact(slices.Sorted(slices.Values(slices.Concat(keys1, keys(x.w)))))
		if !slices.Equal(all, wantKeys) {
			t.Errorf("crash at %d: invoked %q, want %q", k, all, wantKeys)
		}
	}
}
