// This file implements the lowering of kernels: the body, which computes
// one output element, becomes a function in SSA form whose parameters are
// the kernel's followed by the element index i. Mutable locals become
// block parameters where control flow merges.

package compiler

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// kctx lowers kernel statements. env (in fnCtx) maps each local to the
// register holding its current value; done reports that the current path
// has returned.
type kctx struct {
	*fnCtx
	decl  *syntax.KernelDecl
	elem  ir.TypeID
	order []check.Object // locals in declaration order, for block parameters
	done  bool
}

func (l *lowerer) kernelDecl(k *ir.Kernel, d *syntax.KernelDecl, obj check.Object, file *source.File, fi int32) {
	sig := signatureOf(obj)
	if sig == nil || d.Body == nil {
		l.notImplemented(file, d.Span(), "kernel "+k.Name+" without a signature or body")
		return
	}
	k.Params = l.params(sig.Params)
	k.Result = l.typeOf(sig.Result)
	var elem ir.TypeID = ir.Void
	if t := l.prog.Type(k.Result); t != nil {
		elem = t.Elem
	}
	params := append(append([]ir.Param(nil), k.Params...), ir.Param{Name: "i", Type: ir.I32})
	b := ir.NewFunc(k.Name, elem, params...)
	b.F.Loc = ir.Loc{File: fi, Span: d.Name.Span()}
	kc := &kctx{fnCtx: l.newCtx(b, file, fi, nil), decl: d, elem: elem}
	for i, p := range sig.Params {
		kc.env[p] = b.Param(i)
	}
	// The implicit index i is declared by the kernel itself.
	syntax.Inspect(d.Body, func(n any) bool {
		if id, ok := n.(*syntax.Ident); ok && id.Name == "i" {
			if o := l.info.Uses[id]; o != nil && o.Decl() == source.Spanned(d) {
				kc.env[o] = b.Param(len(sig.Params))
			}
		}
		return true
	})
	kc.stmts(d.Body.Stmts)
	if !kc.done {
		l.notImplemented(file, closing(d.Body), "a kernel path that neither writes out[i] nor returns")
		b.Return(b.Const(elem, zeroConst(l.prog, elem)))
	}
	k.Body = l.prog.AddFunc(b.F)
}

func zeroConst(p *ir.Program, t ir.TypeID) ir.Const {
	switch p.KindOf(t) {
	case ir.KindBool:
		return ir.Const{Kind: ir.ConstBool}
	case ir.KindF32, ir.KindFloat:
		return ir.Const{Kind: ir.ConstFloat}
	}
	return ir.Const{Kind: ir.ConstInt}
}

func (k *kctx) stmts(list []syntax.Stmt) {
	for _, s := range list {
		if k.done {
			return
		}
		k.stmt(s)
	}
}

// isOut reports whether e is out[...], the kernel's output element.
func (k *kctx) isOut(e syntax.Expr) bool {
	ix, ok := e.(*syntax.IndexExpr)
	if !ok {
		return false
	}
	id, ok := ix.X.(*syntax.Ident)
	if !ok || id.Name != "out" {
		return false
	}
	o := k.l.info.Uses[id]
	return o != nil && o.Decl() == source.Spanned(k.decl)
}

func (k *kctx) stmt(s syntax.Stmt) {
	switch s := s.(type) {
	case *syntax.BlockStmt:
		if s.Block != nil {
			k.stmts(s.Block.Stmts)
		}
	case *syntax.LetStmt:
		obj := k.l.info.Defs[s.Name]
		if obj == nil {
			k.notImplemented(s, "this kernel binding")
			return
		}
		k.env[obj] = k.exprTo(s.Value, k.l.typeOf(obj.Type()))
		k.order = append(k.order, obj)
	case *syntax.ExprStmt:
		if s.Value == nil {
			k.notImplemented(s, "this kernel statement")
			return
		}
		if k.isOut(s.X) {
			r := k.exprTo(s.Value, k.elem)
			k.at(s)
			k.b.Return(r)
			k.done = true
			return
		}
		id, ok := s.X.(*syntax.Ident)
		if !ok {
			k.notImplemented(s, "an assignment to this kernel target")
			return
		}
		obj := k.l.info.Uses[id]
		if _, ok := k.env[obj]; !ok {
			k.notImplemented(s, "an assignment to "+id.Name)
			return
		}
		k.env[obj] = k.exprTo(s.Value, k.l.typeOf(obj.Type()))
	case *syntax.ReturnStmt:
		if s.Value == nil {
			k.notImplemented(s, "a return without a value in a kernel")
			return
		}
		r := k.exprTo(s.Value, k.elem)
		k.at(s)
		k.b.Return(r)
		k.done = true
	case *syntax.IfStmt:
		k.ifStmt(s)
	case *syntax.ForStmt:
		k.forStmt(s)
	default:
		k.notImplemented(s, "this statement in a kernel")
	}
}

// snapshot copies the current values of the locals.
func (k *kctx) snapshot() map[check.Object]ir.Reg {
	m := make(map[check.Object]ir.Reg, len(k.env))
	for o, r := range k.env {
		m[o] = r
	}
	return m
}

// mutable lists the locals that may change inside a nested construct:
// every local declared so far (parameters never change).
func (k *kctx) mutable() []check.Object { return append([]check.Object(nil), k.order...) }

// ifStmt lowers if/else with a join block whose parameters are the
// locals' merged values.
func (k *kctx) ifStmt(s *syntax.IfStmt) {
	cond := k.exprTo(s.Cond, ir.Bool)
	k.at(s)
	locals := k.mutable()
	types := make([]ir.TypeID, len(locals))
	for i, o := range locals {
		types[i] = k.regType(k.env[o])
	}
	thenB, _ := k.b.NewBlock()
	elseB, _ := k.b.NewBlock()
	joinB, params := k.b.NewBlock(types...)
	k.b.Branch(cond, thenB, elseB)
	before := k.snapshot()
	order := k.order
	reached := false
	arm := func(blk int, body func()) {
		k.env, k.order, k.done = k.snapshotOf(before), order, false
		k.b.SetBlock(blk)
		body()
		if !k.done {
			args := make([]ir.Reg, len(locals))
			for i, o := range locals {
				args[i] = k.env[o]
			}
			k.at(s)
			k.b.Jump(joinB, args...)
			reached = true
		}
	}
	arm(thenB, func() {
		if s.Then != nil {
			k.stmts(s.Then.Stmts)
		}
	})
	arm(elseB, func() {
		switch {
		case s.ElseIf != nil:
			k.ifStmt(s.ElseIf)
		case s.Else != nil:
			k.stmts(s.Else.Stmts)
		}
	})
	k.env, k.order = k.snapshotOf(before), order
	for i, o := range locals {
		k.env[o] = params[i]
	}
	k.b.SetBlock(joinB)
	k.done = !reached
	if !reached {
		// Both arms returned: the join block is unreachable but must be
		// terminated.
		k.at(s)
		k.b.Return(k.b.Const(k.elem, zeroConst(k.l.prog, k.elem)))
	}
}

func (k *kctx) snapshotOf(m map[check.Object]ir.Reg) map[check.Object]ir.Reg {
	c := make(map[check.Object]ir.Reg, len(m))
	for o, r := range m {
		c[o] = r
	}
	return c
}

// forStmt lowers for j in lo..hi: a head block whose parameters are the
// counter and the locals, a body block and an exit block.
func (k *kctx) forStmt(s *syntax.ForStmt) {
	r, ok := s.Iter.(*syntax.BinaryExpr)
	obj := k.l.info.Defs[s.Var]
	if !ok || r.Op != ".." || obj == nil {
		k.notImplemented(s, "a kernel loop that is not over a range")
		return
	}
	it := k.l.typeOf(obj.Type())
	lo := k.exprTo(r.X, it)
	hi := k.exprTo(r.Y, it)
	k.at(s)
	locals := k.mutable()
	types := []ir.TypeID{it}
	args := []ir.Reg{lo}
	for _, o := range locals {
		types = append(types, k.regType(k.env[o]))
		args = append(args, k.env[o])
	}
	head, params := k.b.NewBlock(types...)
	body, _ := k.b.NewBlock()
	exit, _ := k.b.NewBlock()
	k.b.Jump(head, args...)
	k.b.SetBlock(head)
	k.at(s)
	k.b.Branch(k.b.Binary(ir.BinLt, ir.Bool, params[0], hi), body, exit)
	before := k.snapshot()
	order := k.order
	k.b.SetBlock(body)
	k.env[obj] = params[0]
	for i, o := range locals {
		k.env[o] = params[i+1]
	}
	if s.Body != nil {
		k.stmts(s.Body.Stmts)
	}
	if !k.done {
		k.at(s)
		next := []ir.Reg{k.b.Binary(ir.BinAdd, it, k.env[obj], k.b.Const(it, ir.Const{Kind: ir.ConstInt, Int: 1}))}
		for _, o := range locals {
			next = append(next, k.env[o])
		}
		k.b.Jump(head, next...)
	}
	k.done = false
	k.env, k.order = k.snapshotOf(before), order
	for i, o := range locals {
		k.env[o] = params[i+1]
	}
	k.b.SetBlock(exit)
}
