// This file implements the static types of the values a case's state
// holds: the snapshot's half of what valuetypes.go does for events. A
// snapshot stores values untyped like the log does; a reader that wants
// them typed (eval.Value) learns each slot's type from the program.

package engine

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// WalkSlots calls fn with every value slot of s and its static type:
// the result, each frame's variables, result and groups, each
// invocation's arguments and features, the inbox, the compensation stack
// and the outbox. fn may replace the value through the pointer. A slot
// whose type the program does not give (a state that does not fit it)
// is skipped. An unset variable is the zero (void) value. fn's first
// error stops the walk and is returned.
func (m *Machine) WalkSlots(s *State, fn func(v *eval.Value, t ir.TypeID) error) error {
	w := walker{m: m, fn: fn}
	if c := m.net(s.Net); c != nil && len(s.Frames) > 0 {
		w.one(&s.Result, c.n.Result)
	}
	for _, f := range s.Frames {
		c := m.net(f.Net)
		if c == nil {
			continue
		}
		for i := range f.Vars {
			if i < len(c.n.Vars) {
				w.one(&f.Vars[i], c.n.Vars[i].Type)
			}
		}
		w.one(&f.Result, c.n.Result)
		for _, g := range f.Groups {
			m.walkGroup(&w, c, g)
		}
	}
	for _, v := range s.Invs {
		w.all(v.Args, m.results(callArgs(v.Call)))
		if t := m.transOf(s, v.Frame, v.Trans); t != nil && t.Kind == ir.TRoute {
			w.all(v.Features, m.results(t.Features))
		}
	}
	for _, r := range s.Inbox {
		if d := m.signalDecl(s, r.Name); d != nil {
			w.all(r.Payload, paramTypes(d.Params))
		}
	}
	for _, u := range s.Comp {
		w.all(u.Args, m.results(callArgs(u.Call)))
	}
	for _, ml := range s.Outbox {
		if n := m.Prog.Net(ml.Workflow); n != nil {
			for _, d := range n.Signals {
				if d != nil && d.Name == ml.Signal {
					w.all(ml.Payload, paramTypes(d.Params))
				}
			}
		}
	}
	return w.err
}

// walkGroup walks the items, shared arguments and results of group g of
// a frame of net c.
func (m *Machine) walkGroup(w *walker, c *cnet, g *Group) {
	if g.Trans < 0 || int(g.Trans) >= len(c.trans) {
		return
	}
	t := c.trans[g.Trans].t
	if t.Call == nil {
		return
	}
	if t.Kind == ir.TMulti {
		if lt := m.Prog.Type(m.result(t.Value)); lt != nil && lt.Kind == ir.KindList {
			for i := range g.Items {
				w.one(&g.Items[i], lt.Elem)
			}
		}
	}
	w.all(g.Args, m.results(t.Call.Args))
	for i := range g.Results {
		w.one(&g.Results[i], m.callResult(t.Call))
	}
}

// transOf is transition ti of frame fid's net, or nil.
func (m *Machine) transOf(s *State, fid, ti int32) *ir.Transition {
	f := s.frame(fid)
	if f == nil {
		return nil
	}
	c := m.net(f.Net)
	if c == nil || ti < 0 || int(ti) >= len(c.trans) {
		return nil
	}
	return c.trans[ti].t
}

func callArgs(c *ir.Call) []ir.FuncID {
	if c == nil {
		return nil
	}
	return c.Args
}

func paramTypes(ps []ir.Param) []ir.TypeID {
	out := make([]ir.TypeID, len(ps))
	for i, p := range ps {
		out[i] = p.Type
	}
	return out
}

// walker carries WalkSlots' callback and its first error.
type walker struct {
	m   *Machine
	fn  func(*eval.Value, ir.TypeID) error
	err error
}

func (w *walker) one(v *eval.Value, t ir.TypeID) {
	if w.err == nil {
		w.err = w.fn(v, t)
	}
}

// all walks vs with ts, one each, when the counts agree.
func (w *walker) all(vs []eval.Value, ts []ir.TypeID) {
	if len(vs) != len(ts) {
		return
	}
	for i := range vs {
		w.one(&vs[i], ts[i])
	}
}

// typeState types the values of s, decoded from a snapshot without their
// types, from the program ([eval.Retype]). A null is an unset slot, or
// none where the slot is optional. A value that does not fit its slot
// (a list of results with instances still running, whose unset results
// are null) is kept as it was read: a snapshot never held more than the
// log, whose events type their values strictly when applied.
func (m *Machine) typeState(s *State) {
	_ = m.WalkSlots(s, func(v *eval.Value, t ir.TypeID) error {
		k := m.Prog.KindOf(t)
		switch {
		case v.Kind() == ir.KindVoid && k == ir.KindOptional:
			*v = eval.None
		case v.Kind() == ir.KindVoid:
			// unset
		default:
			if r, err := eval.Retype(m.Prog, *v, t); err == nil {
				*v = r
			}
		}
		return nil
	})
}
