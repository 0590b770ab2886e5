// This file implements the split of a loop over goroutines.

package vec

import (
	"runtime"
	"sync"
)

// ParallelMin is the element count from which compiled kernels split
// their loop over GOMAXPROCS goroutines. BenchmarkKernelFraudThreshold in
// codegen/golang/kerneltest measures where the split starts to pay: for
// examples/fraud.knhk's kernel on 2 cores, between 4K and 16K elements;
// 32K leaves room for cheaper bodies and busy cores (docs/kernels.md has
// the numbers).
const ParallelMin = 1 << 15

// Parallel runs body over [0, n) in GOMAXPROCS contiguous pieces, each in
// its own goroutine, when n is at least min; otherwise in one call. Each
// piece but the last is a multiple of 64 elements long, so pieces never
// share a cache line of the output. body returns the index of the first
// element that failed and its error, or (-1, nil); Parallel returns the
// error of the lowest failing index, the one a loop in order would have
// met first.
func Parallel(n, min int, body func(lo, hi int) (int, error)) error {
	procs := runtime.GOMAXPROCS(0)
	if n < min || procs < 2 || n < 128 {
		_, err := body(0, n)
		return err
	}
	piece := (n/procs + 63) &^ 63
	type fail struct {
		at  int
		err error
	}
	fails := make([]fail, 0, procs)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += piece {
		hi := min2(lo+piece, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if at, err := body(lo, hi); err != nil {
				mu.Lock()
				fails = append(fails, fail{at, err})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var first *fail
	for j := range fails {
		if first == nil || fails[j].at < first.at {
			first = &fails[j]
		}
	}
	if first == nil {
		return nil
	}
	return first.err
}

func min2(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// SumF32Parallel returns the float32 sum of a as GOMAXPROCS goroutines
// compute it: SumF32 over each of GOMAXPROCS contiguous pieces, the
// partial sums added in order. The terms are grouped differently than
// SumF32's, so the two may differ within [SumF32Bound]. It is the CPU's
// best effort at a float sum, the baseline the device reductions of
// accel are measured against.
func SumF32Parallel(a []float32) float32 {
	procs := runtime.GOMAXPROCS(0)
	parts := make([]float32, procs)
	piece := (len(a) + procs - 1) / procs
	var wg sync.WaitGroup
	for j := range parts {
		lo, hi := min(j*piece, len(a)), min((j+1)*piece, len(a))
		wg.Go(func() { parts[j] = SumF32(a[lo:hi]) })
	}
	wg.Wait()
	var total float32
	for _, p := range parts {
		total += p
	}
	return total
}
