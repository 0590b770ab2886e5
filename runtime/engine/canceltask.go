// This file implements cancel task: the running invocations of a task,
// and its calls that are ready to start, are withdrawn and their branches
// go on without them, and the multiple-instance loops whose body calls
// the task complete.

package engine

import (
	"slices"

	"github.com/knhk/knhk/compiler/ir"
)

// skipTask withdraws every running invocation of task, in every frame of
// the case (a cancel task also reaches the instances of a parallel for,
// WCP 26), and lets each one's branch continue as if the call had
// completed without a result: the variable it would have set keeps its
// value. Without that, a join all after the cancelled call would wait
// forever for a branch that can no longer complete. A call whose outputs
// are guarded (a flow step whose arcs test its result) cannot be
// continued without the result, so its branch ends there.
//
// Cancelling the task of a parallel for cancels the multiple-instance
// activity (WCP 26, 27): its loops are closed first (see closeGroups), so
// that they complete once the instances the withdrawal lets go on have
// ended, or at once when none runs, such as a loop with more on that
// waits for signals to reach its join count.
func (m *Machine) skipTask(s *State, task int32) {
	closed := m.closeGroups(s, task)
	var touched []*Frame
	out := s.Invs[:0]
	for _, v := range s.Invs {
		if v.Comp || v.Hook || v.Call == nil || v.Call.Kind != ir.CallTask || v.Call.Target != task {
			out = append(out, v)
			continue
		}
		s.uncount(v)
		f := s.frame(v.Frame)
		if f == nil || v.Trans < 0 || int(v.Trans) >= len(m.nets[f.Net].trans) {
			continue
		}
		if tr := &m.nets[f.Net].trans[v.Trans]; !tr.chooses {
			produce(f, tr, nil)
			touched = append(touched, f)
		}
	}
	clear(s.Invs[len(out):])
	s.Invs = out
	for _, f := range touched {
		if s.frame(f.ID) == f {
			m.settle(s, f)
		}
	}
	// The closed loops with nothing left running complete now.
	for _, c := range closed {
		if s.Status != Running || s.frame(c.f.ID) != c.f || !slices.Contains(c.f.Groups, c.g) {
			continue
		}
		if groupOver(m.nets[c.f.Net].trans[c.g.Trans].t, c.g) {
			m.finishGroup(s, c.f, c.g)
			m.settle(s, c.f)
		}
	}
}

// frameGroup is a group and the frame that holds it.
type frameGroup struct {
	f *Frame
	g *Group
}

// closeGroups closes every running parallel for whose body calls task
// (directly or in a parallel for nested in it): the elements not started
// yet are dropped, more on adds no instance, and the loop completes when
// its running instances end, with the results so far. It returns the
// groups it closed.
func (m *Machine) closeGroups(s *State, task int32) []frameGroup {
	var out []frameGroup
	for _, f := range s.Frames {
		c := m.nets[f.Net]
		for _, g := range f.Groups {
			t := openLoop(c, g)
			if t == nil || t.Call == nil || !m.bodyCalls(t.Call.Target, task, 0) {
				continue
			}
			g.Closed = true
			g.Items = g.Items[:g.Next]
			g.Results = g.Results[:g.Next]
			out = append(out, frameGroup{f, g})
		}
	}
	return out
}

// bodyCalls reports whether net calls task, itself or in the body of a
// parallel for inside it.
func (m *Machine) bodyCalls(net, task int32, depth int) bool {
	if net < 0 || int(net) >= len(m.nets) || depth > 64 {
		return false
	}
	for _, tr := range m.nets[net].trans {
		t := tr.t
		if t == nil || t.Call == nil {
			continue
		}
		switch {
		case t.Kind == ir.TTask && t.Call.Kind == ir.CallTask && t.Call.Target == task:
			return true
		case t.Kind == ir.TMulti && m.bodyCalls(t.Call.Target, task, depth+1):
			return true
		}
	}
	return false
}

// takePending takes the input tokens of the calls of the cancelled task
// in frame f that are ready but not started: their input arrived in the
// same step as the cancel, which fires first (see Machine.order). It
// returns one entry per call taken. The compiler's soundness model
// (compiler/sound) cannot tell such a call from a running one, and the
// user should not have to either: both are withdrawn alike.
func (m *Machine) takePending(s *State, f *Frame, c *cnet, tr *ctrans) []int32 {
	var pending []int32
	for _, x := range tr.cancelTrans {
		ct := &c.trans[x]
		if ct.t.Kind != ir.TTask {
			continue
		}
		for len(ct.in) > 0 && m.enabled(s, f, c, x) {
			consume(f, ct)
			pending = append(pending, x)
		}
	}
	return pending
}

// skipPending lets the branches of the calls takePending took go on, as
// skipTask does for running ones: their outputs are produced, except for
// a call that chooses among its outputs, whose branch ends.
func skipPending(f *Frame, c *cnet, pending []int32) {
	for _, x := range pending {
		if ct := &c.trans[x]; !ct.chooses {
			produce(f, ct, nil)
		}
	}
}
