// This file implements the lowering of conditionals: if and choose as
// XOR splits with an XOR merge, multi as an OR split with a synchronising
// merge (OR join).

package compiler

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/syntax"
)

// ifStmt lowers if/else if/else. The then arc carries the condition and
// the else arc is the split's default.
func (w *wf) ifStmt(s *syntax.IfStmt, c cont) cont {
	t := w.step(c, "if", ir.TNop, s.Span())
	w.tr(t).Split = ir.SplitXor
	cond := w.fn("if", s.Cond, ir.Bool)
	then := w.block(s.Then, cont{place: -1, exits: []exit{{t, cond}}})
	els := cont{place: -1, exits: []exit{{t, ir.NoFunc}}}
	switch {
	case s.ElseIf != nil:
		els = w.ifStmt(s.ElseIf, els)
	case s.Else != nil:
		els = w.block(s.Else, els)
	}
	return w.merge(s.Span(), then, els)
}

// choose lowers an exclusive choice. Each arm gets its place when the
// split is built, so that the arcs keep the arms' order: the first arm
// whose condition holds wins.
func (w *wf) choose(s *syntax.ChooseStmt, c cont) cont {
	t := w.step(c, "choose", ir.TNop, s.Span())
	w.tr(t).Split = ir.SplitXor
	var outs []cont
	for i, wh := range s.Whens {
		if wh == nil {
			continue
		}
		p := w.place("when", wh.Span())
		w.out(t, p, w.fn("when"+strconv.Itoa(i), wh.Cond, ir.Bool))
		outs = append(outs, w.stmt(wh.Body, at(p)))
	}
	if s.Else != nil {
		p := w.place("else", s.Else.Span())
		w.out(t, p, ir.NoFunc)
		outs = append(outs, w.stmt(s.Else.Body, at(p)))
	} else {
		outs = append(outs, cont{place: -1, exits: []exit{{t, ir.NoFunc}}})
	}
	return w.merge(s.Span(), outs...)
}

// multi lowers a multi-choice. An XOR split first decides between the
// arms (some condition holds) and the else arm (none does), so that the
// two are exclusive even where the soundness analysis ignores data; then
// an OR split starts every arm whose condition holds, and an OR join
// waits for every started arm.
func (w *wf) multi(s *syntax.MultiStmt, c cont) cont {
	sp := s.Span()
	var conds []syntax.Expr
	for _, wh := range s.Whens {
		if wh != nil {
			conds = append(conds, wh.Cond)
		}
	}
	t := w.step(c, "multi", ir.TNop, sp)
	w.tr(t).Split = ir.SplitXor
	some := w.fnOf("some", sp, ir.Bool, func(fc *fnCtx) ir.Reg {
		any := fc.b.Bool(false)
		for _, cd := range conds {
			x := fc.expr(cd)
			fc.at(cd)
			any = fc.b.Binary(ir.BinOr, ir.Bool, any, x)
		}
		return any
	})
	split := w.step(cont{place: -1, exits: []exit{{t, some}}}, "arms", ir.TNop, sp)
	w.tr(split).Split = ir.SplitOr
	var ends []int32
	w.conc++
	for i, wh := range s.Whens {
		if wh == nil {
			continue
		}
		p := w.place("when", wh.Span())
		w.out(split, p, w.fn("when"+strconv.Itoa(i), wh.Cond, ir.Bool))
		out := w.stmt(wh.Body, at(p))
		if e := w.placeOf(out, "done", wh.Body.Span()); e >= 0 {
			ends = append(ends, e)
		}
	}
	w.conc--
	arms := dead
	if len(ends) > 0 {
		j := w.trans("merge", ir.TNop, sp)
		w.tr(j).Join = ir.JoinOr
		for _, e := range ends {
			w.in(e, j)
		}
		arms = after(j)
	}
	els := cont{place: -1, exits: []exit{{t, ir.NoFunc}}}
	if s.Else != nil {
		els = w.stmt(s.Else.Body, els)
	}
	return w.merge(sp, arms, els)
}
