// This file implements the static types of the values an event carries.
// The event log stores values without their types (the tagged JSON of
// storelog.go), so a reader that wants typed values (eval.Value, whose
// records and enums need their IR type) must learn each value's type
// from the program and the case's state before the event: that is what
// lets a log be decoded into one typed representation without writing
// types into it, and so without changing the on-disk format.

package engine

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// ValueTypes is the IR type of each value of an event: Values[i] has
// type Values[i], and so on for Undo and Features.
type ValueTypes struct {
	Values, Undo, Features []ir.TypeID
}

// TypesOf returns the types of e's values when e is applied to s (the
// state before e). It reports false when e names something s or the
// program does not have (an event Apply would reject) or when its value
// counts do not match the types found; then the types are unknown.
func (m *Machine) TypesOf(s *State, e *Event) (ValueTypes, bool) {
	var vt ValueTypes
	ok := true
	switch e.Kind {
	case EvStart:
		n := m.net(e.Trans)
		if n == nil {
			return vt, false
		}
		for _, p := range n.n.Params {
			vt.Values = append(vt.Values, p.Type)
		}
	case EvFire:
		vt, ok = m.fireTypes(s, e)
	case EvDone:
		v, _ := s.inv(e.Inv)
		if v == nil {
			return vt, false
		}
		if len(e.Values) > 0 {
			vt.Values = []ir.TypeID{m.callResult(v.Call)}
		}
		if u := m.undoOf(v.Call); u != nil {
			vt.Undo = m.results(u.Args)
		}
	case EvSignal:
		sig := m.signalDecl(s, e.Name)
		if sig == nil {
			return vt, len(e.Values) == 0
		}
		for _, p := range sig.Params {
			vt.Values = append(vt.Values, p.Type)
		}
	case EvHook:
		if h := m.hookOf(s, e.Frame, e.Trans); h != nil && h.Action != nil {
			vt.Values = m.results(h.Action.Args)
		}
	}
	if !ok || len(vt.Values) != len(e.Values) || len(vt.Undo) != len(e.Undo) || len(vt.Features) != len(e.Features) {
		return ValueTypes{}, false
	}
	return vt, true
}

// fireTypes is [Machine.TypesOf] for an EvFire, per transition kind (as
// the scheduler fills Values in schedule.go).
func (m *Machine) fireTypes(s *State, e *Event) (ValueTypes, bool) {
	var vt ValueTypes
	f := s.frame(e.Frame)
	if f == nil || f.Net < 0 || int(f.Net) >= len(m.nets) {
		return vt, false
	}
	c := m.nets[f.Net]
	if e.Trans < 0 || int(e.Trans) >= len(c.trans) {
		return vt, false
	}
	t := c.trans[e.Trans].t
	switch t.Kind {
	case ir.TRoute:
		if e.Choice < 0 || int(e.Choice) >= len(t.Candidates) || t.Candidates[e.Choice] == nil {
			return vt, false
		}
		vt.Values = m.results(t.Candidates[e.Choice].Args)
		vt.Features = m.results(t.Features)
	case ir.TTask, ir.TKernel, ir.TWorkflow:
		if t.Call != nil {
			vt.Values = m.results(t.Call.Args)
		}
	case ir.TMulti:
		if t.Call == nil {
			return vt, false
		}
		vt.Values = append([]ir.TypeID{m.result(t.Value)}, m.results(t.Call.Args)...)
	case ir.TAssign, ir.TReturn, ir.TFail:
		if t.Value != ir.NoFunc && len(e.Values) > 0 {
			vt.Values = []ir.TypeID{m.result(t.Value)}
		}
	case ir.TSend:
		if t.Send != nil {
			vt.Values = m.results(t.Send.Args)
		}
	}
	return vt, true
}

// result is the result type of function fn, ir.Void when there is none.
func (m *Machine) result(fn ir.FuncID) ir.TypeID {
	if fn < 0 || int(fn) >= len(m.Prog.Funcs) {
		return ir.Void
	}
	return m.Prog.Funcs[fn].Result
}

// results are the result types of fns, one each.
func (m *Machine) results(fns []ir.FuncID) []ir.TypeID {
	if len(fns) == 0 {
		return nil
	}
	out := make([]ir.TypeID, len(fns))
	for i, fn := range fns {
		out[i] = m.result(fn)
	}
	return out
}

// callResult is the type of the result a completed call c reports.
func (m *Machine) callResult(c *ir.Call) ir.TypeID {
	if c == nil || c.Target < 0 {
		return ir.Void
	}
	p := m.Prog
	switch c.Kind {
	case ir.CallTask:
		if int(c.Target) < len(p.Tasks) {
			return p.Tasks[c.Target].Result
		}
	case ir.CallKernel:
		if int(c.Target) < len(p.Kernels) {
			return p.Kernels[c.Target].Result
		}
	case ir.CallWorkflow:
		if int(c.Target) < len(p.Nets) {
			return p.Nets[c.Target].Result
		}
	}
	return ir.Void
}

// signalDecl is the declaration of signal name: the case's workflow's
// first, then any net's (a sub-workflow that waits for it).
func (m *Machine) signalDecl(s *State, name string) *ir.Signal {
	find := func(n *ir.Net) *ir.Signal {
		for _, d := range n.Signals {
			if d != nil && d.Name == name {
				return d
			}
		}
		return nil
	}
	if c := m.net(s.Net); c != nil {
		if d := find(c.n); d != nil {
			return d
		}
	}
	for _, c := range m.nets {
		if d := find(c.n); d != nil {
			return d
		}
	}
	return nil
}

// TypeEvent types the values of e, read by [DecodeEvent] without their
// types, by what e means in s, the case's state before e (s is not
// changed). An event the engine made itself is typed already and left
// as it is. A value of the wrong shape for its type is an error naming
// the event and the slot; an event whose types cannot be known (it does
// not fit s) keeps its values untyped, for Apply to reject.
func (m *Machine) TypeEvent(s *State, e *Event) error {
	if !e.untyped {
		return nil
	}
	vt, ok := m.TypesOf(s, e)
	if !ok {
		return nil
	}
	vals, err := RetypeValues(m.Prog, e.Kind, "value", e.Values, vt.Values)
	if err != nil {
		return err
	}
	undo, err := RetypeValues(m.Prog, e.Kind, "undo argument", e.Undo, vt.Undo)
	if err != nil {
		return err
	}
	fe, err := RetypeValues(m.Prog, e.Kind, "feature", e.Features, vt.Features)
	if err != nil {
		return err
	}
	e.Values, e.Undo, e.Features, e.untyped = vals, undo, fe, false
	return nil
}

// RetypeValues retypes xs, the values of a k event that are its what
// ("value", "undo argument", "feature"), to ts, one each ([eval.Retype]);
// what is nil stays nil. A value of the wrong shape is an error naming
// the event kind, what and the value's index.
func RetypeValues(p *ir.Program, k EventKind, what string, xs []eval.Value, ts []ir.TypeID) ([]eval.Value, error) {
	if xs == nil {
		return nil, nil
	}
	out := make([]eval.Value, len(xs))
	for i, x := range xs {
		v, err := eval.Retype(p, x, ts[i])
		if err != nil {
			return nil, fmt.Errorf("%s event, %s %d: %w", k, what, i, err)
		}
		out[i] = v
	}
	return out, nil
}
