// This file implements funcs.go of the generated package: every
// [ir.Func] as a Go function over eval.Value, instruction by instruction.

package golang

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

func (g *gen) funcsFile() *jen.File {
	f := jen.NewFile(g.opts.Package)
	header(f)
	var table []jen.Code
	var bodies []jen.Code
	for i, fn := range g.p.Funcs {
		if fn == nil {
			g.errorf(ir.NoLoc, "function %d is missing", i)
			continue
		}
		bodies = append(bodies, g.function(i, fn), jen.Line())
		table = append(table, g.entry(i, fn))
	}
	f.Comment("funcs is the table of compiled functions, by function index.")
	f.Var().Id("funcs").Op("=").Index(jen.Lit(len(table))).Qual(hostPath, "NativeFunc").Values(table...)
	f.Line()
	for _, b := range bodies {
		f.Add(b)
	}
	for _, h := range g.convHelpers() {
		f.Add(h)
	}
	gathers := make([]string, 0, len(g.gathers))
	for name := range g.gathers {
		gathers = append(gathers, name)
	}
	sort.Strings(gathers)
	for _, name := range gathers {
		f.Add(g.gathers[name])
	}
	// The table of source locations comes last: it is filled while the
	// bodies are generated.
	locs := make([]jen.Code, len(g.locs))
	for i, l := range g.locs {
		locs[i] = jen.Values(jen.Dict{
			jen.Id("File"): jen.Lit(int(l.File)),
			jen.Id("Span"): jen.Qual(sourcePath, "Span").Values(jen.Dict{
				jen.Id("Start"): jen.Lit(int(l.Span.Start)),
				jen.Id("End"):   jen.Lit(int(l.Span.End)),
			}),
		})
	}
	f.Comment("locs are the source locations errors report, as in the IR.")
	f.Var().Id("locs").Op("=").Index(jen.Op("...")).Qual(irPath, "Loc").Values(locs...)
	return f
}

// funcName is the Go name of function i.
func (g *gen) funcName(i int) string {
	fn := g.p.Funcs[i]
	var b strings.Builder
	for _, r := range fn.Name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return fmt.Sprintf("f%d_%s", i, strings.Trim(b.String(), "_"))
}

// entry is function i's element of the table: it checks the number of
// arguments as the register machine does and calls the function.
func (g *gen) entry(i int, fn *ir.Func) jen.Code {
	args := make([]jen.Code, 0, len(fn.Params)+1)
	args = append(args, jen.Id("n"))
	for j, pa := range fn.Params {
		args = append(args, g.unbox(jen.Id("a").Index(jen.Lit(j)), g.rep(pa.Type)))
	}
	call := []jen.Code{jen.Return(jen.Id(g.funcName(i)).Call(args...))}
	if res := g.rep(fn.Result); res != "" {
		// The result leaves its Go representation here, at the edge.
		call = []jen.Code{
			jen.List(jen.Id("x"), jen.Err()).Op(":=").Id(g.funcName(i)).Call(args...),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(zeroValue(), jen.Err())),
			jen.Return(g.box(jen.Id("x"), res), jen.Nil()),
		}
	}
	return jen.Func().Params(jen.Id("n").Op("*").Qual(evalPath, "Native"), jen.Id("a").Index().Qual(evalPath, "Value")).Params(jen.Qual(evalPath, "Value"), jen.Error()).Block(
		append([]jen.Code{jen.If(jen.Len(jen.Id("a")).Op("!=").Lit(len(fn.Params))).Block(
			jen.Return(jen.Qual(evalPath, "Value").Values(), jen.Id("n").Dot("Arity").Call(jen.Lit(fn.Name), g.loc(fn.Loc), jen.Lit(len(fn.Params)), jen.Len(jen.Id("a")))),
		)}, call...)...,
	)
}

// fnGen compiles one function.
type fnGen struct {
	*gen
	fn     *ir.Func
	name   jen.Code          // the function's name, a string literal
	used   []bool            // registers read somewhere
	target []bool            // blocks jumped to
	errUse bool              // whether the body declares err
	tmpUse bool              // whether the body declares tmp, a Value on its way into a typed register
	line   string            // the source line of the last comment written
	leaf   bool              // calls no function (see leaf)
	sel    map[ir.Reg]string // registers holding a selection, by element representation (see findSels)
	consts map[ir.Reg]int64  // registers holding an int constant (see constInt)
	defs   map[ir.Reg]int    // definitions of each register (see definedOnce)
}

// leaf reports whether fn calls no function, directly or through a
// builtin's lambda: then nothing in it reads the call depth.
func leaf(fn *ir.Func) bool {
	for _, blk := range fn.Blocks {
		for _, in := range blk.Instrs {
			if in.Op == ir.OpCallFunc || (in.Op == ir.OpCallBuiltin && in.Callee >= 0) {
				return false
			}
		}
	}
	return true
}

func reg(r ir.Reg) *jen.Statement { return jen.Id(fmt.Sprintf("r%d", r)) }

func zeroValue() *jen.Statement { return jen.Qual(evalPath, "Value").Values() }

func (g *gen) function(i int, fn *ir.Func) jen.Code {
	c := &fnGen{gen: g, fn: fn, name: jen.Lit(fn.Name), used: make([]bool, len(fn.Regs)), target: make([]bool, len(fn.Blocks))}
	what := fn.Name
	params := []jen.Code{jen.Id("n").Op("*").Qual(evalPath, "Native")}
	for j, pa := range fn.Params {
		params = append(params, reg(ir.Reg(j)).Add(goRegType(g.rep(pa.Type))))
	}
	res := goRegType(g.rep(fn.Result))
	comment := fmt.Sprintf("%s compiles %s (%s).", g.funcName(i), what, g.pos(fn.Loc))
	if len(fn.Blocks) == 0 {
		return jen.Comment(comment).Line().Func().Id(g.funcName(i)).Params(params...).Params(res, jen.Error()).Block(
			jen.Return(c.zero(), jen.Op("&").Qual(evalPath, "Error").Values(jen.Dict{
				jen.Id("Loc"): g.loc(fn.Loc), jen.Id("Func"): c.name, jen.Id("Msg"): jen.Lit(fn.Name + " has no body"),
			})),
		)
	}
	before := len(g.diags)
	reach := c.scan()
	if len(g.diags) > before {
		return jen.Null() // reported; nothing is generated
	}
	c.findSels()
	var body []jen.Code
	// A function that calls nothing checks the nesting bound without
	// entering a level: no callee reads the level it would have set.
	enter := "Enter"
	if c.leaf = leaf(fn); c.leaf {
		enter = "Check"
	}
	body = append(body, jen.If(jen.Err().Op(":=").Id("n").Dot(enter).Call(c.name, g.loc(fn.Loc)), jen.Err().Op("!=").Nil()).Block(
		jen.Return(c.zero(), jen.Err()),
	))
	decl := map[string][]jen.Code{}
	for r := len(fn.Params); r < len(fn.Regs); r++ {
		if c.used[r] {
			t := c.nt(ir.Reg(r))
			if e, ok := c.sel[ir.Reg(r)]; ok {
				t = "sel " + e
			}
			decl[t] = append(decl[t], reg(ir.Reg(r)))
		}
	}
	var blocks []jen.Code
	for b, blk := range fn.Blocks {
		if !reach[b] {
			continue
		}
		blocks = append(blocks, c.block(b, blk)...)
	}
	reps := []string{"", "bool", "int64", "float64", "string"}
	var comps []string
	for t := range decl {
		if composite(t) {
			comps = append(comps, t)
		}
	}
	sort.Strings(comps)
	for _, t := range append(reps, comps...) {
		if len(decl[t]) == 0 {
			continue
		}
		if e, ok := strings.CutPrefix(t, "sel "); ok {
			body = append(body, jen.Var().List(decl[t]...).Add(selType(e)))
			continue
		}
		body = append(body, jen.Var().List(decl[t]...).Add(goRegType(t)))
	}
	if c.tmpUse {
		body = append(body, jen.Var().Id("tmp").Qual(evalPath, "Value"))
	}
	if c.errUse {
		body = append(body, jen.Var().Err().Error())
	}
	body = append(body, blocks...)
	return jen.Comment(comment).Line().Func().Id(g.funcName(i)).Params(params...).Params(res, jen.Error()).Block(body...)
}

// scan records the registers read, the blocks jumped to and the blocks
// reachable from the entry, and reports what it cannot compile.
func (c *fnGen) scan() []bool {
	use := func(r ir.Reg) {
		if r >= 0 && int(r) < len(c.used) {
			c.used[r] = true
		}
	}
	reach := make([]bool, len(c.fn.Blocks))
	work := []int{0}
	reach[0] = true
	for len(work) > 0 {
		b := work[len(work)-1]
		work = work[:len(work)-1]
		blk := c.fn.Blocks[b]
		for _, in := range blk.Instrs {
			for _, a := range in.Args {
				use(a)
			}
			c.checkInstr(&in)
		}
		if blk.Term.Op == ir.TermBranch || blk.Term.Op == ir.TermReturn {
			use(blk.Term.Value)
		}
		if blk.Term.Op == ir.TermInvalid {
			c.errorf(blk.Term.Loc, "cannot compile %s: unterminated block", c.fn.Name)
		}
		for _, s := range blk.Term.Succs {
			if s.Block < 0 || int(s.Block) >= len(c.fn.Blocks) {
				c.errorf(blk.Term.Loc, "cannot compile %s: jump to a missing block", c.fn.Name)
				continue
			}
			if len(s.Args) != len(c.fn.Blocks[s.Block].Params) {
				c.errorf(blk.Term.Loc, "cannot compile %s: wrong number of block arguments", c.fn.Name)
			}
			c.target[s.Block] = true
			for _, a := range s.Args {
				use(a)
			}
			if !reach[s.Block] {
				reach[s.Block] = true
				work = append(work, int(s.Block))
			}
		}
	}
	return reach
}

// checkInstr reports an instruction the back end cannot compile.
func (c *fnGen) checkInstr(in *ir.Instr) {
	switch in.Op {
	case ir.OpCallFunc:
		if in.Callee < 0 || int(in.Callee) >= len(c.p.Funcs) || c.p.Funcs[in.Callee] == nil {
			c.errorf(in.Loc, "cannot compile a call of missing function %d", in.Callee)
		} else if len(c.p.Funcs[in.Callee].Params) != len(in.Args) {
			c.errorf(in.Loc, "cannot compile a call of %s with %d arguments", c.p.Funcs[in.Callee].Name, len(in.Args))
		}
	case ir.OpCallBuiltin:
		if in.Callee >= 0 {
			if int(in.Callee) >= len(c.p.Funcs) || c.p.Funcs[in.Callee] == nil {
				c.errorf(in.Loc, "cannot compile %s: missing lambda %d", in.Name, in.Callee)
			} else if len(c.p.Funcs[in.Callee].Params) != len(in.Args)-int(in.Index)+1 {
				c.errorf(in.Loc, "cannot compile %s: its lambda takes %d arguments", in.Name, len(c.p.Funcs[in.Callee].Params))
			}
		}
		if in.Index < 0 || int(in.Index) > len(in.Args) {
			c.errorf(in.Loc, "cannot compile %s: bad operand count %d", in.Name, in.Index)
		}
	case ir.OpInvalid:
		c.errorf(in.Loc, "cannot compile an invalid instruction")
	default:
		if in.Op >= ir.OpSetIndex+1 {
			c.errorf(in.Loc, "cannot compile instruction %s", in.Op)
		}
	}
	if in.Dst < 0 || int(in.Dst) >= len(c.fn.Regs) {
		c.errorf(in.Loc, "cannot compile %s: result register %d out of range", in.Op, in.Dst)
	}
}

func (c *fnGen) kind(r ir.Reg) ir.Kind { return c.p.KindOf(c.fn.Regs[r]) }

// fail is the error return after an operation that may fail at in.
func (c *fnGen) fail(in *ir.Instr) jen.Code {
	c.errUse = true
	return jen.If(jen.Err().Op("!=").Nil()).Block(
		jen.Return(c.zero(), jen.Qual(evalPath, "At").Call(jen.Err(), c.name, c.loc(in.Loc))),
	)
}

// block compiles block b.
func (c *fnGen) block(b int, blk *ir.Block) []jen.Code {
	var out []jen.Code
	label := fmt.Sprintf("b%d", b)
	first := true
	add := func(s jen.Code) {
		if first && c.target[b] {
			out = append(out, jen.Id(label).Op(":").Add(s))
		} else {
			out = append(out, s)
		}
		first = false
	}
	for i := range blk.Instrs {
		in := &blk.Instrs[i]
		// Steps are charged a segment at a time: the instructions up to
		// the next one that calls a function or may charge for what it
		// built. Within a segment nothing else changes the count, so
		// running out fails at the instruction the register machine
		// would fail at (StepFail picks it).
		if i == 0 || c.boundary(&blk.Instrs[i-1]) {
			j := i + 1
			for j < len(blk.Instrs) && !c.boundary(&blk.Instrs[j-1]) {
				j++
			}
			locs := make([]ir.Loc, j-i)
			for k := range locs {
				locs[k] = blk.Instrs[i+k].Loc
			}
			a := c.locRun(locs)
			add(jen.If(jen.Id("n").Dot("Over").Call(jen.Lit(j - i))).Block(
				jen.Return(c.zero(), jen.Id("n").Dot("StepFail").Call(c.name, jen.Id("locs").Index(jen.Lit(a).Op(":").Lit(a+j-i)))),
			))
		}
		// The source line, where it changes: what each stretch of Go
		// computes.
		if c.opts.Pos != nil && in.Loc.Known() {
			if p := c.pos(in.Loc); p != c.line {
				c.line = p
				add(jen.Comment(p))
			}
		}
		for _, s := range c.instr(in) {
			add(s)
		}
	}
	for _, s := range c.term(&blk.Term) {
		add(s)
	}
	return out
}

// boundary reports whether in ends a segment of step charges: a call
// (whose callee counts steps while in runs) or an operation the register
// machine charges for the aggregate or string it builds.
func (c *fnGen) boundary(in *ir.Instr) bool {
	switch in.Op {
	case ir.OpCallFunc, ir.OpCallKernel, ir.OpCallBuiltin, ir.OpSetField, ir.OpSetIndex:
		return true
	case ir.OpBinary:
		k := c.kind(in.Dst)
		return !k.IsScalar() || k == ir.KindString || k == ir.KindBytes
	}
	return false
}

// assign is dst = v for an operation that cannot fail; v is a Value.
func (c *fnGen) assign(in *ir.Instr, v jen.Code) []jen.Code {
	if !c.used[in.Dst] {
		return nil // pure, and nothing reads it
	}
	return []jen.Code{reg(in.Dst).Op("=").Add(c.unbox(v, c.nt(in.Dst)))}
}

// assignNative is dst = v for v of Go type t (a typed register's type).
func (c *fnGen) assignNative(in *ir.Instr, v jen.Code, t string) []jen.Code {
	if !c.used[in.Dst] {
		return nil
	}
	if c.nt(in.Dst) == t {
		return []jen.Code{reg(in.Dst).Op("=").Add(v)}
	}
	return []jen.Code{reg(in.Dst).Op("=").Add(c.conv(v, t, c.nt(in.Dst)))}
}

// try is dst, err = v for an operation that may fail (v is a Value),
// then the error check, then, when charge is set, the charge for an
// aggregate or string it built (the register machine charges it even
// when nothing reads it).
func (c *fnGen) try(in *ir.Instr, v jen.Code, charge bool) []jen.Code {
	c.errUse = true
	k := c.kind(in.Dst)
	charge = charge && (!k.IsScalar() || k == ir.KindString || k == ir.KindBytes)
	t := c.nt(in.Dst)
	if !c.used[in.Dst] && !charge {
		return []jen.Code{jen.List(jen.Id("_"), jen.Err()).Op("=").Add(v), c.fail(in)}
	}
	if t == "" && c.used[in.Dst] {
		out := []jen.Code{jen.List(reg(in.Dst), jen.Err()).Op("=").Add(v), c.fail(in)}
		if charge {
			out = append(out, jen.Id("n").Dot("Charge").Call(reg(in.Dst)))
		}
		return out
	}
	c.tmpUse = true
	out := []jen.Code{jen.List(jen.Id("tmp"), jen.Err()).Op("=").Add(v), c.fail(in)}
	if charge {
		out = append(out, jen.Id("n").Dot("Charge").Call(jen.Id("tmp")))
	}
	if c.used[in.Dst] {
		out = append(out, reg(in.Dst).Op("=").Add(c.unbox(jen.Id("tmp"), t)))
	}
	return out
}

// tryAs is try for an operation whose result v is a Go value of
// representation t rather than a Value: a compiled function's call, a
// builtin over a slice.
func (c *fnGen) tryAs(in *ir.Instr, v jen.Code, t string, charge bool) []jen.Code {
	if t == "" {
		return c.try(in, v, charge)
	}
	c.errUse = true
	k := c.kind(in.Dst)
	charge = charge && (!k.IsScalar() || k == ir.KindString || k == ir.KindBytes)
	dt := c.nt(in.Dst)
	if !charge && (!c.used[in.Dst] || dt == t) {
		d := jen.Id("_")
		if c.used[in.Dst] {
			d = reg(in.Dst)
		}
		return []jen.Code{jen.List(d, jen.Err()).Op("=").Add(v), c.fail(in)}
	}
	// In a block of its own, so that a goto may jump over it.
	body := []jen.Code{jen.Var().Id("v").Add(goRegType(t)), jen.List(jen.Id("v"), jen.Err()).Op("=").Add(v), c.fail(in)}
	if charge {
		body = append(body, c.chargeOf(jen.Id("v"), t))
	}
	if c.used[in.Dst] {
		body = append(body, reg(in.Dst).Op("=").Add(c.conv(jen.Id("v"), t, dt)))
	}
	return []jen.Code{jen.Block(body...)}
}

// chargeOf charges for v, a Go value of representation t, what
// Native.Charge charges for its Value.
func (c *fnGen) chargeOf(v jen.Code, t string) jen.Code {
	switch {
	case t == "string":
		return jen.Id("n").Dot("ChargeLen").Call(jen.Len(v).Op("/").Lit(16))
	case strings.HasPrefix(t, "[]"):
		return jen.Id("n").Dot("ChargeLen").Call(jen.Len(v))
	}
	return jen.Id("n").Dot("ChargeLen").Call(jen.Lit(len(c.p.Type(c.repType[t]).Fields)))
}

func (c *fnGen) nt(r ir.Reg) string { return c.rep(c.fn.Regs[r]) }

// zero is the zero of the function's result, returned with an error.
func (c *fnGen) zero() jen.Code { return zeroOf(c.rep(c.fn.Result)) }

// val is register r as a Value.
func (c *fnGen) val(r ir.Reg) jen.Code { return c.box(reg(r), c.nt(r)) }

// as is register r as Go type t ("" for a Value).
func (c *fnGen) as(r ir.Reg, t string) jen.Code {
	return c.conv(reg(r), c.nt(r), t)
}

// vals is registers rs as Values.
func (c *fnGen) vals(rs []ir.Reg) []jen.Code {
	out := make([]jen.Code, len(rs))
	for i, r := range rs {
		out[i] = c.val(r)
	}
	return out
}

// callArgs are the arguments of a call of function f: registers rs
// then extra, each in the Go type of f's parameter.
func (c *fnGen) callArgs(f ir.FuncID, rs []ir.Reg, extra ...jen.Code) []jen.Code {
	callee := c.p.Funcs[f]
	out := []jen.Code{jen.Id("n")}
	for i, r := range rs {
		out = append(out, c.as(r, c.rep(callee.Params[i].Type)))
	}
	out = append(out, extra...)
	return out
}

func args(rs []ir.Reg) []jen.Code {
	out := make([]jen.Code, len(rs))
	for i, r := range rs {
		out[i] = reg(r)
	}
	return out
}

// instr compiles one instruction.
func (c *fnGen) instr(in *ir.Instr) []jen.Code {
	switch in.Op {
	case ir.OpConst:
		if t := c.nt(in.Dst); t != "" {
			if v := nativeConst(t, in.Const); v != nil {
				return c.assignNative(in, v, t)
			}
		}
		return c.assign(in, c.constant(c.fn.Regs[in.Dst], in.Const))
	case ir.OpVar:
		return c.try(in, jen.Id("n").Dot("Var").Call(c.name, jen.Id("n").Dot("Prog").Dot("Funcs").Index(jen.Lit(c.index())), jen.Lit(int(in.Index))), false)
	case ir.OpBinary:
		op, x, y := ir.BinOp(in.Sub), in.Args[0], in.Args[1]
		if v, t := c.fastBinary(op, x, y); v != nil {
			return c.assignNative(in, v, t)
		}
		if c.fn.Regs[x] == ir.Int && c.fn.Regs[y] == ir.Int && c.nt(in.Dst) == "int64" {
			if v := c.divConst(op, x, y); v != nil {
				return c.assignNative(in, v, "int64")
			}
			switch op {
			case ir.BinAdd, ir.BinSub, ir.BinMul, ir.BinDiv, ir.BinRem:
				// Checked integer arithmetic on typed registers.
				c.errUse = true
				d := jen.Id("_")
				if c.used[in.Dst] {
					d = reg(in.Dst)
				}
				return []jen.Code{jen.List(d, jen.Err()).Op("=").Qual(evalPath, "IntOp").Call(binOp(op), reg(x), reg(y)), c.fail(in)}
			}
		}
		return c.try(in, jen.Qual(evalPath, "Binary").Call(binOp(op), c.val(x), c.val(y)), true)
	case ir.OpUnary:
		x := in.Args[0]
		switch {
		case ir.UnOp(in.Sub) == ir.UnNot && c.fn.Regs[x] == ir.Bool:
			return c.assignNative(in, jen.Op("!").Add(c.as(x, "bool")), "bool")
		case ir.UnOp(in.Sub) == ir.UnNeg && c.fn.Regs[x] == ir.Float:
			return c.assignNative(in, jen.Op("-").Add(c.as(x, "float64")), "float64")
		}
		return c.try(in, jen.Qual(evalPath, "Unary").Call(unOp(ir.UnOp(in.Sub)), c.val(x)), false)
	case ir.OpConvert:
		x := in.Args[0]
		if c.kind(in.Dst) == ir.KindOptional {
			return c.assign(in, c.val(x))
		}
		if c.fn.Regs[x] == ir.Int && c.fn.Regs[in.Dst] == ir.Float {
			return c.assignNative(in, jen.Float64().Call(c.as(x, "int64")), "float64")
		}
		if c.fn.Regs[x] == c.fn.Regs[in.Dst] && c.nt(x) != "" {
			return c.assignNative(in, reg(x), c.nt(x)) // the register machine returns x itself
		}
		return c.try(in, jen.Id("n").Dot("Convert").Call(c.val(x), jen.Qual(irPath, "TypeID").Call(jen.Lit(int(c.fn.Regs[in.Dst])))), false)
	case ir.OpField:
		if t := c.p.Type(c.fn.Regs[in.Args[0]]); composite(c.nt(in.Args[0])) && int(in.Index) < len(t.Fields) {
			f := t.Fields[in.Index]
			return c.assignNative(in, reg(in.Args[0]).Dot(exported(f.Name)), c.rep(f.Type))
		}
		if c.kind(in.Args[0]) == ir.KindRecord {
			out := c.assign(in, reg(in.Args[0]).Dot("Index").Call(jen.Lit(int(in.Index))))
			if t := c.p.Type(c.fn.Regs[in.Args[0]]); len(out) == 1 && t != nil && int(in.Index) < len(t.Fields) {
				out[0] = jen.Add(out[0]).Comment("." + t.Fields[in.Index].Name)
			}
			return out
		}
		return c.try(in, jen.Qual(evalPath, "Field").Call(c.val(in.Args[0]), jen.Lit(int(in.Index))), false)
	case ir.OpIndex:
		if l := c.nt(in.Args[0]); strings.HasPrefix(l, "[]") && c.nt(in.Args[1]) == "int64" {
			return c.tryAs(in, jen.Qual(evalPath, "IndexOf").Call(reg(in.Args[0]), reg(in.Args[1])), l[2:], false)
		}
		return c.try(in, jen.Add(c.val(in.Args[0])).Dot("At").Call(c.val(in.Args[1])), false)
	case ir.OpMakeList:
		if l := c.nt(in.Dst); composite(l) {
			elems := make([]jen.Code, len(in.Args))
			for i, a := range in.Args {
				elems[i] = c.as(a, l[2:])
			}
			return c.assignNative(in, goRegType(l).Values(elems...), l)
		}
		return c.assign(in, jen.Qual(evalPath, "List").Call(jen.Index().Qual(evalPath, "Value").Values(c.vals(in.Args)...)))
	case ir.OpMakeRecord:
		if r := c.nt(in.Dst); composite(r) {
			d := jen.Dict{}
			for i, f := range c.p.Type(c.fn.Regs[in.Dst]).Fields {
				d[jen.Id(exported(f.Name))] = c.as(in.Args[i], c.rep(f.Type))
			}
			return c.assignNative(in, jen.Id(r).Values(d), r)
		}
		return c.assign(in, jen.Id("n").Dot("MakeRecord").Call(append([]jen.Code{jen.Lit(int(c.fn.Regs[in.Dst]))}, c.vals(in.Args)...)...))
	case ir.OpMakeMap:
		return c.assign(in, jen.Qual(evalPath, "MakeMap").Call(c.vals(in.Args)...))
	case ir.OpCallBuiltin:
		return c.builtin(in)
	case ir.OpCallFunc:
		return c.tryAs(in, jen.Id(c.funcName(int(in.Callee))).Call(c.callArgs(ir.FuncID(in.Callee), in.Args)...), c.rep(c.p.Funcs[in.Callee].Result), false)
	case ir.OpCallKernel:
		// n.Kernel offers the call to the device runner (package accel)
		// before the compiled loop, as the interpreter does.
		return c.try(in, jen.Id("n").Dot("Kernel").Call(jen.Lit(int(in.Callee)), jen.Id("KernelValues").Index(jen.Lit(int(in.Callee))), jen.Index().Qual(evalPath, "Value").Values(c.vals(in.Args)...)), false)
	case ir.OpMilestone:
		return c.try(in, jen.Id("n").Dot("Milestone").Call(jen.Lit(in.Name)), false)
	case ir.OpSetField:
		return c.try(in, jen.Qual(evalPath, "SetField").Call(c.val(in.Args[0]), jen.Lit(int(in.Index)), c.val(in.Args[1])), true)
	case ir.OpSetIndex:
		return c.try(in, jen.Qual(evalPath, "SetIndex").Call(c.val(in.Args[0]), c.val(in.Args[1]), c.val(in.Args[2])), true)
	}
	return nil // scan reported it
}

// index is the function's index in the program.
func (c *fnGen) index() int {
	for i, f := range c.p.Funcs {
		if f == c.fn {
			return i
		}
	}
	return -1
}

// builtin compiles a builtin call; a lambda becomes a closure over its
// captured registers.
func (c *fnGen) builtin(in *ir.Instr) []jen.Code {
	nops := int(in.Index)
	ops := in.Args[:nops]
	if len(ops) == 1 && strings.HasPrefix(c.nt(ops[0]), "[]") {
		if code := c.sliceBuiltin(in, ops[0]); code != nil {
			return code
		}
	}
	switch in.Name {
	case "sum", "map", "filter", "any", "all":
		if len(ops) != 1 {
			break
		}
		lam := jen.Nil()
		if in.Callee >= 0 {
			callee := c.p.Funcs[in.Callee]
			pr, res := c.rep(callee.Params[len(callee.Params)-1].Type), c.rep(callee.Result)
			call := jen.Id(c.funcName(int(in.Callee))).Call(c.callArgs(ir.FuncID(in.Callee), in.Args[nops:], c.unbox(jen.Id("x"), pr))...)
			body := []jen.Code{jen.Return(call)}
			if res != "" {
				body = []jen.Code{
					jen.List(jen.Id("v"), jen.Err()).Op(":=").Add(call),
					jen.Return(c.box(jen.Id("v"), res), jen.Err()),
				}
			}
			lam = jen.Func().Params(jen.Id("x").Qual(evalPath, "Value")).Params(jen.Qual(evalPath, "Value"), jen.Error()).Block(body...)
		}
		return c.try(in, jen.Id("n").Dot("ListBuiltin").Call(jen.Lit(in.Name), c.val(ops[0]), jen.Qual(irPath, "TypeID").Call(jen.Lit(int(c.fn.Regs[in.Dst]))), lam), true)
	}
	return c.try(in, jen.Id("n").Dot("Builtin").Call(append([]jen.Code{jen.Lit(in.Name)}, c.vals(ops)...)...), true)
}

// sliceBuiltin compiles len, sum, map, filter, any and all over a list
// held as a Go slice (register xs) into loops over the slice that call
// the lambda's typed function, or returns nil when the representations
// of the lambda or the result do not allow it.
func (c *fnGen) sliceBuiltin(in *ir.Instr, xs ir.Reg) []jen.Code {
	l := c.nt(xs)
	e, dt := l[2:], c.nt(in.Dst)
	_, sel := c.sel[xs]
	if in.Name == "len" && dt == "int64" {
		if sel {
			return c.assignNative(in, jen.Int64().Call(reg(xs).Dot("Len").Call()), "int64")
		}
		return c.assignNative(in, jen.Int64().Call(jen.Len(reg(xs))), "int64")
	}
	if in.Callee < 0 {
		if in.Name != "sum" || dt != e {
			return nil
		}
		switch e {
		case "float64":
			return c.assignNative(in, jen.Qual(evalPath, "SumFloats").Call(reg(xs)), e)
		case "int64":
			return c.tryAs(in, jen.Qual(evalPath, "SumInts").Call(reg(xs)), e, false)
		}
		return nil
	}
	callee := c.p.Funcs[in.Callee]
	if c.rep(callee.Params[len(callee.Params)-1].Type) != e {
		return nil
	}
	res := c.rep(callee.Result)
	nops := int(in.Index)
	lam := jen.Func().Params(jen.Id("x").Add(goRegType(e))).Params(goRegType(res), jen.Error()).Block(
		jen.Return(jen.Id(c.funcName(int(in.Callee))).Call(c.callArgs(ir.FuncID(in.Callee), in.Args[nops:], jen.Id("x"))...)),
	)
	if len(in.Args) == nops {
		if p, ok := c.columnPredOf(callee, e); ok {
			var fold string
			switch {
			case in.Name == "filter" && dt == l:
				fold = "FilterCol"
			case in.Name == "any" && dt == "bool":
				fold = "AnyCol"
			case in.Name == "all" && dt == "bool":
				fold = "AllCol"
			}
			if fold != "" {
				return c.tryAs(in, jen.Qual(evalPath, fold).Call(jen.Id("n"), reg(xs), jen.Lit(p.steps),
					jen.Id(c.gatherName(e, p.field, p.num)), jen.Qual(vecPath, vecCmp[p.op]), p.c, lam), dt, true)
			}
		}
		if p, ok := c.columnPairOf(callee, e); ok {
			var fold string
			switch {
			case in.Name == "filter" && dt == l:
				fold = "FilterCol2"
			case in.Name == "any" && dt == "bool":
				fold = "AnyCol2"
			case in.Name == "all" && dt == "bool":
				fold = "AllCol2"
			}
			if fold != "" {
				pair := jen.Qual(evalPath, "Pair").Values(jen.Dict{
					jen.Id("And"): jen.Lit(p.and), jen.Id("KA"): jen.Lit(p.a.steps), jen.Id("KB"): jen.Lit(p.b.steps), jen.Id("KC"): jen.Lit(p.kc),
				})
				return c.tryAs(in, jen.Qual(evalPath, fold).Call(jen.Id("n"), reg(xs), pair,
					jen.Id(c.gatherName(e, p.a.field, p.a.num)), jen.Qual(vecPath, vecCmp[p.a.op]), p.a.c,
					jen.Id(c.gatherName(e, p.b.field, p.b.num)), jen.Qual(vecPath, vecCmp[p.b.op]), p.b.c, lam), dt, true)
			}
		}
	}
	var fold string
	switch {
	case in.Name == "filter" && res == "bool" && dt == l:
		fold = "FilterOf"
	case in.Name == "any" && res == "bool" && dt == "bool":
		fold = "AnyOf"
	case in.Name == "all" && res == "bool" && dt == "bool":
		fold = "AllOf"
	case in.Name == "map" && res != "" && dt == "[]"+res:
		fold = "MapOf"
		if sel {
			fold = "MapSel"
		}
	case in.Name == "sum" && res == "float64" && dt == res:
		fold = "SumFloatOf"
	case in.Name == "sum" && res == "int64" && dt == res:
		fold = "SumIntOf"
	default:
		return nil
	}
	if _, ok := c.sel[in.Dst]; ok && fold == "FilterOf" {
		return c.selectInto(in, xs, lam, e)
	}
	return c.tryAs(in, jen.Qual(evalPath, fold).Call(reg(xs), lam), dt, true)
}

// fastBinary is x op y in plain Go, and its Go type, when the operand
// types make it the same as eval.Binary and it cannot fail: comparisons
// of ints, floats, strings and bools, float arithmetic, and the logical
// operators.
func (c *fnGen) fastBinary(op ir.BinOp, x, y ir.Reg) (jen.Code, string) {
	tx, ty := c.fn.Regs[x], c.fn.Regs[y]
	if tx != ty {
		return nil, ""
	}
	goOp := map[ir.BinOp]string{ir.BinEq: "==", ir.BinNe: "!=", ir.BinLt: "<", ir.BinLe: "<=", ir.BinGt: ">", ir.BinGe: ">=", ir.BinAnd: "&&", ir.BinOr: "||", ir.BinAdd: "+", ir.BinSub: "-", ir.BinMul: "*", ir.BinDiv: "/"}[op]
	cmp := func(t string) (jen.Code, string) {
		return jen.Add(c.as(x, t)).Op(goOp).Add(c.as(y, t)), "bool"
	}
	switch tx {
	case ir.Bool:
		switch op {
		case ir.BinAnd, ir.BinOr, ir.BinEq, ir.BinNe:
			return cmp("bool")
		}
	case ir.Int:
		if op.IsComparison() {
			return cmp("int64")
		}
	case ir.I32, ir.Duration, ir.Time:
		if op.IsComparison() {
			return jen.Add(reg(x)).Dot("AsInt").Call().Op(goOp).Add(reg(y)).Dot("AsInt").Call(), "bool"
		}
	case ir.String:
		switch op {
		case ir.BinEq, ir.BinNe:
			return cmp("string")
		}
	case ir.Float:
		if op.IsComparison() {
			return cmp("float64")
		}
		switch op {
		case ir.BinAdd, ir.BinSub, ir.BinMul, ir.BinDiv:
			return jen.Add(c.as(x, "float64")).Op(goOp).Add(c.as(y, "float64")), "float64"
		}
	case ir.F32:
		if op.IsComparison() {
			return jen.Add(reg(x)).Dot("AsFloat").Call().Op(goOp).Add(reg(y)).Dot("AsFloat").Call(), "bool"
		}
		switch op {
		case ir.BinAdd, ir.BinSub, ir.BinMul, ir.BinDiv:
			return jen.Qual(evalPath, "F32").Call(jen.Float32().Call(jen.Add(reg(x)).Dot("AsFloat").Call().Op(goOp).Add(reg(y)).Dot("AsFloat").Call())), ""
		}
	}
	return nil, ""
}

// nativeConst is constant k in a register of Go type t, or nil when the
// register machine would make something else of it.
func nativeConst(t string, k ir.Const) jen.Code {
	switch {
	case t == "bool" && k.Kind == ir.ConstBool:
		return jen.Lit(k.Bool)
	case t == "int64" && k.Kind == ir.ConstInt:
		return jen.Lit(k.Int)
	case t == "float64" && k.Kind == ir.ConstInt:
		return floatLit(float64(k.Int))
	case t == "float64" && k.Kind == ir.ConstFloat:
		return floatLit(k.Float)
	case t == "string" && k.Kind == ir.ConstString:
		return jen.Lit(k.Str)
	}
	return nil
}

func binOp(op ir.BinOp) jen.Code {
	names := map[ir.BinOp]string{ir.BinAdd: "BinAdd", ir.BinSub: "BinSub", ir.BinMul: "BinMul", ir.BinDiv: "BinDiv", ir.BinRem: "BinRem", ir.BinEq: "BinEq", ir.BinNe: "BinNe", ir.BinLt: "BinLt", ir.BinLe: "BinLe", ir.BinGt: "BinGt", ir.BinGe: "BinGe", ir.BinAnd: "BinAnd", ir.BinOr: "BinOr", ir.BinCoalesce: "BinCoalesce"}
	if s, ok := names[op]; ok {
		return jen.Qual(irPath, s)
	}
	return jen.Qual(irPath, "BinOp").Call(jen.Lit(int(op)))
}

func unOp(op ir.UnOp) jen.Code {
	switch op {
	case ir.UnNeg:
		return jen.Qual(irPath, "UnNeg")
	case ir.UnNot:
		return jen.Qual(irPath, "UnNot")
	}
	return jen.Qual(irPath, "UnOp").Call(jen.Lit(int(op)))
}

// constant is c as a value of type t, as the register machine makes it.
func (c *fnGen) constant(t ir.TypeID, k ir.Const) jen.Code {
	p := c.p
	kind := p.KindOf(t)
	if kind == ir.KindOptional {
		if k.Kind == ir.ConstNone {
			return jen.Qual(evalPath, "None")
		}
		t = p.Type(t).Elem
		kind = p.KindOf(t)
	}
	q := func(name string, v jen.Code) jen.Code { return jen.Qual(evalPath, name).Call(v) }
	switch k.Kind {
	case ir.ConstNone:
		return jen.Qual(evalPath, "None")
	case ir.ConstBool:
		return q("Bool", jen.Lit(k.Bool))
	case ir.ConstInt:
		switch kind {
		case ir.KindEnum:
			name := eval.EnumName(p.Type(t), k.Int)
			return jen.Qual(evalPath, "Enum").Call(jen.Lit(int(k.Int)), jen.Lit(name))
		case ir.KindI32:
			return q("I32", jen.Lit(int32(k.Int)))
		case ir.KindU32, ir.KindDuration, ir.KindTime:
			break // the register machine keeps all 64 bits
		case ir.KindFloat:
			return q("Float", floatLit(float64(k.Int)))
		case ir.KindF32:
			return q("F32", jen.Float32().Call(floatLit(float64(k.Int))))
		case ir.KindInt:
			return q("Int", jen.Lit(k.Int))
		}
	case ir.ConstFloat:
		if kind == ir.KindF32 {
			return q("F32", jen.Float32().Call(floatLit(k.Float)))
		}
		return q("Float", floatLit(k.Float))
	case ir.ConstString:
		if kind != ir.KindBytes {
			return q("Str", jen.Lit(k.Str))
		}
	}
	return jen.Id("n").Dot("Const").Call(jen.Qual(irPath, "TypeID").Call(jen.Lit(int(t))), jen.Qual(irPath, "Const").Values(jen.Dict{
		jen.Id("Kind"):  jen.Qual(irPath, "ConstKind").Call(jen.Lit(int(k.Kind))),
		jen.Id("Bool"):  jen.Lit(k.Bool),
		jen.Id("Int"):   jen.Lit(k.Int),
		jen.Id("Float"): floatLit(k.Float),
		jen.Id("Str"):   jen.Lit(k.Str),
	}))
}

// floatLit is f exactly: a literal when it reads back as the same bits,
// else its bits.
func floatLit(f float64) jen.Code {
	if f == 0 && !math.Signbit(f) {
		return jen.Lit(0.0)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) || f == 0 {
		return jen.Qual("math", "Float64frombits").Call(jen.Lit(math.Float64bits(f)))
	}
	return jen.Lit(f)
}

// term compiles a terminator.
func (c *fnGen) term(t *ir.Term) []jen.Code {
	switch t.Op {
	case ir.TermReturn:
		var out []jen.Code
		if !c.leaf {
			out = append(out, jen.Id("n").Dot("Leave").Call())
		}
		if t.Value < 0 {
			return append(out, jen.Return(c.conv(jen.Qual(evalPath, "Void"), "", c.rep(c.fn.Result)), jen.Nil()))
		}
		return append(out, jen.Return(c.as(t.Value, c.rep(c.fn.Result)), jen.Nil()))
	case ir.TermJump:
		return c.jump(&t.Succs[0])
	case ir.TermBranch:
		return append([]jen.Code{jen.If(c.as(t.Value, "bool")).Block(c.jump(&t.Succs[0])...)}, c.jump(&t.Succs[1])...)
	}
	return nil
}

// jump assigns the block arguments in parallel and goes to the block.
func (c *fnGen) jump(s *ir.Succ) []jen.Code {
	var out []jen.Code
	next := c.fn.Blocks[s.Block]
	if len(next.Params) > 0 {
		var lhs, rhs []jen.Code
		for i, p := range next.Params {
			if s.Args[i] == p || !c.used[p] {
				continue // unchanged, or never read
			}
			lhs = append(lhs, reg(p))
			rhs = append(rhs, c.as(s.Args[i], c.nt(p)))
		}
		if len(lhs) > 0 {
			out = append(out, jen.List(lhs...).Op("=").List(rhs...))
		}
	}
	return append(out, jen.Goto().Id(fmt.Sprintf("b%d", s.Block)))
}
