// This file implements the lowering of fn and task declarations: a fn's
// body becomes a function in register form, a task's binding and default
// clauses become an [ir.Task].

package compiler

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// fnDecl lowers fn name(params) -> T = body into Funcs[id].
func (l *lowerer) fnDecl(id ir.FuncID, name string, d *syntax.FnDecl, obj check.Object, file *source.File, fi int32) {
	sig := signatureOf(obj)
	if sig == nil || d.Body == nil {
		l.notImplemented(file, d.Span(), "fn "+name+" without a signature or body")
		l.prog.Funcs[id] = placeholderFunc(name)
		return
	}
	result := l.typeOf(sig.Result)
	b := ir.NewFunc(name, result, l.params(sig.Params)...)
	b.F.Loc = ir.Loc{File: fi, Span: d.Name.Span()}
	c := l.newCtx(b, file, fi, nil)
	for i, p := range sig.Params {
		c.env[p] = b.Param(i)
	}
	r := c.exprTo(d.Body, result)
	c.at(d.Body)
	b.Return(r)
	l.prog.Funcs[id] = b.F
}

// placeholderFunc fills a reserved function slot after an error, so that
// the indices of the other functions stay valid.
func placeholderFunc(name string) *ir.Func {
	b := ir.NewFunc(name, ir.Bool)
	b.Return(b.Bool(false))
	return b.F
}

// taskDecl fills t from a task declaration: its signature, binding and
// default clauses.
func (l *lowerer) taskDecl(t *ir.Task, d *syntax.TaskDecl, obj check.Object, file *source.File, fi int32) {
	sig := signatureOf(obj)
	if sig == nil {
		l.notImplemented(file, d.Span(), "task "+t.Name+" without a signature")
		return
	}
	t.Params = l.params(sig.Params)
	t.Result = l.typeOf(sig.Result)
	if d.Binding != nil {
		t.Binding = l.binding(d.Binding, t.Name)
	}
	for _, cl := range d.Clauses {
		if cl == nil {
			continue
		}
		switch cl.Kind {
		case "retry":
			if n, ok := check.ConstInt(cl.Value); ok {
				t.Retry = int32(n)
			} else {
				l.notImplemented(file, cl.Span(), "a retry count that is not a constant")
			}
		case "backoff", "timeout":
			b := ir.NewFunc(t.Name+"."+cl.Kind, ir.Duration)
			b.F.Loc = ir.Loc{File: fi, Span: cl.Value.Span()}
			c := l.newCtx(b, file, fi, nil)
			r := c.exprTo(cl.Value, ir.Duration)
			c.at(cl.Value)
			b.Return(r)
			f := l.prog.AddFunc(b.F)
			if cl.Kind == "backoff" {
				t.Backoff = f
			} else {
				t.Timeout = f
			}
		case "undo":
			t.Undo = l.taskUndo(t, d, sig, cl, file, fi)
		default:
			l.notImplemented(file, cl.Span(), "the "+cl.Kind+" clause on a task declaration")
		}
	}
}

// taskUndo lowers the undo clause of a task declaration. Its arguments
// are functions of the compensated call's result (when the task has one)
// followed by the call's arguments.
func (l *lowerer) taskUndo(t *ir.Task, d *syntax.TaskDecl, sig *check.Signature, cl *syntax.Clause, file *source.File, fi int32) *ir.Call {
	call, ok := cl.Value.(*syntax.CallExpr)
	var obj check.Object
	if ok {
		obj = l.callee(call.Fun)
	}
	if obj == nil {
		l.notImplemented(file, cl.Span(), "this undo action")
		return nil
	}
	c := &ir.Call{Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc, Loc: ir.Loc{File: fi, Span: call.Span()}}
	if x, ok := l.tasks[obj]; ok {
		c.Kind, c.Target = ir.CallTask, x
	} else if x, ok := l.nets[obj]; ok {
		c.Kind, c.Target = ir.CallWorkflow, x
	} else {
		l.notImplemented(file, call.Span(), "an undo action that is not a task or workflow call")
		return nil
	}
	// The arguments are functions of the result (when the task has one)
	// and of the task's parameters, which the engine passes in that
	// order from the completed call.
	params := map[check.Object]int{}
	var fparams []ir.Param
	if t.Result != ir.Void {
		fparams = append(fparams, ir.Param{Name: "result", Type: t.Result})
	}
	for _, p := range sig.Params {
		params[p] = len(fparams)
		fparams = append(fparams, ir.Param{Name: p.Name(), Type: l.typeOf(p.Type())})
	}
	callee := signatureOf(obj)
	for i, a := range call.Args {
		var want ir.TypeID = -1
		if callee != nil && i < len(callee.Params) {
			want = l.typeOf(callee.Params[i].Type())
		}
		b := ir.NewFunc(t.Name+".undo.arg"+strconv.Itoa(i), ir.Void, fparams...)
		b.F.Loc = ir.Loc{File: fi, Span: a.Span()}
		b.At(b.F.Loc)
		fc := l.newCtx(b, file, fi, nil)
		syntax.Inspect(a, func(n any) bool {
			if id, ok := n.(*syntax.Ident); ok {
				o := l.info.Uses[id]
				if k, ok := params[o]; ok && o != nil {
					fc.env[o] = b.Param(k)
				} else if o != nil && o.Name() == "result" && o.Decl() == source.Spanned(d) && t.Result != ir.Void {
					fc.env[o] = b.Param(0)
				}
			}
			return true
		})
		r := fc.exprTo(a, want)
		b.F.Result = fc.regType(r)
		fc.at(a)
		b.Return(r)
		c.Args = append(c.Args, l.prog.AddFunc(b.F))
	}
	return c
}

// binding converts a task binding.
func (l *lowerer) binding(b *syntax.Binding, name string) ir.Binding {
	unq := func(s *syntax.StringLit) string {
		if s == nil {
			return ""
		}
		v, _ := s.Unquoted()
		return v
	}
	switch b.Kind() {
	case "exec":
		out := ir.Binding{Kind: ir.BindExec, Target: unq(b.Exec[0])}
		for _, a := range b.Exec[1:] {
			out.Args = append(out.Args, unq(a))
		}
		return out
	case "http":
		return ir.Binding{Kind: ir.BindHTTP, Method: b.Method.Value, Target: unq(b.URL)}
	case "std":
		return ir.Binding{Kind: ir.BindStd, Target: unq(b.Std)}
	case "queue":
		return ir.Binding{Kind: ir.BindQueue, Target: unq(b.Queue)}
	}
	sym := unq(b.Symbol)
	if sym == "" {
		sym = name
	}
	return ir.Binding{Kind: ir.BindExtern, Target: sym}
}
