// This file benchmarks examples/fraud.knhk's kernel compiled to Go: the
// scalar loop, the loop split over GOMAXPROCS goroutines, the column
// loop (vector loops with GOEXPERIMENT=simd) and both, against a copy()
// of the bytes the kernel touches, timed in the same run: the
// memory-bandwidth limit.

package kerneltest_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/codegen/golang/kerneltest/fraud"
	"github.com/knhk/knhk/runtime/vec"
)

type fraudInput struct {
	amount, velocity, w []float32
	foreign             []bool
}

func newFraudInput(n int) fraudInput {
	r := rand.New(rand.NewPCG(7, 8))
	in := fraudInput{amount: make([]float32, n), velocity: make([]float32, n), foreign: make([]bool, n), w: []float32{-3, 0.8, 0.3, 1.2}}
	for i := range n {
		in.amount[i] = float32(r.ExpFloat64() * 200)
		in.velocity[i] = float32(r.IntN(12))
		in.foreign[i] = r.IntN(10) == 0
	}
	return in
}

// fraudBytes is what the kernel reads and writes per element: amount,
// velocity and foreign in, the score out.
const fraudBytes = 4 + 4 + 1 + 4

// copyNs returns the median time of copy(dst, src) over 11 copies (the
// first, which faults dst's pages in, among them).
func copyNs(dst, src []byte) float64 {
	var ts []time.Duration
	for range 11 {
		t := time.Now()
		copy(dst, src)
		ts = append(ts, time.Since(t))
	}
	slices.Sort(ts)
	return float64(ts[5].Nanoseconds())
}

var benchModes = []struct {
	name string
	mode vec.Mode
}{
	{"scalar", 0},
	{"parallel", vec.ModeSplit},
	{"columns", vec.ModeColumns},
	{"columns+parallel", vec.ModeAuto},
}

// BenchmarkKernelFraud reports GB/s (bytes the kernel touches per second)
// and x-copy, that rate over copy()'s on the same bytes: 1 is the
// memory-bandwidth limit.
func BenchmarkKernelFraud(b *testing.B) {
	for _, n := range []int{1 << 20, 16 << 20} {
		in := newFraudInput(n)
		cp := copyNs(make([]byte, n*fraudBytes), make([]byte, n*fraudBytes))
		for _, m := range benchModes {
			b.Run(fmt.Sprintf("n=%dM/%s/%s", n>>20, m.name, vec.Level()), func(b *testing.B) {
				b.SetBytes(int64(n * fraudBytes))
				b.ResetTimer()
				for b.Loop() {
					if _, err := fraud.KernelRisk(m.mode, in.amount, in.velocity, in.foreign, in.w); err != nil {
						b.Fatal(err)
					}
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(float64(n*fraudBytes)/ns, "GB/s")
				b.ReportMetric(cp/ns, "x-copy")
			})
		}
	}
}

// BenchmarkKernelFraudThreshold compares the split loop with the single
// loop around vec.ParallelMin: x-single above 1 means the split pays.
func BenchmarkKernelFraudThreshold(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 12, 1 << 14, 1 << 15, 1 << 16, 1 << 18} {
		in := newFraudInput(n)
		for _, cols := range []vec.Mode{0, vec.ModeColumns} {
			b.Run(fmt.Sprintf("n=%d/columns=%v", n, cols != 0), func(b *testing.B) {
				// The single loop's time, measured first in the same run.
				t := time.Now()
				const reps = 20
				for range reps {
					fraud.KernelRisk(cols, in.amount, in.velocity, in.foreign, in.w)
				}
				single := float64(time.Since(t).Nanoseconds()) / reps
				b.ResetTimer()
				for b.Loop() {
					// Below ParallelMin the split mode would not split:
					// force it by asking for a split at any size.
					vec.Parallel(n, 0, func(lo, hi int) (int, error) {
						_, err := fraud.KernelRisk(cols, in.amount[lo:hi], in.velocity[lo:hi], in.foreign[lo:hi], in.w)
						return lo, err
					})
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(single/ns, "x-single")
			})
		}
	}
}
