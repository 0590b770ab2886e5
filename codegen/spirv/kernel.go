// This file implements the compilation of kernels into one GLCompute
// module: storage buffers for the array parameters, the results and the
// error word, push constants for the dispatch's base and count, the
// arrays' lengths and the scalar parameters, and an entry point that runs
// each kernel's body for element GlobalInvocationId.x + base.

package spirv

import (
	"fmt"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// Diagnostic is a construct of the program that SPIR-V cannot express, at
// its source location.
type Diagnostic struct {
	Loc ir.Loc
	Msg string
}

func (d Diagnostic) Error() string { return d.Msg }

// mgen compiles one module.
type mgen struct {
	p      *ir.Program
	b      *builder
	diags  []Diagnostic
	failed uint32               // the Private bool set by a failing element
	funcs  map[ir.FuncID]uint32 // fns translated
	active map[ir.FuncID]bool   // fns being translated, to catch recursion
	arrays map[ir.FuncID]map[ir.Reg]arrayParam
}

func (m *mgen) errorf(l ir.Loc, format string, args ...any) {
	m.diags = append(m.diags, Diagnostic{Loc: l, Msg: "spirv: " + fmt.Sprintf(format, args...)})
}

// storageType is the type of a buffer element or push constant word of
// kind k: bool is stored as u32.
func (m *mgen) storageType(k ir.Kind) (uint32, bool) {
	if k == ir.KindBool {
		return m.b.tU32(), true
	}
	return m.typeOf(k)
}

// Kernel compiles kernel k of p into a module.
func Kernel(p *ir.Program, k int) (*Shader, []Diagnostic) { return Compile(p, []int{k}) }

// Compile compiles the kernels ks of p into one module that computes all
// of their results in one dispatch: a map with several inputs and
// outputs. Their results must be equally long at run time. It returns
// diagnostics, and no module, for constructs SPIR-V cannot express.
func Compile(p *ir.Program, ks []int) (*Shader, []Diagnostic) {
	m := &mgen{p: p, b: newBuilder(), funcs: map[ir.FuncID]uint32{}, active: map[ir.FuncID]bool{}, arrays: map[ir.FuncID]map[ir.Reg]arrayParam{}}
	sh := &Shader{Kernels: ks}
	var names []string
	for _, k := range ks {
		if k < 0 || k >= len(p.Kernels) || p.Kernels[k] == nil {
			return nil, []Diagnostic{{Loc: ir.NoLoc, Msg: fmt.Sprintf("spirv: no kernel %d", k)}}
		}
		names = append(names, p.Kernels[k].Name)
	}
	sh.Name = strings.Join(names, "+")
	m.module(sh)
	if len(m.diags) > 0 {
		return nil, m.diags
	}
	sh.Binary = m.b.binary()
	return sh, nil
}

// kernelIO is one kernel's interface in the module.
type kernelIO struct {
	k       *ir.Kernel
	body    *ir.Func
	out     uint32         // output buffer variable
	outKind ir.Kind        // result element kind
	scalars map[int]uint32 // parameter → push constant member
}

func (m *mgen) module(sh *Shader) {
	b := m.b
	u32 := b.tU32()
	// Interface: buffers and push constant words in the order the
	// runner binds them.
	sh.Push = []Slot{{Role: RoleBase}, {Role: RoleCount}}
	var ios []*kernelIO
	var bufTypes []uint32
	for ki, k := range sh.Kernels {
		kn := m.p.Kernels[k]
		if kn.Body < 0 || int(kn.Body) >= len(m.p.Funcs) {
			m.errorf(kn.Loc, "kernel %s has no body", kn.Name)
			return
		}
		io := &kernelIO{k: kn, body: m.p.Funcs[kn.Body], scalars: map[int]uint32{}}
		arrays := map[ir.Reg]arrayParam{}
		for pi, pa := range kn.Params {
			kind := m.p.KindOf(pa.Type)
			if kind == ir.KindList {
				ek := m.p.KindOf(m.p.Type(pa.Type).Elem)
				st, ok := m.storageType(ek)
				if !ok {
					m.errorf(kn.Loc, "SPIR-V cannot express parameter %s of kernel %s of type %s", pa.Name, kn.Name, m.p.TypeString(pa.Type))
					continue
				}
				sh.Buffers = append(sh.Buffers, Slot{Role: RoleInput, Kernel: ki, Param: pi, Kind: ek})
				bufTypes = append(bufTypes, st)
				sh.Push = append(sh.Push, Slot{Role: RoleLength, Kernel: ki, Param: pi, Kind: ir.KindU32})
				arrays[ir.Reg(pi)] = arrayParam{buf: uint32(len(sh.Buffers) - 1), length: uint32(len(sh.Push) - 1), kind: ek}
				continue
			}
			if _, ok := m.storageType(kind); !ok {
				m.errorf(kn.Loc, "SPIR-V cannot express parameter %s of kernel %s of type %s", pa.Name, kn.Name, m.p.TypeString(pa.Type))
				continue
			}
			sh.Push = append(sh.Push, Slot{Role: RoleScalar, Kernel: ki, Param: pi, Kind: kind})
			io.scalars[pi] = uint32(len(sh.Push) - 1)
		}
		rt := m.p.Type(kn.Result)
		if rt == nil || rt.Kind != ir.KindList {
			m.errorf(kn.Loc, "SPIR-V cannot express kernel %s's result type %s", kn.Name, m.p.TypeString(kn.Result))
			continue
		}
		io.outKind = m.p.KindOf(rt.Elem)
		st, ok := m.storageType(io.outKind)
		if !ok {
			m.errorf(kn.Loc, "SPIR-V cannot express kernel %s's result type %s", kn.Name, m.p.TypeString(kn.Result))
			continue
		}
		sh.Buffers = append(sh.Buffers, Slot{Role: RoleOutput, Kernel: ki, Kind: io.outKind})
		bufTypes = append(bufTypes, st)
		io.out = uint32(len(sh.Buffers) - 1)
		m.arrays[kn.Body] = arrays
		ios = append(ios, io)
	}
	sh.Buffers = append(sh.Buffers, Slot{Role: RoleError, Kind: ir.KindU32})
	bufTypes = append(bufTypes, u32)
	if len(sh.Push) > MaxPushWords {
		m.errorf(m.p.Kernels[sh.Kernels[0]].Loc, "SPIR-V push constants cannot hold %d words (array lengths and scalar parameters); at most %d", len(sh.Push), MaxPushWords)
	}
	if len(m.diags) > 0 {
		return
	}

	// Globals: one variable per buffer, the push constant block, the
	// invocation id and the failed flag.
	bufVars := make([]uint32, len(sh.Buffers))
	for i, st := range bufTypes {
		v := b.id()
		blk := b.tBufferBlock(st)
		b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassStorageBuffer, blk), v, uint32(StorageClassStorageBuffer))
		b.decorate(v, DecorationDescriptorSet, 0)
		b.decorate(v, DecorationBinding, uint32(i))
		bufVars[i] = v
	}
	var members []uint32
	for _, s := range sh.Push {
		t, _ := m.storageType(s.Kind)
		if s.Role == RoleBase || s.Role == RoleCount || s.Role == RoleLength {
			t = u32
		}
		members = append(members, t)
	}
	pushT := b.id()
	b.globals = inst(b.globals, OpTypeStruct, append([]uint32{pushT}, members...)...)
	b.decorate(pushT, DecorationBlock)
	for i := range members {
		b.memberDecorate(pushT, uint32(i), DecorationOffset, uint32(4*i))
	}
	push := b.id()
	b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassPushConstant, pushT), push, uint32(StorageClassPushConstant))
	pushPtr := func(i uint32) func(f *fgen, t uint32) uint32 {
		return func(f *fgen, t uint32) uint32 {
			return f.op(OpAccessChain, b.tPtr(StorageClassPushConstant, t), push, b.cU32(i))
		}
	}
	gid := b.id()
	b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassInput, b.tVec(u32, 3)), gid, uint32(StorageClassInput))
	b.decorate(gid, DecorationBuiltIn, uint32(BuiltInGlobalInvocationId))
	b.iface = append(b.iface, gid)
	m.failed = b.id()
	b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassPrivate, b.tBool()), m.failed, uint32(StorageClassPrivate), b.cBool(false))
	b.name(m.failed, "failed")

	// The array parameters point at their buffer variables; their
	// length pointers are made in the body function (see bodyArrays).
	for _, io := range ios {
		for r, a := range m.arrays[io.k.Body] {
			a.buf = bufVars[a.buf]
			m.arrays[io.k.Body][r] = a
		}
	}

	main := b.id()
	b.name(main, "main")
	f := &fgen{m: m, fn: &ir.Func{Name: "main"}, ids: map[ir.Reg]uint32{}, local: map[ir.Reg]uint32{}, regVar: map[ir.Reg]uint32{}}
	void := b.tVoid()
	bl := b.tBool()
	inRange, end := b.id(), b.id()
	x := f.op(OpCompositeExtract, u32, f.op(OpLoad, b.tVec(u32, 3), gid), 0)
	base := f.op(OpLoad, u32, pushPtr(0)(f, u32))
	n := f.op(OpLoad, u32, pushPtr(1)(f, u32))
	idx := f.op(OpIAdd, u32, x, base)
	live := f.op(OpULessThan, bl, idx, n)
	f.stmt(OpSelectionMerge, end, uint32(SelectionControlNone))
	f.stmt(OpBranchConditional, live, inRange, end)
	f.label(inRange)
	i := f.op(OpBitcast, b.tI32(), idx)
	for _, io := range ios {
		res, _ := m.typeOf(io.outKind)
		id, ok := m.body(io, pushPtr)
		if !ok {
			continue
		}
		args := []uint32{id}
		for pi, pa := range io.k.Params {
			if m.p.KindOf(pa.Type) == ir.KindList {
				continue
			}
			kind := m.p.KindOf(pa.Type)
			st, _ := m.storageType(kind)
			v := f.op(OpLoad, st, pushPtr(io.scalars[pi])(f, st))
			if kind == ir.KindBool {
				v = f.op(OpINotEqual, bl, v, b.cU32(0))
			}
			args = append(args, v)
		}
		args = append(args, i)
		r := f.op(OpFunctionCall, res, args...)
		if io.outKind == ir.KindBool {
			r = f.op(OpSelect, u32, r, b.cU32(1), b.cU32(0))
		}
		st, _ := m.storageType(io.outKind)
		f.stmt(OpStore, f.op(OpAccessChain, b.tPtr(StorageClassStorageBuffer, st), bufVars[io.out], b.cU32(0), idx), r)
	}
	failed, record := b.id(), b.id()
	didFail := f.op(OpLoad, bl, m.failed)
	f.stmt(OpSelectionMerge, failed, uint32(SelectionControlNone))
	f.stmt(OpBranchConditional, didFail, record, failed)
	f.label(record)
	errPtr := f.op(OpAccessChain, b.tPtr(StorageClassStorageBuffer, u32), bufVars[len(bufVars)-1], b.cU32(0), b.cU32(0))
	f.op(OpAtomicUMin, u32, errPtr, b.cU32(uint32(ScopeDevice)), b.cU32(uint32(MemorySemanticsNone)), idx)
	f.stmt(OpBranch, failed)
	f.label(failed)
	f.stmt(OpBranch, end)
	f.label(end)
	f.stmt(OpReturn)
	words := inst(nil, OpFunction, void, main, uint32(FunctionControlNone), b.tFunc(void))
	words = inst(words, OpLabel, b.id())
	words = append(words, f.vars...)
	words = append(words, f.body...)
	b.funcs = append(b.funcs, inst(words, OpFunctionEnd)...)
	// At SPIR-V 1.3 the entry point lists only Input and Output
	// variables (buffers and push constants join from 1.4 on).
	b.entryPoint(main, LocalSize)
}

// body translates kernel io's body into a function of its scalar
// parameters and i.
func (m *mgen) body(io *kernelIO, pushPtr func(uint32) func(*fgen, uint32) uint32) (uint32, bool) {
	fn := io.body
	f := &fgen{m: m, fn: fn, arrays: map[ir.Reg]arrayParam{}, ids: map[ir.Reg]uint32{}, local: map[ir.Reg]uint32{}, regVar: map[ir.Reg]uint32{}}
	var params []ir.Reg
	for r := range fn.Params {
		if a, ok := m.arrays[io.k.Body][ir.Reg(r)]; ok {
			f.arrays[ir.Reg(r)] = a
			continue
		}
		if _, ok := m.typeOf(m.p.KindOf(fn.Params[r].Type)); !ok {
			m.errorf(fn.Loc, "SPIR-V cannot express parameter %s of %s of type %s", fn.Params[r].Name, fn.Name, m.p.TypeString(fn.Params[r].Type))
			return 0, false
		}
		params = append(params, ir.Reg(r))
	}
	res, ok := m.typeOf(m.p.KindOf(fn.Result))
	if !ok {
		m.errorf(fn.Loc, "SPIR-V cannot express the element type %s of kernel %s", m.p.TypeString(fn.Result), io.k.Name)
		return 0, false
	}
	// The length pointers are made at the top of the body.
	for r, a := range f.arrays {
		a.length = pushPtr(a.length)(f, m.b.tU32())
		f.arrays[r] = a
	}
	id := m.b.id()
	m.b.name(id, io.k.Name)
	f.emit(id, res, params)
	return id, !f.bad
}

// function returns the SPIR-V function of fn id, translating it once.
func (m *mgen) function(id ir.FuncID, at ir.Loc) (uint32, bool) {
	if id < 0 || int(id) >= len(m.p.Funcs) {
		m.errorf(at, "internal error: call of function %d", id)
		return 0, false
	}
	fn := m.p.Funcs[id]
	if m.active[id] {
		m.errorf(at, "SPIR-V cannot express recursion: %s calls itself", fn.Name)
		return 0, false
	}
	if sid, ok := m.funcs[id]; ok {
		return sid, true
	}
	res, ok := m.typeOf(m.p.KindOf(fn.Result))
	if !ok {
		m.errorf(at, "SPIR-V cannot express a call of %s, whose result is %s", fn.Name, m.p.TypeString(fn.Result))
		return 0, false
	}
	m.active[id] = true
	defer delete(m.active, id)
	f := &fgen{m: m, fn: fn, ids: map[ir.Reg]uint32{}, local: map[ir.Reg]uint32{}, regVar: map[ir.Reg]uint32{}}
	var params []ir.Reg
	for r, pa := range fn.Params {
		if _, ok := m.typeOf(m.p.KindOf(pa.Type)); !ok {
			m.errorf(at, "SPIR-V cannot express a call of %s, whose parameter %s is %s", fn.Name, pa.Name, m.p.TypeString(pa.Type))
			return 0, false
		}
		params = append(params, ir.Reg(r))
	}
	sid := m.b.id()
	m.b.name(sid, fn.Name)
	m.funcs[id] = sid
	f.emit(sid, res, params)
	return sid, !f.bad
}
