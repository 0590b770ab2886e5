// This file implements the lowering of learned routes: one TRoute
// transition that evaluates the features, lets the policy pick a
// candidate call, runs it and reports the reward.

package compiler

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/syntax"
)

// route lowers route learn NAME(features) among { calls } [reward e]. The
// reward function takes the chosen call's duration; a duration reward is
// converted to float seconds, an integer one to float.
func (w *wf) route(s *syntax.RouteStmt, c cont) cont {
	t := w.step(c, "route_"+s.Name.Value, ir.TRoute, s.Span())
	tr := w.tr(t)
	tr.Label = s.Name.Value
	for i, f := range s.Features {
		tr.Features = append(tr.Features, w.fn("feature"+strconv.Itoa(i), f, -1))
	}
	for _, cand := range s.Candidates {
		call, ok := w.effect(cand)
		if !ok {
			w.notImplemented(cand, "this route candidate")
			continue
		}
		if cl := w.call(call, nil, 0); cl != nil {
			tr.Candidates = append(tr.Candidates, cl)
		}
	}
	if s.Reward != nil {
		tr.Value = w.reward(s)
	}
	return after(t)
}

func (w *wf) reward(s *syntax.RouteStmt) ir.FuncID {
	b := ir.NewFunc(w.n.Name+".reward", ir.Float, ir.Param{Name: "duration", Type: ir.Duration})
	b.F.Scope = w.nb.Index
	b.F.Loc = w.loc(s.Reward.Span())
	b.At(w.loc(s.Reward.Span()))
	fc := w.l.newCtx(b, w.file, w.fi, w.vars)
	syntax.Inspect(s.Reward, func(n any) bool {
		if id, ok := n.(*syntax.Ident); ok {
			if v, ok := w.l.info.Uses[id].(*check.Var); ok && v.Decl() == syntax.Stmt(s) {
				fc.env[v] = b.Param(0)
			}
		}
		return true
	})
	r := fc.expr(s.Reward)
	fc.at(s.Reward)
	switch w.l.prog.KindOf(fc.regType(r)) {
	case ir.KindDuration:
		r = b.Binary(ir.BinDiv, ir.Float, r, b.Const(ir.Duration, ir.Const{Kind: ir.ConstInt, Int: 1e9}))
	case ir.KindFloat:
	default:
		r = b.Convert(ir.Float, r)
	}
	b.Return(r)
	return w.l.prog.AddFunc(b.F)
}
