// This file implements the feedback of learned routes: when the call a
// route chose ends, its reward is evaluated, recorded in the event that
// ends it (so the history holds every choice with its outcome) and given
// to the policy when the policy learns.

package engine

import (
	"context"
	"math"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// Learner is a [Policy] that learns from the outcome of its choices. The
// engine calls Learn once per route call that ends, after its event is
// in the log: ok is false when the call failed for good, and reward is
// then 0. Features are those the policy chose from. Learn must not
// block: training runs beside the engine.
type Learner interface {
	Policy
	Learn(route string, features []eval.Value, choice int, reward float64, ok bool)
}

// routeOf returns the route transition that started call v, nil when v
// is not a route's call.
func (m *Machine) routeOf(s *State, v *Inv) *ir.Transition {
	if v.Comp || v.Hook {
		return nil
	}
	f := s.frame(v.Frame)
	if f == nil {
		return nil
	}
	c := m.net(f.Net)
	if c == nil || v.Trans < 0 || int(v.Trans) >= len(c.trans) {
		return nil
	}
	if t := c.trans[v.Trans].t; t.Kind == ir.TRoute {
		return t
	}
	return nil
}

// reward sets the reward of ev, which ends route call v: the route's
// reward expression of the call's duration when ok, or 1 for success
// and 0 for failure when the route has none. A reward that cannot be
// evaluated, or is not a finite number, leaves ev without one: the
// outcome is still in the log, and the policy is not misled.
func (e *Engine) reward(ctx context.Context, s *State, v *Inv, ev *Event, ok bool) {
	t := e.m.routeOf(s, v)
	if t == nil {
		return
	}
	ev.Rewarded = true
	switch {
	case !ok:
		ev.Reward = 0
	case t.Value == ir.NoFunc:
		ev.Reward = 1
	default:
		f := s.frame(v.Frame)
		r, err := evaluator{e.m, e.eval}.call(ctx, t.Value, &frameVars{m: e.m, s: s, f: f, over: -1}, eval.Duration(time.Duration(ev.Time-v.Started)))
		x := r.AsFloat()
		if err != nil || r.Kind() != ir.KindFloat || math.IsNaN(x) || math.IsInf(x, 0) {
			ev.Rewarded = false
			return
		}
		ev.Reward = x
	}
}

// commitOutcome commits ev, the outcome of call v, and then, when v was
// a route's call, gives its reward to a learning policy.
func (e *Engine) commitOutcome(ctx context.Context, cr *caseRun, ev *Event, v *Inv) error {
	var route *ir.Transition
	if ev.Rewarded {
		route = e.m.routeOf(&cr.s, v) // before the commit takes v out of the state
	}
	rec, _ := e.worker.(Recorder)
	var key string
	if rec != nil && v.Call.Kind == ir.CallTask && rec.Records(e.m.task(v.Call)) {
		key = e.invocation(&cr.s, v).IdempotencyKey // before the commit, as for route
	} else {
		rec = nil
	}
	err := e.commit(ctx, cr, ev)
	if rec != nil {
		rec.Recorded(key, err)
	}
	if err != nil {
		return err
	}
	e.learn(route, v, ev)
	return nil
}

// learn gives the outcome of route call v, which ev ended and which is
// in the log now, to the policy when it learns.
func (e *Engine) learn(t *ir.Transition, v *Inv, ev *Event) {
	l, ok := e.policy.(Learner)
	if !ok || t == nil || !ev.Rewarded {
		return
	}
	choice := -1
	for i, c := range t.Candidates {
		if c == v.Call {
			choice = i
		}
	}
	l.Learn(t.Label, v.Features, choice, ev.Reward, ev.Kind == EvDone)
}
