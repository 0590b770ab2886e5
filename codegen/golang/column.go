// This file implements the vector form of filter, any and all over a
// list of records held as a Go slice, when the lambda compares one int or
// float field of its record with a constant (o => o.amount > 1000), or
// over a list of ints or floats (x => x > 0.5): the
// generated code calls runtime/eval's FilterCol, AnyCol or AllCol with a
// function that gathers the field into a column, which runtime/vec
// compares a vector at a time. The lambda's typed function is passed too:
// it is the scalar fallback when the step budget or the call depth would
// run out, so that failures stay where the register machine has them.

package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// columnPred is a lambda of the form x => x.field op constant, or
// x => x op constant over a list of numbers.
type columnPred struct {
	field int    // the field's index; -1 for the element itself
	num   string // its representation: int64 or float64
	op    ir.BinOp
	c     jen.Code // the constant, in representation num
	steps int      // the lambda's instructions, charged per call
}

// columnPredOf recognises callee, a lambda over elements of
// representation e, as a column predicate of one block.
func (g *gen) columnPredOf(callee *ir.Func, e string) (columnPred, bool) {
	if len(callee.Params) != 1 || g.rep(callee.Params[0].Type) != e || len(callee.Blocks) != 1 {
		return columnPred{}, false
	}
	blk := callee.Blocks[0]
	p, r, ok := g.cmpOf(callee, e, blk.Instrs)
	return p, ok && len(blk.Params) == 0 && blk.Term.Op == ir.TermReturn && blk.Term.Value == r
}

// cmpOf recognises instrs as the comparison x.field op constant (or x op
// constant for numbers) of the parameter of callee, and returns it and
// the register of its result.
func (g *gen) cmpOf(callee *ir.Func, e string, instrs []ir.Instr) (columnPred, ir.Reg, bool) {
	var p columnPred
	field, konst, res := ir.Reg(-1), ir.Reg(-1), ir.Reg(-1)
	switch {
	case e == "int64" || e == "float64":
		// x => x op c over a list of numbers: the element is the column.
		field, p.field = 0, -1
		if len(instrs) != 2 {
			return p, res, false
		}
	case composite(e):
		if len(instrs) != 3 {
			return p, res, false
		}
	default:
		return p, res, false
	}
	var k ir.Const
	rt := g.p.Type(callee.Params[0].Type)
	for _, in := range instrs {
		switch in.Op {
		case ir.OpField:
			if p.field < 0 || len(in.Args) != 1 || in.Args[0] != 0 || rt == nil || int(in.Index) >= len(rt.Fields) {
				return p, res, false
			}
			field, p.field = in.Dst, int(in.Index)
		case ir.OpConst:
			konst, k = in.Dst, in.Const
		case ir.OpBinary:
			op := ir.BinOp(in.Sub)
			if !op.IsComparison() || len(in.Args) != 2 {
				return p, res, false
			}
			switch {
			case in.Args[0] == field && in.Args[1] == konst:
				p.op = op
			case in.Args[0] == konst && in.Args[1] == field:
				p.op = swapCmp(op) // c < x is x > c
			default:
				return p, res, false
			}
			res = in.Dst
		default:
			return p, res, false
		}
	}
	if field < 0 || konst < 0 || res < 0 || callee.Regs[field] != callee.Regs[konst] {
		return p, res, false
	}
	p.num = g.rep(callee.Regs[field])
	if p.num != "int64" && p.num != "float64" {
		return p, res, false
	}
	if p.c = nativeConst(p.num, k); p.c == nil {
		return p, res, false
	}
	p.steps = len(instrs)
	return p, res, true
}

// columnPair is a lambda x => a && b or x => a || b of two comparisons.
type columnPair struct {
	a, b columnPred
	and  bool
	kc   int // the instructions of the block that a decides (the constant)
}

// columnPairOf recognises callee as a columnPair: the blocks the
// language's && and || lower to,
//
//	b0: a; branch a bT bF
//	bT: b; jump bJ(b)        (||: the constant true)
//	bF: the constant false; jump bJ(false)   (||: b)
//	bJ(r): return r
func (g *gen) columnPairOf(callee *ir.Func, e string) (columnPair, bool) {
	var p columnPair
	if len(callee.Params) != 1 || g.rep(callee.Params[0].Type) != e || len(callee.Blocks) != 4 {
		return p, false
	}
	b0 := callee.Blocks[0]
	a, ra, ok := g.cmpOf(callee, e, b0.Instrs)
	if !ok || b0.Term.Op != ir.TermBranch || b0.Term.Value != ra || len(b0.Term.Succs) != 2 {
		return p, false
	}
	succ := func(s ir.Succ) *ir.Block {
		if s.Block <= 0 || int(s.Block) >= len(callee.Blocks) || len(s.Args) != 0 {
			return nil
		}
		return callee.Blocks[s.Block]
	}
	bt, bf := succ(b0.Term.Succs[0]), succ(b0.Term.Succs[1])
	if bt == nil || bf == nil {
		return p, false
	}
	// One of them evaluates b, the other is the constant a decides.
	p.and = true
	evalB, decided := bt, bf
	if len(bt.Instrs) == 1 {
		p.and, evalB, decided = false, bf, bt
	}
	b, rb, ok := g.cmpOf(callee, e, evalB.Instrs)
	if !ok || len(decided.Instrs) != 1 || len(evalB.Params) != 0 || len(decided.Params) != 0 {
		return p, false
	}
	c := decided.Instrs[0]
	if c.Op != ir.OpConst || c.Const.Kind != ir.ConstBool || c.Const.Bool != !p.and {
		return p, false
	}
	jb, jd := evalB.Term, decided.Term
	if jb.Op != ir.TermJump || jd.Op != ir.TermJump || len(jb.Succs) != 1 || len(jd.Succs) != 1 ||
		jb.Succs[0].Block != jd.Succs[0].Block || len(jb.Succs[0].Args) != 1 || len(jd.Succs[0].Args) != 1 ||
		jb.Succs[0].Args[0] != rb || jd.Succs[0].Args[0] != c.Dst {
		return p, false
	}
	j := jb.Succs[0].Block
	if j <= 0 || int(j) >= len(callee.Blocks) {
		return p, false
	}
	bj := callee.Blocks[j]
	if len(bj.Params) != 1 || len(bj.Instrs) != 0 || bj.Term.Op != ir.TermReturn || bj.Term.Value != bj.Params[0] {
		return p, false
	}
	p.a, p.b, p.kc = a, b, 1
	return p, true
}

func swapCmp(op ir.BinOp) ir.BinOp {
	switch op {
	case ir.BinLt:
		return ir.BinGt
	case ir.BinLe:
		return ir.BinGe
	case ir.BinGt:
		return ir.BinLt
	case ir.BinGe:
		return ir.BinLe
	}
	return op
}

// gatherName is the generated function that copies field i of records
// of representation e into a column, defined once (gathers).
func (g *gen) gatherName(e string, i int, num string) string {
	if g.gathers == nil {
		g.gathers = map[string]jen.Code{}
	}
	if i < 0 {
		// A list of numbers is its own column.
		name := "gather_" + e
		g.gathers[name] = jen.Commentf("%s copies numbers into a column.", name).Line().
			Func().Id(name).Params(jen.Id("dst").Index().Id(num), jen.Id("xs").Index().Id(e)).Block(
			jen.Copy(jen.Id("dst"), jen.Id("xs")),
		).Line()
		return name
	}
	f := g.p.Type(g.repType[e]).Fields[i]
	name := fmt.Sprintf("gather_%s_%s", e, exported(f.Name))
	if _, ok := g.gathers[name]; !ok {
		g.gathers[name] = jen.Commentf("%s copies the %s field of records into a column.", name, f.Name).Line().
			Func().Id(name).Params(jen.Id("dst").Index().Id(num), jen.Id("xs").Index().Id(e)).Block(
			jen.For(jen.Id("i").Op(":=").Range().Id("dst")).Block(
				jen.Id("dst").Index(jen.Id("i")).Op("=").Id("xs").Index(jen.Id("i")).Dot(exported(f.Name)),
			),
		).Line()
	}
	return name
}
