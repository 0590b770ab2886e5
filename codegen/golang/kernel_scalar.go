// This file implements the scalar translation of kernel bodies: one Go
// function per IR function a kernel runs (its body and the fns it calls),
// computing one element with runtime/eval's arithmetic and errors.

package golang

import (
	"fmt"
	"math"

	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// kgen generates the kernels of one program.
type kgen struct {
	p     *ir.Program
	diags []Diagnostic
	funcs map[ir.FuncID]bool // IR functions emitted as scalar Go functions
	order []ir.FuncID
}

func (g *kgen) errorf(l ir.Loc, format string, args ...any) {
	g.diags = append(g.diags, Diagnostic{Loc: l, Msg: fmt.Sprintf(format, args...)})
}

// kgoType is the Go type of a kernel scalar or array; ok is false for any
// other type.
func (g *kgen) kgoType(t ir.TypeID) (jen.Code, bool) {
	switch g.p.KindOf(t) {
	case ir.KindF32:
		return jen.Float32(), true
	case ir.KindI32:
		return jen.Int32(), true
	case ir.KindU32:
		return jen.Uint32(), true
	case ir.KindBool:
		return jen.Bool(), true
	case ir.KindList:
		if e, ok := g.kgoType(g.p.Type(t).Elem); ok && g.p.KindOf(g.p.Type(t).Elem).IsScalar() {
			return jen.Index().Add(e), true
		}
	}
	return nil, false
}

func kzero(k ir.Kind) jen.Code {
	if k == ir.KindBool {
		return jen.False()
	}
	return jen.Lit(0)
}

// kfuncName is the Go name of IR function f compiled for kernels.
func kfuncName(f ir.FuncID) string { return fmt.Sprintf("kernelFunc%d", f) }

func kreg(r ir.Reg) *jen.Statement { return jen.Id(fmt.Sprintf("r%d", r)) }

// need queues IR function f (and, through its calls, the fns it calls)
// for emission.
func (g *kgen) need(f ir.FuncID) {
	if g.funcs[f] {
		return
	}
	g.funcs[f] = true
	g.order = append(g.order, f)
}

// scalarFunc compiles IR function f into a Go function of the kernel
// scalars and arrays that computes its result or the error runtime/eval
// reports, from the same instruction.
func (g *kgen) scalarFunc(id ir.FuncID) jen.Code {
	fn := g.p.Funcs[id]
	res, ok := g.kgoType(fn.Result)
	if !ok {
		g.errorf(fn.Loc, "%s: result type %s is not a kernel scalar", fn.Name, g.p.TypeString(fn.Result))
		return jen.Null()
	}
	var params []jen.Code
	for i, pa := range fn.Params {
		t, ok := g.kgoType(pa.Type)
		if !ok {
			g.errorf(fn.Loc, "%s: parameter %s has type %s, not a kernel type", fn.Name, pa.Name, g.p.TypeString(pa.Type))
			return jen.Null()
		}
		params = append(params, kreg(ir.Reg(i)).Add(t))
	}
	c := &kfn{g: g, fn: fn, res: g.p.KindOf(fn.Result)}
	used, targets := c.scan()
	var body []jen.Code
	for r, t := range fn.Regs {
		if r < len(fn.Params) || !used[r] {
			continue
		}
		gt, ok := g.kgoType(t)
		if !ok {
			g.errorf(fn.Loc, "%s: register r%d has type %s, which kernels compiled to Go do not have", fn.Name, r, g.p.TypeString(t))
			return jen.Null()
		}
		body = append(body, jen.Var().Add(kreg(ir.Reg(r))).Add(gt))
	}
	c.used = used
	for b, blk := range fn.Blocks {
		if targets[b] {
			body = append(body, jen.Id(fmt.Sprintf("b%d", b)).Op(":"))
		}
		body = append(body, c.block(blk)...)
	}
	return jen.Commentf("%s computes %s for kernels (%s).", kfuncName(id), fn.Name, g.p.Files[max(fn.Loc.File, 0)].Name).Line().
		Func().Id(kfuncName(id)).Params(params...).Params(res, jen.Error()).Block(body...)
}

// kfn compiles one IR function.
type kfn struct {
	g    *kgen
	fn   *ir.Func
	res  ir.Kind
	used []bool
	// bail compiles the uniform part of a column function: a failure
	// returns false, leaving the piece to the scalar loop.
	bail bool
}

// ret returns err from the generated function.
func (c *kfn) ret(err jen.Code) jen.Code {
	if c.bail {
		return jen.Return(jen.False())
	}
	return jen.Return(kzero(c.res), err)
}

// scan returns the registers that are read and the blocks that are jumped
// to (entry excluded), so that no variable or label goes unused.
func (c *kfn) scan() (used, targets []bool) {
	used = make([]bool, len(c.fn.Regs))
	targets = make([]bool, len(c.fn.Blocks))
	for _, blk := range c.fn.Blocks {
		for _, in := range blk.Instrs {
			for _, a := range in.Args {
				used[a] = true
			}
		}
		if blk.Term.Value >= 0 && blk.Term.Op != ir.TermJump {
			used[blk.Term.Value] = true
		}
		for _, s := range blk.Term.Succs {
			targets[s.Block] = true
			for _, a := range s.Args {
				used[a] = true
			}
		}
	}
	return used, targets
}

func (c *kfn) kind(r ir.Reg) ir.Kind { return c.g.p.KindOf(c.fn.Regs[r]) }

// dst is the variable an instruction assigns, or _ when nothing reads it.
func (c *kfn) dst(r ir.Reg) *jen.Statement {
	if !c.used[r] {
		return jen.Id("_")
	}
	return kreg(r)
}

// fail returns, from the generated function, runtime/eval's error for a
// failure of in with message msg (a Go expression of type string).
func (c *kfn) fail(l ir.Loc, msg jen.Code) jen.Code {
	return c.ret(jen.Id("kernelFail").Call(jen.Lit(int(l.File)), jen.Lit(int(l.Span.Start)), jen.Lit(int(l.Span.End)), jen.Lit(c.fn.Name), msg))
}

func (c *kfn) block(blk *ir.Block) []jen.Code {
	var out []jen.Code
	for i := range blk.Instrs {
		out = append(out, c.instr(&blk.Instrs[i])...)
	}
	t := &blk.Term
	switch t.Op {
	case ir.TermReturn:
		out = append(out, jen.Return(kreg(t.Value), jen.Nil()))
	case ir.TermJump:
		out = append(out, c.jump(&t.Succs[0])...)
	case ir.TermBranch:
		out = append(out, jen.If(kreg(t.Value)).Block(c.jump(&t.Succs[0])...))
		out = append(out, c.jump(&t.Succs[1])...)
	default:
		c.g.errorf(t.Loc, "%s: unterminated block", c.fn.Name)
	}
	return out
}

func (c *kfn) jump(s *ir.Succ) []jen.Code {
	var out []jen.Code
	ps := c.fn.Blocks[s.Block].Params
	if len(ps) > 0 {
		var lhs, rhs []jen.Code
		for i, p := range ps {
			lhs = append(lhs, c.dst(p))
			rhs = append(rhs, kreg(s.Args[i]))
		}
		out = append(out, jen.List(lhs...).Op("=").List(rhs...))
	}
	return append(out, jen.Goto().Id(fmt.Sprintf("b%d", s.Block)))
}

// kConst is constant k as a Go constant of kernel kind kd.
func kConst(kd ir.Kind, k ir.Const) (jen.Code, bool) {
	switch kd {
	case ir.KindBool:
		return jen.Lit(k.Bool), k.Kind == ir.ConstBool
	case ir.KindI32:
		return jen.Int32().Call(jen.Lit(int(int32(k.Int)))), k.Kind == ir.ConstInt
	case ir.KindU32:
		return jen.Uint32().Call(jen.Lit(int(uint32(k.Int)))), k.Kind == ir.ConstInt
	case ir.KindF32:
		var f float32
		switch k.Kind {
		case ir.ConstInt:
			f = float32(float64(k.Int))
		case ir.ConstFloat:
			f = float32(k.Float)
		default:
			return nil, false
		}
		return f32Lit(f), true
	}
	return nil, false
}

// f32Lit is f exactly: a literal when it reads back as the same bits,
// else its bits.
func f32Lit(f float32) jen.Code {
	if f == 0 && math.Signbit(float64(f)) || f != f || math.IsInf(float64(f), 0) {
		return jen.Qual("math", "Float32frombits").Call(jen.Lit(math.Float32bits(f)))
	}
	return jen.Float32().Call(jen.Lit(float64(f)))
}

func kBinOp(op ir.BinOp) string {
	switch op {
	case ir.BinAnd:
		return "&&"
	case ir.BinOr:
		return "||"
	}
	return op.String()
}

func (c *kfn) instr(in *ir.Instr) []jen.Code {
	dk := c.kind(in.Dst)
	d := func() *jen.Statement { return c.dst(in.Dst) }
	a := func(i int) *jen.Statement { return kreg(in.Args[i]) }
	switch in.Op {
	case ir.OpConst:
		v, ok := kConst(dk, in.Const)
		if !ok {
			break
		}
		return []jen.Code{d().Op("=").Add(v)}
	case ir.OpIndex:
		if c.kind(in.Args[0]) != ir.KindList {
			break
		}
		j := a(1)
		return []jen.Code{
			jen.If(jen.Add(j).Op("<").Lit(0).Op("||").Int64().Call(j).Op(">=").Int64().Call(jen.Len(a(0)))).Block(
				c.fail(in.Loc, jen.Qual("fmt", "Sprintf").Call(jen.Lit("index %d out of range [0:%d]"), j, jen.Len(a(0)))),
			),
			d().Op("=").Add(a(0)).Index(j),
		}
	case ir.OpBinary:
		return c.binary(in, d)
	case ir.OpUnary:
		op := ir.UnOp(in.Sub)
		switch {
		case op == ir.UnNot && dk == ir.KindBool:
			return []jen.Code{d().Op("=").Op("!").Add(a(0))}
		case op == ir.UnNeg && (dk == ir.KindF32 || dk == ir.KindI32):
			return []jen.Code{d().Op("=").Op("-").Add(a(0))}
		}
	case ir.OpConvert:
		return c.convert(in, d)
	case ir.OpCallBuiltin:
		return c.builtin(in, d)
	case ir.OpCallFunc:
		f := ir.FuncID(in.Callee)
		if f < 0 || int(f) >= len(c.g.p.Funcs) {
			break
		}
		c.g.need(f)
		var args []jen.Code
		for i := range in.Args {
			args = append(args, a(i))
		}
		return []jen.Code{jen.Block(
			jen.List(jen.Id("v"), jen.Id("err")).Op(":=").Id(kfuncName(f)).Call(args...),
			jen.If(jen.Id("err").Op("!=").Nil()).Block(c.ret(jen.Id("err"))),
			d().Op("=").Id("v"),
		)}
	}
	c.g.errorf(in.Loc, "%s: the Go back end cannot compile %s to %s in a kernel", c.fn.Name, in.Op, c.g.p.TypeString(c.fn.Regs[in.Dst]))
	return nil
}

func (c *kfn) binary(in *ir.Instr, d func() *jen.Statement) []jen.Code {
	op := ir.BinOp(in.Sub)
	x, y := kreg(in.Args[0]), kreg(in.Args[1])
	k := c.kind(in.Args[0])
	switch {
	case op.IsComparison() || ((op == ir.BinAnd || op == ir.BinOr) && k == ir.KindBool):
		return []jen.Code{d().Op("=").Add(x).Op(kBinOp(op)).Add(y)}
	case k == ir.KindF32 && op >= ir.BinAdd && op <= ir.BinDiv:
		// The conversion keeps Go from fusing a multiply and an add,
		// which would round once where runtime/eval rounds twice.
		return []jen.Code{d().Op("=").Float32().Call(jen.Add(x).Op(op.String()).Add(y))}
	case (k == ir.KindI32 || k == ir.KindU32) && op >= ir.BinAdd && op <= ir.BinMul:
		return []jen.Code{d().Op("=").Add(x).Op(op.String()).Add(y)}
	case (k == ir.KindI32 || k == ir.KindU32) && (op == ir.BinDiv || op == ir.BinRem):
		// Go's int32 division wraps MinInt32 / -1 as runtime/eval does.
		return []jen.Code{
			jen.If(jen.Add(y).Op("==").Lit(0)).Block(c.fail(in.Loc, jen.Lit("integer division by zero"))),
			d().Op("=").Add(x).Op(op.String()).Add(y),
		}
	}
	c.g.errorf(in.Loc, "%s: the Go back end cannot compile %s on %s in a kernel", c.fn.Name, op, k)
	return nil
}

func (c *kfn) convert(in *ir.Instr, d func() *jen.Statement) []jen.Code {
	x := kreg(in.Args[0])
	from, to := c.kind(in.Args[0]), c.kind(in.Dst)
	bounds := map[ir.Kind][2]float64{ir.KindI32: {math.MinInt32, 1 << 31}, ir.KindU32: {0, 1 << 32}}
	switch {
	case from == to:
		return []jen.Code{d().Op("=").Add(x)}
	case to == ir.KindF32 && (from == ir.KindI32 || from == ir.KindU32):
		return []jen.Code{d().Op("=").Float32().Call(jen.Float64().Call(x))}
	case from == ir.KindF32 && (to == ir.KindI32 || to == ir.KindU32):
		b := bounds[to]
		gt, _ := c.g.kgoType(c.fn.Regs[in.Dst])
		return []jen.Code{jen.Block(
			jen.Id("t").Op(":=").Qual("math", "Trunc").Call(jen.Float64().Call(x)),
			jen.If(jen.Id("t").Op("!=").Id("t").Op("||").Id("t").Op("<").Lit(b[0]).Op("||").Id("t").Op(">=").Lit(b[1])).Block(
				c.fail(in.Loc, jen.Qual("fmt", "Sprintf").Call(jen.Lit("cannot convert %s to "+to.String()+": out of range"),
					jen.Qual("strconv", "FormatFloat").Call(jen.Float64().Call(x), jen.LitRune('g'), jen.Lit(-1), jen.Lit(64)))),
			),
			d().Op("=").Add(gt).Call(jen.Int64().Call(jen.Id("t"))),
		)}
	case (from == ir.KindI32 || from == ir.KindU32) && (to == ir.KindI32 || to == ir.KindU32):
		b := bounds[to]
		gt, _ := c.g.kgoType(c.fn.Regs[in.Dst])
		return []jen.Code{
			jen.If(jen.Int64().Call(x).Op("<").Lit(int64(b[0])).Op("||").Int64().Call(x).Op(">=").Lit(int64(b[1]))).Block(
				c.fail(in.Loc, jen.Qual("fmt", "Sprintf").Call(jen.Lit("cannot convert %d to "+to.String()+": out of range"), x)),
			),
			d().Op("=").Add(gt).Call(x),
		}
	}
	c.g.errorf(in.Loc, "%s: the Go back end cannot convert %s to %s in a kernel", c.fn.Name, from, to)
	return nil
}

func (c *kfn) builtin(in *ir.Instr, d func() *jen.Statement) []jen.Code {
	k := c.kind(in.Dst)
	x := kreg(in.Args[0])
	if in.Callee >= 0 {
		c.g.errorf(in.Loc, "%s: the Go back end cannot compile %s with a function in a kernel", c.fn.Name, in.Name)
		return nil
	}
	switch {
	case k == ir.KindF32 && (in.Name == "exp" || in.Name == "log" || in.Name == "sqrt"):
		f := map[string]string{"exp": "Exp", "log": "Log", "sqrt": "Sqrt"}[in.Name]
		return []jen.Code{d().Op("=").Float32().Call(jen.Qual("math", f).Call(jen.Float64().Call(x)))}
	case in.Name == "abs" && k == ir.KindF32:
		return []jen.Code{d().Op("=").Qual("math", "Float32frombits").Call(jen.Qual("math", "Float32bits").Call(x).Op("&^").Parens(jen.Lit(1).Op("<<").Lit(31)))}
	case in.Name == "abs" && k == ir.KindI32:
		return []jen.Code{d().Op("=").Add(x), jen.If(jen.Add(x).Op("<").Lit(0)).Block(d().Op("=").Op("-").Add(x))}
	case in.Name == "abs" && k == ir.KindU32:
		return []jen.Code{d().Op("=").Add(x)}
	case (in.Name == "min" || in.Name == "max") && k == ir.KindF32:
		f := map[string]string{"min": "Min", "max": "Max"}[in.Name]
		return []jen.Code{d().Op("=").Float32().Call(jen.Qual("math", f).Call(jen.Float64().Call(x), jen.Float64().Call(kreg(in.Args[1]))))}
	case (in.Name == "min" || in.Name == "max") && (k == ir.KindI32 || k == ir.KindU32):
		// runtime/eval keeps the first operand on a tie.
		cmp := "<="
		if in.Name == "max" {
			cmp = ">="
		}
		y := kreg(in.Args[1])
		return []jen.Code{jen.If(jen.Add(x).Op(cmp).Add(y)).Block(d().Op("=").Add(x)).Else().Block(d().Op("=").Add(y))}
	}
	c.g.errorf(in.Loc, "%s: the Go back end cannot compile builtin %s on %s in a kernel", c.fn.Name, in.Name, k)
	return nil
}
