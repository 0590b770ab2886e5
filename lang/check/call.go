// This file implements calls of fns, tasks, kernels, workflows and
// conversions, and where effectful calls may appear.

package check

import (
	"strconv"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// callKind says what a call called, for the statement checks that follow
// it (clauses need a task call; an expression statement must have effects).
type callKind uint8

const (
	callNone callKind = iota // not a call, or the callee was invalid
	callPure                 // fn, kernel, builtin or conversion
	callTask                 // task
	callFlow                 // workflow
)

func (k callKind) effect() bool { return k == callTask || k == callFlow }

// callEdge is a call from one fn or kernel to another, for recursion
// detection.
type callEdge struct {
	to   *Callable
	span source.Span
}

// effectCall checks e in a position where a task or workflow call is
// allowed (statement, let value, step, done arm, route candidate, undo).
// It returns the type and what was called.
func (c *checker) effectCall(e syntax.Expr, hint Type) (Type, callKind) {
	if call, ok := e.(*syntax.CallExpr); ok && call.Fun != nil {
		t := c.call(call, hint, true)
		c.info.Types[call] = t
		return t, c.calleeKind(call.Fun)
	}
	return c.expr(e, hint), callNone
}

// calleeKind says what the resolved callee of a call is.
func (c *checker) calleeKind(fun syntax.Expr) callKind {
	var obj Object
	switch f := fun.(type) {
	case *syntax.Ident:
		obj = c.info.Uses[f]
	case *syntax.SelectorExpr:
		if f.Sel != nil {
			obj = c.info.Uses[f.Sel]
		}
	case *syntax.ParenExpr:
		return c.calleeKind(f.X)
	}
	switch obj.(type) {
	case *Callable:
		switch obj.Kind() {
		case ObjTask:
			return callTask
		case ObjWorkflow:
			return callFlow
		}
		return callPure
	case *TypeName:
		return callPure
	}
	return callNone
}

// callee resolves the function part of a call without reporting it as a
// value. It returns nil after reporting any problem.
func (c *checker) callee(fun syntax.Expr) Object {
	switch f := fun.(type) {
	case *syntax.Ident:
		obj := c.lookup(f.Name)
		if pn, ok := obj.(*PkgName); ok {
			// log(x) is the builtin even where std/log is imported as log.
			if u := universe().Lookup(f.Name); u != nil {
				obj = u
			} else {
				pn.used = true
			}
		}
		if obj == nil {
			c.undefined(f)
			return nil
		}
		c.info.Uses[f] = obj
		return obj
	case *syntax.SelectorExpr:
		if id, ok := f.X.(*syntax.Ident); ok && f.Sel != nil {
			if pn, ok := c.lookup(id.Name).(*PkgName); ok {
				c.info.Uses[id] = pn
				pn.used = true
				m := c.pkgMember(pn, f.Sel)
				return m
			}
		}
	case *syntax.ParenExpr:
		return c.callee(f.X)
	}
	t := c.expr(fun, nil)
	if !isInvalid(t) {
		c.errorf(fun.Span(), source.NotCallable, "cannot call %s (type %s)", c.exprString(fun), t)
	}
	return nil
}

// call checks a call. stmt reports whether the call is in a position
// where effects are allowed.
func (c *checker) call(e *syntax.CallExpr, hint Type, stmt bool) Type {
	obj := c.callee(e.Fun)
	if obj == nil {
		c.args(e.Args)
		return TypInvalid
	}
	if t := obj.Type(); t != nil {
		c.info.Types[e.Fun] = t // the signature, for hover on the callee
	}
	switch o := obj.(type) {
	case *Callable:
		if o.kind == ObjBuiltin {
			return c.builtin(e, o, hint)
		}
		return c.callCallable(e, o, stmt)
	case *TypeName:
		return c.conversion(e, o)
	case *Var:
		o.used = true
	}
	c.args(e.Args)
	c.errorf(e.Fun.Span(), source.NotCallable, "cannot call %s: it is a %s, not a fn, task, kernel or workflow", c.exprString(e.Fun), obj.Kind())
	return TypInvalid
}

// args checks arguments of a call that could not be resolved, so that
// their own errors are still reported and their variables count as used.
func (c *checker) args(args []syntax.Expr) {
	for _, a := range args {
		if _, ok := a.(*syntax.LambdaExpr); ok {
			continue
		}
		c.expr(a, nil)
	}
}

func (c *checker) callCallable(e *syntax.CallExpr, o *Callable, stmt bool) Type {
	sig := o.Signature()
	if sig == nil {
		c.args(e.Args)
		return TypInvalid
	}
	b := c.body
	switch o.kind {
	case ObjTask, ObjWorkflow:
		switch {
		case b != nil && b.kind == ObjKernel:
			c.errorf(e.Span(), source.KernelTaskCall, "kernel %s cannot call %s %s: kernels are pure and run on accelerators", b.obj.name, o.kind, o.name)
		case b != nil && b.kind == ObjFunc:
			c.errorf(e.Span(), source.TaskInExpression, "fn %s cannot call %s %s: fns are pure", b.obj.name, o.kind, o.name)
		case !stmt:
			c.errorf(e.Span(), source.TaskInExpression, "%s %s cannot be called inside an expression; bind its result first: let x = %s(...)", o.kind, o.name, o.name)
		}
		if b != nil && b.kind == ObjWorkflow {
			if o.kind == ObjTask {
				b.called = append(b.called, o)
			} else if o == b.obj && b.cond == 0 && !b.guarded {
				c.errorf(e.Span(), source.Recursion, "workflow %s calls itself unconditionally; guard the call with a condition", o.name)
			} else if b.cond == 0 && !b.guarded {
				c.edge(b.obj, o, e.Span()) // unconditional: a cycle of these never ends (recursion.go)
			}
		}
	case ObjKernel:
		if b != nil && b.kind == ObjKernel {
			if o == b.obj {
				c.errorf(e.Span(), source.KernelRecursion, "kernel %s calls itself; kernels cannot recurse", o.name)
			} else {
				c.errorf(e.Span(), source.BadKernel, "kernel %s cannot call kernel %s", b.obj.name, o.name)
			}
		} else if b != nil && b.kind == ObjFunc {
			c.edge(b.obj, o, e.Span())
		}
	case ObjFunc:
		if b != nil && (b.kind == ObjFunc || b.kind == ObjKernel) {
			c.edge(b.obj, o, e.Span())
		}
		if b != nil && b.kind == ObjKernel && !kernelCompatible(sig) {
			c.errorf(e.Span(), source.BadKernel, "kernel %s cannot call fn %s: its signature %s uses non-kernel types", b.obj.name, o.name, sig)
			c.args(e.Args)
			return TypInvalid
		}
	}
	c.checkArgs(e, o.name, sig.Params)
	return sig.Result
}

// kernelCompatible reports whether a fn only takes and returns kernel
// scalars, so that a kernel may inline it.
func kernelCompatible(sig *Signature) bool {
	for _, p := range sig.Params {
		if !isKernelScalar(p.typ) {
			return false
		}
	}
	return isKernelScalar(sig.Result)
}

// checkArgs checks arity and the type of each argument.
func (c *checker) checkArgs(e *syntax.CallExpr, name string, params []*Var) {
	c.argValues(e.Args, params, name)
	if len(e.Args) != len(params) {
		c.arity(e, name, len(params), len(params))
	}
}

// argValues checks each argument against its parameter (an argument
// past the parameters is checked alone); of names the callee in messages.
func (c *checker) argValues(args []syntax.Expr, params []*Var, of string) {
	for i, a := range args {
		var pt Type
		if i < len(params) {
			pt = params[i].typ
		}
		t := c.value(a, pt)
		if pt != nil && !c.assignable(t, pt) {
			c.errorf(a.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in argument %s of %s", c.exprString(a), t, pt, params[i].name, of)
		}
	}
}

// arity reports a wrong number of arguments.
func (c *checker) arity(e *syntax.CallExpr, name string, lo, hi int) {
	n := len(e.Args)
	want := strconv.Itoa(lo)
	if hi != lo {
		want = strconv.Itoa(lo) + " or " + strconv.Itoa(hi)
	}
	if n < lo {
		c.errorf(source.Span{Start: e.Rparen, End: e.Rparen + 1}, source.WrongArgCount, "not enough arguments in call to %s (have %d, want %s)", name, n, want)
	} else {
		c.errorf(e.Args[hi].Span(), source.WrongArgCount, "too many arguments in call to %s (have %d, want %s)", name, n, want)
	}
}

// edge records a call between fns and kernels.
func (c *checker) edge(from, to *Callable, sp source.Span) {
	if from == nil || to == nil || to.file != c.file {
		return
	}
	if c.edges == nil {
		c.edges = make(map[*Callable][]callEdge)
	}
	c.edges[from] = append(c.edges[from], callEdge{to: to, span: sp})
}

// conversion checks T(x) for a predeclared type T.
func (c *checker) conversion(e *syntax.CallExpr, tn *TypeName) Type {
	to, ok := tn.typ.(*Basic)
	if !ok || tn.file != nil {
		c.args(e.Args)
		c.errorf(e.Fun.Span(), source.NotCallable, "cannot call type %s; record literals need no type name: { field: value }", tn.name)
		return TypInvalid
	}
	if len(e.Args) != 1 {
		c.args(e.Args)
		c.arity(e, tn.name, 1, 1)
		return TypInvalid
	}
	x := c.value(e.Args[0], nil)
	if isInvalid(x) {
		return to
	}
	if !convertible(x, to) {
		c.errorf(e.Span(), source.BadOperand, "cannot convert %s (type %s) to %s", c.exprString(e.Args[0]), x, to)
		return TypInvalid
	}
	if c.inKernel() && !isKernelScalar(to) {
		c.errorf(e.Span(), source.BadKernel, "conversion to %s in a kernel: kernels use f32, i32, u32 and bool", to)
		return TypInvalid
	}
	return to
}

// convertible reports whether T(x) is allowed for a value of type x.
func convertible(x Type, to *Basic) bool {
	switch to.Kind {
	case Int, Float, F32, I32, U32:
		return isNumeric(x)
	case String:
		k := basicKind(x)
		return isScalar(x) && k != Invalid || k == Bytes
	case Bytes:
		k := basicKind(x)
		return k == String || k == Bytes
	case Bool:
		return isBool(x)
	}
	return identical(x, to, 0)
}
