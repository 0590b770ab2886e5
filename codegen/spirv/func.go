// This file implements the translation of one IR function (a kernel body
// or a fn it calls) into a SPIR-V function of the kernel scalars.
//
// IR control flow is an arbitrary graph of blocks with parameters, while
// SPIR-V requires structured control flow. A function of one block is
// emitted straight; any other runs as a loop around a switch on the
// current block (a dispatch loop): each case runs one IR block and stores
// the next block's number and parameters, and the loop ends when a block
// returns. Registers that live across blocks are Function variables,
// which drivers promote back to registers. This keeps every IR shape
// valid without recovering if/else and loop nesting.
//
// Failures (an index out of range, an integer division by zero, a
// conversion out of range) cannot stop an invocation with a message, so
// they set the module's failed flag and continue with a harmless value;
// the entry point records the least failing element and the runner
// re-runs the kernel on the CPU for the exact error.

package spirv

import "github.com/knhk/knhk/compiler/ir"

// arrayParam is a kernel array parameter: a storage buffer and the push
// constant word holding its length.
type arrayParam struct {
	buf    uint32 // the buffer variable
	length uint32 // the pointer to its length in the push constants
	kind   ir.Kind
}

// fgen translates one IR function.
type fgen struct {
	m      *mgen
	fn     *ir.Func
	arrays map[ir.Reg]arrayParam // the kernel's array parameters (bodies only)
	vars   []uint32              // OpVariable instructions of the entry block
	body   []uint32
	ids    map[ir.Reg]uint32 // parameters: valid everywhere
	local  map[ir.Reg]uint32 // values available in the current block
	regVar map[ir.Reg]uint32 // Function variables of registers live across blocks
	term   *ir.Term          // the terminator being translated
	pred   uint32            // when predicating: whether the current block runs
	bad    bool
}

func (f *fgen) errorf(l ir.Loc, format string, args ...any) {
	f.bad = true
	if !l.Known() {
		l = f.fn.Loc
	}
	f.m.errorf(l, format, args...)
}

func (f *fgen) kind(r ir.Reg) ir.Kind { return f.m.p.KindOf(f.fn.Regs[r]) }

// op emits an instruction with a result of type t and returns its id.
func (f *fgen) op(code Opcode, t uint32, operands ...uint32) uint32 {
	id := f.m.b.id()
	f.body = inst(f.body, code, append([]uint32{t, id}, operands...)...)
	return id
}

// stmt emits an instruction without a result.
func (f *fgen) stmt(code Opcode, operands ...uint32) { f.body = inst(f.body, code, operands...) }

func (f *fgen) label(id uint32) { f.stmt(OpLabel, id) }

// variable declares a Function variable of type t.
func (f *fgen) variable(t uint32) uint32 {
	id := f.m.b.id()
	f.vars = inst(f.vars, OpVariable, f.m.b.tPtr(StorageClassFunction, t), id, uint32(StorageClassFunction))
	return id
}

// typeOf is the SPIR-V type of a kernel scalar kind; ok is false for any
// other kind.
func (m *mgen) typeOf(k ir.Kind) (uint32, bool) {
	switch k {
	case ir.KindBool:
		return m.b.tBool(), true
	case ir.KindF32:
		return m.b.tF32(), true
	case ir.KindI32:
		return m.b.tI32(), true
	case ir.KindU32:
		return m.b.tU32(), true
	}
	return 0, false
}

// value returns the id holding register r in the current block.
func (f *fgen) value(r ir.Reg) uint32 {
	if id, ok := f.ids[r]; ok {
		return id
	}
	if id, ok := f.local[r]; ok {
		return id
	}
	if v, ok := f.regVar[r]; ok {
		t, _ := f.m.typeOf(f.kind(r))
		id := f.op(OpLoad, t, v)
		f.local[r] = id
		return id
	}
	if _, ok := f.arrays[r]; ok {
		f.errorf(f.fn.Loc, "SPIR-V cannot express a kernel array used as a value in %s (only indexed as a[j])", f.fn.Name)
	} else {
		f.errorf(f.fn.Loc, "internal error: register r%d of %s read before it is defined", r, f.fn.Name)
	}
	return f.m.b.cU32(0)
}

// define records that id holds register r.
func (f *fgen) define(r ir.Reg, id uint32) {
	f.local[r] = id
	if v, ok := f.regVar[r]; ok {
		f.stmt(OpStore, v, id)
	}
}

// fail sets the failed flag where cond holds.
func (f *fgen) fail(cond uint32) {
	if f.pred != 0 {
		cond = f.op(OpLogicalAnd, f.m.b.tBool(), cond, f.pred)
	}
	old := f.op(OpLoad, f.m.b.tBool(), f.m.failed)
	f.stmt(OpStore, f.m.failed, f.op(OpLogicalOr, f.m.b.tBool(), old, cond))
}

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

// emit translates the function into words appended to the module's
// functions, as SPIR-V function id with the scalar parameters params
// (register → parameter position) and result type res.
func (f *fgen) emit(id, res uint32, params []ir.Reg) {
	var ptypes []uint32
	for _, r := range params {
		t, _ := f.m.typeOf(f.kind(r))
		ptypes = append(ptypes, t)
	}
	head := inst(nil, OpFunction, res, id, uint32(FunctionControlNone), f.m.b.tFunc(res, ptypes...))
	for i, r := range params {
		pid := f.m.b.id()
		head = inst(head, OpFunctionParameter, ptypes[i], pid)
		f.ids[r] = pid
	}
	entry := f.m.b.id()
	switch order, ok := f.predicable(); {
	case len(f.fn.Blocks) == 1:
		f.block(0, 0, 0, res)
	case ok:
		f.predicated(order, res)
	default:
		f.liveAcross()
		f.dispatch(res)
	}
	words := inst(head, OpLabel, entry)
	words = append(words, f.vars...)
	words = append(words, f.body...)
	words = inst(words, OpFunctionEnd)
	if !f.bad {
		f.m.b.funcs = append(f.m.b.funcs, words...)
	}
}

// predicable returns the blocks in an order where every block comes after
// its predecessors, and ok when the function can be predicated: no
// cycles (loops) and no calls, whose failures the predicate could not
// mask.
func (f *fgen) predicable() ([]int, bool) {
	n := len(f.fn.Blocks)
	for _, blk := range f.fn.Blocks {
		for _, in := range blk.Instrs {
			if in.Op == ir.OpCallFunc {
				return nil, false
			}
		}
	}
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, n)
	var post []int
	acyclic := true
	var visit func(b int)
	visit = func(b int) {
		state[b] = active
		for _, s := range f.fn.Blocks[b].Term.Succs {
			switch state[s.Block] {
			case unseen:
				visit(int(s.Block))
			case active:
				acyclic = false
			}
		}
		state[b] = done
		post = append(post, b)
	}
	visit(0)
	if !acyclic {
		return nil, false
	}
	order := make([]int, 0, len(post))
	for i := len(post) - 1; i >= 0; i-- {
		order = append(order, post[i])
	}
	return order, true
}

// predicated emits an acyclic function as straight-line code: every
// reachable block runs on every element (kernel instructions have no
// side effects), under a predicate that says whether the element's path
// reaches it. A failure counts only where its block's predicate holds; a
// block parameter takes the argument of the edge that was taken, and the
// result the value of the return that was reached. Drivers then see one
// block with selects instead of branches that diverge.
func (f *fgen) predicated(order []int, res uint32) {
	b := f.m.b
	bl := b.tBool()
	type edge struct {
		cond uint32
		args []uint32
	}
	in := map[int][]edge{}
	result := uint32(0)
	// One SPIR-V block: every value is available after its definition.
	f.local = map[ir.Reg]uint32{}
	for _, bi := range order {
		blk := f.fn.Blocks[bi]
		f.pred = 0
		if bi != 0 {
			es := in[bi]
			if len(es) == 0 {
				continue // unreachable
			}
			f.pred = es[0].cond
			for _, e := range es[1:] {
				f.pred = f.op(OpLogicalOr, bl, f.pred, e.cond)
			}
			for pi, p := range blk.Params {
				t, _ := f.m.typeOf(f.kind(p))
				v := es[0].args[pi]
				for _, e := range es[1:] {
					v = f.op(OpSelect, t, e.cond, e.args[pi], v)
				}
				f.local[p] = v
			}
		}
		for i := range blk.Instrs {
			f.instr(&blk.Instrs[i])
		}
		t := &blk.Term
		taken := func(cond uint32) uint32 {
			switch {
			case f.pred == 0:
				return cond
			case cond == 0:
				return f.pred
			}
			return f.op(OpLogicalAnd, bl, f.pred, cond)
		}
		edgeTo := func(s *ir.Succ, cond uint32) {
			args := make([]uint32, len(s.Args))
			for i, a := range s.Args {
				args[i] = f.value(a)
			}
			if cond == 0 {
				cond = b.cBool(true)
			}
			in[int(s.Block)] = append(in[int(s.Block)], edge{cond, args})
		}
		switch t.Op {
		case ir.TermReturn:
			v := f.value(t.Value)
			if result == 0 {
				result = v
			} else {
				result = f.op(OpSelect, res, taken(b.cBool(true)), v, result)
			}
		case ir.TermJump:
			edgeTo(&t.Succs[0], taken(0))
		case ir.TermBranch:
			c := f.value(t.Value)
			edgeTo(&t.Succs[0], taken(c))
			edgeTo(&t.Succs[1], taken(f.op(OpLogicalNot, bl, c)))
		default:
			f.errorf(t.Loc, "internal error: unterminated block in %s", f.fn.Name)
			return
		}
	}
	f.pred = 0
	if result == 0 {
		f.errorf(f.fn.Loc, "internal error: %s never returns", f.fn.Name)
		return
	}
	f.stmt(OpReturnValue, result)
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

// constant returns the id of IR constant c as kernel kind k.
func (f *fgen) constant(k ir.Kind, c ir.Const) (uint32, bool) {
	b := f.m.b
	switch k {
	case ir.KindBool:
		return b.cBool(c.Bool), c.Kind == ir.ConstBool
	case ir.KindI32:
		return b.cI32(int32(c.Int)), c.Kind == ir.ConstInt
	case ir.KindU32:
		return b.cU32(uint32(c.Int)), c.Kind == ir.ConstInt
	case ir.KindF32:
		switch c.Kind {
		case ir.ConstInt:
			return b.cF32(float32(float64(c.Int))), true
		case ir.ConstFloat:
			return b.cF32(float32(c.Float)), true
		}
	}
	return 0, false
}
