// This file implements the firing rules: when a transition is enabled,
// which tokens it takes, what it cancels and what it produces.

package engine

import (
	"slices"

	"github.com/knhk/knhk/compiler/ir"
)

// busy reports whether transition t of frame f has a running call or
// running children: for an OR join, such a transition still holds the
// token it took. Instances kept after their loop's quorum (keep) do not
// count: the loop has produced its outputs.
func (s *State) busy(f *Frame, t int32) bool {
	for _, v := range s.Invs {
		if v.Frame == f.ID && v.Trans == t {
			return true
		}
	}
	for _, g := range f.Groups {
		if g.Trans == t && !g.Joined {
			return true
		}
	}
	return false
}

// enabled reports whether transition ti of frame f may fire.
func (m *Machine) enabled(s *State, f *Frame, c *cnet, ti int32) bool {
	tr := &c.trans[ti]
	if len(tr.in) == 0 || m.blocked(s, f, c, ti) {
		return false
	}
	mk := f.Marking
	switch tr.t.Join {
	case ir.JoinXor:
		for _, a := range tr.in {
			if mk[a.place] >= a.weight {
				return true
			}
		}
		return false
	case ir.JoinOr:
		any := false
		for k, a := range tr.in {
			if mk[a.place] >= a.weight {
				any = true
				continue
			}
			for _, q := range tr.upPlaces[k] {
				if mk[q] > 0 {
					return false
				}
			}
			for _, t := range tr.upTrans[k] {
				if s.busy(f, t) {
					return false
				}
			}
		}
		return any
	case ir.JoinDrain:
		return m.drains(s, f, tr)
	case ir.JoinPartial:
		n := int32(0)
		for _, a := range tr.in {
			if mk[a.place] >= a.weight {
				n++
			}
		}
		return n > 0 && n >= tr.t.JoinN
	default:
		for _, a := range tr.in {
			if mk[a.place] < a.weight {
				return false
			}
		}
		return true
	}
}

// consume takes the input tokens of an enabled transition.
func consume(f *Frame, tr *ctrans) {
	mk := f.Marking
	switch tr.t.Join {
	case ir.JoinXor:
		for _, a := range tr.in {
			if mk[a.place] >= a.weight {
				mk[a.place] -= a.weight
				return
			}
		}
	case ir.JoinDrain:
		for _, a := range tr.in {
			mk[a.place] = 0
		}
	case ir.JoinOr, ir.JoinPartial:
		for _, a := range tr.in {
			if mk[a.place] >= a.weight {
				mk[a.place] -= a.weight
			}
		}
	default:
		for _, a := range tr.in {
			mk[a.place] -= a.weight
		}
	}
}

// produce marks the output arcs outs (every output when nil).
func produce(f *Frame, tr *ctrans, outs []int32) {
	if outs == nil {
		for _, a := range tr.out {
			f.Marking[a.place] += a.weight
		}
		return
	}
	for _, k := range outs {
		if k >= 0 && int(k) < len(tr.out) {
			a := tr.out[k]
			f.Marking[a.place] += a.weight
		}
	}
}

// cancel applies the cancellation of tr in frame f.
func (m *Machine) cancel(s *State, f *Frame, c *cnet, tr *ctrans) {
	switch tr.t.Cancel {
	case ir.CancelCase:
		copy(f.Marking, c.init)
		if f.calls > 0 {
			s.dropInvs(func(v *Inv) bool { return v.Frame == f.ID })
		}
		for len(f.Groups) > 0 {
			s.dropGroup(f, f.Groups[0].Trans)
		}
	case ir.CancelRegion, ir.CancelTask:
		if tr.t.Cancel == ir.CancelTask {
			pending := m.takePending(s, f, c, tr)
			m.skipTask(s, tr.t.Task)
			skipPending(f, c, pending)
		}
		for _, p := range tr.cancelPlaces {
			f.Marking[p] = 0
		}
		for _, t := range tr.cancelTrans {
			if f.calls > 0 { // a select's withdrawn arms, say: skip the pass when none runs
				s.dropInvs(func(v *Inv) bool { return v.Frame == f.ID && v.Trans == t })
			}
			s.dropGroup(f, t)
		}
		// A milestone whose exit lies in the cancelled part was entered
		// there too (milestone names are unique per workflow): it is no
		// longer held.
		for _, t := range tr.cancelTrans {
			if x := c.trans[t].t; x.Kind == ir.TMarker && x.Marker == ir.MarkMilestoneExit {
				f.Held = slices.DeleteFunc(f.Held, func(n string) bool { return n == x.Label })
			}
		}
	}
}

// dropInvs removes the invocations for which drop holds.
func (s *State) dropInvs(drop func(*Inv) bool) {
	out := s.Invs[:0]
	for _, v := range s.Invs {
		if !drop(v) {
			out = append(out, v)
		} else {
			s.uncount(v)
		}
	}
	clear(s.Invs[len(out):])
	s.Invs = out
}

// dropGroup removes the group of transition t in frame f with every child
// frame it runs.
func (s *State) dropGroup(f *Frame, t int32) {
	found := false
	for i, g := range f.Groups {
		if g.Trans == t {
			f.Groups = append(f.Groups[:i], f.Groups[i+1:]...)
			found = true
			break
		}
	}
	if !found {
		return // a transition's children run only while it has a group
	}
	var kids []*Frame
	for _, c := range s.Frames {
		if c.Parent == f.ID && c.Trans == t {
			kids = append(kids, c)
		}
	}
	for _, c := range kids {
		s.dropFrame(c)
	}
}

// dropFrame removes frame f, its descendants, their calls and timers.
func (s *State) dropFrame(f *Frame) {
	for _, g := range append([]*Group(nil), f.Groups...) {
		s.dropGroup(f, g.Trans)
	}
	if f.calls > 0 {
		s.dropInvs(func(v *Inv) bool { return v.Frame == f.ID })
	}
	// The hooks of a dropped sub-workflow that were still to be evaluated
	// go with it.
	if len(s.HookQ) > 0 {
		if s.HookQ = slices.DeleteFunc(s.HookQ, func(r HookRef) bool { return r.Frame == f.ID }); len(s.HookQ) == 0 {
			s.HookQ = nil
		}
	}
	if i := s.frameAt(f.ID); i >= 0 && s.Frames[i] == f {
		s.Frames = removeAt(s.Frames, i)
	}
	if len(s.Timers) > 0 {
		i, j := s.frameTimers(f.ID)
		for k := j - 1; k >= i; k-- {
			s.Timers = removeAt(s.Timers, k)
		}
	}
}
