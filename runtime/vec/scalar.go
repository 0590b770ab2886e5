// This file implements the scalar loops: the whole computation without
// the simd experiment, and the tail after the last full vector with it.
// Each is the per-element operation of runtime/eval.

package vec

import "math"

func addF32Scalar(dst, a, b []float32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] + b[i]
	}
}

func subF32Scalar(dst, a, b []float32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] - b[i]
	}
}

func mulF32Scalar(dst, a, b []float32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] * b[i]
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

func cmpF32Scalar(dst []int32, op Cmp, a, b []float32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = mask(cmpF32(op, a[i], b[i]))
	}
}

func addI32Scalar(dst, a, b []int32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] + b[i]
	}
}

func subI32Scalar(dst, a, b []int32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] - b[i]
	}
}

func mulI32Scalar(dst, a, b []int32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = a[i] * b[i]
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

func cmpI32Scalar(dst []int32, op Cmp, a, b []int32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i := range a {
		dst[i] = mask(cmpI32(op, a[i], b[i]))
	}
}

func selectF32Scalar(dst []float32, m []int32, a, b []float32) {
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

func selectI32Scalar(dst []int32, m []int32, a, b []int32) {
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

func sumF32Scalar(acc float32, a []float32) float32 {
	for _, x := range a {
		acc += x
	}
	return acc
}

func sumI32Scalar(acc int32, a []int32) int32 {
	for _, x := range a {
		acc += x
	}
	return acc
}

func countF32Scalar(op Cmp, a []float32, c float32) int {
	n := 0
	for _, x := range a {
		if cmpF32(op, x, c) {
			n++
		}
	}
	return n
}

func countI32Scalar(op Cmp, a []int32, c int32) int {
	n := 0
	for _, x := range a {
		if cmpI32(op, x, c) {
			n++
		}
	}
	return n
}
