// This file implements the lowering of a workflow declaration to a net:
// its parameters, body, signals, queries and hooks.

package compiler

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

func (l *lowerer) newWF(nb *ir.NetBuilder, file *source.File, fi int32) *wf {
	return &wf{
		l: l, nb: nb, n: nb.N, file: file, fi: fi,
		vars:     map[check.Object]int32{},
		used:     map[string]int{},
		regions:  map[check.Object]*regionInfo{},
		mutexes:  map[string]int32{},
		taskCall: map[int32][]int32{},
	}
}

// workflowDecl lowers a workflow into the net nb.
func (l *lowerer) workflowDecl(nb *ir.NetBuilder, d *syntax.WorkflowDecl, obj check.Object, file *source.File, fi int32) {
	w := l.newWF(nb, file, fi)
	sig := signatureOf(obj)
	for i, p := range sig.Params {
		w.vars[p] = int32(i)
		w.used[p.Name()]++
	}
	w.n.Places[w.n.Start].Loc = w.loc(d.Name.Span())
	w.n.Places[w.n.End].Loc = w.loc(d.Name.Span())
	if d.Body == nil {
		w.notImplemented(d, "a workflow without a body")
		return
	}
	w.declarations(d.Body)
	w.body(d.Body.Stmts, closing(d.Body))
	w.finish(d.Body)
}

// body lowers the statements of a net's body from its start place and
// completes the case when they complete (implicit termination); end is
// where the body ends in the source.
func (w *wf) body(stmts []syntax.Stmt, end source.Span) {
	c := at(w.n.Start)
	for _, s := range stmts {
		if !c.live() {
			break
		}
		c = w.stmt(s, c)
	}
	if !c.live() {
		return
	}
	if w.n.Result != ir.Void {
		// The checker reports a missing return; a path that reaches here
		// never completes (while true without break) or was reported.
		w.l.notImplemented(w.file, end, "a body that can complete without returning a value")
		return
	}
	t := w.step(c, "end", ir.TReturn, end)
	w.out(t, w.n.End, ir.NoFunc)
}

// closing is the span of a block's closing brace.
func closing(b *syntax.Block) source.Span {
	sp := b.Span()
	if sp.End > sp.Start {
		return source.Span{Start: sp.End - 1, End: sp.End}
	}
	return sp
}

// declarations adds the signals a body declares (anywhere in it), so that
// select arms and hooks can refer to them before their declaration.
func (w *wf) declarations(b any) {
	syntax.Inspect(b, func(n any) bool {
		switch s := n.(type) {
		case *syntax.SignalDecl:
			obj := w.l.info.Defs[s.Name]
			sig := signatureOf(obj)
			if sig == nil {
				return true
			}
			w.signal(s.Name.Value, sig.Params, s.Transient, s.Span())
		case *syntax.ForStmt:
			// A parallel for body is a net of its own.
			return !s.Parallel
		}
		return true
	})
}

// signal declares signal name on the net unless it is already declared.
func (w *wf) signal(name string, params []*check.Var, transient bool, sp source.Span) {
	for _, s := range w.n.Signals {
		if s.Name == name {
			return
		}
	}
	w.n.Signals = append(w.n.Signals, &ir.Signal{Name: name, Params: w.l.params(params), Transient: transient, Loc: w.loc(sp)})
}

// finish lowers what reads the final set of variables (queries, hooks)
// and completes the constructs that refer forward (cancellations).
func (w *wf) finish(b any) {
	syntax.Inspect(b, func(n any) bool {
		switch s := n.(type) {
		case *syntax.QueryDecl:
			w.query(s)
		case *syntax.HookStmt:
			w.hook(s)
		case *syntax.ForStmt:
			return !s.Parallel
		}
		return true
	})
	w.resolveCancels()
	w.restoreResources()
	w.waitKept()
}

// query lowers query q -> T = e.
func (w *wf) query(s *syntax.QueryDecl) {
	obj := w.l.info.Defs[s.Name]
	if obj == nil || s.Value == nil {
		return
	}
	f := w.fn("query."+s.Name.Value, s.Value, w.l.typeOf(obj.Type()))
	w.n.Queries = append(w.n.Queries, &ir.Query{Name: s.Name.Value, Value: f, Loc: w.loc(s.Span())})
}

// hook lowers hook h on EVENT [when cond] -> call.
func (w *wf) hook(s *syntax.HookStmt) {
	h := &ir.Hook{Name: s.Name.Value, Task: -1, Cond: ir.NoFunc, Loc: w.loc(s.Span())}
	switch s.Event {
	case "start":
		h.Event = ir.HookStart
	case "end":
		h.Event = ir.HookEnd
	case "fail":
		h.Event = ir.HookFail
	case "complete":
		h.Event = ir.HookComplete
		obj := w.l.info.TypeUses[s.Target]
		if t, ok := w.l.tasks[obj]; ok {
			h.Task = t
		} else if ni, ok := w.l.nets[obj]; ok {
			// A workflow is named, as the engine matches the calls it
			// completes by the callee's net.
			h.Label = w.l.prog.Nets[ni].Name
		} else {
			w.notImplemented(s, "a hook on the completion of something that is not a task or workflow")
			return
		}
	case "signal":
		h.Event = ir.HookSignal
		h.Label = s.Target.Value
	default:
		w.notImplemented(s, "hook event "+s.Event)
		return
	}
	if s.Cond != nil {
		h.Cond = w.fn("hook."+h.Name+".when", s.Cond, ir.Bool)
	}
	var call *syntax.CallExpr
	body := s.Body
	// A block holding one call is that call.
	for {
		bs, ok := body.(*syntax.BlockStmt)
		if !ok || bs.Block == nil || len(bs.Block.Stmts) != 1 {
			break
		}
		body = bs.Block.Stmts[0]
	}
	if es, ok := body.(*syntax.ExprStmt); ok && es.Value == nil {
		call, _ = es.X.(*syntax.CallExpr)
		if _, isEffect := w.effect(call); call != nil && isEffect {
			h.Action = w.call(call, es.Clauses, 0)
		}
	}
	if h.Action == nil {
		// Any other body runs as a child case of a net of its own, which
		// receives the variables it reads by value.
		name := w.n.Name + ".hook_" + h.Name
		nb, caps, assigned := w.childNet(name, s.Body.Span(), lastByte(s.Body.Span()), nil, []syntax.Stmt{s.Body})
		// The variables the body assigns are the workflow's own: the
		// body's frame aliases them (each assignment is atomic).
		h.Action, h.Bind = w.childCall(nb, caps, assigned, s.Body.Span())
	}
	w.n.Hooks = append(w.n.Hooks, h)
}

// lastByte is the span of the last byte of sp.
func lastByte(sp source.Span) source.Span {
	if sp.End > sp.Start {
		return source.Span{Start: sp.End - 1, End: sp.End}
	}
	return sp
}
