//go:build !(goexperiment.simd && amd64)

// This file implements the vector loops without the simd experiment: each
// does nothing and leaves every element to the scalar loop.

package vec

func cpuLevel() int { return levelScalar }

func clearUpper() {}

func addF32V(dst, a, b []float32) int                                  { return 0 }
func subF32V(dst, a, b []float32) int                                  { return 0 }
func mulF32V(dst, a, b []float32) int                                  { return 0 }
func divF32V(dst, a, b []float32) int                                  { return 0 }
func negF32V(dst, a []float32) int                                     { return 0 }
func absF32V(dst, a []float32) int                                     { return 0 }
func sqrtF32V(dst, a []float32) int                                    { return 0 }
func f32FromI32V(dst []float32, a []int32) int                         { return 0 }
func cmpF32V(dst []int32, op Cmp, a, b []float32) int                  { return 0 }
func addI32V(dst, a, b []int32) int                                    { return 0 }
func subI32V(dst, a, b []int32) int                                    { return 0 }
func mulI32V(dst, a, b []int32) int                                    { return 0 }
func andI32V(dst, a, b []int32) int                                    { return 0 }
func orI32V(dst, a, b []int32) int                                     { return 0 }
func xorI32V(dst, a, b []int32) int                                    { return 0 }
func cmpI32V(dst []int32, op Cmp, a, b []int32) int                    { return 0 }
func selectF32V(dst []float32, m []int32, a, b []float32) int          { return 0 }
func selectI32V(dst []int32, m []int32, a, b []int32) int              { return 0 }
func sumF32V(a []float32) (float32, int)                               { return 0, 0 }
func sumI32V(a []int32) (int32, int)                                   { return 0, 0 }
func extremeF32V(a []float32, isMin bool) (float32, int, bool)         { return 0, 0, false }
func extremeI32V(a []int32, isMin bool) (int32, int)                   { return 0, 0 }
func countF32V(op Cmp, a []float32, c float32) (int, int)              { return 0, 0 }
func countI32V(op Cmp, a []int32, c int32) (int, int)                  { return 0, 0 }
func indexF32V(idx []int, op Cmp, a []float32, c float32) ([]int, int) { return idx, 0 }
func indexI32V(idx []int, op Cmp, a []int32, c int32) ([]int, int)     { return idx, 0 }
func indexI64V(idx []int, op Cmp, a []int64, c int64) ([]int, int)     { return idx, 0 }
func indexF64V(idx []int, op Cmp, a []float64, c float64) ([]int, int) { return idx, 0 }
