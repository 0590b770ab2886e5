// This file implements the lowering of loops: sequential for and while as
// cycles in the net (WCP 21), break and continue, and parallel for as a
// multiple-instance transition over a body net of its own (WCP 13-15,
// 34-36; see multi.go for its join and added instances).

package compiler

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// loopCtx is an enclosing sequential loop: continue goes to next, break
// joins the loop's exits.
type loopCtx struct {
	next     int32
	breaks   []cont
	sections int // len(wf.sections) when the loop started
}

// loop builds the cycle shared by for and while: a test split at the head
// whose guarded arc enters the body and whose default arc leaves; the
// body (after enter) flows to the place next, from which inc (nil for
// none) returns to the head.
func (w *wf) loop(sp source.Span, c cont, cond func(fc *fnCtx) ir.Reg, enter func(cont) cont, body *syntax.Block, inc func(cont) cont) cont {
	head := w.loopHead(c, sp)
	if head < 0 {
		return dead
	}
	test := w.trans("test", ir.TNop, sp)
	w.in(head, test)
	w.tr(test).Split = ir.SplitXor
	g := w.fnOf("loop", sp, ir.Bool, cond)
	lc := &loopCtx{next: head, sections: len(w.sections)}
	if inc != nil {
		lc.next = w.place("next", sp)
	}
	w.loops = append(w.loops, lc)
	b := cont{place: -1, exits: []exit{{test, g}}}
	if enter != nil {
		b = enter(b)
	}
	b = w.block(body, b)
	w.loops = w.loops[:len(w.loops)-1]
	if b.live() {
		w.into(b, lc.next, closing(body))
	}
	if inc != nil {
		w.into(inc(at(lc.next)), head, sp)
	}
	return w.merge(sp, append([]cont{{place: -1, exits: []exit{{test, ir.NoFunc}}}}, lc.breaks...)...)
}

// assignStep adds a transition that stores f into variable v.
func (w *wf) assignStep(c cont, name string, v int32, f ir.FuncID, sp source.Span) cont {
	t := w.step(c, name, ir.TAssign, sp)
	w.tr(t).Result = v
	w.tr(t).Value = f
	return after(t)
}

// readVar is a function body that reads variable v.
func (w *wf) readVar(v int32) func(fc *fnCtx) ir.Reg {
	return func(fc *fnCtx) ir.Reg { return fc.b.Var(int(v), w.n.Vars[v].Type) }
}

// while lowers while cond { }. while true has no test: only break leaves
// it, so a workflow whose body ends in one completes only through it (or
// through return and fail inside).
func (w *wf) while(s *syntax.WhileStmt, c cont) cont {
	if isTrue(s.Cond) {
		head := w.loopHead(c, s.Span())
		if head < 0 {
			return dead
		}
		lc := &loopCtx{next: head, sections: len(w.sections)}
		w.loops = append(w.loops, lc)
		b := w.block(s.Body, at(head))
		w.loops = w.loops[:len(w.loops)-1]
		if b.live() {
			w.into(b, head, closing(s.Body))
		}
		if len(lc.breaks) == 0 {
			return dead
		}
		return w.merge(s.Span(), lc.breaks...)
	}
	return w.loop(s.Span(), c, func(fc *fnCtx) ir.Reg { return fc.exprTo(s.Cond, ir.Bool) }, nil, s.Body, nil)
}

// isTrue reports whether e is the literal true, possibly parenthesised.
func isTrue(e syntax.Expr) bool {
	for {
		p, ok := e.(*syntax.ParenExpr)
		if !ok {
			break
		}
		e = p.X
	}
	lit, ok := e.(*syntax.BasicLit)
	return ok && lit.Kind == syntax.BoolLit && lit.Value == "true"
}

// branch lowers break and continue.
func (w *wf) branch(s *syntax.BranchStmt, c cont) cont {
	if len(w.loops) == 0 {
		w.notImplemented(s, s.Keyword+" outside a sequential loop")
		return dead
	}
	lc := w.loops[len(w.loops)-1]
	// Leaving the loop leaves the sections entered inside it.
	for i := len(w.sections) - 1; i >= lc.sections; i-- {
		c = w.leave(w.sections[i], c, s.Span())
	}
	t := w.step(c, s.Keyword, ir.TNop, s.Span())
	if s.Keyword == "break" {
		lc.breaks = append(lc.breaks, after(t))
	} else {
		w.out(t, lc.next, ir.NoFunc)
	}
	return dead
}

// forStmt lowers a sequential for over a range, a list or a map's keys;
// a parallel for becomes multiple instances.
func (w *wf) forStmt(s *syntax.ForStmt, c cont) cont {
	if s.Parallel {
		return w.multiInstance(s, c)
	}
	obj := w.l.info.Defs[s.Var]
	if obj == nil {
		w.notImplemented(s, "a for loop without a checked variable")
		return c
	}
	sp := s.Span()
	if r, ok := s.Iter.(*syntax.BinaryExpr); ok && r.Op == ".." {
		// The loop variable is the counter.
		x := w.varOf(obj, s.Var.Span())
		xt := w.n.Vars[x].Type
		hi := w.newVar(nil, s.Var.Value+".hi", xt, r.Y.Span())
		c = w.assignStep(c, "from", x, w.fn("from", r.X, xt), r.X.Span())
		c = w.assignStep(c, "to", hi, w.fn("to", r.Y, xt), r.Y.Span())
		return w.loop(sp, c, func(fc *fnCtx) ir.Reg {
			return fc.b.Binary(ir.BinLt, ir.Bool, fc.b.Var(int(x), xt), fc.b.Var(int(hi), xt))
		}, nil, s.Body, func(c cont) cont {
			f := w.fnOf("inc", sp, xt, func(fc *fnCtx) ir.Reg {
				return fc.b.Binary(ir.BinAdd, xt, fc.b.Var(int(x), xt), fc.b.Const(xt, ir.Const{Kind: ir.ConstInt, Int: 1}))
			})
			return w.assignStep(c, "inc", x, f, sp)
		})
	}
	items, itemsT := w.items(s.Iter)
	if items == ir.NoFunc {
		return c
	}
	xs := w.newVar(nil, s.Var.Value+".items", itemsT, s.Iter.Span())
	idx := w.newVar(nil, s.Var.Value+".index", ir.Int, s.Var.Span())
	x := w.varOf(obj, s.Var.Span())
	c = w.assignStep(c, "items", xs, items, s.Iter.Span())
	c = w.assignStep(c, "first", idx, w.fnOf("first", sp, ir.Int, func(fc *fnCtx) ir.Reg { return fc.b.Int(0) }), s.Var.Span())
	return w.loop(sp, c, func(fc *fnCtx) ir.Reg {
		n := fc.b.Builtin(ir.Int, "len", ir.NoFunc, fc.b.Var(int(xs), itemsT))
		return fc.b.Binary(ir.BinLt, ir.Bool, fc.b.Var(int(idx), ir.Int), n)
	}, func(c cont) cont {
		f := w.fnOf("element", s.Var.Span(), w.n.Vars[x].Type, func(fc *fnCtx) ir.Reg {
			return fc.b.Index(w.n.Vars[x].Type, fc.b.Var(int(xs), itemsT), fc.b.Var(int(idx), ir.Int))
		})
		return w.assignStep(c, "element", x, f, s.Var.Span())
	}, s.Body, func(c cont) cont {
		f := w.fnOf("inc", sp, ir.Int, func(fc *fnCtx) ir.Reg {
			return fc.b.Binary(ir.BinAdd, ir.Int, fc.b.Var(int(idx), ir.Int), fc.b.Int(1))
		})
		return w.assignStep(c, "inc", idx, f, sp)
	})
}

// items lowers the collection a for iterates over to a list: the list
// itself, or the keys of a map.
func (w *wf) items(iter syntax.Expr) (ir.FuncID, ir.TypeID) {
	t := w.l.typeOf(w.l.info.Types[iter])
	tt := w.l.prog.Type(t)
	if r, ok := iter.(*syntax.BinaryExpr); ok && r.Op == ".." && tt != nil && tt.Kind == ir.KindList {
		return w.rangeList(r, t, tt.Elem), t
	}
	switch {
	case tt != nil && tt.Kind == ir.KindList:
		return w.fn("items", iter, t), t
	case tt != nil && tt.Kind == ir.KindMap:
		lt := w.l.prog.ListOf(tt.Key)
		return w.fnOf("keys", iter.Span(), lt, func(fc *fnCtx) ir.Reg {
			m := fc.expr(iter)
			fc.at(iter)
			return fc.b.Builtin(lt, "keys", ir.NoFunc, m)
		}), lt
	}
	w.notImplemented(iter, "a for loop over this collection")
	return ir.NoFunc, ir.Void
}

// multiInstance lowers for x in xs parallel [limit N] { } [join]: the body
// becomes a net whose parameters are the element and the variables of
// this workflow it reads (passed by value), run once per element.
func (w *wf) multiInstance(s *syntax.ForStmt, c cont) cont {
	obj := w.l.info.Defs[s.Var]
	if obj == nil {
		w.notImplemented(s, "a parallel for without a checked variable")
		return c
	}
	items, itemsT := w.items(s.Iter)
	if items == ir.NoFunc {
		return c
	}
	name := w.n.Name + ".for_" + strconv.Itoa(line(w.file, s.Span()))
	lead := []leadParam{{obj: obj, sp: s.Var.Span(), typ: w.l.prog.Type(itemsT).Elem}}
	// A variable of this workflow that the body assigns is shared: every
	// instance reads and writes it in place.
	nb, caps, shared := w.childNet(name, s.Span(), closing(s.Body), lead, s.Body.Stmts)

	t := w.step(c, "for", ir.TMulti, s.Span())
	tr := w.tr(t)
	tr.Value = items
	if s.Limit != nil {
		tr.Limit = w.fn("limit", s.Limit, ir.Int)
	}
	w.multiJoin(s.Join, tr)
	w.moreOn(s.More, tr)
	tr.Call, tr.Bind = w.childCall(nb, caps, shared, s.Span())
	return after(t)
}

// mergeSignals adds to dst the signals of src it lacks: a signal that a
// body waits for is accepted by the case.
func mergeSignals(dst, src []*ir.Signal) []*ir.Signal {
	for _, s := range src {
		found := false
		for _, d := range dst {
			found = found || d.Name == s.Name
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}

// rootIdent returns the variable at the root of an assignment target
// (x in x.f[i]), or nil.
func rootIdent(e syntax.Expr) *syntax.Ident {
	for {
		switch x := e.(type) {
		case *syntax.Ident:
			return x
		case *syntax.SelectorExpr:
			e = x.X
		case *syntax.IndexExpr:
			e = x.X
		case *syntax.ParenExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// rangeList lowers lo..hi to the list [lo, lo+1, ..., hi-1], built by a
// loop in the function.
func (w *wf) rangeList(r *syntax.BinaryExpr, lt, elem ir.TypeID) ir.FuncID {
	return w.fnOf("range", r.Span(), lt, func(fc *fnCtx) ir.Reg {
		lo := fc.exprTo(r.X, elem)
		hi := fc.exprTo(r.Y, elem)
		fc.at(r)
		b := fc.b
		empty := b.MakeList(lt)
		head, ps := b.NewBlock(elem, lt)
		body, _ := b.NewBlock()
		exit, _ := b.NewBlock()
		b.Jump(head, lo, empty)
		b.SetBlock(head)
		b.Branch(b.Binary(ir.BinLt, ir.Bool, ps[0], hi), body, exit)
		b.SetBlock(body)
		acc := b.Binary(ir.BinAdd, lt, ps[1], b.MakeList(lt, ps[0]))
		next := b.Binary(ir.BinAdd, elem, ps[0], b.Const(elem, ir.Const{Kind: ir.ConstInt, Int: 1}))
		b.Jump(head, next, acc)
		b.SetBlock(exit)
		return ps[1]
	})
}

// loopHead returns the place a loop returns to: c's place, unless that is
// the net's start, which nothing may produce into.
func (w *wf) loopHead(c cont, sp source.Span) int32 {
	if c.place >= 0 && c.place == w.n.Start {
		head := w.place("loop", sp)
		w.into(c, head, sp)
		return head
	}
	return w.placeOf(c, "loop", sp)
}
