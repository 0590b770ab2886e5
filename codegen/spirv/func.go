// This file implements the translation of one IR function (a kernel body
// or a fn it calls) into a SPIR-V function of the kernel scalars.
//
// IR control flow is an arbitrary graph of blocks with parameters, while
// SPIR-V requires structured control flow. A function of one block is
// emitted straight; an acyclic one without calls is predicated into
// straight-line code (predicate.go); any other runs as a dispatch loop
// (dispatch.go). Neither needs if/else and loop nesting recovered.
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
