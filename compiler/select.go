// This file implements the lowering of select, the deferred choice
// (WCP 16): the arms' transitions share one input place, and the first
// event to happen takes its token.

package compiler

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/syntax"
)

// selectStmt lowers select { on signal | on timer | on done -> ... }. A
// done arm's call starts with the select, on a branch of its own; its
// arm fires when both the call has completed and no other arm has won,
// and every other arm cancels the call.
func (w *wf) selectStmt(s *syntax.SelectStmt, c cont) cont {
	sp := s.Span()
	wait := w.placeOf(c, "select", sp)
	if wait < 0 {
		return dead
	}
	type doneArm struct {
		arm  *syntax.Arm
		done int32 // place marked when the call completes
	}
	var dones []doneArm
	region := int32(-1)
	if hasDone(s) {
		start := w.trans("select", ir.TNop, sp)
		w.in(wait, start)
		wait = w.place("wait", sp)
		w.out(start, wait, ir.NoFunc)
		p0, t0 := len(w.n.Places), len(w.n.Transitions)
		for _, a := range s.Arms {
			if a == nil || a.Done == nil {
				continue
			}
			call, ok := w.effect(a.Done)
			if !ok {
				w.notImplemented(a.Done, "this done event")
				continue
			}
			result := int32(-1)
			if a.As != nil {
				if obj := w.l.info.Defs[a.As]; obj != nil && a.As.Value != "_" {
					result = w.varOf(obj, a.As.Span())
				}
			}
			q := w.place("call", a.Done.Span())
			w.out(start, q, ir.NoFunc)
			t := w.callTrans(at(q), call, nil, result)
			if t < 0 {
				continue
			}
			d := w.place("done", a.Done.Span())
			w.out(t, d, ir.NoFunc)
			dones = append(dones, doneArm{a, d})
		}
		places, trans := w.since(p0, t0, -1)
		region = w.nb.Region("select_"+strconv.Itoa(line(w.file, sp)), places, trans)
		w.n.Regions[region].Loc = w.loc(sp)
	}
	var outs []cont
	for _, a := range s.Arms {
		if a == nil {
			continue
		}
		var t int32 = -1
		switch {
		case a.Signal != nil:
			t = w.trans("on_"+a.Signal.Value, ir.TSignal, a.Span())
			w.in(wait, t)
			tr := w.tr(t)
			tr.Label = a.Signal.Value
			params := w.armParams(a)
			w.signal(a.Signal.Value, params, false, a.Signal.Span())
			for _, p := range params {
				tr.Bind = append(tr.Bind, w.varOf(p, a.Signal.Span()))
			}
		case a.Timer != nil:
			// A duration counts from the start of the select; a time is
			// a deadline.
			want := ir.Duration
			if w.l.prog.KindOf(w.l.typeOf(w.l.info.Types[a.Timer])) == ir.KindTime {
				want = ir.Time
			}
			t = w.trans("timer", ir.TTimer, a.Span())
			w.in(wait, t)
			w.tr(t).Value = w.fn("timer", a.Timer, want)
		case a.Done != nil:
			for _, d := range dones {
				if d.arm == a {
					t = w.trans("on_done", ir.TNop, a.Span())
					w.in(wait, t)
					w.in(d.done, t)
				}
			}
			if t < 0 {
				continue
			}
		default:
			w.notImplemented(a, "this select arm")
			continue
		}
		if region >= 0 {
			w.tr(t).Cancel = ir.CancelRegion
			w.tr(t).Region = region
		}
		outs = append(outs, w.stmt(a.Body, after(t)))
	}
	return w.merge(sp, outs...)
}

func hasDone(s *syntax.SelectStmt) bool {
	for _, a := range s.Arms {
		if a != nil && a.Done != nil {
			return true
		}
	}
	return false
}

// armParams returns the variables a signal arm binds: its own parameters,
// or those of the signal's declaration when it omits them.
func (w *wf) armParams(a *syntax.Arm) []*check.Var {
	if len(a.Params) > 0 {
		var vs []*check.Var
		for _, p := range a.Params {
			if p == nil || p.Name == nil {
				continue
			}
			if v, ok := w.l.info.Defs[p.Name].(*check.Var); ok {
				vs = append(vs, v)
			}
		}
		return vs
	}
	obj := w.l.info.Defs[a.Signal]
	if obj == nil {
		obj = w.l.info.TypeUses[a.Signal]
	}
	if sig := signatureOf(obj); sig != nil {
		return sig.Params
	}
	return nil
}
