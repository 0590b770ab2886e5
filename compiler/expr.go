// This file implements the lowering of expressions to register form.

package compiler

import (
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// fnCtx lowers expressions into one [ir.Func]. Names resolve to
// registers (parameters, lambda parameters, kernel locals) through env
// and, in a function scoped to a net, to case variables through vars.
type fnCtx struct {
	l    *lowerer
	b    *ir.FuncBuilder
	file *source.File
	fi   int32
	env  map[check.Object]ir.Reg
	vars map[check.Object]int32 // case variables of the scope net, or nil
}

func (l *lowerer) newCtx(b *ir.FuncBuilder, file *source.File, fi int32, vars map[check.Object]int32) *fnCtx {
	return &fnCtx{l: l, b: b, file: file, fi: fi, env: map[check.Object]ir.Reg{}, vars: vars}
}

func (c *fnCtx) loc(sp source.Span) ir.Loc { return ir.Loc{File: c.fi, Span: sp} }

// at sets the location of the next instructions to n's span.
func (c *fnCtx) at(n source.Spanned) { c.b.At(c.loc(n.Span())) }

func (c *fnCtx) regType(r ir.Reg) ir.TypeID {
	if r < 0 || int(r) >= len(c.b.F.Regs) {
		return ir.Void
	}
	return c.b.F.Regs[r]
}

// typeOfExpr returns the IR type the checker recorded for e.
func (c *fnCtx) typeOfExpr(e syntax.Expr) ir.TypeID { return c.l.typeOf(c.l.info.Types[e]) }

// notImplemented reports e and returns a placeholder register so that
// lowering continues; the diagnostic makes the program unusable.
func (c *fnCtx) notImplemented(n source.Spanned, what string) ir.Reg {
	c.l.notImplemented(c.file, n.Span(), what)
	c.at(n)
	return c.b.Bool(false)
}

// exprTo lowers e and converts it to want where the language converts
// implicitly: a value to an optional of its type. want < 0 means e's own
// type.
func (c *fnCtx) exprTo(e syntax.Expr, want ir.TypeID) ir.Reg {
	if lit, ok := e.(*syntax.BasicLit); ok && lit.Kind == syntax.NoneLit && want >= 0 {
		c.at(e)
		return c.b.Const(want, ir.Const{Kind: ir.ConstNone})
	}
	return c.coerce(c.expr(e), want, e)
}

// coerce wraps r into the optional want when r is not optional.
func (c *fnCtx) coerce(r ir.Reg, want ir.TypeID, n source.Spanned) ir.Reg {
	if want < 0 {
		return r
	}
	p := c.l.prog
	have := c.regType(r)
	if have != want && p.KindOf(want) == ir.KindOptional && p.KindOf(have) != ir.KindOptional {
		c.at(n)
		return c.b.Convert(want, r)
	}
	return r
}

// expr lowers e and returns the register holding its value.
func (c *fnCtx) expr(e syntax.Expr) ir.Reg {
	switch e := e.(type) {
	case *syntax.ParenExpr:
		return c.expr(e.X)
	case *syntax.BasicLit:
		return c.basicLit(e)
	case *syntax.Ident:
		return c.ident(e, c.l.info.Uses[e])
	case *syntax.UnaryExpr:
		x := c.expr(e.X)
		c.at(e)
		switch e.Op {
		case "-":
			return c.b.Unary(ir.UnNeg, c.regType(x), x)
		case "!":
			return c.b.Unary(ir.UnNot, ir.Bool, x)
		}
		return c.notImplemented(e, "operator "+e.Op)
	case *syntax.BinaryExpr:
		return c.binary(e)
	case *syntax.SelectorExpr:
		return c.selector(e)
	case *syntax.IndexExpr:
		x := c.expr(e.X)
		xt := c.l.prog.Type(c.regType(x))
		var want ir.TypeID = -1
		if xt != nil && xt.Kind == ir.KindMap {
			want = xt.Key
		}
		i := c.exprTo(e.Index, want)
		c.at(e)
		return c.b.Index(c.typeOfExpr(e), x, i)
	case *syntax.CallExpr:
		return c.call(e)
	case *syntax.ListLit:
		t := c.typeOfExpr(e)
		var elem ir.TypeID = -1
		if lt := c.l.prog.Type(t); lt != nil && lt.Kind == ir.KindList {
			elem = lt.Elem
		}
		regs := make([]ir.Reg, len(e.Elems))
		for i, x := range e.Elems {
			regs[i] = c.exprTo(x, elem)
		}
		c.at(e)
		return c.b.MakeList(t, regs...)
	case *syntax.MapLit:
		t := c.typeOfExpr(e)
		var kt, vt ir.TypeID = -1, -1
		if mt := c.l.prog.Type(t); mt != nil && mt.Kind == ir.KindMap {
			kt, vt = mt.Key, mt.Elem
		}
		var regs []ir.Reg
		for i := range e.Keys {
			if i >= len(e.Values) {
				break
			}
			regs = append(regs, c.exprTo(e.Keys[i], kt), c.exprTo(e.Values[i], vt))
		}
		c.at(e)
		return c.b.MakeMap(t, regs...)
	case *syntax.RecordLit:
		return c.recordLit(e)
	case *syntax.MilestoneExpr:
		c.at(e)
		return c.b.Milestone(e.Name.Name)
	case *syntax.LambdaExpr:
		return c.notImplemented(e, "a lambda outside a list builtin")
	}
	return c.notImplemented(e, "this expression")
}

// ident lowers a name that denotes obj.
func (c *fnCtx) ident(n source.Spanned, obj check.Object) ir.Reg {
	if r, ok := c.env[obj]; ok {
		return r
	}
	if i, ok := c.vars[obj]; ok {
		c.at(n)
		return c.b.Var(int(i), c.l.typeOf(obj.Type()))
	}
	name := "a name"
	if obj != nil {
		name = "a reference to " + obj.Kind().String() + " " + obj.Name()
	}
	return c.notImplemented(n, name)
}

// basicLit lowers a literal of the type the checker gave it (an int
// literal may be a float, an i32 or a duration factor by context).
func (c *fnCtx) basicLit(e *syntax.BasicLit) ir.Reg {
	t := c.typeOfExpr(e)
	p := c.l.prog
	if p.KindOf(t) == ir.KindOptional {
		t = p.Type(t).Elem
	}
	c.at(e)
	switch e.Kind {
	case syntax.IntLit:
		v, ok := check.ConstInt(e)
		if !ok {
			break
		}
		if k := p.KindOf(t); k == ir.KindFloat || k == ir.KindF32 {
			return c.b.Const(t, ir.Const{Kind: ir.ConstFloat, Float: float64(v)})
		}
		if t == ir.Void {
			t = ir.Int
		}
		return c.b.Const(t, ir.Const{Kind: ir.ConstInt, Int: v})
	case syntax.FloatLit:
		v, err := strconv.ParseFloat(strings.ReplaceAll(e.Value, "_", ""), 64)
		if err != nil {
			break
		}
		if t == ir.Void {
			t = ir.Float
		}
		return c.b.Const(t, ir.Const{Kind: ir.ConstFloat, Float: v})
	case syntax.StringLitKind:
		v, err := strconv.Unquote(e.Value)
		if err != nil {
			break
		}
		return c.b.Str(v)
	case syntax.DurationLit:
		d, err := check.ParseDuration(e.Value)
		if err != nil {
			break
		}
		return c.b.Const(ir.Duration, ir.Const{Kind: ir.ConstInt, Int: int64(d)})
	case syntax.TimeLit:
		tm, err := check.ParseTime(e.Value)
		if err != nil {
			break
		}
		return c.b.Const(ir.Time, ir.Const{Kind: ir.ConstInt, Int: tm.UnixNano()})
	case syntax.BoolLit:
		return c.b.Bool(e.Value == "true")
	case syntax.NoneLit:
		if t := c.typeOfExpr(e); p.KindOf(t) == ir.KindOptional {
			return c.b.Const(t, ir.Const{Kind: ir.ConstNone})
		}
		return c.notImplemented(e, "none without an optional type")
	}
	return c.notImplemented(e, "literal "+e.Value)
}

var binOps = map[string]ir.BinOp{
	"+": ir.BinAdd, "-": ir.BinSub, "*": ir.BinMul, "/": ir.BinDiv, "%": ir.BinRem,
	"==": ir.BinEq, "!=": ir.BinNe, "<": ir.BinLt, "<=": ir.BinLe, ">": ir.BinGt, ">=": ir.BinGe,
	"??": ir.BinCoalesce,
}

func isNone(e syntax.Expr) bool {
	for {
		p, ok := e.(*syntax.ParenExpr)
		if !ok {
			break
		}
		e = p.X
	}
	lit, ok := e.(*syntax.BasicLit)
	return ok && lit.Kind == syntax.NoneLit
}

func (c *fnCtx) binary(e *syntax.BinaryExpr) ir.Reg {
	if e.Op == "&&" || e.Op == "||" {
		return c.shortCircuit(e)
	}
	op, ok := binOps[e.Op]
	if !ok {
		return c.notImplemented(e, "operator "+e.Op+" in an expression")
	}
	var x, y ir.Reg
	switch {
	case isNone(e.X) && !isNone(e.Y):
		y = c.expr(e.Y)
		x = c.exprTo(e.X, c.regType(y))
	case isNone(e.Y):
		x = c.expr(e.X)
		y = c.exprTo(e.Y, c.regType(x))
	case op == ir.BinCoalesce:
		x = c.expr(e.X)
		var elem ir.TypeID = -1
		if t := c.l.prog.Type(c.regType(x)); t != nil && t.Kind == ir.KindOptional {
			elem = t.Elem
		}
		y = c.exprTo(e.Y, elem)
	default:
		x = c.expr(e.X)
		y = c.expr(e.Y)
	}
	c.at(e)
	t := c.typeOfExpr(e)
	if op.IsComparison() {
		t = ir.Bool
	}
	return c.b.Binary(op, t, x, y)
}

// shortCircuit lowers && and || with a branch, so that the right operand
// is evaluated only when it decides the result (len(xs) > 0 && xs[0] ...).
func (c *fnCtx) shortCircuit(e *syntax.BinaryExpr) ir.Reg {
	x := c.expr(e.X)
	c.at(e)
	rhs, _ := c.b.NewBlock()
	short, _ := c.b.NewBlock()
	join, params := c.b.NewBlock(ir.Bool)
	if e.Op == "&&" {
		c.b.Branch(x, rhs, short)
	} else {
		c.b.Branch(x, short, rhs)
	}
	c.b.SetBlock(short)
	c.at(e)
	c.b.Jump(join, c.b.Bool(e.Op == "||"))
	c.b.SetBlock(rhs)
	y := c.expr(e.Y)
	c.at(e)
	c.b.Jump(join, y)
	c.b.SetBlock(join)
	return params[0]
}

// selector lowers x.f: a record field, an enum member, or a name
// qualified by an import.
func (c *fnCtx) selector(e *syntax.SelectorExpr) ir.Reg {
	if ft, ok := c.l.info.Fields[e]; ok {
		if _, isEnum := check.Underlying(ft).(*check.Enum); isEnum {
			t := c.l.typeOf(ft)
			i := c.l.memberIndex(t, e.Sel.Name)
			if i < 0 {
				return c.notImplemented(e, "enum member "+e.Sel.Name)
			}
			c.at(e)
			return c.b.Const(t, ir.Const{Kind: ir.ConstInt, Int: int64(i)})
		}
		x := c.expr(e.X)
		i := c.l.fieldIndex(c.regType(x), e.Sel.Name)
		if i < 0 {
			return c.notImplemented(e, "field "+e.Sel.Name)
		}
		c.at(e)
		return c.b.Field(c.l.prog.Type(c.regType(x)).Fields[i].Type, x, i)
	}
	return c.ident(e, c.l.info.Uses[e.Sel])
}

// recordLit lowers a record literal in the IR's field order. A field the
// literal leaves out is an optional one and is none.
func (c *fnCtx) recordLit(e *syntax.RecordLit) ir.Reg {
	t := c.typeOfExpr(e)
	rt := c.l.prog.Type(t)
	if rt == nil || rt.Kind != ir.KindRecord {
		return c.notImplemented(e, "a record literal of this type")
	}
	fields := append([]ir.Field(nil), rt.Fields...)
	regs := make([]ir.Reg, len(fields))
	for i, f := range fields {
		var init *syntax.FieldInit
		for _, fi := range e.Fields {
			if fi != nil && fi.Name != nil && fi.Name.Name == f.Name {
				init = fi
			}
		}
		if init == nil {
			if c.l.prog.KindOf(f.Type) != ir.KindOptional {
				return c.notImplemented(e, "a record literal without field "+f.Name)
			}
			c.at(e)
			regs[i] = c.b.Const(f.Type, ir.Const{Kind: ir.ConstNone})
			continue
		}
		regs[i] = c.exprTo(init.Value, f.Type)
	}
	c.at(e)
	return c.b.MakeRecord(t, regs...)
}

// callee returns the object a call's function expression denotes.
func (l *lowerer) callee(fun syntax.Expr) check.Object {
	switch f := fun.(type) {
	case *syntax.Ident:
		return l.info.Uses[f]
	case *syntax.SelectorExpr:
		return l.info.Uses[f.Sel]
	case *syntax.ParenExpr:
		return l.callee(f.X)
	}
	return nil
}

// call lowers a call of a fn, kernel, builtin or conversion. Task and
// workflow calls are transitions, not expressions (see stmt.go).
func (c *fnCtx) call(e *syntax.CallExpr) ir.Reg {
	obj := c.l.callee(e.Fun)
	t := c.typeOfExpr(e)
	switch obj := obj.(type) {
	case *check.TypeName:
		if len(e.Args) != 1 {
			return c.notImplemented(e, "this conversion")
		}
		x := c.expr(e.Args[0])
		c.at(e)
		return c.b.Convert(t, x)
	case *check.Callable:
		switch obj.Kind() {
		case check.ObjFunc:
			id, ok := c.l.funcs[obj]
			if !ok {
				return c.notImplemented(e, "a call of fn "+obj.Name())
			}
			args := c.args(e.Args, signatureOf(obj))
			c.at(e)
			return c.b.Call(t, id, args...)
		case check.ObjKernel:
			k, ok := c.l.kernels[obj]
			if !ok {
				return c.notImplemented(e, "a call of kernel "+obj.Name())
			}
			args := c.args(e.Args, signatureOf(obj))
			c.at(e)
			return c.b.CallKernel(t, int(k), args...)
		case check.ObjBuiltin:
			return c.builtin(e, obj.Name(), t)
		}
		return c.notImplemented(e, "a call of "+obj.Kind().String()+" "+obj.Name()+" inside an expression")
	}
	return c.notImplemented(e, "this call")
}

// args lowers call arguments, converting each to its parameter's type.
func (c *fnCtx) args(es []syntax.Expr, sig *check.Signature) []ir.Reg {
	regs := make([]ir.Reg, len(es))
	for i, a := range es {
		var want ir.TypeID = -1
		if sig != nil && i < len(sig.Params) {
			want = c.l.typeOf(sig.Params[i].Type())
		}
		regs[i] = c.exprTo(a, want)
	}
	return regs
}

// builtin lowers a builtin call. A lambda argument is lifted into its own
// function; the registers it reads from the enclosing function are
// captured and passed before its parameter.
func (c *fnCtx) builtin(e *syntax.CallExpr, name string, t ir.TypeID) ir.Reg {
	var args []ir.Reg
	var lam *syntax.LambdaExpr
	for _, a := range e.Args {
		if x, ok := a.(*syntax.LambdaExpr); ok {
			lam = x
			continue
		}
		args = append(args, c.expr(a))
	}
	if name == "contains" && len(args) == 2 {
		if lt := c.l.prog.Type(c.regType(args[0])); lt != nil {
			want := lt.Elem
			if lt.Kind == ir.KindMap {
				want = lt.Key
			}
			args[1] = c.coerce(args[1], want, e)
		}
	}
	if lam == nil {
		c.at(e)
		return c.b.Builtin(t, name, ir.NoFunc, args...)
	}
	id, captures := c.lambda(lam, name)
	c.at(e)
	return c.b.BuiltinCapture(t, name, id, args, captures)
}

// lambda lifts lam into a function whose parameters are the captured
// registers followed by the lambda's own parameters.
func (c *fnCtx) lambda(lam *syntax.LambdaExpr, builtin string) (ir.FuncID, []ir.Reg) {
	var captured []check.Object
	seen := map[check.Object]bool{}
	syntax.Inspect(lam.Body, func(n any) bool {
		if id, ok := n.(*syntax.Ident); ok {
			if o := c.l.info.Uses[id]; o != nil && !seen[o] {
				if _, ok := c.env[o]; ok {
					seen[o] = true
					captured = append(captured, o)
				}
			}
		}
		return true
	})
	var params []ir.Param
	var regs []ir.Reg
	for _, o := range captured {
		params = append(params, ir.Param{Name: o.Name(), Type: c.regType(c.env[o])})
		regs = append(regs, c.env[o])
	}
	var own []check.Object
	for _, p := range lam.Params {
		o := c.l.info.Uses[p]
		own = append(own, o)
		var t ir.TypeID = ir.Void
		if o != nil {
			t = c.l.typeOf(o.Type())
		}
		params = append(params, ir.Param{Name: p.Name, Type: t})
	}
	result := c.l.typeOf(c.l.info.Types[lam])
	if result == ir.Void {
		result = c.typeOfExpr(lam.Body)
	}
	b := ir.NewFunc(c.b.F.Name+"."+builtin, result, params...)
	b.F.Scope = c.b.F.Scope
	b.F.Loc = c.loc(lam.Span())
	inner := c.l.newCtx(b, c.file, c.fi, c.vars)
	for i, o := range captured {
		inner.env[o] = b.Param(i)
	}
	for i, o := range own {
		if o != nil {
			inner.env[o] = b.Param(len(captured) + i)
		}
	}
	r := inner.exprTo(lam.Body, result)
	inner.at(lam.Body)
	b.Return(r)
	return c.l.prog.AddFunc(b.F), regs
}
