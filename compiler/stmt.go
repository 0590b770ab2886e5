// This file implements the lowering of sequential statements: blocks,
// let, assignment, calls, guard, fail, return and cancel case.

package compiler

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/syntax"
)

// block lowers the statements of b in sequence from c.
func (w *wf) block(b *syntax.Block, c cont) cont {
	if b == nil {
		return c
	}
	for _, s := range b.Stmts {
		if !c.live() {
			break
		}
		c = w.stmt(s, c)
	}
	return c
}

// stmt lowers one statement reached by c and returns where control goes
// after it.
func (w *wf) stmt(s syntax.Stmt, c cont) cont {
	switch s := s.(type) {
	case nil:
		return c
	case *syntax.BlockStmt:
		return w.block(s.Block, c)
	case *syntax.LetStmt:
		return w.let(s, c)
	case *syntax.ExprStmt:
		if s.Value != nil {
			return w.assign(s, c)
		}
		call, ok := w.effect(s.X)
		if !ok {
			w.notImplemented(s, "an expression statement that is not a task or workflow call")
			return c
		}
		return w.callStep(c, call, s.Clauses, -1)
	case *syntax.GuardStmt:
		return w.guard(s, c)
	case *syntax.FailStmt:
		t := w.step(c, "fail", ir.TFail, s.Span())
		w.tr(t).Value = w.fn("fail", s.Message, ir.String)
		w.terminate(t)
		return dead
	case *syntax.ReturnStmt:
		t := w.step(c, "return", ir.TReturn, s.Span())
		if s.Value != nil && w.n.Result != ir.Void {
			w.tr(t).Value = w.fn("return", s.Value, w.n.Result)
		}
		w.terminate(t)
		return dead
	case *syntax.CancelStmt:
		return w.cancel(s, c)
	case *syntax.IfStmt:
		return w.ifStmt(s, c)
	case *syntax.ChooseStmt:
		return w.choose(s, c)
	case *syntax.MultiStmt:
		return w.multi(s, c)
	case *syntax.ParallelStmt:
		return w.parallel(s, c)
	case *syntax.InterleaveStmt:
		return w.interleave(s, c)
	case *syntax.ForStmt:
		return w.forStmt(s, c)
	case *syntax.WhileStmt:
		return w.while(s, c)
	case *syntax.BranchStmt:
		return w.branch(s, c)
	case *syntax.SelectStmt:
		return w.selectStmt(s, c)
	case *syntax.RegionStmt:
		return w.region(s, c)
	case *syntax.CriticalStmt:
		return w.critical(s, c)
	case *syntax.MilestoneStmt:
		return w.milestone(s, c)
	case *syntax.RouteStmt:
		return w.route(s, c)
	case *syntax.FlowStmt:
		return w.flow(s, c)
	case *syntax.SendStmt:
		return w.send(s, c)
	case *syntax.SignalDecl, *syntax.QueryDecl, *syntax.HookStmt:
		// Declarations: lowered by declarations and finish.
		return c
	}
	w.notImplemented(s, "this statement")
	return c
}

// terminate makes t end the case: it produces the end token and, where
// other branches may run or resources be held, cancels the case first.
func (w *wf) terminate(t int32) {
	w.out(t, w.n.End, ir.NoFunc)
	if w.conc > 0 {
		w.tr(t).Cancel = ir.CancelCase
	}
}

// effect reports whether e is a call of a task or workflow, which is a
// transition rather than an expression.
func (w *wf) effect(e syntax.Expr) (*syntax.CallExpr, bool) {
	call, ok := e.(*syntax.CallExpr)
	if !ok {
		return nil, false
	}
	obj := w.l.callee(call.Fun)
	if _, ok := w.l.tasks[obj]; ok {
		return call, true
	}
	if _, ok := w.l.nets[obj]; ok {
		return call, true
	}
	return nil, false
}

// call lowers a task or workflow call with its clauses; nil if e calls
// neither.
func (w *wf) call(e *syntax.CallExpr, clauses []*syntax.Clause, depth int) *ir.Call {
	obj := w.l.callee(e.Fun)
	c := &ir.Call{Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc, Loc: w.loc(e.Span())}
	if t, ok := w.l.tasks[obj]; ok {
		c.Kind, c.Target = ir.CallTask, t
	} else if n, ok := w.l.nets[obj]; ok {
		c.Kind, c.Target = ir.CallWorkflow, n
		w.warnSubHooks(obj, e.Span())
	} else {
		w.notImplemented(e, "a call that is not a task or workflow call here")
		return nil
	}
	sig := signatureOf(obj)
	for i, a := range e.Args {
		var want ir.TypeID = -1
		if sig != nil && i < len(sig.Params) {
			want = w.l.typeOf(sig.Params[i].Type())
		}
		c.Args = append(c.Args, w.fn(obj.Name()+".arg"+strconv.Itoa(i), a, want))
	}
	for _, cl := range clauses {
		if cl == nil {
			continue
		}
		switch cl.Kind {
		case "retry":
			n, ok := check.ConstInt(cl.Value)
			if !ok {
				w.notImplemented(cl, "a retry count that is not a constant")
				continue
			}
			c.Retry = int32(n)
		case "backoff":
			c.Backoff = w.fn(obj.Name()+".backoff", cl.Value, ir.Duration)
		case "timeout":
			c.Timeout = w.fn(obj.Name()+".timeout", cl.Value, ir.Duration)
		case "undo":
			u, ok := cl.Value.(*syntax.CallExpr)
			if !ok || depth > 4 {
				w.notImplemented(cl, "this undo action")
				continue
			}
			c.Undo = w.call(u, nil, depth+1)
		default:
			w.notImplemented(cl, "the "+cl.Kind+" clause")
		}
	}
	return c
}

// callStep adds the transition that runs a task or workflow call, storing
// its result in variable result (-1 to discard it).
func (w *wf) callStep(c cont, e *syntax.CallExpr, clauses []*syntax.Clause, result int32) cont {
	t := w.callOnly(c, e, clauses, result)
	if t < 0 {
		return c
	}
	return after(t)
}

// callTrans adds the transition of a call whose outputs the caller
// adds, possibly guarded (a flow step's conditional arcs). The engine
// produces every output of a workflow call when the callee completes,
// without evaluating guards, so a workflow call is followed by a routing
// transition that carries the outputs and chooses among them; the result
// is assigned by then, so the guards can read it.
func (w *wf) callTrans(c cont, e *syntax.CallExpr, clauses []*syntax.Clause, result int32) int32 {
	t := w.callOnly(c, e, clauses, result)
	if t >= 0 && w.tr(t).Kind == ir.TWorkflow {
		t = w.step(after(t), "returned", ir.TNop, e.Span())
	}
	return t
}

// callOnly adds the transition that runs a task or workflow call.
func (w *wf) callOnly(c cont, e *syntax.CallExpr, clauses []*syntax.Clause, result int32) int32 {
	call := w.call(e, clauses, 0)
	if call == nil {
		return -1
	}
	kind, name := ir.TWorkflow, ""
	if call.Kind == ir.CallTask {
		kind, name = ir.TTask, w.l.prog.Tasks[call.Target].Name
	} else {
		name = w.l.prog.Nets[call.Target].Name
	}
	t := w.step(c, name, kind, e.Span())
	tr := w.tr(t)
	tr.Call = call
	if result >= 0 && w.l.prog.KindOf(w.n.Vars[result].Type) != ir.KindVoid {
		tr.Result = result
	}
	if call.Kind == ir.CallTask {
		w.taskCall[call.Target] = append(w.taskCall[call.Target], t)
	}
	return t
}

// let lowers let/var x = e: a call transition storing into x, or an
// assignment of the expression's value.
func (w *wf) let(s *syntax.LetStmt, c cont) cont {
	obj := w.l.info.Defs[s.Name]
	if obj == nil {
		w.notImplemented(s, "a let without a checked name")
		return c
	}
	discard := s.Name.Value == "_"
	if call, ok := w.effect(s.Value); ok {
		v := int32(-1)
		if !discard {
			v = w.varOf(obj, s.Name.Span())
		}
		return w.callStep(c, call, s.Clauses, v)
	}
	if discard {
		return c
	}
	v := w.varOf(obj, s.Name.Span())
	t := w.step(c, "let_"+s.Name.Value, ir.TAssign, s.Span())
	w.tr(t).Result = v
	w.tr(t).Value = w.fn("let."+s.Name.Value, s.Value, w.n.Vars[v].Type)
	return after(t)
}

// assign lowers x = e, x.f = e and x[i] = e: the variable receives its
// updated value.
func (w *wf) assign(s *syntax.ExprStmt, c cont) cont {
	var root check.Object
	f := w.fnOf("assign", s.Span(), -1, func(fc *fnCtx) ir.Reg {
		var r ir.Reg
		root, r = fc.assign(s.X, func(want ir.TypeID) ir.Reg { return fc.exprTo(s.Value, want) })
		return r
	})
	v, ok := w.vars[root]
	if root == nil || !ok {
		w.notImplemented(s, "an assignment to this target")
		return c
	}
	t := w.step(c, "set_"+root.Name(), ir.TAssign, s.Span())
	w.tr(t).Result = v
	w.tr(t).Value = f
	return after(t)
}

// assign computes the new value of the variable at the root of target
// when target receives value; it returns the variable and the register.
func (c *fnCtx) assign(target syntax.Expr, value func(want ir.TypeID) ir.Reg) (check.Object, ir.Reg) {
	switch t := target.(type) {
	case *syntax.ParenExpr:
		return c.assign(t.X, value)
	case *syntax.Ident:
		obj := c.l.info.Uses[t]
		if obj == nil {
			return nil, value(-1)
		}
		return obj, value(c.l.typeOf(obj.Type()))
	case *syntax.SelectorExpr:
		base := c.expr(t.X)
		i := c.l.fieldIndex(c.regType(base), t.Sel.Name)
		if i < 0 {
			return nil, c.notImplemented(t, "an assignment to this field")
		}
		v := value(c.l.prog.Type(c.regType(base)).Fields[i].Type)
		c.at(t)
		nv := c.b.SetField(base, i, v)
		return c.assign(t.X, func(ir.TypeID) ir.Reg { return nv })
	case *syntax.IndexExpr:
		base := c.expr(t.X)
		bt := c.l.prog.Type(c.regType(base))
		if bt == nil || bt.Kind != ir.KindList && bt.Kind != ir.KindMap {
			return nil, c.notImplemented(t, "an assignment to this element")
		}
		var kw ir.TypeID = -1
		if bt.Kind == ir.KindMap {
			kw = bt.Key
		}
		elem := bt.Elem
		k := c.exprTo(t.Index, kw)
		v := value(elem)
		c.at(t)
		nv := c.b.SetIndex(base, k, v)
		return c.assign(t.X, func(ir.TypeID) ir.Reg { return nv })
	}
	return nil, c.notImplemented(target, "an assignment to this target")
}

// guard lowers guard cond else fail msg as an XOR split: the guarded arc
// continues, the default arc fails the case.
func (w *wf) guard(s *syntax.GuardStmt, c cont) cont {
	t := w.step(c, "guard", ir.TNop, s.Span())
	w.tr(t).Split = ir.SplitXor
	cond := w.fn("guard", s.Cond, ir.Bool)
	sp := s.Span()
	if s.Message != nil {
		sp = s.Message.Span()
	}
	fp := w.place("else", sp)
	w.out(t, fp, ir.NoFunc)
	ft := w.trans("fail", ir.TFail, sp)
	w.in(fp, ft)
	w.tr(ft).Value = w.fn("fail", s.Message, ir.String)
	w.terminate(ft)
	return cont{place: -1, exits: []exit{{t, cond}}}
}
