// This file implements the lowering of send statements to TSend
// transitions: a plain step whose firing raises the signal.

package compiler

import (
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/syntax"
)

// send lowers "send [W.]S(args) [to id]" to one TSend step. The payload
// and the target are functions of the case variables, evaluated when the
// step fires; the signal's parameter types travel with the transition, so
// that a receiver of another program can be checked against them.
func (w *wf) send(s *syntax.SendStmt, c cont) cont {
	l, _ := w.l.info.TypeUses[s.Signal].(*check.Label)
	var sig *check.Signature
	if l != nil {
		sig, _ = l.Type().(*check.Signature)
	}
	if sig == nil {
		w.notImplemented(s, "a send of an unresolved signal")
		return c
	}
	workflow := w.n.Name
	if i := strings.IndexByte(workflow, '.'); i >= 0 {
		workflow = workflow[:i] // a parallel for or hook body sends as its workflow
	}
	if s.Workflow != nil {
		workflow = s.Workflow.Value
	}
	params := w.l.params(sig.Params)
	snd := &ir.Send{Workflow: workflow, Params: params, Case: ir.NoFunc}
	for i, a := range s.Args {
		if i < len(params) {
			snd.Args = append(snd.Args, w.fn("send_"+s.Signal.Value, a, params[i].Type))
		}
	}
	if s.To != nil {
		snd.Case = w.fn("send_to", s.To, ir.String)
	}
	t := w.step(c, "send_"+s.Signal.Value, ir.TSend, s.Span())
	w.tr(t).Label = s.Signal.Value
	w.tr(t).Send = snd
	return after(t)
}
