// This file implements the fakes and helpers the tests share.

package engine

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/sound"
	"github.com/knhk/knhk/runtime/eval"
)

// fakeEval evaluates a function by the Go closure registered for it.
type fakeEval struct {
	fns map[*ir.Func]func(Env) (any, error)
}

func (f *fakeEval) Eval(_ context.Context, fn *ir.Func, env Env) (eval.Value, error) {
	g := f.fns[fn]
	if g == nil {
		return eval.Value{}, fmt.Errorf("fake evaluator has no %s", fn.Name)
	}
	x, err := g(env)
	return eval.Of(x), err
}

// plain is v as a Go value (eval.Plain), for comparing with what a
// test expects.
func plain(v eval.Value) any { return eval.Plain(v) }

// plains is plain of each of vs.
func plains(vs []eval.Value) []any {
	if vs == nil {
		return nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = plain(v)
	}
	return out
}

// num reads an int variable of a fake's environment.
func num(e Env, i int32) int64 { return e.Vars.Var(i).AsInt() }

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeWorker runs tasks by name through behaviours and records every
// invocation.
type fakeWorker struct {
	mu       sync.Mutex
	calls    []Invocation
	behave   map[string]func(context.Context, Invocation) (any, error)
	inFlight int
	maxEver  int
}

func (w *fakeWorker) Invoke(ctx context.Context, inv Invocation) (eval.Value, error) {
	name := inv.Transition
	if inv.Task != nil {
		name = inv.Task.Name
	}
	w.mu.Lock()
	w.calls = append(w.calls, inv)
	w.inFlight++
	w.maxEver = max(w.maxEver, w.inFlight)
	b := w.behave[name]
	w.mu.Unlock()
	defer func() { w.mu.Lock(); w.inFlight--; w.mu.Unlock() }()
	if b != nil {
		x, err := b(ctx, inv)
		return eval.Of(x), err
	}
	return eval.Str(name + "-ok"), nil
}

// names returns the task names invoked, in order.
func (w *fakeWorker) names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.calls {
		s := c.Task.Name
		if c.Attempt > 1 {
			s += fmt.Sprintf("@%d", c.Attempt)
		}
		out = append(out, s)
	}
	return out
}

// fixture builds a program and runs it.
type fixture struct {
	t     testing.TB
	p     *ir.Program
	ev    *fakeEval
	w     *fakeWorker
	clock *fakeClock
	log   *MemLog
	eng   *Engine
}

func newFixture(t testing.TB) *fixture {
	return &fixture{t: t, p: ir.NewProgram("test"), ev: &fakeEval{fns: map[*ir.Func]func(Env) (any, error){}},
		w:     &fakeWorker{behave: map[string]func(context.Context, Invocation) (any, error){}},
		clock: &fakeClock{now: time.Unix(1_000_000, 0)}, log: NewMemLog()}
}

// fn adds a function computed by g.
func (x *fixture) fn(name string, result ir.TypeID, g func(Env) (any, error), params ...ir.Param) ir.FuncID {
	fb := ir.NewFunc(name, result, params...)
	fb.Return(fb.Bool(true)) // the body is never run: the fake evaluator is
	id := x.p.AddFunc(fb.F)
	x.ev.fns[fb.F] = g
	return id
}

// constFn adds a function returning v.
func (x *fixture) constFn(name string, result ir.TypeID, v any) ir.FuncID {
	return x.fn(name, result, func(Env) (any, error) { return v, nil })
}

// task adds a task with no parameters and the given retry count.
func (x *fixture) task(name string, retry int32) int32 {
	x.p.Tasks = append(x.p.Tasks, &ir.Task{Name: name, Result: ir.String, Retry: retry,
		Backoff: ir.NoFunc, Timeout: ir.NoFunc, Loc: ir.NoLoc})
	return int32(len(x.p.Tasks) - 1)
}

// call returns a call of task i keeping the task's clauses.
func call(i int32, args ...ir.FuncID) *ir.Call {
	return &ir.Call{Kind: ir.CallTask, Target: i, Args: args, Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc, Loc: ir.NoLoc}
}

// taskStep adds a task transition from place in to place out.
func taskStep(b *ir.NetBuilder, name string, c *ir.Call, in, out int32) int32 {
	t := b.Step(name, ir.TTask, in, out)
	b.T(t).Call = c
	return t
}

// ret adds the "end" TReturn transition from place in to the end place.
func ret(b *ir.NetBuilder, in int32, value ir.FuncID) int32 {
	t := b.Step("end", ir.TReturn, in, b.N.End)
	b.T(t).Value = value
	return t
}

func (x *fixture) engine() *Engine {
	x.t.Helper()
	if x.eng != nil {
		return x.eng
	}
	// Snapshots every other event, so that every pattern test also
	// exercises taking them.
	e, err := New(Config{Program: x.p, Eval: x.ev, Worker: x.w, Log: x.log, Clock: x.clock, SnapshotEvery: 2, Rounds: true})
	if err != nil {
		x.t.Fatal(err)
	}
	e.checkWatch = true // every step checks the scheduler's watch (watch.go)
	x.eng = e
	return e
}

func (x *fixture) start(id, net string, args ...any) {
	x.t.Helper()
	x.sound(net)
	if err := x.engine().Start(context.Background(), id, net, args); err != nil {
		x.t.Fatal(err)
	}
}

// sound holds a hand-built net to the soundness gate of knhk check and
// run (compiler.Soundness, on the engine's semantics), so that no
// pattern test runs a net that can deadlock, livelock or leave work
// behind. Steps that can never run are allowed: a test may build a
// branch only to show that the engine never takes it.
func (x *fixture) sound(net string) {
	x.t.Helper()
	reports, _ := compiler.Soundness(x.p, nil)
	for _, r := range reports {
		if r.Net != net {
			continue
		}
		for _, p := range r.Problems {
			if p.Kind.IsError() && p.Kind != sound.DeadTransition {
				x.t.Fatalf("net %s is not sound: %s", net, p.Message)
			}
		}
	}
}

func (x *fixture) state(id string) *State {
	x.t.Helper()
	s, err := x.engine().Snapshot(id)
	if err != nil {
		x.t.Fatal(err)
	}
	return s
}

// trace describes the events of case id, replaying them to name calls.
func (x *fixture) trace(id string) []string {
	x.t.Helper()
	m := x.engine().Machine()
	s := State{ID: id}
	var out []string
	for _, ev := range x.log.Events(id) {
		name := func(fr, tr int32) string {
			f := s.frame(fr)
			if f == nil {
				return "?"
			}
			n := m.nets[f.Net].trans[tr].t.Name
			if f.ID != 0 {
				n += fmt.Sprintf("[%d]", f.ID)
			}
			return n
		}
		invName := func(id int32) string {
			v, _ := s.inv(id)
			if v == nil {
				return "?"
			}
			if v.Comp {
				return "undo " + m.task(v.Call).Name
			}
			if v.Hook {
				return hookLabel(m.actionHook(v.Call, -1), v.Trans)
			}
			return name(v.Frame, v.Trans)
		}
		var d string
		switch ev.Kind {
		case EvStart:
			d = "start"
		case EvFire:
			d = name(ev.Frame, ev.Trans)
		case EvArm, EvTimer:
			d = fmt.Sprintf("%s %s", ev.Kind, name(ev.Frame, ev.Trans))
		case EvDone, EvRetry:
			d = fmt.Sprintf("%s %s", ev.Kind, invName(ev.Inv))
		case EvFailed:
			d = fmt.Sprintf("failed %s@%d", invName(ev.Inv), ev.Attempt)
		case EvSignal:
			d = "signal " + ev.Name
		case EvHook:
			d = hookLabel(m.hookOf(&s, ev.Frame, ev.Trans), ev.Trans)
			switch {
			case ev.Message != "":
				d += " error"
			case ev.Choice == 0:
				d += " skipped"
			}
		default:
			d = ev.Kind.String()
		}
		out = append(out, d)
		if err := m.Apply(&s, &ev); err != nil {
			x.t.Fatalf("replaying %s: %v", d, err)
		}
	}
	// Replay is what recovery does: it must rebuild the live state.
	if live := x.state(id); !reflect.DeepEqual(&s, live) {
		x.t.Errorf("replaying case %s gives another state:\n got %+v\nwant %+v", id, &s, live)
	}
	// And so is replay from a snapshot taken after any event.
	checkSnapshots(x.t, m, id, x.log.Events(id))
	if err := x.engine().SnapshotErr(); err != nil {
		x.t.Errorf("taking a snapshot: %v", err)
	}
	return out
}

func (x *fixture) wantTrace(id string, want ...string) {
	x.t.Helper()
	if got := x.trace(id); !slices.Equal(got, want) {
		x.t.Errorf("trace of %s:\n got %q\nwant %q", id, got, want)
	}
}

func (x *fixture) wantStatus(id string, want Status) *State {
	x.t.Helper()
	s := x.state(id)
	if s.Status != want {
		x.t.Fatalf("case %s is %s (%s), want %s", id, s.Status, s.Error, want)
	}
	return s
}

// varFn adds a function reading variable v.
func (x *fixture) varFn(name string, t ir.TypeID, v int32) ir.FuncID {
	return x.fn(name, t, func(e Env) (any, error) { return e.Vars.Var(v), nil })
}

// equalStates compares states, values included.
func equalStates(a, b *State) bool { return reflect.DeepEqual(a, b) }
