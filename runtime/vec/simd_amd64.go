//go:build goexperiment.simd && amd64

// This file implements the vector loops with simd/archsimd: 16 lanes on
// AVX-512, 8 on AVX2. Each returns how many leading elements it did (a
// multiple of the lane count); the caller's scalar loop does the rest.

package vec

import (
	"math/bits"
	"simd/archsimd"
)

func cpuLevel() int {
	switch {
	case archsimd.X86.AVX512():
		return levelAVX512
	case archsimd.X86.AVX2():
		return levelAVX2
	}
	return levelScalar
}

func clearUpper() {
	if level != levelScalar {
		archsimd.ClearAVXUpperBits()
	}
}

type (
	f16 = archsimd.Float32x16
	f8  = archsimd.Float32x8
	i16 = archsimd.Int32x16
	i8  = archsimd.Int32x8
	m16 = archsimd.Mask32x16
	m8  = archsimd.Mask32x8
)

var (
	lf16 = archsimd.LoadFloat32x16Slice
	lf8  = archsimd.LoadFloat32x8Slice
	li16 = archsimd.LoadInt32x16Slice
	li8  = archsimd.LoadInt32x8Slice
)

func addF32V(dst, a, b []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			lf16(a[i:]).Add(lf16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			lf8(a[i:]).Add(lf8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func subF32V(dst, a, b []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			lf16(a[i:]).Sub(lf16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			lf8(a[i:]).Sub(lf8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func mulF32V(dst, a, b []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			lf16(a[i:]).Mul(lf16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			lf8(a[i:]).Mul(lf8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func divF32V(dst, a, b []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			lf16(a[i:]).Div(lf16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			lf8(a[i:]).Div(lf8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

// signBit flips (xor) or clears (and-not) the sign of f32 lanes.
const signBit = -1 << 31

func negF32V(dst, a []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		s := archsimd.BroadcastInt32x16(signBit)
		for ; i+16 <= n; i += 16 {
			lf16(a[i:]).AsInt32x16().Xor(s).AsFloat32x16().StoreSlice(dst[i:])
		}
	case levelAVX2:
		s := archsimd.BroadcastInt32x8(signBit)
		for ; i+8 <= n; i += 8 {
			lf8(a[i:]).AsInt32x8().Xor(s).AsFloat32x8().StoreSlice(dst[i:])
		}
	}
	return i
}

func absF32V(dst, a []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		s := archsimd.BroadcastInt32x16(signBit)
		for ; i+16 <= n; i += 16 {
			lf16(a[i:]).AsInt32x16().AndNot(s).AsFloat32x16().StoreSlice(dst[i:])
		}
	case levelAVX2:
		s := archsimd.BroadcastInt32x8(signBit)
		for ; i+8 <= n; i += 8 {
			lf8(a[i:]).AsInt32x8().AndNot(s).AsFloat32x8().StoreSlice(dst[i:])
		}
	}
	return i
}

func sqrtF32V(dst, a []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			lf16(a[i:]).Sqrt().StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			lf8(a[i:]).Sqrt().StoreSlice(dst[i:])
		}
	}
	return i
}

func f32FromI32V(dst []float32, a []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			li16(a[i:]).ConvertToFloat32().StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			li8(a[i:]).ConvertToFloat32().StoreSlice(dst[i:])
		}
	}
	return i
}

func cmpF16(op Cmp, x, y f16) m16 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

func cmpF8(op Cmp, x, y f8) m8 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

func cmpI16(op Cmp, x, y i16) m16 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

func cmpI8(op Cmp, x, y i8) m8 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

func cmpF32V(dst []int32, op Cmp, a, b []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			cmpF16(op, lf16(a[i:]), lf16(b[i:])).ToInt32x16().StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			cmpF8(op, lf8(a[i:]), lf8(b[i:])).ToInt32x8().StoreSlice(dst[i:])
		}
	}
	return i
}

func cmpI32V(dst []int32, op Cmp, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			cmpI16(op, li16(a[i:]), li16(b[i:])).ToInt32x16().StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			cmpI8(op, li8(a[i:]), li8(b[i:])).ToInt32x8().StoreSlice(dst[i:])
		}
	}
	return i
}

func addI32V(dst, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			li16(a[i:]).Add(li16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			li8(a[i:]).Add(li8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func subI32V(dst, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			li16(a[i:]).Sub(li16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			li8(a[i:]).Sub(li8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func mulI32V(dst, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			li16(a[i:]).Mul(li16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			li8(a[i:]).Mul(li8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func andI32V(dst, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			li16(a[i:]).And(li16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			li8(a[i:]).And(li8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func orI32V(dst, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			li16(a[i:]).Or(li16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			li8(a[i:]).Or(li8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

func xorI32V(dst, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		for ; i+16 <= n; i += 16 {
			li16(a[i:]).Xor(li16(b[i:])).StoreSlice(dst[i:])
		}
	case levelAVX2:
		for ; i+8 <= n; i += 8 {
			li8(a[i:]).Xor(li8(b[i:])).StoreSlice(dst[i:])
		}
	}
	return i
}

// The selects compare the mask lanes with zero rather than reinterpret
// them, so that any non-zero lane counts as true, as in the scalar loop.

func selectF32V(dst []float32, m []int32, a, b []float32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		z := archsimd.BroadcastInt32x16(0)
		for ; i+16 <= n; i += 16 {
			mk := li16(m[i:]).NotEqual(z)
			lf16(a[i:]).Merge(lf16(b[i:]), mk).StoreSlice(dst[i:])
		}
	case levelAVX2:
		z := archsimd.BroadcastInt32x8(0)
		for ; i+8 <= n; i += 8 {
			mk := li8(m[i:]).NotEqual(z)
			lf8(a[i:]).Merge(lf8(b[i:]), mk).StoreSlice(dst[i:])
		}
	}
	return i
}

func selectI32V(dst []int32, m []int32, a, b []int32) int {
	n, i := len(dst), 0
	switch level {
	case levelAVX512:
		z := archsimd.BroadcastInt32x16(0)
		for ; i+16 <= n; i += 16 {
			mk := li16(m[i:]).NotEqual(z)
			li16(a[i:]).Merge(li16(b[i:]), mk).StoreSlice(dst[i:])
		}
	case levelAVX2:
		z := archsimd.BroadcastInt32x8(0)
		for ; i+8 <= n; i += 8 {
			mk := li8(m[i:]).NotEqual(z)
			li8(a[i:]).Merge(li8(b[i:]), mk).StoreSlice(dst[i:])
		}
	}
	return i
}

// sumF32V keeps one partial sum per lane and adds the lanes in order at
// the end: the reassociation that [SumF32Bound] bounds.
func sumF32V(a []float32) (float32, int) {
	n, i := len(a), 0
	var s float32
	switch level {
	case levelAVX512:
		if n < 16 {
			return 0, 0
		}
		acc := lf16(a)
		for i = 16; i+16 <= n; i += 16 {
			acc = acc.Add(lf16(a[i:]))
		}
		var l [16]float32
		acc.Store(&l)
		for _, x := range l {
			s += x
		}
	case levelAVX2:
		if n < 8 {
			return 0, 0
		}
		acc := lf8(a)
		for i = 8; i+8 <= n; i += 8 {
			acc = acc.Add(lf8(a[i:]))
		}
		var l [8]float32
		acc.Store(&l)
		for _, x := range l {
			s += x
		}
	}
	return s, i
}

func sumI32V(a []int32) (int32, int) {
	n, i := len(a), 0
	var s int32
	switch level {
	case levelAVX512:
		acc := archsimd.BroadcastInt32x16(0)
		for ; i+16 <= n; i += 16 {
			acc = acc.Add(li16(a[i:]))
		}
		var l [16]int32
		acc.Store(&l)
		for _, x := range l {
			s += x
		}
	case levelAVX2:
		acc := archsimd.BroadcastInt32x8(0)
		for ; i+8 <= n; i += 8 {
			acc = acc.Add(li8(a[i:]))
		}
		var l [8]int32
		acc.Store(&l)
		for _, x := range l {
			s += x
		}
	}
	return s, i
}

// extremeF32V returns the least (or greatest) of the first k elements,
// and false when one of them is a NaN; it keeps the running extreme with a
// compare and merge, so no NaN rule of the min instruction matters.
func extremeF32V(a []float32, isMin bool) (float32, int, bool) {
	n, i := len(a), 0
	var r float32
	switch level {
	case levelAVX512:
		if n < 16 {
			return 0, 0, false
		}
		acc := lf16(a)
		nan := acc.IsNaN()
		for i = 16; i+16 <= n; i += 16 {
			x := lf16(a[i:])
			nan = nan.Or(x.IsNaN())
			var take m16
			if isMin {
				take = x.Less(acc)
			} else {
				take = x.Greater(acc)
			}
			acc = x.Merge(acc, take)
		}
		if nan.ToBits() != 0 {
			return 0, 0, false
		}
		var l [16]float32
		acc.Store(&l)
		r = l[0]
		for _, x := range l[1:] {
			if (x < r) == isMin && x != r {
				r = x
			}
		}
	case levelAVX2:
		if n < 8 {
			return 0, 0, false
		}
		acc := lf8(a)
		nan := acc.IsNaN()
		for i = 8; i+8 <= n; i += 8 {
			x := lf8(a[i:])
			nan = nan.Or(x.IsNaN())
			var take m8
			if isMin {
				take = x.Less(acc)
			} else {
				take = x.Greater(acc)
			}
			acc = x.Merge(acc, take)
		}
		if nan.ToBits() != 0 {
			return 0, 0, false
		}
		var l [8]float32
		acc.Store(&l)
		r = l[0]
		for _, x := range l[1:] {
			if (x < r) == isMin && x != r {
				r = x
			}
		}
	default:
		return 0, 0, false
	}
	return r, i, true
}

func extremeI32V(a []int32, isMin bool) (int32, int) {
	n, i := len(a), 0
	var r int32
	switch level {
	case levelAVX512:
		if n < 16 {
			return 0, 0
		}
		acc := li16(a)
		for i = 16; i+16 <= n; i += 16 {
			if isMin {
				acc = acc.Min(li16(a[i:]))
			} else {
				acc = acc.Max(li16(a[i:]))
			}
		}
		var l [16]int32
		acc.Store(&l)
		r = l[0]
		for _, x := range l[1:] {
			if (x < r) == isMin && x != r {
				r = x
			}
		}
	case levelAVX2:
		if n < 8 {
			return 0, 0
		}
		acc := li8(a)
		for i = 8; i+8 <= n; i += 8 {
			if isMin {
				acc = acc.Min(li8(a[i:]))
			} else {
				acc = acc.Max(li8(a[i:]))
			}
		}
		var l [8]int32
		acc.Store(&l)
		r = l[0]
		for _, x := range l[1:] {
			if (x < r) == isMin && x != r {
				r = x
			}
		}
	}
	return r, i
}

func countF32V(op Cmp, a []float32, c float32) (int, int) {
	n, i, k := len(a), 0, 0
	switch level {
	case levelAVX512:
		cv := archsimd.BroadcastFloat32x16(c)
		for ; i+16 <= n; i += 16 {
			k += bits.OnesCount16(cmpF16(op, lf16(a[i:]), cv).ToBits())
		}
	case levelAVX2:
		cv := archsimd.BroadcastFloat32x8(c)
		for ; i+8 <= n; i += 8 {
			k += bits.OnesCount8(cmpF8(op, lf8(a[i:]), cv).ToBits())
		}
	}
	return k, i
}

func countI32V(op Cmp, a []int32, c int32) (int, int) {
	n, i, k := len(a), 0, 0
	switch level {
	case levelAVX512:
		cv := archsimd.BroadcastInt32x16(c)
		for ; i+16 <= n; i += 16 {
			k += bits.OnesCount16(cmpI16(op, li16(a[i:]), cv).ToBits())
		}
	case levelAVX2:
		cv := archsimd.BroadcastInt32x8(c)
		for ; i+8 <= n; i += 8 {
			k += bits.OnesCount8(cmpI8(op, li8(a[i:]), cv).ToBits())
		}
	}
	return k, i
}

// appendBits appends base+j for each set bit j of b, lowest first.
func appendBits(idx []int, base int, b uint64) []int {
	for b != 0 {
		idx = append(idx, base+bits.TrailingZeros64(b))
		b &= b - 1
	}
	return idx
}

func indexF32V(idx []int, op Cmp, a []float32, c float32) ([]int, int) {
	n, i := len(a), 0
	switch level {
	case levelAVX512:
		cv := archsimd.BroadcastFloat32x16(c)
		for ; i+16 <= n; i += 16 {
			idx = appendBits(idx, i, uint64(cmpF16(op, lf16(a[i:]), cv).ToBits()))
		}
	case levelAVX2:
		cv := archsimd.BroadcastFloat32x8(c)
		for ; i+8 <= n; i += 8 {
			idx = appendBits(idx, i, uint64(cmpF8(op, lf8(a[i:]), cv).ToBits()))
		}
	}
	return idx, i
}

func indexI32V(idx []int, op Cmp, a []int32, c int32) ([]int, int) {
	n, i := len(a), 0
	switch level {
	case levelAVX512:
		cv := archsimd.BroadcastInt32x16(c)
		for ; i+16 <= n; i += 16 {
			idx = appendBits(idx, i, uint64(cmpI16(op, li16(a[i:]), cv).ToBits()))
		}
	case levelAVX2:
		cv := archsimd.BroadcastInt32x8(c)
		for ; i+8 <= n; i += 8 {
			idx = appendBits(idx, i, uint64(cmpI8(op, li8(a[i:]), cv).ToBits()))
		}
	}
	return idx, i
}

func cmpI64x8(op Cmp, x, y archsimd.Int64x8) archsimd.Mask64x8 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

func cmpI64x4(op Cmp, x, y archsimd.Int64x4) archsimd.Mask64x4 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

func cmpF64x8(op Cmp, x, y archsimd.Float64x8) archsimd.Mask64x8 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

func cmpF64x4(op Cmp, x, y archsimd.Float64x4) archsimd.Mask64x4 {
	switch op {
	case Eq:
		return x.Equal(y)
	case Ne:
		return x.NotEqual(y)
	case Lt:
		return x.Less(y)
	case Le:
		return x.LessEqual(y)
	case Gt:
		return x.Greater(y)
	}
	return x.GreaterEqual(y)
}

// indexI64V and indexF64V compare 8 lanes of 64 bits on AVX-512, 4 on
// AVX2.
func indexI64V(idx []int, op Cmp, a []int64, c int64) ([]int, int) {
	n, i := len(a), 0
	switch level {
	case levelAVX512:
		cv := archsimd.BroadcastInt64x8(c)
		for ; i+8 <= n; i += 8 {
			idx = appendBits(idx, i, uint64(cmpI64x8(op, archsimd.LoadInt64x8Slice(a[i:]), cv).ToBits()))
		}
	case levelAVX2:
		cv := archsimd.BroadcastInt64x4(c)
		for ; i+4 <= n; i += 4 {
			idx = appendBits(idx, i, uint64(cmpI64x4(op, archsimd.LoadInt64x4Slice(a[i:]), cv).ToBits()))
		}
	}
	return idx, i
}

func indexF64V(idx []int, op Cmp, a []float64, c float64) ([]int, int) {
	n, i := len(a), 0
	switch level {
	case levelAVX512:
		cv := archsimd.BroadcastFloat64x8(c)
		for ; i+8 <= n; i += 8 {
			idx = appendBits(idx, i, uint64(cmpF64x8(op, archsimd.LoadFloat64x8Slice(a[i:]), cv).ToBits()))
		}
	case levelAVX2:
		cv := archsimd.BroadcastFloat64x4(c)
		for ; i+4 <= n; i += 4 {
			idx = appendBits(idx, i, uint64(cmpF64x4(op, archsimd.LoadFloat64x4Slice(a[i:]), cv).ToBits()))
		}
	}
	return idx, i
}
