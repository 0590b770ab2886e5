// This file implements hooks: the event-condition-action rules of a
// case's workflow, whose actions run beside the main path.

package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// A hook runs in three steps, split between Apply and the scheduler so
// that Apply never evaluates anything:
//
//  1. Apply notices the hook's event (the start, a completed call, an
//     arriving signal, the end or a failure of the main path) and queues
//     the hook in State.HookQ.
//  2. The scheduler takes the first queued hook before anything else,
//     evaluates its condition and its action's arguments against the
//     root frame as it is then, and records the outcome in an EvHook.
//  3. Apply of the EvHook dequeues the hook and, when its condition
//     held, starts its action: an invocation marked Hook for a task
//     call, or a top-level frame (Parent -1, Trans the hook's index) for
//     a workflow call.
//
// A hook's action never fails the case: its last failed attempt, a fail
// or an evaluation error inside its frame, or an error evaluating its
// condition or arguments is recorded in State.HookErrors. When the main
// path ends (completes or fails) while hooks are queued or their actions
// run, the case stays Running with State.Closing set to what it becomes
// once they are done.

// hookOf returns hook i of the net of frame scope, nil when there is
// none (the frame has ended, say).
func (m *Machine) hookOf(s *State, scope, i int32) *ir.Hook {
	f := s.frame(scope)
	if f == nil {
		return nil
	}
	c := m.net(f.Net)
	if c == nil || i < 0 || int(i) >= len(c.n.Hooks) {
		return nil
	}
	if h := c.n.Hooks[i]; h != nil && h.Action != nil {
		return h
	}
	return nil
}

// hookLabel names hook h, or hook i when h is nil, for errors and
// invocations. It depends on the hook only, never on whether the frame
// that declares it still runs, so that an action keeps its idempotency
// keys.
func hookLabel(h *ir.Hook, i int32) string {
	if h != nil {
		return "hook " + h.Name
	}
	return fmt.Sprintf("hook #%d", i)
}

// actionHook returns the hook whose action is call c (a task call) or
// runs net n (a workflow body), nil when there is none.
func (m *Machine) actionHook(c *ir.Call, n int32) *ir.Hook {
	for _, cn := range m.nets {
		if cn == nil {
			continue
		}
		for _, h := range cn.n.Hooks {
			if h != nil && h.Action != nil && (c != nil && h.Action == c || c == nil && h.Action.Kind == ir.CallWorkflow && h.Action.Target == n) {
				return h
			}
		}
	}
	return nil
}

// HookName names the hook that ev, about to be applied to s, concerns:
// the one an EvHook resolves, or the one whose action an outcome is of;
// "" for none.
func (m *Machine) HookName(s *State, ev *Event) string {
	scope, i := int32(-1), int32(-1)
	switch ev.Kind {
	case EvHook:
		scope, i = ev.Frame, ev.Trans
	case EvFailed, EvDone, EvRetry:
		for _, v := range s.Invs {
			if v.ID == ev.Inv && v.Hook {
				if h := m.actionHook(v.Call, -1); h != nil {
					return h.Name
				}
			}
		}
	}
	if h := m.hookOf(s, scope, i); h != nil {
		return h.Name
	}
	return ""
}

// scopeOf reports whether frame f runs a workflow whose hooks apply to
// it: the root, or the child frame of a sub-workflow call. (The bodies
// of parallel fors and of hook actions declare no hooks.)
func (m *Machine) scopeOf(s *State, f *Frame) bool {
	if f.ID == 0 {
		return true
	}
	p := s.frame(f.Parent)
	if f.Parent < 0 || p == nil {
		return false
	}
	c := m.net(p.Net)
	return c != nil && f.Trans >= 0 && int(f.Trans) < len(c.trans) && c.trans[f.Trans].t.Kind == ir.TWorkflow
}

// hookTop returns the top-level frame of the hook action that frame id
// runs in, nil when it is part of the main path (or does not exist).
func (s *State) hookTop(id int32) *Frame {
	f := s.frame(id)
	for f != nil && f.Parent >= 0 {
		f = s.frame(f.Parent)
	}
	if f == nil || f.ID == 0 {
		return nil
	}
	return f
}

// live reports whether frame f may make progress: the case is running
// and f belongs to a hook action or to a main path that has not ended.
func (s *State) live(f *Frame) bool {
	return s.Status == Running && (s.Closing == Running || s.hookTop(f.ID) != nil)
}

// hooksBusy reports whether a hook's action is running.
func (s *State) hooksBusy() bool {
	for _, v := range s.Invs {
		if v.Hook {
			return true
		}
	}
	for _, f := range s.Frames {
		if f.Parent < 0 && f.ID != 0 {
			return true
		}
	}
	return false
}

// trigger queues the hooks of the net of frame scope that match, and
// reports how many.
func (m *Machine) trigger(s *State, scope *Frame, match func(*ir.Hook) bool) int {
	if scope == nil || s.Status != Running {
		return 0
	}
	c := m.net(scope.Net)
	if c == nil {
		return 0
	}
	n := 0
	for i, h := range c.n.Hooks {
		if h != nil && h.Action != nil && match(h) {
			s.HookQ = append(s.HookQ, HookRef{Frame: scope.ID, Hook: int32(i)})
			n++
		}
	}
	return n
}

// onStart queues the start hooks of the workflow of frame f, which just
// started: the case's root, or a sub-workflow's frame.
func (m *Machine) onStart(s *State, f *Frame) {
	m.trigger(s, f, func(h *ir.Hook) bool { return h.Event == ir.HookStart })
}

// onEnd queues the end hooks of sub-workflow frame f, whose body just
// completed, and reports whether it must wait for them (see
// Frame.Ending) before it completes.
func (m *Machine) onEnd(s *State, f *Frame) bool {
	if f.Ending || !m.scopeOf(s, f) || s.Closing != Running {
		return false
	}
	if m.trigger(s, f, func(h *ir.Hook) bool { return h.Event == ir.HookEnd }) == 0 {
		return false
	}
	f.Ending = true
	return true
}

// ended completes sub-workflow frame scope once no hook of it is queued
// any more, if its body had completed.
func (m *Machine) ended(s *State, scope int32) {
	f := s.frame(scope)
	if f == nil || !f.Ending {
		return
	}
	for _, r := range s.HookQ {
		if r.Frame == scope {
			return
		}
	}
	m.settle(s, f)
}

// onComplete queues the hooks on the completion of call c, which just
// completed in frame f. Calls made by hook actions and compensations do
// not count, so that a hook cannot trigger itself.
func (m *Machine) onComplete(s *State, f *Frame, c *ir.Call) {
	if c == nil || f == nil || s.Closing != Running || s.hookTop(f.ID) != nil {
		return
	}
	match := func(h *ir.Hook) bool {
		if h.Event != ir.HookComplete {
			return false
		}
		switch c.Kind {
		case ir.CallTask:
			return h.Task >= 0 && h.Task == c.Target
		case ir.CallWorkflow:
			n := m.net(c.Target)
			return h.Task < 0 && n != nil && n.n.Name == h.Label
		}
		return false
	}
	// The call counts for the workflow it ran in and for every workflow
	// that one runs inside, up to the case's root.
	for x := f; x != nil; x = s.frame(x.Parent) {
		if m.scopeOf(s, x) {
			m.trigger(s, x, match)
		}
		if x.Parent < 0 {
			break
		}
	}
}

// onSignal queues the hooks on signal name, which just arrived.
func (m *Machine) onSignal(s *State, name string) {
	if s.Closing != Running {
		return
	}
	for _, f := range s.Frames {
		if m.scopeOf(s, f) {
			m.trigger(s, f, func(h *ir.Hook) bool { return h.Event == ir.HookSignal && h.Label == name })
		}
	}
}

// closing queues the end hooks (then Completed) or the fail hooks (then
// Failing) of a main path that just ended, and reports whether the case
// must wait for hooks before it becomes then.
func (m *Machine) closing(s *State, then Status) bool {
	ev := ir.HookEnd
	if then == Failing {
		ev = ir.HookFail
	}
	if s.Closing == Running {
		m.trigger(s, s.Root(), func(h *ir.Hook) bool { return h.Event == ev })
	}
	if len(s.HookQ) == 0 && !s.hooksBusy() {
		return false
	}
	s.Closing = then
	return true
}

// closeHooks ends a closing case once no hook is queued or running: it
// completes, or starts compensating its failure.
func (m *Machine) closeHooks(s *State) {
	if s.Status != Running || s.Closing == Running || len(s.HookQ) > 0 || s.hooksBusy() {
		return
	}
	s.Status, s.Closing = s.Closing, Running
	if s.Status == Failing {
		m.nextComp(s)
	}
}

// topDone ends a top-level frame whose end place is marked: the root,
// whose main path thereby completes, or a hook's workflow action.
func (m *Machine) topDone(s *State, f *Frame) {
	if f.ID != 0 {
		s.dropFrame(f)
		return
	}
	s.Result = f.Result
	m.abandon(s)
	if !m.closing(s, Completed) {
		s.Status = Completed
	}
}

// failIn fails what frame belongs to: the hook action it runs in, which
// is dropped with the error recorded, or else the case.
func (m *Machine) failIn(s *State, frame int32, msg string, loc ir.Loc) {
	if t := s.hookTop(frame); t != nil {
		s.HookErrors = append(s.HookErrors, hookLabel(m.actionHook(nil, t.Net), t.Trans)+": "+msg)
		s.dropFrame(t)
		return
	}
	m.failCase(s, msg, loc)
}

// abandonMain drops every call and timer of the main path, keeping those
// of hook actions.
func (s *State) abandonMain() {
	var invs []*Inv
	for _, v := range s.Invs {
		if v.Hook || s.hookTop(v.Frame) != nil {
			invs = append(invs, v)
		} else {
			s.uncount(v)
		}
	}
	var ts []Timer
	for _, t := range s.Timers {
		if s.hookTop(t.Frame) != nil {
			ts = append(ts, t)
		}
	}
	s.Invs, s.Timers = invs, ts
}

// dropHooks withdraws every queued hook and running hook action (the
// case is cancelled).
func (m *Machine) dropHooks(s *State) {
	s.dropInvs(func(v *Inv) bool { return v.Hook })
	for {
		var top *Frame
		for _, f := range s.Frames {
			if f.Parent < 0 && f.ID != 0 {
				top = f
				break
			}
		}
		if top == nil {
			break
		}
		s.dropFrame(top)
	}
	s.HookQ = nil
	s.Closing = Running
}

// hook applies an EvHook: the first queued hook is resolved.
func (m *Machine) hook(s *State, e *Event) error {
	ref := HookRef{Frame: e.Frame, Hook: e.Trans}
	if s.Status != Running || len(s.HookQ) == 0 || s.HookQ[0] != ref {
		return notApplicable("hook %d of frame %d is not due", e.Trans, e.Frame)
	}
	h := m.hookOf(s, e.Frame, e.Trans)
	if h != nil && e.Choice != 0 && e.Message == "" && h.Action.Kind == ir.CallWorkflow && m.net(h.Action.Target) == nil {
		return notApplicable("hook %s calls an unknown workflow", h.Name)
	}
	if s.HookQ = s.HookQ[1:]; len(s.HookQ) == 0 {
		s.HookQ = nil
	}
	// A sub-workflow that was waiting for its end hooks completes once
	// the last is resolved.
	defer m.ended(s, ref.Frame)
	switch {
	case e.Message != "":
		s.HookErrors = append(s.HookErrors, hookLabel(h, e.Trans)+": "+e.Message)
	case e.Choice == 0:
		// The condition did not hold.
	case h == nil:
		s.HookErrors = append(s.HookErrors, hookLabel(h, e.Trans)+": no such hook")
	case h.Action.Kind == ir.CallWorkflow:
		c := m.nets[h.Action.Target]
		f := m.newFrame(s, h.Action.Target, -1, e.Trans, 0)
		f.Scope = ref.Frame
		for k, a := range e.Values {
			if k < len(f.Vars) && k < len(c.n.Params) {
				f.Vars[k] = a
			}
		}
		// The variables the body assigns are those of the frame that
		// declares the hook (see aliasParent).
		for k, x := range h.Bind {
			if x >= 0 && k < len(f.Vars) {
				if f.Alias == nil {
					f.Alias = make([]int32, len(f.Vars))
					for i := range f.Alias {
						f.Alias[i] = -1
					}
				}
				f.Alias[k] = x
			}
		}
		m.settle(s, f)
	default:
		s.Invs = append(s.Invs, &Inv{ID: s.NextInv, Frame: -1, Trans: e.Trans, Call: h.Action, Args: e.Values,
			Attempt: 1, Attempts: max(e.Attempts, 1), Timeout: e.Timeout, Hook: true, Scope: ref.Frame})
		s.NextInv++
	}
	return nil
}

// hookEvent resolves the first queued hook: it evaluates the hook's
// condition and its action's arguments (and, for a task, its retries and
// timeout) against the frame that declares it. An evaluation error is
// recorded in the event's Message: it fails the hook, not the case.
func (e *Engine) hookEvent(ctx context.Context, s *State, now int64) Event {
	ref := s.HookQ[0]
	out := Event{Kind: EvHook, Time: now, Frame: ref.Frame, Trans: ref.Hook}
	h, scope := e.m.hookOf(s, ref.Frame, ref.Hook), s.frame(ref.Frame)
	if h == nil || scope == nil {
		out.Message = "no such hook"
		return out
	}
	ev := evaluator{e.m, e.eval}
	vars := &frameVars{m: e.m, s: s, f: scope, over: -1}
	if h.Cond != ir.NoFunc {
		v, err := ev.call(ctx, h.Cond, vars)
		if err != nil {
			out.Message = reason(err)
			return out
		}
		if v.Kind() != ir.KindBool {
			out.Message = fmt.Sprintf("condition is %s, not bool", describeValue(v))
			return out
		}
		if !v.AsBool() {
			return out
		}
	}
	var err error
	if out.Values, err = ev.args(ctx, h.Action.Args, vars); err != nil {
		out.Values, out.Message = nil, reason(err)
		return out
	}
	out.Choice = 1
	if h.Action.Kind != ir.CallWorkflow {
		out.Attempts = e.m.retries(h.Action) + 1
		if out.Timeout, err = ev.timeout(ctx, h.Action, vars); err != nil {
			return Event{Kind: EvHook, Time: now, Frame: ref.Frame, Trans: ref.Hook, Message: reason(err)}
		}
	}
	return out
}

// reason is the message of an evaluation error, without its location.
func reason(err error) string {
	var l Located
	if errors.As(err, &l) {
		return l.Reason()
	}
	return err.Error()
}

// blame attributes an evaluation failure inside a hook's workflow action
// to the frame it happened in, so that Apply fails that action and not
// the case.
func blame(s *State, f *Frame, ev Event) Event {
	if ev.Kind == EvFail && f != nil && s.hookTop(f.ID) != nil {
		ev.Frame = f.ID
	}
	return ev
}

// onGroupDone queues the hooks on the completion of a workflow called by
// transition t of frame p, whose group just finished.
func (m *Machine) onGroupDone(s *State, p *Frame, t *ir.Transition) {
	if t.Kind == ir.TWorkflow {
		m.onComplete(s, p, t.Call)
	}
}
