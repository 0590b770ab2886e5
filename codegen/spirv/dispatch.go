// This file implements the dispatch loop, which runs any IR control flow
// graph under SPIR-V's structured control flow: a loop around a switch on
// the current block, each case one IR block that stores the next block's
// number and parameters; the loop ends when a block returns. Registers
// that live across blocks are Function variables, which drivers promote
// back to registers.

package spirv

import "github.com/knhk/knhk/compiler/ir"

// liveAcross marks the registers that need a Function variable: block
// parameters, and values used outside the block that defines them.
func (f *fgen) liveAcross() {
	defBlock := map[ir.Reg]int{}
	for bi, blk := range f.fn.Blocks {
		for _, p := range blk.Params {
			defBlock[p] = -1 // always a variable
		}
		for _, in := range blk.Instrs {
			defBlock[in.Dst] = bi
		}
	}
	need := map[ir.Reg]bool{}
	use := func(bi int, r ir.Reg) {
		if d, ok := defBlock[r]; ok && d != bi {
			need[r] = true
		}
	}
	for bi, blk := range f.fn.Blocks {
		for _, p := range blk.Params {
			need[p] = true
		}
		for _, in := range blk.Instrs {
			for _, a := range in.Args {
				use(bi, a)
			}
		}
		if blk.Term.Op == ir.TermBranch || blk.Term.Op == ir.TermReturn {
			use(bi, blk.Term.Value)
		}
		for _, s := range blk.Term.Succs {
			for _, a := range s.Args {
				use(bi, a)
			}
		}
	}
	for r := range need {
		t, ok := f.m.typeOf(f.kind(r))
		if !ok {
			f.errorf(f.fn.Loc, "SPIR-V cannot express a value of type %s in %s", f.m.p.TypeString(f.fn.Regs[r]), f.fn.Name)
			continue
		}
		f.regVar[r] = f.variable(t)
	}
}

// dispatch emits the dispatch loop over the function's blocks.
func (f *fgen) dispatch(res uint32) {
	b := f.m.b
	u32 := b.tU32()
	n := uint32(len(f.fn.Blocks))
	cur := f.variable(u32)
	result := f.variable(res)
	f.stmt(OpStore, cur, b.cU32(0))
	header, sw, swMerge, cont, merge := b.id(), b.id(), b.id(), b.id(), b.id()
	labels := make([]uint32, n)
	for i := range labels {
		labels[i] = b.id()
	}
	f.stmt(OpBranch, header)
	f.label(header)
	f.stmt(OpLoopMerge, merge, cont, uint32(LoopControlNone))
	f.stmt(OpBranch, sw)
	f.label(sw)
	c := f.op(OpLoad, u32, cur)
	f.stmt(OpSelectionMerge, swMerge, uint32(SelectionControlNone))
	cases := []uint32{c, swMerge}
	for i, l := range labels {
		cases = append(cases, uint32(i), l)
	}
	f.stmt(OpSwitch, cases...)
	for i, l := range labels {
		f.label(l)
		f.block(i, cur, result, res)
		f.stmt(OpBranch, swMerge)
	}
	f.label(swMerge)
	f.stmt(OpBranch, cont)
	f.label(cont)
	more := f.op(OpINotEqual, b.tBool(), f.op(OpLoad, u32, cur), b.cU32(n))
	f.stmt(OpBranchConditional, more, header, merge)
	f.label(merge)
	f.stmt(OpReturnValue, f.op(OpLoad, res, result))
}

// block emits IR block bi. In the dispatch loop (cur != 0) its
// terminator stores the next block and its parameters; a function of one
// block returns directly.
func (f *fgen) block(bi int, cur, result, res uint32) {
	f.local = map[ir.Reg]uint32{}
	blk := f.fn.Blocks[bi]
	for i := range blk.Instrs {
		f.instr(&blk.Instrs[i])
	}
	t := &blk.Term
	f.term = t
	b := f.m.b
	switch t.Op {
	case ir.TermReturn:
		v := f.value(t.Value)
		if cur == 0 {
			f.stmt(OpReturnValue, v)
			return
		}
		f.stmt(OpStore, result, v)
		f.stmt(OpStore, cur, b.cU32(uint32(len(f.fn.Blocks))))
	case ir.TermJump:
		if cur == 0 {
			f.errorf(t.Loc, "internal error: a jump in a function of one block")
			return
		}
		f.jump(cur, &t.Succs[0], 0)
	case ir.TermBranch:
		if cur == 0 {
			f.errorf(t.Loc, "internal error: a branch in a function of one block")
			return
		}
		f.jump(cur, &t.Succs[0], f.value(t.Value))
	default:
		f.errorf(t.Loc, "internal error: unterminated block in %s", f.fn.Name)
	}
}

// jump stores the successors' parameters and the next block: Succs[0]
// unconditionally when cond is 0, else Succs[0] where cond holds and the
// block's Succs[1] elsewhere. Every argument is read before any parameter
// is written, as the IR's parallel assignment requires; the parameters
// of the successor not taken keep their values.
func (f *fgen) jump(cur uint32, s0 *ir.Succ, cond uint32) {
	b := f.m.b
	type store struct{ v, val uint32 }
	var stores []store
	add := func(s *ir.Succ, taken func(arg, old uint32, t uint32) uint32) {
		for i, p := range f.fn.Blocks[s.Block].Params {
			t, _ := f.m.typeOf(f.kind(p))
			stores = append(stores, store{f.regVar[p], taken(f.value(s.Args[i]), f.regVar[p], t)})
		}
	}
	if cond == 0 {
		add(s0, func(arg, _, _ uint32) uint32 { return arg })
		for _, s := range stores {
			f.stmt(OpStore, s.v, s.val)
		}
		f.stmt(OpStore, cur, b.cU32(uint32(s0.Block)))
		return
	}
	s1 := &f.term.Succs[1]
	if s0.Block == s1.Block {
		ps := f.fn.Blocks[s0.Block].Params
		for i, p := range ps {
			t, _ := f.m.typeOf(f.kind(p))
			stores = append(stores, store{f.regVar[p], f.op(OpSelect, t, cond, f.value(s0.Args[i]), f.value(s1.Args[i]))})
		}
	} else {
		add(s0, func(arg, v, t uint32) uint32 { return f.op(OpSelect, t, cond, arg, f.op(OpLoad, t, v)) })
		add(s1, func(arg, v, t uint32) uint32 { return f.op(OpSelect, t, cond, f.op(OpLoad, t, v), arg) })
	}
	for _, s := range stores {
		f.stmt(OpStore, s.v, s.val)
	}
	f.stmt(OpStore, cur, f.op(OpSelect, b.tU32(), cond, b.cU32(uint32(s0.Block)), b.cU32(uint32(s1.Block))))
}
