// This file implements the static types of the values a case's state
// holds: the snapshot's half of what valuetypes.go does for events. A
// snapshot stores values untyped like the log does; a reader that wants
// them typed (eval.Value) learns each slot's type from the program.

package engine

import "github.com/knhk/knhk/compiler/ir"

// WalkValues calls fn with every value slot of s and its static type:
// the result, each frame's variables, result and groups, each
// invocation's arguments and features, the inbox, the compensation stack
// and the outbox. fn may replace the value through the pointer. A slot
// whose type the program does not give (a state that does not fit it)
// is skipped. An unset variable is passed as a nil value. fn's first
// error stops the walk and is returned.
func (m *Machine) WalkValues(s *State, fn func(v *any, t ir.TypeID) error) error {
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

// walker carries WalkValues' callback and its first error.
type walker struct {
	m   *Machine
	fn  func(*any, ir.TypeID) error
	err error
}

func (w *walker) one(v *any, t ir.TypeID) {
	if w.err == nil {
		w.err = w.fn(v, t)
	}
}

// all walks vs with ts, one each, when the counts agree.
func (w *walker) all(vs []any, ts []ir.TypeID) {
	if len(vs) != len(ts) {
		return
	}
	for i := range vs {
		w.one(&vs[i], ts[i])
	}
}
