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

// columnPredOf recognises callee as a column predicate over records of
// representation e.
func (g *gen) columnPredOf(callee *ir.Func, e string) (columnPred, bool) {
	var p columnPred
	if len(callee.Params) != 1 || g.rep(callee.Params[0].Type) != e || len(callee.Blocks) != 1 {
		return p, false
	}
	blk := callee.Blocks[0]
	field, konst := ir.Reg(-1), ir.Reg(-1)
	switch {
	case e == "int64" || e == "float64":
		// x => x op c over a list of numbers: the element is the column.
		field, p.field = 0, -1
		if len(blk.Instrs) != 2 {
			return p, false
		}
	case composite(e):
		if len(blk.Instrs) != 3 {
			return p, false
		}
	default:
		return p, false
	}
	if len(blk.Params) != 0 || blk.Term.Op != ir.TermReturn {
		return p, false
	}
	var k ir.Const
	rt := g.p.Type(callee.Params[0].Type)
	for _, in := range blk.Instrs {
		switch in.Op {
		case ir.OpField:
			if p.field < 0 || len(in.Args) != 1 || in.Args[0] != 0 || rt == nil || int(in.Index) >= len(rt.Fields) {
				return p, false
			}
			field, p.field = in.Dst, int(in.Index)
		case ir.OpConst:
			konst, k = in.Dst, in.Const
		case ir.OpBinary:
			op := ir.BinOp(in.Sub)
			if !op.IsComparison() || in.Dst != blk.Term.Value || len(in.Args) != 2 {
				return p, false
			}
			switch {
			case in.Args[0] == field && in.Args[1] == konst:
				p.op = op
			case in.Args[0] == konst && in.Args[1] == field:
				p.op = swapCmp(op) // c < x is x > c
			default:
				return p, false
			}
		default:
			return p, false
		}
	}
	if field < 0 || konst < 0 || p.op == 0 || callee.Regs[field] != callee.Regs[konst] {
		return p, false
	}
	p.num = g.rep(callee.Regs[field])
	if p.num != "int64" && p.num != "float64" {
		return p, false
	}
	if p.c = nativeConst(p.num, k); p.c == nil {
		return p, false
	}
	p.steps = len(blk.Instrs)
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
