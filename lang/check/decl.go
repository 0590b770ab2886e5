// This file implements top-level declarations: collecting them into the
// file scope, resolving their signatures, and dispatching their bodies.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// collectDecls declares every top-level name first, so that declarations
// may refer to each other regardless of order.
func (c *checker) collectDecls(f *syntax.File) {
	for _, d := range f.Decls {
		n := d.DeclName()
		if n == nil || n.Value == "" {
			continue
		}
		var o Object
		switch d := d.(type) {
		case *syntax.TypeDecl:
			tn := &TypeName{object: object{name: n.Value, kind: ObjType, file: c.file, span: n.Span(), decl: d}, tdecl: d, pkg: c.pkg}
			tn.typ = &Named{Obj: tn}
			o = tn
		case *syntax.FnDecl:
			o = c.newCallable(n, ObjFunc, d)
		case *syntax.TaskDecl:
			cl := c.newCallable(n, ObjTask, d)
			if d.Binding != nil {
				cl.Binding = d.Binding.Kind()
			}
			o = cl
		case *syntax.KernelDecl:
			o = c.newCallable(n, ObjKernel, d)
		case *syntax.WorkflowDecl:
			o = c.newCallable(n, ObjWorkflow, d)
		default:
			continue
		}
		c.declare(o, n)
	}
}

func (c *checker) newCallable(n *syntax.Name, kind ObjKind, d source.Spanned) *Callable {
	cl := &Callable{object: object{name: n.Value, kind: kind, file: c.file, span: n.Span(), decl: d}}
	if kind == ObjFunc || kind == ObjKernel || kind == ObjWorkflow {
		c.order = append(c.order, cl)
	}
	return cl
}

// declObj returns the object declared by d, if d won its name.
func (c *checker) declObj(d syntax.Decl) Object {
	n := d.DeclName()
	if n == nil {
		return nil
	}
	return c.info.Defs[n]
}

// resolveTypeDecls resolves the right side of every type declaration.
// Duplicates are resolved too, so that errors inside them are reported.
func (c *checker) resolveTypeDecls(f *syntax.File) {
	for _, d := range f.Decls {
		if td, ok := d.(*syntax.TypeDecl); ok {
			if tn, ok := c.declObj(td).(*TypeName); ok && tn.tdecl != nil {
				c.resolveTypeName(tn)
			}
		}
	}
}

// resolveSignatures resolves the parameter and result types of every fn,
// task, kernel and workflow.
func (c *checker) resolveSignatures(f *syntax.File) {
	for _, d := range f.Decls {
		var params []*syntax.Param
		var result *syntax.Type
		switch d := d.(type) {
		case *syntax.FnDecl:
			params, result = d.Params, d.Result
		case *syntax.TaskDecl:
			params, result = d.Params, d.Result
		case *syntax.KernelDecl:
			params, result = d.Params, d.Result
		case *syntax.WorkflowDecl:
			params, result = d.Params, d.Result
		default:
			continue
		}
		cl, ok := c.declObj(d).(*Callable)
		if !ok {
			// A duplicate: still check its types so that errors in them
			// are reported, but bind nothing.
			cl = &Callable{object: object{kind: ObjFunc, file: c.file}}
		}
		sig := &Signature{Params: make([]*Var, 0, len(params)), Result: TypVoid}
		for _, p := range params {
			if p == nil {
				continue
			}
			t := c.typExpr(p.Type)
			v := &Var{object: object{name: nameOf(p.Name), kind: ObjVar, typ: t, file: c.file, span: nameSpan(p.Name, p), decl: p}}
			if p.Name != nil {
				c.info.Defs[p.Name] = v
			}
			sig.Params = append(sig.Params, v)
		}
		if result != nil {
			sig.Result = c.typExpr(result)
		}
		cl.typ = sig
	}
}

// declareParams declares a signature's parameters in the current scope.
func (c *checker) declareParams(sig *Signature) {
	for _, p := range sig.Params {
		if p.name == "" || p.name == "_" {
			continue
		}
		if prev := c.scope.Insert(p); prev != nil {
			d := c.errorf(p.span, source.DuplicateDecl, "duplicate parameter %s", p.name)
			c.related(d, prev, "other declaration of "+p.name)
		}
	}
}

// checkBodies checks every declaration's body in source order.
func (c *checker) checkBodies(f *syntax.File) {
	for _, d := range f.Decls {
		cl, _ := c.declObj(d).(*Callable)
		if cl == nil || cl.typ == nil {
			continue
		}
		c.checkBody(d, cl)
	}
}

// checkBody checks one declaration's body. A malformed tree (one the
// parser does not produce, such as a node with a missing child built by
// another tool) must not crash the editor: a panic is turned into a
// diagnostic on the declaration and checking goes on with the next one.
func (c *checker) checkBody(d syntax.Decl, cl *Callable) {
	defer func() {
		if r := recover(); r != nil {
			c.leave()
			c.errorf(cl.span, source.SyntaxError, "internal error: cannot check malformed declaration %s: %v", cl.name, r)
		}
	}()
	{
		switch d := d.(type) {
		case *syntax.FnDecl:
			c.fnDecl(d, cl)
		case *syntax.TaskDecl:
			c.taskDecl(d, cl)
		case *syntax.KernelDecl:
			c.kernelDecl(d, cl)
		case *syntax.WorkflowDecl:
			c.workflowDecl(d, cl)
		}
	}
}

// enter starts checking the body of cl in a new scope holding its
// parameters; the returned function restores the file scope.
func (c *checker) enter(d source.Spanned, cl *Callable) *bodyCtx {
	c.scope = c.fileScope
	c.openScope(d)
	c.declareParams(cl.Signature())
	c.body = &bodyCtx{kind: cl.kind, obj: cl, result: cl.Signature().Result}
	return c.body
}

func (c *checker) leave() {
	c.scope = c.fileScope
	c.body = nil
}

// fnDecl checks a pure function: its body must have the result type.
func (c *checker) fnDecl(d *syntax.FnDecl, cl *Callable) {
	c.enter(d, cl)
	defer c.leave()
	res := cl.Signature().Result
	if d.Body == nil {
		return
	}
	t := c.value(d.Body, res)
	if !c.assignable(t, res) {
		c.errorf(d.Body.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in the result of fn %s", c.exprString(d.Body), t, res, cl.name)
	}
}
