// Package vec holds the vector primitives that compiled kernels and
// compiled list guards call: element-wise arithmetic, comparisons, selects
// and reductions over f32 and i32 columns, and the split of a loop over
// GOMAXPROCS goroutines.
//
// Every element-wise function computes exactly what runtime/eval computes
// for one element (f32 rounding after every operation, i32 wrapping), so
// the results are bit-identical whichever implementation runs. Built with
// GOEXPERIMENT=simd on amd64, the functions use simd/archsimd: 16 lanes
// when the CPU has AVX-512, 8 with AVX2, and a scalar tail; [Level] says
// which was chosen. Without the experiment every function is the scalar
// loop.
//
// Only float sums may differ between the vector and the scalar loop, by
// reassociation: the vector loop keeps one partial sum per lane. Both are
// summations of the same n terms in float32, so each is within
// (n-1)·u·Σ|x| of the exact sum (u = 2⁻²⁴), and they are within
// n·ε·Σ|x| of each other (ε = 2⁻²³, [SumF32Bound]). Min and max
// reductions, counts and integer sums are exact.
//
// Masks are []int32 columns holding 0 (false) or -1 (true), the form a
// vector compare produces; [MaskFromBools] and [BoolsFromMask] convert.
//
// The environment variable KNHK_VEC=scalar|avx2|avx512 lowers the level
// chosen at start (never above what the CPU has), for benchmarks and
// tests of the narrower paths.
package vec
