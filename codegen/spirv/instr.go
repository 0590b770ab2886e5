// This file implements the translation of IR instructions in kernel
// functions, with runtime/eval's results: f32 arithmetic rounded once per
// operation (NoContraction forbids fusing a multiply and an add), integer
// arithmetic wrapping, Go's min, max and abs on f32 (NaN and the sign of
// zero) built from comparisons and bits rather than GLSL's FMin and FMax,
// which leave them undefined.

package spirv

import (
	"math"

	"github.com/knhk/knhk/compiler/ir"
)

// glslF32 maps the f32 builtins that are one GLSL.std.450 instruction
// (exp has its own, more precise expansion: exp.go).
var glslF32 = map[string]GLSLInst{
	"log": GLSLLog, "sqrt": GLSLSqrt, "pow": GLSLPow,
	"floor": GLSLFloor, "ceil": GLSLCeil, "trunc": GLSLTrunc, "round": GLSLRoundEven,
	"tanh": GLSLTanh, "sin": GLSLSin, "cos": GLSLCos, "tan": GLSLTan,
	"exp2": GLSLExp2, "log2": GLSLLog2,
}

func (f *fgen) instr(in *ir.Instr) {
	dk := f.kind(in.Dst)
	t, ok := f.m.typeOf(dk)
	if in.Op == ir.OpIndex && ok {
		f.index(in, t, dk)
		return
	}
	if !ok {
		f.errorf(in.Loc, "SPIR-V cannot express %s of type %s in a kernel", construct(in), f.m.p.TypeString(f.fn.Regs[in.Dst]))
		return
	}
	var id uint32
	switch in.Op {
	case ir.OpConst:
		id, ok = f.constant(dk, in.Const)
	case ir.OpBinary:
		id, ok = f.binary(in, t)
	case ir.OpUnary:
		id, ok = f.unary(in, t, dk)
	case ir.OpConvert:
		id, ok = f.convert(in, t, dk)
	case ir.OpCallBuiltin:
		id, ok = f.builtin(in, t, dk)
	case ir.OpCallFunc:
		id, ok = f.call(in, t)
	default:
		ok = false
	}
	if !ok {
		if !f.bad {
			f.errorf(in.Loc, "SPIR-V cannot express %s", f.describe(in))
		}
		return
	}
	f.define(in.Dst, id)
}

// construct names what instruction in is in the source.
func construct(in *ir.Instr) string {
	switch in.Op {
	case ir.OpConst:
		return "a constant"
	case ir.OpMakeList:
		return "a list literal"
	case ir.OpMakeRecord:
		return "a record literal"
	case ir.OpMakeMap:
		return "a map literal"
	case ir.OpCallBuiltin:
		return "builtin " + in.Name
	case ir.OpCallFunc:
		return "a call"
	case ir.OpCallKernel:
		return "a kernel call"
	case ir.OpVar:
		return "a case variable"
	case ir.OpMilestone:
		return "milestone " + in.Name
	case ir.OpField, ir.OpSetField:
		return "a record field"
	case ir.OpIndex, ir.OpSetIndex:
		return "an index"
	}
	return "a value"
}

// describe names the construct of in for a diagnostic.
func (f *fgen) describe(in *ir.Instr) string {
	switch in.Op {
	case ir.OpBinary:
		return "operator " + ir.BinOp(in.Sub).String() + " on " + f.kind(in.Args[0]).String() + " in a kernel"
	case ir.OpUnary:
		return "operator " + ir.UnOp(in.Sub).String() + " on " + f.kind(in.Args[0]).String() + " in a kernel"
	case ir.OpConvert:
		return "a conversion from " + f.kind(in.Args[0]).String() + " to " + f.kind(in.Dst).String() + " in a kernel"
	case ir.OpCallBuiltin:
		if in.Callee >= 0 {
			return "builtin " + in.Name + " with a function argument in a kernel"
		}
		return "builtin " + in.Name + " on " + f.kind(in.Dst).String() + " in a kernel"
	}
	return "IR " + in.Op.String() + " in a kernel"
}

func (f *fgen) arith(code Opcode, t uint32, x, y uint32) uint32 {
	id := f.op(code, t, x, y)
	f.m.b.decorate(id, DecorationNoContraction)
	return id
}

func (f *fgen) binary(in *ir.Instr, t uint32) (uint32, bool) {
	b := f.m.b
	op := ir.BinOp(in.Sub)
	k := f.kind(in.Args[0])
	x, y := f.value(in.Args[0]), f.value(in.Args[1])
	if op.IsComparison() {
		code, ok := compareOp(op, k)
		if !ok {
			return 0, false
		}
		return f.op(code, t, x, y), true
	}
	switch {
	case k == ir.KindBool && op == ir.BinAnd:
		return f.op(OpLogicalAnd, t, x, y), true
	case k == ir.KindBool && op == ir.BinOr:
		return f.op(OpLogicalOr, t, x, y), true
	case k == ir.KindF32:
		code, ok := map[ir.BinOp]Opcode{ir.BinAdd: OpFAdd, ir.BinSub: OpFSub, ir.BinMul: OpFMul, ir.BinDiv: OpFDiv}[op]
		if !ok {
			return 0, false
		}
		return f.arith(code, t, x, y), true
	case k == ir.KindI32 || k == ir.KindU32:
		switch op {
		case ir.BinAdd:
			return f.op(OpIAdd, t, x, y), true
		case ir.BinSub:
			return f.op(OpISub, t, x, y), true
		case ir.BinMul:
			return f.op(OpIMul, t, x, y), true
		case ir.BinDiv, ir.BinRem:
			zero, one := b.cI32(0), b.cI32(1)
			if k == ir.KindU32 {
				zero, one = b.cU32(0), b.cU32(1)
			}
			isZero := f.op(OpIEqual, b.tBool(), y, zero)
			f.fail(isZero)
			safe := f.op(OpSelect, t, isZero, one, y)
			if k == ir.KindU32 {
				code := OpUDiv
				if op == ir.BinRem {
					code = OpUMod
				}
				return f.op(code, t, x, safe), true
			}
			// SDiv and SRem leave MinInt32 / -1 undefined; Go wraps
			// the quotient to MinInt32 (= -x) and the remainder is 0.
			minusOne := f.op(OpIEqual, b.tBool(), safe, b.cI32(-1))
			safe = f.op(OpSelect, t, minusOne, one, safe)
			if op == ir.BinDiv {
				return f.op(OpSelect, t, minusOne, f.op(OpSNegate, t, x), f.op(OpSDiv, t, x, safe)), true
			}
			return f.op(OpSelect, t, minusOne, zero, f.op(OpSRem, t, x, safe)), true
		}
	}
	return 0, false
}

// compareOp is the comparison op on operands of kind k: ordered for f32
// except !=, which holds for NaN as in Go.
func compareOp(op ir.BinOp, k ir.Kind) (Opcode, bool) {
	var tab map[ir.BinOp]Opcode
	switch k {
	case ir.KindF32:
		tab = map[ir.BinOp]Opcode{ir.BinEq: OpFOrdEqual, ir.BinNe: OpFUnordNotEqual, ir.BinLt: OpFOrdLessThan,
			ir.BinLe: OpFOrdLessThanEqual, ir.BinGt: OpFOrdGreaterThan, ir.BinGe: OpFOrdGreaterThanEqual}
	case ir.KindI32:
		tab = map[ir.BinOp]Opcode{ir.BinEq: OpIEqual, ir.BinNe: OpINotEqual, ir.BinLt: OpSLessThan,
			ir.BinLe: OpSLessThanEqual, ir.BinGt: OpSGreaterThan, ir.BinGe: OpSGreaterThanEqual}
	case ir.KindU32:
		tab = map[ir.BinOp]Opcode{ir.BinEq: OpIEqual, ir.BinNe: OpINotEqual, ir.BinLt: OpULessThan,
			ir.BinLe: OpULessThanEqual, ir.BinGt: OpUGreaterThan, ir.BinGe: OpUGreaterThanEqual}
	case ir.KindBool:
		tab = map[ir.BinOp]Opcode{ir.BinEq: OpLogicalEqual, ir.BinNe: OpLogicalNotEqual}
	}
	c, ok := tab[op]
	return c, ok
}

func (f *fgen) unary(in *ir.Instr, t uint32, k ir.Kind) (uint32, bool) {
	x := f.value(in.Args[0])
	switch op := ir.UnOp(in.Sub); {
	case op == ir.UnNot && k == ir.KindBool:
		return f.op(OpLogicalNot, t, x), true
	case op == ir.UnNeg && k == ir.KindF32:
		return f.op(OpFNegate, t, x), true
	case op == ir.UnNeg && k == ir.KindI32:
		return f.op(OpSNegate, t, x), true
	}
	return 0, false
}

// convert translates T(x) among f32, i32 and u32 with Go's checks: a
// float must truncate into the target's range, an integer must fit.
func (f *fgen) convert(in *ir.Instr, t uint32, to ir.Kind) (uint32, bool) {
	b := f.m.b
	from := f.kind(in.Args[0])
	x := f.value(in.Args[0])
	bl := b.tBool()
	switch {
	case from == to:
		return x, true
	case to == ir.KindF32 && from == ir.KindI32:
		return f.op(OpConvertSToF, t, x), true
	case to == ir.KindF32 && from == ir.KindU32:
		return f.op(OpConvertUToF, t, x), true
	case from == ir.KindF32 && (to == ir.KindI32 || to == ir.KindU32):
		// In range: trunc(x) in [lo, hi), i.e. x > lo-1 and x < hi;
		// the ordered comparisons are false for NaN.
		lo, hi := float32(-1<<31), float32(1<<31)
		lower := f.op(OpFOrdGreaterThanEqual, bl, x, b.cF32(lo))
		code := OpConvertFToS
		if to == ir.KindU32 {
			lo, hi = -1, float32(1<<32)
			lower = f.op(OpFOrdGreaterThan, bl, x, b.cF32(lo))
			code = OpConvertFToU
		}
		ok := f.op(OpLogicalAnd, bl, lower, f.op(OpFOrdLessThan, bl, x, b.cF32(hi)))
		f.fail(f.op(OpLogicalNot, bl, ok))
		return f.op(code, t, f.op(OpSelect, b.tF32(), ok, x, b.cF32(0))), true
	case from == ir.KindI32 && to == ir.KindU32:
		f.fail(f.op(OpSLessThan, bl, x, b.cI32(0)))
		return f.op(OpBitcast, t, x), true
	case from == ir.KindU32 && to == ir.KindI32:
		f.fail(f.op(OpUGreaterThanEqual, bl, x, b.cU32(1<<31)))
		return f.op(OpBitcast, t, x), true
	}
	return 0, false
}

func (f *fgen) builtin(in *ir.Instr, t uint32, k ir.Kind) (uint32, bool) {
	if in.Callee >= 0 || len(in.Args) == 0 {
		return 0, false
	}
	b := f.m.b
	x := f.value(in.Args[0])
	if in.Name == "exp" && k == ir.KindF32 {
		return f.expF32(t, x), true
	}
	if g, ok := glslF32[in.Name]; ok && k == ir.KindF32 {
		args := []uint32{b.glslSet(), uint32(g)}
		for _, a := range in.Args {
			args = append(args, f.value(a))
		}
		return f.op(OpExtInst, t, args...), true
	}
	switch {
	case in.Name == "abs" && k == ir.KindF32:
		u := f.op(OpBitcast, b.tU32(), x)
		return f.op(OpBitcast, t, f.op(OpBitwiseAnd, b.tU32(), u, b.cU32(math.MaxInt32))), true
	case in.Name == "abs" && k == ir.KindI32:
		return f.op(OpSelect, t, f.op(OpSLessThan, b.tBool(), x, b.cI32(0)), f.op(OpSNegate, t, x), x), true
	case in.Name == "abs" && k == ir.KindU32:
		return x, true
	case (in.Name == "min" || in.Name == "max") && len(in.Args) == 2:
		y := f.value(in.Args[1])
		switch k {
		case ir.KindF32:
			return f.minMaxF32(in.Name == "min", t, x, y), true
		case ir.KindI32, ir.KindU32:
			// runtime/eval keeps the first operand on a tie.
			code := map[bool]Opcode{true: OpSLessThanEqual, false: OpSGreaterThanEqual}[in.Name == "min"]
			if k == ir.KindU32 {
				code = map[bool]Opcode{true: OpULessThanEqual, false: OpUGreaterThanEqual}[in.Name == "min"]
			}
			return f.op(OpSelect, t, f.op(code, b.tBool(), x, y), x, y), true
		}
	}
	return 0, false
}

// minMaxF32 is Go's math.Min (or Max) on f32: NaN if either is NaN; of
// two zeros, -0 for min and +0 for max; else the lesser (greater).
func (f *fgen) minMaxF32(isMin bool, t, x, y uint32) uint32 {
	b := f.m.b
	bl, u32 := b.tBool(), b.tU32()
	pick := f.op(OpFOrdLessThan, bl, x, y)
	combine := OpBitwiseOr
	if !isMin {
		pick = f.op(OpFOrdGreaterThan, bl, x, y)
		combine = OpBitwiseAnd
	}
	r := f.op(OpSelect, t, pick, x, y)
	bothZero := f.op(OpLogicalAnd, bl, f.op(OpFOrdEqual, bl, x, b.cF32(0)), f.op(OpFOrdEqual, bl, y, b.cF32(0)))
	zero := f.op(OpBitcast, t, f.op(combine, u32, f.op(OpBitcast, u32, x), f.op(OpBitcast, u32, y)))
	r = f.op(OpSelect, t, bothZero, zero, r)
	nan := f.op(OpLogicalOr, bl, f.op(OpIsNan, bl, x), f.op(OpIsNan, bl, y))
	return f.op(OpSelect, t, nan, b.cF32(float32(math.NaN())), r)
}

// index loads a[j] from a kernel array parameter's buffer; j outside
// [0, len) fails and reads element 0.
func (f *fgen) index(in *ir.Instr, t uint32, k ir.Kind) {
	b := f.m.b
	a, ok := f.arrays[in.Args[0]]
	if !ok {
		f.errorf(in.Loc, "SPIR-V cannot express indexing a %s in a kernel", f.m.p.TypeString(f.fn.Regs[in.Args[0]]))
		return
	}
	j := f.value(in.Args[1])
	if f.kind(in.Args[1]) != ir.KindU32 {
		j = f.op(OpBitcast, b.tU32(), j)
	}
	n := f.op(OpLoad, b.tU32(), a.length)
	inRange := f.op(OpULessThan, b.tBool(), j, n)
	f.fail(f.op(OpLogicalNot, b.tBool(), inRange))
	j = f.op(OpSelect, b.tU32(), inRange, j, b.cU32(0))
	st, _ := f.m.storageType(a.kind)
	v := f.op(OpLoad, st, f.op(OpAccessChain, b.tPtr(StorageClassStorageBuffer, st), a.buf, b.cU32(0), j))
	if a.kind == ir.KindBool {
		v = f.op(OpINotEqual, t, v, b.cU32(0))
	}
	f.define(in.Dst, v)
}

// call calls a fn, translated once per program.
func (f *fgen) call(in *ir.Instr, t uint32) (uint32, bool) {
	id, ok := f.m.function(ir.FuncID(in.Callee), in.Loc)
	if !ok {
		return 0, false
	}
	args := []uint32{id}
	for _, a := range in.Args {
		args = append(args, f.value(a))
	}
	return f.op(OpFunctionCall, t, args...), true
}
