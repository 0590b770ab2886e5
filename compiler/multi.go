// This file implements the clauses of a parallel for that shape its
// multiple-instance transition: the join (a constant or computed quorum,
// with keep) and more on (instances added by a signal).

package compiler

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// multiJoin sets the quorum and keep of the multiple-instance transition
// tr from the join j of its parallel for. join any waits for one
// instance, join N for N: a constant, or an int expression evaluated
// when the loop starts (WCP 36), which the engine checks is at least 1.
// keep lets the instances still running at the quorum finish (WCP 34,
// 36) instead of cancelling them (WCP 35).
func (w *wf) multiJoin(j *syntax.Join, tr *ir.Transition) {
	if j == nil || j.Kind == "all" || j.Kind == "active" {
		// join active is the checker's error on a parallel for.
		return
	}
	switch n, ok := check.ConstInt(j.Count); {
	case j.Kind == "any":
		tr.Quorum = w.constInt("quorum", j.Span(), 1)
	case j.Count == nil:
		w.notImplemented(j, "join "+j.Kind+" on a parallel for")
		return
	case ok && n < 1:
		w.notImplemented(j, "a join count below 1")
		return
	case ok:
		tr.Quorum = w.constInt("quorum", j.Span(), n)
	default:
		tr.Quorum = w.fn("quorum", j.Count, ir.Int)
	}
	tr.Keep = j.Keep
}

// constInt is a function named what that returns n, located at sp.
func (w *wf) constInt(what string, sp source.Span, n int64) ir.FuncID {
	return w.fnOf(what, sp, ir.Int, func(fc *fnCtx) ir.Reg { return fc.b.Int(n) })
}

// moreOn makes the multiple-instance transition tr start one more
// instance per arrival of signal more (WCP 15), declaring the signal on
// this net as a select arm does, so that a loop inside a child net can
// name a signal of its workflow.
func (w *wf) moreOn(more *syntax.Name, tr *ir.Transition) {
	if more == nil {
		return
	}
	sig := signatureOf(w.l.info.TypeUses[more])
	if sig == nil {
		w.notImplemented(more, "more on a signal that is not checked")
		return
	}
	w.signal(more.Value, sig.Params, false, more.Span())
	tr.Label = more.Value
}
