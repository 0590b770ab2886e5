// This file implements the payload of send transitions: a signal raised
// from inside a case, to the case itself or to another case by id.

package ir

import (
	"fmt"
	"strings"
)

// Send is what a [TSend] transition raises: signal Label of workflow
// Workflow with the payload Args, one function per parameter, delivered
// to the case whose id Case evaluates to, or to the running case itself
// when Case is NoFunc. Params are the signal's parameters as the sending
// program declares them: a case of another program receives the payload
// only if its own declaration has the same shape.
type Send struct {
	Workflow string
	Params   []Param
	Args     []FuncID
	Case     FuncID
}

func (e *encoder) send(s *Send) {
	if s == nil {
		e.bool(false)
		return
	}
	e.bool(true)
	e.str(s.Workflow)
	e.params(s.Params)
	e.funcs(s.Args)
	e.i(int64(s.Case))
}

func (d *decoder) send() *Send {
	if !d.bool("send present") || d.err != nil {
		return nil
	}
	return &Send{Workflow: d.str("send workflow"), Params: d.params("send params"), Args: d.funcs("send args"),
		Case: FuncID(d.i32("send case"))}
}

// sendOK verifies a TSend of net ni: a signal name, a workflow, one
// argument of each parameter's type, and a string case id when there is
// a target.
func (v *verifier) sendOK(ni int32, t *Transition) {
	s := t.Send
	if t.Label == "" || s == nil || s.Workflow == "" {
		v.errorf("send without a signal, a workflow or its payload")
		return
	}
	if len(s.Args) != len(s.Params) {
		v.errorf("send %s: %d arguments for %d parameters", t.Label, len(s.Args), len(s.Params))
		return
	}
	for i, pa := range s.Params {
		v.typeOK("send "+t.Label+" parameter "+pa.Name, pa.Type, false)
		v.exprFunc(fmt.Sprintf("send %s argument %d", t.Label, i), s.Args[i], ni, pa.Type, false)
	}
	v.exprFunc("send "+t.Label+" case", s.Case, ni, String, true)
}

// sendString prints a TSend: "send W.S(args)" and " to f" for a target.
func (pr *printer) sendString(t *Transition) string {
	s := t.Send
	if s == nil {
		return "send " + t.Label + "(?)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "send %s.%s(%s)", s.Workflow, t.Label, pr.fns(s.Args))
	if s.Case != NoFunc {
		b.WriteString(" to " + pr.fn(s.Case))
	}
	return b.String()
}
