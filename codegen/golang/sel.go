// This file implements selections in generated code: a filter over a
// list held as a Go slice whose result is only counted (len) or mapped
// (map) keeps the positions of its hits (runtime/eval's Sel) instead of
// copying them into a new slice. The lambdas are called in the same
// order and the same steps are charged, so nothing observable changes;
// what goes is the copy, most of what a compiled filter over 10,000
// records allocated.

package golang

import (
	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// findSels records in c.sel the registers that hold a selection: the
// result of a filter that would compile to FilterOf, defined once, read
// only as the list of len or of a map that compiles to a loop over the
// slice.
func (c *fnGen) findSels() {
	cand := map[ir.Reg]string{}
	for _, blk := range c.fn.Blocks {
		for i := range blk.Instrs {
			in := &blk.Instrs[i]
			if e, ok := c.selectable(in); ok {
				cand[in.Dst] = e
			}
		}
	}
	if len(cand) == 0 {
		return
	}
	uses := map[ir.Reg]int{}
	bad := func(r ir.Reg) { delete(cand, r) }
	for _, blk := range c.fn.Blocks {
		for i := range blk.Instrs {
			in := &blk.Instrs[i]
			for j, a := range in.Args {
				if _, ok := cand[a]; !ok {
					continue
				}
				if j == 0 && c.readsSel(in, cand[a]) {
					uses[a]++
				} else {
					bad(a)
				}
			}
		}
		if blk.Term.Op == ir.TermBranch || blk.Term.Op == ir.TermReturn {
			bad(blk.Term.Value)
		}
		for _, s := range blk.Term.Succs {
			for _, a := range s.Args {
				bad(a)
			}
		}
	}
	for r, e := range cand {
		if uses[r] > 0 && c.definedOnce(r) {
			if c.sel == nil {
				c.sel = map[ir.Reg]string{}
			}
			c.sel[r] = e
		}
	}
}

// selectable reports whether in is a filter that sliceBuiltin compiles
// to FilterOf, and the representation of the list's elements.
func (c *fnGen) selectable(in *ir.Instr) (string, bool) {
	if in.Op != ir.OpCallBuiltin || in.Name != "filter" || in.Index != 1 || len(in.Args) < 1 || in.Callee < 0 || int(in.Callee) >= len(c.p.Funcs) {
		return "", false
	}
	l := c.nt(in.Args[0])
	if !composite(l) || l[:2] != "[]" || c.nt(in.Dst) != l {
		return "", false
	}
	e := l[2:]
	callee := c.p.Funcs[in.Callee]
	if callee == nil || len(callee.Params) == 0 || c.rep(callee.Params[len(callee.Params)-1].Type) != e || c.rep(callee.Result) != "bool" {
		return "", false
	}
	if len(in.Args) == 1 {
		if _, ok := c.columnPredOf(callee, e); ok {
			return "", false // FilterCol copies only the hits it finds a vector at a time
		}
		if _, ok := c.columnPairOf(callee, e); ok {
			return "", false
		}
	}
	return e, true
}

// readsSel reports whether in reads a selection of elements of
// representation e as the list of a len or a map that sliceBuiltin
// compiles over the slice.
func (c *fnGen) readsSel(in *ir.Instr, e string) bool {
	if in.Op != ir.OpCallBuiltin || in.Index != 1 {
		return false
	}
	switch in.Name {
	case "len":
		return c.nt(in.Dst) == "int64"
	case "map":
		if in.Callee < 0 || int(in.Callee) >= len(c.p.Funcs) || c.p.Funcs[in.Callee] == nil {
			return false
		}
		callee := c.p.Funcs[in.Callee]
		if len(callee.Params) == 0 || c.rep(callee.Params[len(callee.Params)-1].Type) != e {
			return false
		}
		res := c.rep(callee.Result)
		return res != "" && c.nt(in.Dst) == "[]"+res
	}
	return false
}

// selType is the Go type of a selection of elements of representation e.
func selType(e string) *jen.Statement {
	return jen.Qual(evalPath, "Sel").Types(goRegType(e))
}

// selectInto compiles filter in, whose result is a selection, over the
// slice xs with lambda lam: SelectOf, its error, the charge for the
// filtered list, the register.
func (c *fnGen) selectInto(in *ir.Instr, xs ir.Reg, lam jen.Code, e string) []jen.Code {
	return []jen.Code{jen.Block(
		jen.Var().Id("v").Add(selType(e)),
		jen.List(jen.Id("v"), jen.Err()).Op("=").Qual(evalPath, "SelectOf").Call(reg(xs), lam),
		c.fail(in),
		jen.Id("n").Dot("ChargeLen").Call(jen.Id("v").Dot("Len").Call()),
		reg(in.Dst).Op("=").Id("v"),
	)}
}
