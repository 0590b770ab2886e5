// This file implements exp on f32 with a range reduction and a
// polynomial of our own instead of GLSL.std.450's Exp, which Vulkan
// allows to be 3 + 2·|x| ULP off (lavapipe: 62 ULP near |x| = 85, where
// scores through a sigmoid live): exp(x) = 2^k · e^r with k = round(x /
// ln 2) and r = x - k·ln 2 in [-ln2/2, ln2/2], e^r by its Taylor series to
// degree 7, and 2^k applied by two exact Ldexp steps.

package spirv

import "math"

// The constants, chosen so that k·ln2Hi is exact for |k| ≤ 2^8 (ln2Hi
// has 16 significant bits) and ln2Hi + ln2Lo is ln 2 to 2^-44.
const (
	expLog2e = 1.44269504
	expLn2Hi = 0.693145751953125
	expLn2Lo = 1.428606765330187e-06
	expMax   = 89   // above: +Inf
	expMin   = -104 // below: 0
)

// expCoeffs are 1/n! for n = 7 down to 2.
var expCoeffs = []float32{1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5}

// expF32 emits e^x for f32 x: NaN for NaN, +Inf above 89, 0 below -104.
func (f *fgen) expF32(t, x uint32) uint32 {
	b := f.m.b
	glsl := func(inst GLSLInst, rt uint32, args ...uint32) uint32 {
		return f.op(OpExtInst, rt, append([]uint32{b.glslSet(), uint32(inst)}, args...)...)
	}
	// Clamping keeps k in an i32 and the Ldexp steps in range; NaN is
	// restored at the end.
	xc := glsl(GLSLFClamp, t, x, b.cF32(expMin), b.cF32(expMax))
	k := glsl(GLSLRoundEven, t, f.arith(OpFMul, t, xc, b.cF32(expLog2e)))
	r := f.arith(OpFSub, t, xc, f.arith(OpFMul, t, k, b.cF32(expLn2Hi)))
	r = f.arith(OpFSub, t, r, f.arith(OpFMul, t, k, b.cF32(expLn2Lo)))
	q := b.cF32(expCoeffs[0])
	for _, c := range expCoeffs[1:] {
		q = f.arith(OpFAdd, t, f.arith(OpFMul, t, q, r), b.cF32(c))
	}
	// e^r = 1 + (r + r²·q): the small part first, then the one.
	s := f.arith(OpFAdd, t, r, f.arith(OpFMul, t, f.arith(OpFMul, t, r, r), q))
	p := f.arith(OpFAdd, t, b.cF32(1), s)
	i32 := b.tI32()
	ki := f.op(OpConvertFToS, i32, k)
	half := f.op(OpSDiv, i32, ki, b.cI32(2))
	rest := f.op(OpISub, i32, ki, half)
	res := glsl(GLSLLdexp, t, glsl(GLSLLdexp, t, p, half), rest)
	return f.op(OpSelect, t, f.op(OpIsNan, b.tBool(), x), b.cF32(float32(math.NaN())), res)
}
