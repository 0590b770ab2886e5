// This file implements the exported primitives: each runs the vector loop
// of the chosen level over the full vectors and the scalar loop over the
// tail. All element-wise functions take dst first; the operands must be at
// least as long as dst.

package vec

// AddF32 sets dst[i] = a[i] + b[i].
func AddF32(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := addF32V(dst, a, b)
	clearUpper()
	addScalar(dst[k:], a[k:], b[k:])
}

// SubF32 sets dst[i] = a[i] - b[i].
func SubF32(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := subF32V(dst, a, b)
	clearUpper()
	subScalar(dst[k:], a[k:], b[k:])
}

// MulF32 sets dst[i] = a[i] * b[i].
func MulF32(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := mulF32V(dst, a, b)
	clearUpper()
	mulScalar(dst[k:], a[k:], b[k:])
}

// DivF32 sets dst[i] = a[i] / b[i] (IEEE: a zero divisor gives an
// infinity or NaN).
func DivF32(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := divF32V(dst, a, b)
	clearUpper()
	divF32Scalar(dst[k:], a[k:], b[k:])
}

// NegF32 sets dst[i] = -a[i] (the sign bit flipped, as Go's negation).
func NegF32(dst, a []float32) {
	a = a[:len(dst)]
	k := negF32V(dst, a)
	clearUpper()
	negF32Scalar(dst[k:], a[k:])
}

// AbsF32 sets dst[i] = abs(a[i]) (the sign bit cleared).
func AbsF32(dst, a []float32) {
	a = a[:len(dst)]
	k := absF32V(dst, a)
	clearUpper()
	absF32Scalar(dst[k:], a[k:])
}

// SqrtF32 sets dst[i] = sqrt(a[i]), correctly rounded (which is what
// rounding the float64 square root gives, as runtime/eval does).
func SqrtF32(dst, a []float32) {
	a = a[:len(dst)]
	k := sqrtF32V(dst, a)
	clearUpper()
	sqrtF32Scalar(dst[k:], a[k:])
}

// F32FromI32 sets dst[i] = f32(a[i]), rounded to nearest even.
func F32FromI32(dst []float32, a []int32) {
	a = a[:len(dst)]
	k := f32FromI32V(dst, a)
	clearUpper()
	f32FromI32Scalar(dst[k:], a[k:])
}

// CmpF32 sets the mask dst[i] = a[i] op b[i].
func CmpF32(dst []int32, op Cmp, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := cmpF32V(dst, op, a, b)
	clearUpper()
	cmpScalar(dst[k:], op, a[k:], b[k:])
}

// AddI32 sets dst[i] = a[i] + b[i], wrapping.
func AddI32(dst, a, b []int32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := addI32V(dst, a, b)
	clearUpper()
	addScalar(dst[k:], a[k:], b[k:])
}

// SubI32 sets dst[i] = a[i] - b[i], wrapping.
func SubI32(dst, a, b []int32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := subI32V(dst, a, b)
	clearUpper()
	subScalar(dst[k:], a[k:], b[k:])
}

// MulI32 sets dst[i] = a[i] * b[i], wrapping.
func MulI32(dst, a, b []int32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := mulI32V(dst, a, b)
	clearUpper()
	mulScalar(dst[k:], a[k:], b[k:])
}

// And sets dst[i] = a[i] & b[i]: the conjunction of two masks.
func And(dst, a, b []int32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := andI32V(dst, a, b)
	clearUpper()
	andI32Scalar(dst[k:], a[k:], b[k:])
}

// Or sets dst[i] = a[i] | b[i]: the disjunction of two masks.
func Or(dst, a, b []int32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := orI32V(dst, a, b)
	clearUpper()
	orI32Scalar(dst[k:], a[k:], b[k:])
}

// Xor sets dst[i] = a[i] ^ b[i]: on masks, a != b; with b all -1, !a.
func Xor(dst, a, b []int32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := xorI32V(dst, a, b)
	clearUpper()
	xorI32Scalar(dst[k:], a[k:], b[k:])
}

// CmpI32 sets the mask dst[i] = a[i] op b[i].
func CmpI32(dst []int32, op Cmp, a, b []int32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := cmpI32V(dst, op, a, b)
	clearUpper()
	cmpScalar(dst[k:], op, a[k:], b[k:])
}

// SelectF32 sets dst[i] = a[i] where the mask m[i] is set, else b[i].
func SelectF32(dst []float32, m []int32, a, b []float32) {
	m, a, b = m[:len(dst)], a[:len(dst)], b[:len(dst)]
	k := selectF32V(dst, m, a, b)
	clearUpper()
	selectScalar(dst[k:], m[k:], a[k:], b[k:])
}

// SelectI32 sets dst[i] = a[i] where the mask m[i] is set, else b[i]; on
// masks a and b it selects masks.
func SelectI32(dst []int32, m []int32, a, b []int32) {
	m, a, b = m[:len(dst)], a[:len(dst)], b[:len(dst)]
	k := selectI32V(dst, m, a, b)
	clearUpper()
	selectScalar(dst[k:], m[k:], a[k:], b[k:])
}

// FillF32 sets every dst[i] to x.
func FillF32(dst []float32, x float32) {
	for i := range dst {
		dst[i] = x
	}
}

// FillI32 sets every dst[i] to x.
func FillI32(dst []int32, x int32) {
	for i := range dst {
		dst[i] = x
	}
}

// Lanewise1F32 sets dst[i] = f(a[i]): the operations with no vector
// instruction that rounds like the scalar one (exp, log), run one lane at
// a time so that they stay bit-identical.
func Lanewise1F32(dst, a []float32, f func(float32) float32) {
	a = a[:len(dst)]
	for i := range dst {
		ClearUpper()
		dst[i] = f(a[i])
	}
}

// Lanewise2F32 sets dst[i] = f(a[i], b[i]) (min and max, whose NaN and
// signed-zero rules differ from the vector instructions).
func Lanewise2F32(dst, a, b []float32, f func(float32, float32) float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		ClearUpper()
		dst[i] = f(a[i], b[i])
	}
}

// ClearUpper clears the upper halves of the vector registers (VZEROUPPER)
// when the vector loops are in use. Scalar code that follows vector code
// with those halves dirty, such as math.Exp's assembly, can run a hundred
// times slower on some CPUs and hypervisors (measured: 1.4 µs instead of
// 8 ns per math.Exp under GOEXPERIMENT=simd on this project's CI machine,
// whatever dirtied them). Compiled kernels call it before their scalar
// loops; every primitive calls it after its vector loop.
func ClearUpper() { clearUpper() }
