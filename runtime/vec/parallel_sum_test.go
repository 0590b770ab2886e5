package vec

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestSumF32Parallel checks the parallel sum against the exact sum in
// float64, at piece counts that do and do not divide the length: exact
// where every partial sum is an integer below 2²⁴, within SumF32Bound
// otherwise.
func TestSumF32Parallel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, procs := range []int{1, 2, 3, 8} {
		prev := runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 7, 130, 1<<16 + 3} {
			ints := make([]float32, n)
			reals := make([]float32, n)
			var wantInts, wantReals float64
			for i := range ints {
				ints[i] = float32(r.IntN(200) - 100)
				reals[i] = float32(r.NormFloat64() * 1e3)
				wantInts += float64(ints[i])
				wantReals += float64(reals[i])
			}
			if got := SumF32Parallel(ints); float64(got) != wantInts {
				t.Errorf("procs %d, n %d: integer sum %v, want %v", procs, n, got, wantInts)
			}
			if got := SumF32Parallel(reals); math.Abs(float64(got)-wantReals) > SumF32Bound(reals) {
				t.Errorf("procs %d, n %d: sum %v, want %v within %v", procs, n, got, wantReals, SumF32Bound(reals))
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}
