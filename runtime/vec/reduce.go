// This file implements reductions and the list guards built on them.

package vec

import "math"

// SumF32 returns the float32 sum of a. With the vector loop the terms are
// added in a different order than a left fold; see [SumF32Bound].
func SumF32(a []float32) float32 {
	s, k := sumF32V(a)
	clearUpper()
	return sumScalar(s, a[k:])
}

// SumF32Bound returns the most by which two float32 summations of a in
// different orders may differ: n·ε·Σ|a[i]| with ε = 2⁻²³ (each is within
// (n-1)·2⁻²⁴·Σ|a[i]| of the exact sum), computed in float64. It holds
// while no partial sum overflows.
func SumF32Bound(a []float32) float64 {
	var abs float64
	for _, x := range a {
		abs += math.Abs(float64(x))
	}
	return float64(len(a)) * 0x1p-23 * abs
}

// SumI32 returns the sum of a, wrapping like runtime/eval's i32 addition
// (which makes it exact in any order).
func SumI32(a []int32) int32 {
	s, k := sumI32V(a)
	clearUpper()
	return sumScalar(s, a[k:])
}

// MinF32 returns the fold of a with runtime/eval's min (a NaN anywhere
// gives NaN, -0 is below +0), and false when a is empty.
func MinF32(a []float32) (float32, bool) { return extremeF32(a, true) }

// MaxF32 is [MinF32] with max.
func MaxF32(a []float32) (float32, bool) { return extremeF32(a, false) }

func extremeF32(a []float32, isMin bool) (float32, bool) {
	if len(a) == 0 {
		return 0, false
	}
	f := maxF32
	if isMin {
		f = minF32
	}
	// The vector loop finds the extreme of the numbers; a NaN or a zero
	// result (where the sign of zero matters) takes the exact fold.
	if r, k, ok := extremeF32V(a, isMin); ok {
		clearUpper()
		for _, x := range a[k:] {
			r = f(r, x)
		}
		if r != 0 && r == r {
			return r, true
		}
	}
	r := a[0]
	for _, x := range a[1:] {
		r = f(r, x)
	}
	return r, true
}

// MinI32 returns the least element of a, and false when a is empty.
func MinI32(a []int32) (int32, bool) { return extremeI32(a, true) }

// MaxI32 returns the greatest element of a, and false when a is empty.
func MaxI32(a []int32) (int32, bool) { return extremeI32(a, false) }

func extremeI32(a []int32, isMin bool) (int32, bool) {
	if len(a) == 0 {
		return 0, false
	}
	r, k := extremeI32V(a, isMin)
	clearUpper()
	if k == 0 {
		r = a[0]
	}
	for _, x := range a[k:] {
		if (x < r) == isMin && x != r {
			r = x
		}
	}
	return r, true
}

// CountF32 returns how many a[i] op c hold: the length of filter(a, x =>
// x op c).
func CountF32(op Cmp, a []float32, c float32) int {
	n, k := countF32V(op, a, c)
	clearUpper()
	return n + countScalar(op, a[k:], c)
}

// CountI32 is [CountF32] over i32.
func CountI32(op Cmp, a []int32, c int32) int {
	n, k := countI32V(op, a, c)
	clearUpper()
	return n + countScalar(op, a[k:], c)
}

// AllF32 reports whether a[i] op c holds for every element (true for
// none): all(a, x => x op c).
func AllF32(op Cmp, a []float32, c float32) bool { return CountF32(op, a, c) == len(a) }

// AnyF32 reports whether a[i] op c holds for some element.
func AnyF32(op Cmp, a []float32, c float32) bool { return CountF32(op, a, c) > 0 }

// AllI32 is [AllF32] over i32.
func AllI32(op Cmp, a []int32, c int32) bool { return CountI32(op, a, c) == len(a) }

// AnyI32 is [AnyF32] over i32.
func AnyI32(op Cmp, a []int32, c int32) bool { return CountI32(op, a, c) > 0 }

// IndexF32 appends to idx, in order, each i where a[i] op c holds: the
// positions filter(a, x => x op c) keeps.
func IndexF32(idx []int, op Cmp, a []float32, c float32) []int {
	idx, k := indexF32V(idx, op, a, c)
	clearUpper()
	return indexScalar(idx, k, op, a, c)
}

// IndexI32 is [IndexF32] over i32.
func IndexI32(idx []int, op Cmp, a []int32, c int32) []int {
	idx, k := indexI32V(idx, op, a, c)
	clearUpper()
	return indexScalar(idx, k, op, a, c)
}
