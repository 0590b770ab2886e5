// This file implements kernel declarations: data-parallel functions that
// compile to Go, SPIR-V and HLS C++, and so may only use kernel scalar
// types, constant-bound loops and no effects or recursion.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

func (c *checker) kernelDecl(d *syntax.KernelDecl, cl *Callable) {
	sig := cl.Signature()
	hasArray := false
	for i, p := range sig.Params {
		if isKernelArray(p.typ) {
			hasArray = true
			continue
		}
		if !isKernelScalar(p.typ) && i < len(d.Params) && d.Params[i] != nil {
			c.errorf(nodeSpan(typeNode(d.Params[i].Type), d.Params[i]), source.BadKernel, "kernel parameter %s has type %s; kernels take f32, i32, u32, bool or arrays of them", p.name, p.typ)
		}
	}
	var elem Type = TypInvalid
	if l, ok := Underlying(sig.Result).(*List); ok && isKernelScalar(l.Elem) {
		elem = l.Elem
	} else if !isInvalid(sig.Result) && d.Result != nil {
		c.errorf(d.Result.Span(), source.BadKernel, "kernel result must be an array of f32, i32, u32 or bool, found %s", sig.Result)
	}
	if !hasArray && d.Name != nil {
		c.errorf(d.Name.Span(), source.BadKernel, "kernel %s needs an array parameter: the output has the length of the first one", cl.name)
	}

	b := c.enter(d, cl)
	defer c.leave()
	// The implicit index i and output out come first, so a parameter with
	// either name is reported as a duplicate.
	implicit := func(name string, t Type, mutable bool) *Var {
		return &Var{object: object{name: name, kind: ObjVar, typ: t, file: c.file, span: cl.span, decl: d}, Mutable: mutable}
	}
	idx := implicit("i", TypI32, false)
	b.out = implicit("out", &List{Elem: elem}, true)
	for _, p := range sig.Params {
		if p.name == "i" || p.name == "out" {
			c.errorf(p.span, source.DuplicateDecl, "kernel parameter %s conflicts with the kernel's implicit %s", p.name, p.name)
		}
	}
	c.scope.Insert(idx)
	c.scope.Insert(b.out)
	if d.Body == nil {
		return
	}
	c.info.Scopes[d.Body] = c.scope
	term := c.stmts(d.Body.Stmts)
	if !term && !b.wrote {
		c.errorf(closingBrace(d.Body), source.MissingReturn, "missing return: kernel %s neither writes out[i] nor returns a value on every path", cl.name)
	}
	c.unusedVars()
}

// typeNode converts a possibly nil type to a Spanned without a typed nil.
func typeNode(t *syntax.Type) source.Spanned {
	if t == nil {
		return nil
	}
	return t
}
