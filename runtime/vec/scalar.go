// This file implements the scalar loops: the whole computation without
// the simd experiment, and the tail after the last full vector with it.
// Each is the per-element operation of runtime/eval.

package vec

import "math"

func addScalar[T lane](dst, a, b []T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] + b[i]
	}
}

func subScalar[T lane](dst, a, b []T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] - b[i]
	}
}

func mulScalar[T lane](dst, a, b []T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] * b[i]
	}
}

func cmpScalar[T lane](dst []int32, op Cmp, a, b []T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = mask(cmpLane(op, a[i], b[i]))
	}
}

func divF32Scalar(dst, a, b []float32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] / b[i]
	}
}

func negF32Scalar(dst, a []float32) {
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = -a[i]
	}
}

func absF32Scalar(dst, a []float32) {
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = math.Float32frombits(math.Float32bits(a[i]) &^ (1 << 31))
	}
}

func sqrtF32Scalar(dst, a []float32) {
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = float32(math.Sqrt(float64(a[i])))
	}
}

func f32FromI32Scalar(dst []float32, a []int32) {
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = float32(a[i])
	}
}

func andI32Scalar(dst, a, b []int32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] & b[i]
	}
}

func orI32Scalar(dst, a, b []int32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] | b[i]
	}
}

func xorI32Scalar(dst, a, b []int32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] ^ b[i]
	}
}

func selectScalar[T lane](dst []T, m []int32, a, b []T) {
	a = a[:len(m)]
	b = b[:len(m)]
	dst = dst[:len(m)]
	for i := range m {
		if m[i] != 0 {
			dst[i] = a[i]
		} else {
			dst[i] = b[i]
		}
	}
}

// minF32 and maxF32 are runtime/eval's min and max of two f32 values:
// math.Min and math.Max, so a NaN wins and -0 is below +0.
func minF32(a, b float32) float32 { return float32(math.Min(float64(a), float64(b))) }
func maxF32(a, b float32) float32 { return float32(math.Max(float64(a), float64(b))) }

func sumScalar[T lane](acc T, a []T) T {
	for _, x := range a {
		acc += x
	}
	return acc
}

func countScalar[T lane](op Cmp, a []T, c T) int {
	n := 0
	for _, x := range a {
		if cmpLane(op, x, c) {
			n++
		}
	}
	return n
}

// indexScalar appends to idx each i from k on where a[i] op c holds.
func indexScalar[T lane](idx []int, k int, op Cmp, a []T, c T) []int {
	for i := k; i < len(a); i++ {
		if cmpLane(op, a[i], c) {
			idx = append(idx, i)
		}
	}
	return idx
}
