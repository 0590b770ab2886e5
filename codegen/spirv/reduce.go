// This file implements reduction modules: sum, min, max and count of a
// buffer, in passes. Each workgroup of ReduceGroup invocations folds
// ReduceChunk consecutive elements (each invocation a strided sixteen of
// them), combines the invocations' values through workgroup shared
// memory in a tree, and writes one partial; the runner repeats the pass
// over the partials until one value is left.

package spirv

import (
	"fmt"
	"math"

	"github.com/knhk/knhk/compiler/ir"
)

// ReduceOp is a reduction.
type ReduceOp uint8

// The reductions.
const (
	ReduceSum   ReduceOp = iota // f32, i32 (wrapping), u32 (wrapping)
	ReduceMin                   // f32 (Go's math.Min: NaN wins, -0 < +0), i32, u32
	ReduceMax                   // f32 (Go's math.Max), i32, u32
	ReduceCount                 // bool: the number of true elements, as u32
)

func (o ReduceOp) String() string {
	return [...]string{"sum", "min", "max", "count"}[o]
}

const (
	// ReduceGroup is the workgroup size of reduction modules.
	ReduceGroup = 256
	// reduceItems is how many elements each invocation folds.
	reduceItems = 16
	// ReduceChunk is how many elements one workgroup reduces to one.
	ReduceChunk = ReduceGroup * reduceItems
)

// The push constant words of a reduction module.
const (
	ReducePushIn    = iota // the input's first element in binding 0
	ReducePushOut          // the first partial in binding 1
	ReducePushCount        // the number of input elements
	ReducePushBase         // the first workgroup of this dispatch
	ReducePushWords        // how many there are
)

// Reduce returns the module of one pass of reduction op over elements
// of kind k: binding 0 is the input, binding 1 the partials, one per
// workgroup. A count's later passes are sums of u32 partials.
func Reduce(op ReduceOp, k ir.Kind) (*Shader, error) {
	ok := map[ReduceOp][]ir.Kind{
		ReduceSum: {ir.KindF32, ir.KindI32, ir.KindU32}, ReduceMin: {ir.KindF32, ir.KindI32, ir.KindU32},
		ReduceMax: {ir.KindF32, ir.KindI32, ir.KindU32}, ReduceCount: {ir.KindBool},
	}[op]
	found := false
	for _, x := range ok {
		found = found || x == k
	}
	if !found {
		return nil, fmt.Errorf("spirv: no %s reduction over %s", op, k)
	}
	m := &mgen{p: ir.NewProgram("reduce"), b: newBuilder()}
	b := m.b
	u32, bl := b.tU32(), b.tBool()
	in, _ := m.storageType(k)
	acc := in // the accumulated type
	if op == ReduceCount {
		acc = u32
	}
	bufIn, bufOut := b.id(), b.id()
	for i, v := range []uint32{bufIn, bufOut} {
		t := in
		if i == 1 {
			t = acc
		}
		b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassStorageBuffer, b.tBufferBlock(t)), v, uint32(StorageClassStorageBuffer))
		b.decorate(v, DecorationDescriptorSet, 0)
		b.decorate(v, DecorationBinding, uint32(i))
	}
	pushT := b.id()
	members := []uint32{pushT}
	for i := 0; i < ReducePushWords; i++ {
		members = append(members, u32)
		b.memberDecorate(pushT, uint32(i), DecorationOffset, uint32(4*i))
	}
	b.globals = inst(b.globals, OpTypeStruct, members...)
	b.decorate(pushT, DecorationBlock)
	push := b.id()
	b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassPushConstant, pushT), push, uint32(StorageClassPushConstant))
	input := func(builtin BuiltIn) uint32 {
		v := b.id()
		b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassInput, b.tVec(u32, 3)), v, uint32(StorageClassInput))
		b.decorate(v, DecorationBuiltIn, uint32(builtin))
		b.iface = append(b.iface, v)
		return v
	}
	local, group := input(BuiltInLocalInvocationId), input(BuiltInWorkgroupId)
	shared := b.id()
	b.globals = inst(b.globals, OpVariable, b.tPtr(StorageClassWorkgroup, b.tArray(acc, ReduceGroup)), shared, uint32(StorageClassWorkgroup))

	f := &fgen{m: m, fn: &ir.Func{Name: "main"}}
	word := func(i uint32) uint32 {
		return f.op(OpLoad, u32, f.op(OpAccessChain, b.tPtr(StorageClassPushConstant, u32), push, b.cU32(i)))
	}
	t := f.op(OpCompositeExtract, u32, f.op(OpLoad, b.tVec(u32, 3), local), 0)
	g := f.op(OpIAdd, u32, f.op(OpCompositeExtract, u32, f.op(OpLoad, b.tVec(u32, 3), group), 0), word(ReducePushBase))
	inOff, outOff, n := word(ReducePushIn), word(ReducePushOut), word(ReducePushCount)
	var identity uint32
	switch {
	case op == ReduceSum || op == ReduceCount:
		identity = map[uint32]uint32{b.tF32(): b.cF32(0), b.tI32(): b.cI32(0), u32: b.cU32(0)}[acc]
	case op == ReduceMin:
		identity = map[uint32]uint32{b.tF32(): b.cF32(float32(inf)), b.tI32(): b.cI32(1<<31 - 1), u32: b.cU32(1<<32 - 1)}[acc]
	default:
		identity = map[uint32]uint32{b.tF32(): b.cF32(float32(-inf)), b.tI32(): b.cI32(-1 << 31), u32: b.cU32(0)}[acc]
	}
	combine := func(x, y uint32) uint32 {
		switch {
		case op == ReduceSum && k == ir.KindF32:
			return f.arith(OpFAdd, acc, x, y)
		case op == ReduceSum || op == ReduceCount:
			return f.op(OpIAdd, acc, x, y)
		case k == ir.KindF32:
			return f.minMaxF32(op == ReduceMin, acc, x, y)
		}
		code := map[bool]Opcode{true: OpSLessThanEqual, false: OpSGreaterThanEqual}[op == ReduceMin]
		if k == ir.KindU32 {
			code = map[bool]Opcode{true: OpULessThanEqual, false: OpUGreaterThanEqual}[op == ReduceMin]
		}
		return f.op(OpSelect, acc, f.op(code, bl, x, y), x, y)
	}
	// Each invocation folds its sixteen elements; those past n read as
	// the identity.
	a := identity
	start := f.op(OpIAdd, u32, f.op(OpIMul, u32, g, b.cU32(ReduceChunk)), t)
	for j := uint32(0); j < reduceItems; j++ {
		idx := f.op(OpIAdd, u32, start, b.cU32(j*ReduceGroup))
		live := f.op(OpULessThan, bl, idx, n)
		at := f.op(OpSelect, u32, live, f.op(OpIAdd, u32, idx, inOff), inOff)
		x := f.op(OpLoad, in, f.op(OpAccessChain, b.tPtr(StorageClassStorageBuffer, in), bufIn, b.cU32(0), at))
		if op == ReduceCount {
			x = f.op(OpSelect, u32, f.op(OpINotEqual, bl, x, b.cU32(0)), b.cU32(1), b.cU32(0))
		}
		a = combine(a, f.op(OpSelect, acc, live, x, identity))
	}
	slot := func(i uint32) uint32 {
		return f.op(OpAccessChain, b.tPtr(StorageClassWorkgroup, acc), shared, i)
	}
	f.stmt(OpStore, slot(t), a)
	barrier := func() {
		wg := b.cU32(uint32(ScopeWorkgroup))
		f.stmt(OpControlBarrier, wg, wg, b.cU32(uint32(MemorySemanticsAcquireRelease|MemorySemanticsWorkgroupMemory)))
	}
	barrier()
	// The tree: half the invocations combine pairs, eight times; the
	// barriers stay in uniform control flow.
	for s := uint32(ReduceGroup / 2); s > 0; s /= 2 {
		then, merge := b.id(), b.id()
		active := f.op(OpULessThan, bl, t, b.cU32(s))
		f.stmt(OpSelectionMerge, merge, uint32(SelectionControlNone))
		f.stmt(OpBranchConditional, active, then, merge)
		f.label(then)
		x := f.op(OpLoad, acc, slot(t))
		y := f.op(OpLoad, acc, slot(f.op(OpIAdd, u32, t, b.cU32(s))))
		f.stmt(OpStore, slot(t), combine(x, y))
		f.stmt(OpBranch, merge)
		f.label(merge)
		barrier()
	}
	write, done := b.id(), b.id()
	first := f.op(OpIEqual, bl, t, b.cU32(0))
	f.stmt(OpSelectionMerge, done, uint32(SelectionControlNone))
	f.stmt(OpBranchConditional, first, write, done)
	f.label(write)
	dst := f.op(OpAccessChain, b.tPtr(StorageClassStorageBuffer, acc), bufOut, b.cU32(0), f.op(OpIAdd, u32, g, outOff))
	f.stmt(OpStore, dst, f.op(OpLoad, acc, slot(b.cU32(0))))
	f.stmt(OpBranch, done)
	f.label(done)
	f.stmt(OpReturn)

	main, void := b.id(), b.tVoid()
	b.name(main, "main")
	words := inst(nil, OpFunction, void, main, uint32(FunctionControlNone), b.tFunc(void))
	words = inst(words, OpLabel, b.id())
	words = append(words, f.body...)
	b.funcs = append(b.funcs, inst(words, OpFunctionEnd)...)
	b.entries = inst(b.entries, OpEntryPoint, append(append([]uint32{uint32(ExecutionModelGLCompute), main}, str("main")...), b.iface...)...)
	b.modes = inst(b.modes, OpExecutionMode, main, uint32(ExecutionModeLocalSize), ReduceGroup, 1, 1)
	if len(m.diags) > 0 {
		return nil, m.diags[0]
	}
	return &Shader{
		Name:    fmt.Sprintf("%s[%s]", op, k),
		Binary:  b.binary(),
		Buffers: []Slot{{Role: RoleInput, Kind: k}, {Role: RoleOutput, Kind: m.p.KindOf(accKind(op, k))}},
	}, nil
}

// accKind is the type of op's partials over k.
func accKind(op ReduceOp, k ir.Kind) ir.TypeID {
	if op == ReduceCount {
		return ir.U32
	}
	return ir.TypeID(k)
}

var inf = math.Inf(1)
