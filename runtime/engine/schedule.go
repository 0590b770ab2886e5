// This file implements the scheduler: from a state, the next event,
// with every guard, argument and duration evaluated into it.

package engine

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// frameVars reads the variables of a frame, with one variable optionally
// overridden (a result about to be assigned, so guards see it).
type frameVars struct {
	m    *Machine
	s    *State
	f    *Frame
	over int32
	val  eval.Value
}

func (v *frameVars) Var(i int32) eval.Value {
	if i == v.over && i >= 0 {
		return v.val
	}
	return v.s.Var(v.f, i)
}

// evaluator wraps an Evaluator with the program and the error text.
type evaluator struct {
	m    *Machine
	eval Evaluator
}

func (ev evaluator) call(ctx context.Context, fn ir.FuncID, vars VarReader, args ...eval.Value) (eval.Value, error) {
	if fn < 0 || int(fn) >= len(ev.m.Prog.Funcs) || ev.m.Prog.Funcs[fn] == nil {
		return eval.Value{}, fmt.Errorf("function %d does not exist", fn)
	}
	if ev.eval == nil {
		return eval.Value{}, fmt.Errorf("no evaluator")
	}
	f := ev.m.Prog.Funcs[fn]
	if len(args) > len(f.Params) {
		args = args[:len(f.Params)]
	}
	return ev.eval.Eval(ctx, f, Env{Prog: ev.m.Prog, Vars: vars, Args: args})
}

func (ev evaluator) args(ctx context.Context, fns []ir.FuncID, vars VarReader) ([]eval.Value, error) {
	if len(fns) == 0 {
		return nil, nil
	}
	out := make([]eval.Value, len(fns))
	for i, fn := range fns {
		v, err := ev.call(ctx, fn, vars)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// outs evaluates the guards of tr's output arcs. It returns nil (every
// output) for an AND split or unguarded outputs.
func (ev evaluator) outs(ctx context.Context, tr *ctrans, vars VarReader) ([]int32, error) {
	t := tr.t
	if !tr.chooses {
		return nil, nil
	}
	var outs []int32
	def := int32(-1)
	for k, a := range tr.out {
		if a.guard == ir.NoFunc {
			if t.Split == ir.SplitOr {
				outs = append(outs, int32(k))
			} else if def < 0 {
				def = int32(k)
			}
			continue
		}
		v, err := ev.call(ctx, a.guard, vars)
		if err != nil {
			return nil, err
		}
		if v.Kind() != ir.KindBool {
			return nil, fmt.Errorf("guard of %s is %s, not bool", t.Name, describeValue(v))
		}
		if v.AsBool() {
			outs = append(outs, int32(k))
			if t.Split == ir.SplitXor {
				return outs, nil
			}
		}
	}
	if t.Split == ir.SplitXor && def >= 0 {
		return []int32{def}, nil
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("no condition of %s holds", t.Name)
	}
	return outs, nil
}

// timeout evaluates the timeout of task call c, the call's own or else
// its task's, in nanoseconds; 0 for none.
func (ev evaluator) timeout(ctx context.Context, c *ir.Call, vars VarReader) (int64, error) {
	tf := c.Timeout
	if tf == ir.NoFunc {
		if task := ev.m.task(c); task != nil {
			tf = task.Timeout
		}
	}
	if tf == ir.NoFunc {
		return 0, nil
	}
	v, err := ev.call(ctx, tf, vars)
	if err != nil {
		return 0, err
	}
	d, ok := duration(v)
	if !ok {
		return 0, fmt.Errorf("timeout %s is not a duration", describeValue(v))
	}
	return d, nil
}

// duration converts an evaluated duration to nanoseconds.
func duration(v eval.Value) (int64, bool) {
	switch v.Kind() {
	case ir.KindDuration, ir.KindInt, ir.KindI32, ir.KindU32:
		return v.AsInt(), true
	case ir.KindFloat:
		x := v.AsFloat()
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

// next returns the next event for s at time now, false when the case can
// only proceed by a call completing, a timer coming due later or a
// signal. Evaluation errors become an EvFail event.
func (e *Engine) next(ctx context.Context, s *State, now int64) (Event, bool) {
	return e.nextIn(ctx, s, nil, now)
}

// nextIn is next, looking only where w (when not nil) says that frames
// may have work and calls may be waiting (see watch.go); the event is
// the same as without it.
func (e *Engine) nextIn(ctx context.Context, s *State, w *watch, now int64) (Event, bool) {
	m := e.m
	if s.Done() {
		return Event{}, false
	}
	if len(s.HookQ) > 0 && s.Status == Running {
		return e.hookEvent(ctx, s, now), true
	}
	if w == nil {
		for _, f := range s.Frames {
			if s.Status != Running {
				break
			}
			if ev, ok := e.frameEvent(ctx, s, f, now); ok {
				return ev, true
			}
		}
	} else {
		if e.checkWatch && s.Status == Running {
			if err := w.verify(m, s); err != nil {
				panic(err)
			}
		}
		for s.Status == Running {
			f := w.first(s)
			if f == nil {
				break
			}
			if ev, ok := e.frameEvent(ctx, s, f, now); ok {
				return ev, true
			}
			w.clean(f)
		}
	}
	// Due timers and backoffs, earliest first.
	best, kind := int64(0), EvInvalid
	var ev Event
	if w == nil || !w.timersKnown || now >= w.timerDue {
		first := int64(math.MaxInt64)
		for _, t := range s.Timers {
			first = min(first, t.Due)
			if t.Due <= now && (kind == EvInvalid || t.Due < best) {
				best, kind = t.Due, EvTimer
				ev = Event{Kind: EvTimer, Time: now, Frame: t.Frame, Trans: t.Trans}
			}
		}
		if w != nil {
			w.timersKnown, w.timerDue = true, first
		}
	}
	if w == nil || !w.noWait {
		waiting := false
		for _, v := range s.Invs {
			waiting = waiting || v.Waiting
			if v.Waiting && v.Due <= now && (kind == EvInvalid || v.Due < best) {
				best, kind = v.Due, EvRetry
				ev = Event{Kind: EvRetry, Time: now, Inv: v.ID}
			}
		}
		if w != nil {
			w.noWait = !waiting
		}
	}
	if kind == EvRetry {
		if v, _ := s.inv(ev.Inv); e.m.sleeping(v) {
			// A sleep's due time has come: it completes (sleep.go).
			return blame(s, s.frame(v.Frame), e.doneEvent(ctx, s, v, eval.Value{}, now)), true
		}
	}
	if kind == EvTimer {
		f := s.frame(ev.Frame)
		tr := &m.nets[f.Net].trans[ev.Trans]
		outs, err := evaluator{m, e.eval}.outs(ctx, tr, &frameVars{m: e.m, s: s, f: f, over: -1})
		if err != nil {
			return blame(s, f, failEvent(now, tr.t, err)), true
		}
		ev.Outs = outs
	}
	return ev, kind != EvInvalid
}

func armed(s *State, frame, trans int32) bool {
	_, ok := s.timerAt(frame, trans)
	return ok
}

func failEvent(now int64, t *ir.Transition, err error) Event {
	var l Located
	if errors.As(err, &l) && l.Location().Known() {
		return Event{Kind: EvFail, Time: now, Message: l.Reason(), Loc: l.Location()}
	}
	return Event{Kind: EvFail, Time: now, Message: fmt.Sprintf("%s: %v", t.Name, err), Loc: t.Loc}
}

// armEvent computes when timer ti fires: Value is a duration from now or
// a time (Unix nanoseconds) when its type is time.
func (e *Engine) armEvent(ctx context.Context, s *State, f *Frame, c *cnet, ti int32, now int64) Event {
	t := c.trans[ti].t
	ev := evaluator{e.m, e.eval}
	v, err := ev.call(ctx, t.Value, &frameVars{m: e.m, s: s, f: f, over: -1})
	if err != nil {
		return failEvent(now, t, err)
	}
	var due int64
	switch v.Kind() {
	case ir.KindTime:
		due = v.AsInt()
	default:
		d, ok := duration(v)
		if !ok {
			return failEvent(now, t, fmt.Errorf("timer value %T is not a duration", v))
		}
		due = now + d
		if fn := e.m.Prog.Funcs[t.Value]; fn.Result == ir.Time {
			due = d
		}
	}
	return Event{Kind: EvArm, Time: now, Frame: f.ID, Trans: ti, Due: due}
}

// fireEvent evaluates what firing ti needs.
func (e *Engine) fireEvent(ctx context.Context, s *State, f *Frame, c *cnet, ti int32, now int64) Event {
	tr := &c.trans[ti]
	t := tr.t
	out := Event{Kind: EvFire, Time: now, Frame: f.ID, Trans: ti}
	if (t.Kind == ir.TNop || t.Kind == ir.TCancel || t.Kind == ir.TMarker) && !tr.chooses {
		return out // the common case: nothing to evaluate
	}
	ev := evaluator{e.m, e.eval}
	vars := &frameVars{m: e.m, s: s, f: f, over: -1}
	var err error
	switch t.Kind {
	case ir.TRoute:
		if len(t.Candidates) == 0 {
			return failEvent(now, t, fmt.Errorf("no candidates"))
		}
		features, err := ev.args(ctx, t.Features, vars)
		if err != nil {
			return failEvent(now, t, err)
		}
		if e.policy != nil {
			k, err := e.policy.Choose(ctx, t.Label, features, len(t.Candidates))
			if err != nil {
				return failEvent(now, t, err)
			}
			if k < 0 || k >= len(t.Candidates) {
				return failEvent(now, t, fmt.Errorf("policy chose candidate %d of %d", k, len(t.Candidates)))
			}
			out.Choice = int32(k)
		}
		c := t.Candidates[out.Choice]
		if out.Values, err = ev.args(ctx, c.Args, vars); err != nil {
			return failEvent(now, t, err)
		}
		out.Features = features
		out.Attempts = e.m.retries(c) + 1
		return out
	case ir.TAssign, ir.TReturn, ir.TFail:
		if t.Value != ir.NoFunc {
			var v eval.Value
			if v, err = ev.call(ctx, t.Value, vars); err != nil {
				return failEvent(now, t, err)
			}
			out.Values = []eval.Value{v}
			if t.Kind == ir.TAssign {
				vars.over, vars.val = t.Result, v
			}
			if t.Kind == ir.TFail {
				out.Message = message(v)
			}
		}
	case ir.TTask, ir.TKernel, ir.TWorkflow:
		if t.Call == nil {
			return failEvent(now, t, fmt.Errorf("no call"))
		}
		if t.Kind == ir.TWorkflow && s.frameDepth(f) >= MaxCallDepth {
			return depthEvent(now, t) // calldepth.go
		}
		if out.Values, err = ev.args(ctx, t.Call.Args, vars); err != nil {
			return failEvent(now, t, err)
		}
		if t.Kind != ir.TWorkflow {
			out.Attempts = e.m.retries(t.Call) + 1
			if out.Timeout, err = ev.timeout(ctx, t.Call, vars); err != nil {
				return failEvent(now, t, err)
			}
		}
		return out // outputs are chosen when the call completes
	case ir.TMulti:
		if t.Call == nil {
			return failEvent(now, t, fmt.Errorf("no call"))
		}
		items, err := ev.call(ctx, t.Value, vars)
		if err != nil {
			return failEvent(now, t, err)
		}
		if items.Kind() != ir.KindList {
			return failEvent(now, t, fmt.Errorf("items %s are not a list", describeValue(items)))
		}
		args, err := ev.args(ctx, t.Call.Args, vars)
		if err != nil {
			return failEvent(now, t, err)
		}
		out.Values = append([]eval.Value{items}, args...)
		for _, p := range []struct {
			fn  ir.FuncID
			dst *int32
		}{{t.Limit, &out.Limit}, {t.Quorum, &out.Quorum}} {
			if p.fn == ir.NoFunc {
				continue
			}
			v, err := ev.call(ctx, p.fn, vars)
			if err != nil {
				return failEvent(now, t, err)
			}
			n, ok := duration(v)
			if p.dst == &out.Quorum && ok && n < 1 {
				// A computed join count (WCP 36); 0 would mean all.
				return quorumEvent(now, e.m.Prog.Funcs[p.fn], t, n)
			}
			if !ok || n < 0 || n > 1<<30 {
				return failEvent(now, t, fmt.Errorf("bad instance count %v", v))
			}
			*p.dst = int32(n)
		}
		return out
	case ir.TSend:
		if err = e.sendEvent(ctx, t, vars, &out); err != nil {
			return failEvent(now, t, err)
		}
	}
	if out.Outs, err = ev.outs(ctx, tr, vars); err != nil {
		return failEvent(now, t, err)
	}
	return out
}

// doneEvent records the completion of call v with result: the outputs
// chosen with the result assigned, and the arguments of its compensation.
func (e *Engine) doneEvent(ctx context.Context, s *State, v *Inv, result eval.Value, now int64) Event {
	out := Event{Kind: EvDone, Time: now, Inv: v.ID, Values: []eval.Value{result}}
	if v.Comp || v.Hook {
		return out
	}
	f := s.frame(v.Frame)
	tr := &e.m.nets[f.Net].trans[v.Trans]
	ev := evaluator{e.m, e.eval}
	vars := &frameVars{m: e.m, s: s, f: f, over: tr.t.Result, val: result}
	var err error
	if out.Outs, err = ev.outs(ctx, tr, vars); err != nil {
		return failEvent(now, tr.t, err)
	}
	if u := e.m.undoOf(v.Call); u != nil && len(u.Args) > 0 {
		// A call site's undo reads the case variables; a task
		// declaration's reads the call's result and arguments.
		args := []eval.Value{result}
		if v.Call.Undo == nil {
			if task := e.m.task(v.Call); task != nil {
				if task.Result == ir.Void {
					args = args[:0]
				}
				args = append(args, v.Args...)
			}
		}
		out.Undo = make([]eval.Value, len(u.Args))
		for i, fn := range u.Args {
			if out.Undo[i], err = ev.call(ctx, fn, vars, args...); err != nil {
				return failEvent(now, tr.t, err)
			}
		}
	}
	e.reward(ctx, s, v, &out, true)
	return out
}

// failedEvent records a failed attempt and, when another is allowed,
// when it may start: now plus the backoff, evaluated with the attempt
// number as its argument when it takes one.
func (e *Engine) failedEvent(ctx context.Context, s *State, v *Inv, cause error, now int64) Event {
	out := Event{Kind: EvFailed, Time: now, Inv: v.ID, Attempt: v.Attempt, Message: cause.Error(), Due: now}
	if v.Attempt >= v.Attempts {
		e.reward(ctx, s, v, &out, false)
		return out
	}
	fn := v.Call.Backoff
	if fn == ir.NoFunc {
		if task := e.m.task(v.Call); task != nil {
			fn = task.Backoff
		}
	}
	if fn == ir.NoFunc {
		return out
	}
	var vars VarReader = &frameVars{m: e.m, s: s, f: &Frame{}, over: -1}
	if f := s.frame(v.Frame); f != nil {
		vars = &frameVars{m: e.m, s: s, f: f, over: -1}
	} else if sc := s.frame(v.Scope); v.Hook && sc != nil {
		vars = &frameVars{m: e.m, s: s, f: sc, over: -1} // the hook's scope
	}
	d, err := evaluator{e.m, e.eval}.call(ctx, fn, vars, eval.Int(int64(v.Attempt)))
	if (v.Comp || v.Hook) && err != nil {
		return out // a failing case cannot fail again, a hook never fails it: retry at once
	}
	if err != nil {
		return Event{Kind: EvFail, Time: now, Message: fmt.Sprintf("backoff: %v", err), Loc: v.Call.Loc}
	}
	n, ok := duration(d)
	if (v.Comp || v.Hook) && (!ok || n < 0) {
		return out
	}
	if !ok || n < 0 {
		return Event{Kind: EvFail, Time: now, Message: fmt.Sprintf("backoff %v is not a duration", d), Loc: v.Call.Loc}
	}
	if len(e.m.Prog.Funcs[fn].Params) == 0 {
		// A backoff clause's duration doubles with each attempt; a
		// function of the attempt number computes the whole delay.
		n = retryDelay(n, v.Attempt)
	}
	out.Due = now + n
	return out
}
