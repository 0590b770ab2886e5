//go:build cgo

// Benchmarks of a memory-bound map (saxpy, 12 bytes per element) and a
// sum (4 bytes per element) on the CPU and on the Vulkan device, with
// GB/s and x-scalar (the Go scalar loop's time over this one's, the
// go-scalar sub-benchmark run just before in the same process).
// docs/gpu.md quotes them.

package accel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/runtime/vec"
)

var benchSizes = []int{1 << 20, 1 << 24}

func saxpyScalar(out, x, y []float32, a float32) {
	for i := range out {
		out[i] = float32(a*x[i]) + y[i]
	}
}

// saxpySIMD runs the map a column of 256 elements at a time through
// runtime/vec, as compiled kernels' column mode does, so that the three
// passes over a column stay in the first-level cache.
func saxpySIMD(out, x, y []float32, a float32) {
	for lo := 0; lo < len(out); lo += 256 {
		hi := min(lo+256, len(out))
		o := out[lo:hi]
		vec.FillF32(o, a)
		vec.MulF32(o, o, x[lo:hi])
		vec.AddF32(o, o, y[lo:hi])
	}
}

func saxpyParallel(out, x, y []float32, a float32) {
	vec.Parallel(len(out), vec.ParallelMin, func(lo, hi int) (int, error) {
		saxpySIMD(out[lo:hi], x[lo:hi], y[lo:hi], a)
		return -1, nil
	})
}

func sumScalar(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

// sink keeps the sums alive, so that the compiler cannot drop a loop
// whose result is unused.
var sink float32

func BenchmarkMap(b *testing.B) {
	d := openDeviceB(b)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		b.Fatal(err)
	}
	var sh *spirv.Shader
	for k, kn := range p.Kernels {
		if kn.Name == "saxpy" {
			sh, _ = spirv.Kernel(p, k)
		}
	}
	for _, n := range benchSizes {
		x, y, out := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i%1000), float32(i%7)
		}
		const a = 1.5
		bytes := float64(12 * n)
		saxpyScalar(out, x, y, a) // fault the pages in before timing
		var scalar time.Duration  // go-scalar's time per op, which runs first
		var kernel time.Duration
		for _, v := range []struct {
			name string
			run  func()
		}{
			{"go-scalar", func() { saxpyScalar(out, x, y, a) }},
			{"go-simd-" + vec.Level(), func() { saxpySIMD(out, x, y, a) }},
			{"go-parallel", func() { saxpyParallel(out, x, y, a) }},
			{"vulkan-" + d.Info.Type, func() {
				res, err := d.Run(context.Background(), sh, [][]any{{x, y, float32(a)}})
				if err != nil {
					b.Fatal(err)
				}
				kernel = res.Kernel
			}},
		} {
			b.Run(fmt.Sprintf("%dM/%s", n>>20, v.name), func(b *testing.B) {
				b.SetBytes(int64(bytes))
				var total time.Duration
				for b.Loop() {
					start := time.Now()
					v.run()
					total += time.Since(start)
				}
				per := total / time.Duration(b.N)
				if v.name == "go-scalar" {
					scalar = per
				}
				b.ReportMetric(bytes/per.Seconds()/1e9, "GB/s")
				if scalar > 0 { // unless -bench left go-scalar out
					b.ReportMetric(scalar.Seconds()/per.Seconds(), "x-scalar")
				}
				if kernel > 0 && v.name[:6] == "vulkan" {
					b.ReportMetric(bytes/kernel.Seconds()/1e9, "kernel-GB/s")
				}
			})
		}
	}
}

func BenchmarkSum(b *testing.B) {
	d := openDeviceB(b)
	for _, n := range benchSizes {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i % 1000)
		}
		bytes := float64(4 * n)
		var scalar time.Duration // go-scalar's time per op, which runs first
		for _, v := range []struct {
			name string
			run  func()
		}{
			{"go-scalar", func() { sink += sumScalar(x) }},
			{"go-simd-" + vec.Level(), func() { sink += vec.SumF32(x) }},
			{"go-parallel", func() { sink += vec.SumF32Parallel(x) }},
			{"vulkan-" + d.Info.Type, func() {
				s, err := d.Reduce(context.Background(), spirv.ReduceSum, x)
				if err != nil {
					b.Fatal(err)
				}
				sink += s.(float32)
			}},
		} {
			b.Run(fmt.Sprintf("%dM/%s", n>>20, v.name), func(b *testing.B) {
				b.SetBytes(int64(bytes))
				var total time.Duration
				for b.Loop() {
					start := time.Now()
					v.run()
					total += time.Since(start)
				}
				per := total / time.Duration(b.N)
				if v.name == "go-scalar" {
					scalar = per
				}
				b.ReportMetric(bytes/per.Seconds()/1e9, "GB/s")
				if scalar > 0 { // unless -bench left go-scalar out
					b.ReportMetric(scalar.Seconds()/per.Seconds(), "x-scalar")
				}
			})
		}
	}
}

func openDeviceB(b *testing.B) *Device {
	b.Helper()
	v := openOrSkip(b)
	b.Cleanup(v.Close)
	d, err := v.OpenDevice(v.Preferred())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(d.Close)
	return d
}
