// This file implements the column translation of kernel bodies: a kernel
// whose body has no loop runs a column of elements at a time, each
// instruction one call of a runtime/vec primitive over the column (a
// vector loop with the simd experiment). Branches become masks: every
// block runs on every element, and a block parameter or the result takes,
// element by element, the value of the edge that element took, which is
// exact because kernel instructions have no side effects. Values that do
// not depend on i (constants, scalar parameters, elements at constant
// indexes) are computed once, before the columns; an instruction among
// them that fails (an index out of range, a division by zero), even one
// on a branch no element takes, hands the piece to the scalar loop, which
// reports runtime/eval's error at the element where it occurs, or none.

package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// columnLen is the number of elements of a column: 256 elements of 4
// bytes keep a kernel's columns in the L1 cache.
const columnLen = 256

// cdef is one definition of the column function: code that defines name
// from the names in uses. Definitions nothing needs are dropped.
type cdef struct {
	name string
	uses []string
	pre  bool // before the column loop (buffers, broadcasts), else in it
	code []jen.Code
}

// ccol compiles one kernel body to columns.
type ccol struct {
	g       *kgen
	fn      *ir.Func
	nparams int
	iReg    ir.Reg
	varying []bool
	defs    []cdef
	have    map[string]bool
	why     string
}

func (c *ccol) add(d cdef) {
	if !c.have[d.name] {
		c.have[d.name] = true
		c.defs = append(c.defs, d)
	}
}

func (c *ccol) kind(r ir.Reg) ir.Kind { return c.g.p.KindOf(c.fn.Regs[r]) }

// elemType is the Go element type of the column of kind k: masks are
// int32 lanes.
func elemType(k ir.Kind) jen.Code {
	if k == ir.KindF32 {
		return jen.Float32()
	}
	return jen.Int32()
}

func vq(name string) *jen.Statement { return jen.Qual(vecPath, name) }

// col returns the name of the column holding register r in the current
// column, defining the broadcast of a uniform register.
func (c *ccol) col(r ir.Reg) string {
	if r == c.iReg {
		c.add(cdef{name: "bI", pre: true, code: []jen.Code{jen.Id("bI").Op(":=").Make(jen.Index().Int32(), jen.Lit(columnLen))}})
		c.add(cdef{name: "vI", uses: []string{"bI"}, code: []jen.Code{
			jen.Id("vI").Op(":=").Id("bI").Index(jen.Empty(), jen.Id("L")),
			jen.For(jen.Id("j").Op(":=").Range().Id("vI")).Block(jen.Id("vI").Index(jen.Id("j")).Op("=").Int32().Call(jen.Id("s").Op("+").Id("j"))),
		}})
		return "vI"
	}
	if c.varying[r] {
		return fmt.Sprintf("v%d", r)
	}
	u := fmt.Sprintf("u%d", r)
	k := c.kind(r)
	var fill jen.Code
	switch k {
	case ir.KindF32:
		fill = vq("FillF32").Call(jen.Id("b"+u), kreg(r))
	case ir.KindI32:
		fill = vq("FillI32").Call(jen.Id("b"+u), kreg(r))
	default:
		fill = vq("FillI32").Call(jen.Id("b"+u), vq("Mask").Call(kreg(r)))
	}
	c.add(cdef{name: "b" + u, uses: []string{fmt.Sprintf("r%d", r)}, pre: true, code: []jen.Code{
		jen.Id("b"+u).Op(":=").Make(jen.Index().Add(elemType(k)), jen.Lit(columnLen)), fill,
	}})
	c.add(cdef{name: u, uses: []string{"b" + u}, code: []jen.Code{jen.Id(u).Op(":=").Id("b"+u).Index(jen.Empty(), jen.Id("L"))}})
	return u
}

// buf defines column name as a fresh buffer of kind k, filled by code.
func (c *ccol) buf(name string, k ir.Kind, uses []string, code ...jen.Code) {
	c.add(cdef{name: "b" + name, pre: true, code: []jen.Code{jen.Id("b"+name).Op(":=").Make(jen.Index().Add(elemType(k)), jen.Lit(columnLen))}})
	c.add(cdef{name: name, uses: append([]string{"b" + name}, uses...), code: append([]jen.Code{jen.Id(name).Op(":=").Id("b"+name).Index(jen.Empty(), jen.Id("L"))}, code...)})
}

// columnable reports whether kind k can be a varying value.
func columnable(k ir.Kind) bool { return k == ir.KindF32 || k == ir.KindI32 || k == ir.KindBool }

var vecCmp = map[ir.BinOp]string{ir.BinEq: "Eq", ir.BinNe: "Ne", ir.BinLt: "Lt", ir.BinLe: "Le", ir.BinGt: "Gt", ir.BinGe: "Ge"}

// varyingInstr defines the column of a varying instruction, or returns
// false when it has no column form.
func (c *ccol) varyingInstr(in *ir.Instr) bool {
	name := fmt.Sprintf("v%d", in.Dst)
	dk := c.kind(in.Dst)
	if !columnable(dk) {
		return false
	}
	args := func() ([]string, []jen.Code) {
		var ns []string
		var cs []jen.Code
		for _, a := range in.Args {
			n := c.col(a)
			ns = append(ns, n)
			cs = append(cs, jen.Id(n))
		}
		return ns, cs
	}
	alias := func(from string) {
		c.add(cdef{name: name, uses: []string{from}, code: []jen.Code{jen.Id(name).Op(":=").Id(from)}})
	}
	call := func(prim string, extra ...jen.Code) {
		ns, cs := args()
		c.buf(name, dk, ns, vq(prim).Call(append(append([]jen.Code{jen.Id(name)}, extra...), cs...)...))
	}
	switch in.Op {
	case ir.OpIndex:
		arr := in.Args[0]
		if in.Args[1] != c.iReg || int(arr) >= c.nparams {
			return false
		}
		a := fmt.Sprintf("r%d", arr)
		slice := kreg(arr).Index(jen.Id("s"), jen.Id("e"))
		switch dk {
		case ir.KindBool:
			c.buf(name, dk, []string{a}, vq("MaskFromBools").Call(jen.Id(name), slice))
		default:
			c.add(cdef{name: name, uses: []string{a}, code: []jen.Code{jen.Id(name).Op(":=").Add(slice)}})
		}
		return true
	case ir.OpBinary:
		op := ir.BinOp(in.Sub)
		ak := c.kind(in.Args[0])
		switch {
		case ak == ir.KindF32 && op.IsComparison():
			call("CmpF32", vq(vecCmp[op]))
		case ak == ir.KindI32 && op.IsComparison():
			call("CmpI32", vq(vecCmp[op]))
		case ak == ir.KindBool && op == ir.BinNe:
			call("Xor")
		case ak == ir.KindBool && op == ir.BinEq:
			ns, cs := args()
			c.all()
			c.buf(name, dk, append(ns, "all"), vq("Xor").Call(append([]jen.Code{jen.Id(name)}, cs...)...), vq("Xor").Call(jen.Id(name), jen.Id(name), jen.Id("all")))
		case ak == ir.KindBool && op == ir.BinAnd:
			call("And")
		case ak == ir.KindBool && op == ir.BinOr:
			call("Or")
		case ak == ir.KindF32 && op >= ir.BinAdd && op <= ir.BinDiv:
			call(map[ir.BinOp]string{ir.BinAdd: "AddF32", ir.BinSub: "SubF32", ir.BinMul: "MulF32", ir.BinDiv: "DivF32"}[op])
		case ak == ir.KindI32 && op >= ir.BinAdd && op <= ir.BinMul:
			call(map[ir.BinOp]string{ir.BinAdd: "AddI32", ir.BinSub: "SubI32", ir.BinMul: "MulI32"}[op])
		default:
			return false
		}
		return true
	case ir.OpUnary:
		x := c.col(in.Args[0])
		switch {
		case ir.UnOp(in.Sub) == ir.UnNot && dk == ir.KindBool:
			c.all()
			c.buf(name, dk, []string{x, "all"}, vq("Xor").Call(jen.Id(name), jen.Id(x), jen.Id("all")))
		case ir.UnOp(in.Sub) == ir.UnNeg && dk == ir.KindF32:
			c.buf(name, dk, []string{x}, vq("NegF32").Call(jen.Id(name), jen.Id(x)))
		case ir.UnOp(in.Sub) == ir.UnNeg && dk == ir.KindI32:
			c.add(cdef{name: "zero", pre: true, code: []jen.Code{jen.Id("zero").Op(":=").Make(jen.Index().Int32(), jen.Lit(columnLen))}})
			c.buf(name, dk, []string{x, "zero"}, vq("SubI32").Call(jen.Id(name), jen.Id("zero"), jen.Id(x)))
		default:
			return false
		}
		return true
	case ir.OpConvert:
		from := c.kind(in.Args[0])
		switch {
		case from == dk:
			alias(c.col(in.Args[0]))
		case from == ir.KindI32 && dk == ir.KindF32:
			call("F32FromI32")
		default:
			return false
		}
		return true
	case ir.OpCallBuiltin:
		if in.Callee >= 0 || dk != ir.KindF32 {
			return false
		}
		switch in.Name {
		case "sqrt":
			call("SqrtF32")
		case "abs":
			call("AbsF32")
		case "exp", "log":
			// No vector instruction rounds exp and log as math does:
			// these run one lane at a time, bit-identical.
			f := map[string]string{"exp": "Exp", "log": "Log"}[in.Name]
			ns, cs := args()
			c.buf(name, dk, ns, vq("Lanewise1F32").Call(jen.Id(name), cs[0],
				jen.Func().Params(jen.Id("x").Float32()).Float32().Block(jen.Return(jen.Float32().Call(jen.Qual("math", f).Call(jen.Float64().Call(jen.Id("x"))))))))
		case "min", "max":
			f := map[string]string{"min": "Min", "max": "Max"}[in.Name]
			ns, cs := args()
			c.buf(name, dk, ns, vq("Lanewise2F32").Call(jen.Id(name), cs[0], cs[1],
				jen.Func().Params(jen.List(jen.Id("x"), jen.Id("y")).Float32()).Float32().Block(jen.Return(jen.Float32().Call(jen.Qual("math", f).Call(jen.Float64().Call(jen.Id("x")), jen.Float64().Call(jen.Id("y"))))))))
		default:
			return false
		}
		return true
	}
	return false
}

// all defines the all-true mask column.
func (c *ccol) all() {
	c.add(cdef{name: "ball", pre: true, code: []jen.Code{
		jen.Id("ball").Op(":=").Make(jen.Index().Int32(), jen.Lit(columnLen)),
		vq("FillI32").Call(jen.Id("ball"), jen.Lit(-1)),
	}})
	c.add(cdef{name: "all", uses: []string{"ball"}, code: []jen.Code{jen.Id("all").Op(":=").Id("ball").Index(jen.Empty(), jen.Id("L"))}})
}

// topo returns the blocks of fn reachable from block from in an order
// where every block comes after its predecessors, or false when they have
// a cycle.
func topo(fn *ir.Func, from int) ([]int, bool) {
	state := make([]int8, len(fn.Blocks)) // 0 new, 1 on the path, 2 done
	var post []int
	var visit func(b int) bool
	visit = func(b int) bool {
		switch state[b] {
		case 1:
			return false
		case 2:
			return true
		}
		state[b] = 1
		for _, s := range fn.Blocks[b].Term.Succs {
			if !visit(int(s.Block)) {
				return false
			}
		}
		state[b] = 2
		post = append(post, b)
		return true
	}
	if !visit(from) {
		return nil, false
	}
	for i, j := 0, len(post)-1; i < j; i, j = i+1, j-1 {
		post[i], post[j] = post[j], post[i]
	}
	return post, true
}

// selectChain defines name as, element by element, the value of the
// first (mask, value) pair whose mask is set, the last value otherwise.
func (c *ccol) selectChain(name string, k ir.Kind, masks, vals []string) {
	if len(vals) == 1 {
		c.add(cdef{name: name, uses: []string{vals[0]}, code: []jen.Code{jen.Id(name).Op(":=").Id(vals[0])}})
		return
	}
	prim := "SelectI32"
	if k == ir.KindF32 {
		prim = "SelectF32"
	}
	uses := append(append([]string{}, masks[:len(masks)-1]...), vals...)
	acc := vals[len(vals)-1]
	var code []jen.Code
	for j := len(vals) - 2; j >= 0; j-- {
		code = append(code, vq(prim).Call(jen.Id(name), jen.Id(masks[j]), jen.Id(vals[j]), jen.Id(acc)))
		acc = name
	}
	c.buf(name, k, uses, code...)
}

// columns generates kernelColumns<k>, or returns nil and the reason the
// body must run one element at a time.
func (g *kgen) columns(k int, kn *ir.Kernel) (jen.Code, string) {
	fn := g.p.Funcs[kn.Body]
	rk := g.p.KindOf(g.p.Type(kn.Result).Elem)
	if !columnable(rk) {
		return nil, "its result is " + rk.String()
	}
	iReg := ir.Reg(len(kn.Params))
	entry, prefix := 0, []int(nil)
	order, ok := topo(fn, 0)
	if !ok {
		if entry, prefix, order, ok = uniformPrefix(fn, iReg); !ok {
			return nil, "its body has a loop that depends on i"
		}
	}
	c := &ccol{g: g, fn: fn, nparams: len(kn.Params), iReg: iReg, varying: make([]bool, len(fn.Regs)), have: map[string]bool{}}
	c.varying[c.iReg] = true
	// The uniform instructions, in an order where definitions come
	// first, compiled by the scalar translation; a failure returns false.
	sc := &kfn{g: g, fn: fn, res: ir.KindBool, bail: true, used: make([]bool, len(fn.Regs))}
	for _, b := range prefix {
		blk := fn.Blocks[b]
		for _, in := range blk.Instrs {
			for _, a := range in.Args {
				sc.used[a] = true
			}
		}
		if blk.Term.Op == ir.TermBranch {
			sc.used[blk.Term.Value] = true
		}
		for _, su := range blk.Term.Succs {
			for _, a := range su.Args {
				sc.used[a] = true
			}
		}
	}
	var uniform []*ir.Instr
	for _, b := range order {
		blk := fn.Blocks[b]
		for _, p := range blk.Params {
			c.varying[p] = b != entry // the entry's parameters come from the prefix
		}
		for i := range blk.Instrs {
			in := &blk.Instrs[i]
			for _, a := range in.Args {
				c.varying[in.Dst] = c.varying[in.Dst] || c.varying[a]
			}
			if !c.varying[in.Dst] {
				uniform = append(uniform, in)
				for _, a := range in.Args {
					sc.used[a] = true
				}
			}
		}
	}
	// Block masks, edge masks, parameters and the result.
	type edge struct {
		mask       string
		from, succ int
	}
	preds := map[int][]edge{} // the incoming edges of each block
	var retMasks, retVals []string
	c.all()
	for _, b := range order {
		blk := fn.Blocks[b]
		m := fmt.Sprintf("m%d", b)
		if b == entry {
			c.add(cdef{name: m, uses: []string{"all"}, code: []jen.Code{jen.Id(m).Op(":=").Id("all")}})
		} else {
			var ms []string
			for _, e := range preds[b] {
				ms = append(ms, e.mask)
			}
			if len(ms) == 1 {
				c.add(cdef{name: m, uses: ms, code: []jen.Code{jen.Id(m).Op(":=").Id(ms[0])}})
			} else {
				code := []jen.Code{vq("Or").Call(jen.Id(m), jen.Id(ms[0]), jen.Id(ms[1]))}
				for _, x := range ms[2:] {
					code = append(code, vq("Or").Call(jen.Id(m), jen.Id(m), jen.Id(x)))
				}
				c.buf(m, ir.KindBool, ms, code...)
			}
		}
		for pi, p := range blk.Params {
			if b == entry {
				break
			}
			if !columnable(c.kind(p)) {
				return nil, "a value of type " + c.kind(p).String() + " varies by element"
			}
			var masks, vals []string
			for _, e := range preds[b] {
				masks = append(masks, e.mask)
				vals = append(vals, c.col(fn.Blocks[e.from].Term.Succs[e.succ].Args[pi]))
			}
			c.selectChain(fmt.Sprintf("v%d", p), c.kind(p), masks, vals)
		}
		for i := range blk.Instrs {
			in := &blk.Instrs[i]
			if c.varying[in.Dst] && !c.varyingInstr(in) {
				return nil, fmt.Sprintf("its %s instruction at #%d has no column form", in.Op, in.Loc.Span.Start)
			}
		}
		t := &blk.Term
		switch t.Op {
		case ir.TermReturn:
			retMasks = append(retMasks, m)
			retVals = append(retVals, c.col(t.Value))
		case ir.TermJump:
			s := int(t.Succs[0].Block)
			preds[s] = append(preds[s], edge{m, b, 0})
		case ir.TermBranch:
			cond := c.col(t.Value)
			yes, no := fmt.Sprintf("m%dy", b), fmt.Sprintf("m%dn", b)
			if b == entry {
				c.add(cdef{name: yes, uses: []string{cond}, code: []jen.Code{jen.Id(yes).Op(":=").Id(cond)}})
				c.buf(no, ir.KindBool, []string{cond, "all"}, vq("Xor").Call(jen.Id(no), jen.Id(cond), jen.Id("all")))
			} else {
				c.buf(yes, ir.KindBool, []string{m, cond}, vq("And").Call(jen.Id(yes), jen.Id(m), jen.Id(cond)))
				c.buf(no, ir.KindBool, []string{m, cond, "all"},
					vq("Xor").Call(jen.Id(no), jen.Id(cond), jen.Id("all")),
					vq("And").Call(jen.Id(no), jen.Id(no), jen.Id(m)))
			}
			s0, s1 := int(t.Succs[0].Block), int(t.Succs[1].Block)
			preds[s0] = append(preds[s0], edge{yes, b, 0})
			preds[s1] = append(preds[s1], edge{no, b, 1})
		default:
			return nil, "a block is unterminated"
		}
	}
	c.selectChain("res", rk, retMasks, retVals)
	store := jen.Copy(jen.Id("out").Index(jen.Id("s"), jen.Id("e")), jen.Id("res"))
	if rk == ir.KindBool {
		store = vq("BoolsFromMask").Call(jen.Id("out").Index(jen.Id("s"), jen.Id("e")), jen.Id("res"))
	}
	c.add(cdef{name: "out", uses: []string{"res"}, code: []jen.Code{store}})

	// Keep what the output needs.
	keep := map[string]bool{}
	byName := map[string]*cdef{}
	for i := range c.defs {
		byName[c.defs[i].name] = &c.defs[i]
	}
	var mark func(n string)
	mark = func(n string) {
		if keep[n] {
			return
		}
		keep[n] = true
		if d := byName[n]; d != nil {
			for _, u := range d.uses {
				mark(u)
			}
		}
	}
	mark("out")
	for n := range keep {
		var r int
		if _, err := fmt.Sscanf(n, "r%d", &r); err == nil && byName[n] == nil {
			sc.used[r] = true
		}
	}

	var params, body []jen.Code
	params = append(params, jen.Id("out").Index().Add(elemType(rk)), jen.List(jen.Id("lo"), jen.Id("hi")).Int())
	if rk == ir.KindBool {
		params[0] = jen.Id("out").Index().Bool()
	}
	for i, pa := range kn.Params {
		t, _ := g.kgoType(pa.Type)
		params = append(params, kreg(ir.Reg(i)).Add(t))
	}
	// An array read at i must be as long as the output; otherwise the
	// scalar loop reports the index error.
	for i, pa := range kn.Params {
		if g.p.KindOf(pa.Type) == ir.KindList && keep[fmt.Sprintf("r%d", i)] {
			body = append(body, jen.If(jen.Len(kreg(ir.Reg(i))).Op("<").Id("hi")).Block(jen.Return(jen.False())))
		}
	}
	for r, t := range fn.Regs {
		if r < len(fn.Params) || c.varying[r] || !sc.used[r] {
			continue
		}
		gt, _ := g.kgoType(t)
		body = append(body, jen.Var().Add(kreg(ir.Reg(r))).Add(gt))
	}
	if prefix != nil {
		// The prefix runs as scalar code, loops and all, then goes to the
		// entry of the columns.
		targets := map[int]bool{entry: true}
		for _, b := range prefix {
			for _, su := range fn.Blocks[b].Term.Succs {
				targets[int(su.Block)] = true
			}
		}
		for _, b := range prefix {
			if targets[b] {
				body = append(body, jen.Id(fmt.Sprintf("b%d", b)).Op(":"))
			}
			body = append(body, sc.block(fn.Blocks[b])...)
		}
		body = append(body, jen.Id(fmt.Sprintf("b%d", entry)).Op(":"))
	}
	for _, in := range uniform {
		body = append(body, sc.instr(in)...)
	}
	if len(g.diags) > 0 {
		return nil, "it does not compile"
	}
	var loop []jen.Code
	for _, d := range c.defs {
		if !keep[d.name] {
			continue
		}
		if d.pre {
			body = append(body, d.code...)
		} else {
			loop = append(loop, d.code...)
		}
	}
	body = append(body,
		jen.For(jen.Id("s").Op(":=").Id("lo"), jen.Id("s").Op("<").Id("hi"), jen.Id("s").Op("+=").Lit(columnLen)).Block(
			append([]jen.Code{
				jen.Id("e").Op(":=").Min(jen.Id("s").Op("+").Lit(columnLen), jen.Id("hi")),
				jen.Id("L").Op(":=").Id("e").Op("-").Id("s"),
			}, loop...)...),
		jen.Return(jen.True()),
	)
	return jen.Commentf("kernelColumns%d computes elements [lo, hi) of kernel %s a column at a time; it returns false,", k, kn.Name).Line().
		Comment("having written nothing it must keep, when an instruction fails.").Line().
		Func().Id(fmt.Sprintf("kernelColumns%d", k)).Params(params...).Bool().Block(body...), ""
}

// uniformPrefix splits a body with loops into a prefix that holds every
// loop and depends on no element (as in "for k in 0..7 { mean = mean +
// week[k] / 7.0 }"), run once per piece as scalar code, and an acyclic rest
// from block entry on, run in columns. The prefix (entry block first) is
// what block 0 reaches without passing entry; it may leave only to entry,
// and the rest may not come back into it. It returns the smallest such
// prefix, and false when there is none.
func uniformPrefix(fn *ir.Func, iReg ir.Reg) (entry int, prefix, rest []int, ok bool) {
	for x := 1; x < len(fn.Blocks); x++ {
		in := make([]bool, len(fn.Blocks))
		var p []int
		var walk func(b int)
		walk = func(b int) {
			if b == x || in[b] {
				return
			}
			in[b] = true
			p = append(p, b)
			for _, su := range fn.Blocks[b].Term.Succs {
				walk(int(su.Block))
			}
		}
		walk(0)
		r, acyclic := topo(fn, x)
		if !acyclic || (ok && len(p) >= len(prefix)) {
			continue
		}
		good := true
		for _, b := range r {
			good = good && !in[b]
		}
		if good && prefixUniform(fn, p, in, iReg) {
			entry, prefix, rest, ok = x, p, r, true
		}
	}
	return entry, prefix, rest, ok
}

// prefixUniform reports whether no value or branch of the prefix blocks
// depends on the element index, and none returns.
func prefixUniform(fn *ir.Func, p []int, in []bool, iReg ir.Reg) bool {
	vary := make([]bool, len(fn.Regs))
	vary[iReg] = true
	for changed := true; changed; {
		changed = false
		set := func(r ir.Reg, v bool) {
			if v && !vary[r] {
				vary[r], changed = true, true
			}
		}
		for _, b := range p {
			blk := fn.Blocks[b]
			for _, ins := range blk.Instrs {
				for _, a := range ins.Args {
					set(ins.Dst, vary[a])
				}
			}
			for _, su := range blk.Term.Succs {
				for j, a := range su.Args {
					set(fn.Blocks[su.Block].Params[j], vary[a])
				}
			}
		}
	}
	for _, b := range p {
		blk := fn.Blocks[b]
		if blk.Term.Op == ir.TermReturn || blk.Term.Op == ir.TermBranch && vary[blk.Term.Value] {
			return false
		}
		for _, ins := range blk.Instrs {
			if vary[ins.Dst] {
				return false
			}
		}
		for _, su := range blk.Term.Succs {
			for _, a := range su.Args {
				if vary[a] {
					return false
				}
			}
		}
	}
	return true
}
