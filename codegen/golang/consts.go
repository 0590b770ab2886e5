// This file implements integer division and remainder by a constant:
// with a divisor that is neither 0 nor -1 neither can fail, so generated
// code divides in Go instead of calling eval.IntOp, which checks for
// both (o.qty % 3 == 0 over 10,000 records was 10,000 such calls).

package golang

import (
	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// constInt reports the value of register r when it holds an int
// constant: defined once, by an OpConst of an int, and not a parameter
// of the function or of a block.
func (c *fnGen) constInt(r ir.Reg) (int64, bool) {
	if c.consts == nil {
		c.consts = map[ir.Reg]int64{}
		for _, blk := range c.fn.Blocks {
			for i := range blk.Instrs {
				in := &blk.Instrs[i]
				if in.Op == ir.OpConst && in.Const.Kind == ir.ConstInt && in.Dst >= 0 && int(in.Dst) < len(c.fn.Regs) && c.fn.Regs[in.Dst] == ir.Int && c.definedOnce(in.Dst) {
					c.consts[in.Dst] = in.Const.Int
				}
			}
		}
	}
	k, ok := c.consts[r]
	return k, ok
}

// definedOnce reports whether register r is defined once, by an
// instruction or as a block's parameter, and is not a parameter of the
// function.
func (c *fnGen) definedOnce(r ir.Reg) bool {
	if c.defs == nil {
		c.defs = map[ir.Reg]int{}
		for _, blk := range c.fn.Blocks {
			for _, p := range blk.Params {
				c.defs[p]++
			}
			for i := range blk.Instrs {
				c.defs[blk.Instrs[i].Dst]++
			}
		}
	}
	return c.defs[r] == 1 && int(r) >= len(c.fn.Params)
}

// divConst is x / k or x % k for op BinDiv or BinRem and register y the
// int constant k, when k is neither 0 nor -1: the register machine's
// result, which cannot fail. It returns nil otherwise.
func (c *fnGen) divConst(op ir.BinOp, x, y ir.Reg) jen.Code {
	if op != ir.BinDiv && op != ir.BinRem {
		return nil
	}
	k, ok := c.constInt(y)
	if !ok || k == 0 || k == -1 {
		return nil
	}
	goOp := map[ir.BinOp]string{ir.BinDiv: "/", ir.BinRem: "%"}[op]
	return jen.Add(reg(x)).Op(goOp).Add(reg(y)) // y holds k, which Go's compiler propagates
}
