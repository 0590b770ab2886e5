//go:build cgo

package accel

import (
	"fmt"
	"testing"
	"time"

	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// BenchmarkSumList is a workflow's sum(xs) over 1M f32 values, as the
// interpreter runs it: the CPU's left fold (eval-cpu, the baseline,
// run first) and the Dispatcher's Device.Reduce (eval-vulkan-TYPE),
// with x-cpu the baseline's time over this one's. docs/gpu.md quotes it.
func BenchmarkSumList(b *testing.B) {
	d := openDeviceB(b)
	p, err := spirvtest.Build("accel/testdata/served.knhk")
	if err != nil {
		b.Fatal(err)
	}
	f := -1
	for i, fn := range p.Funcs {
		if fn != nil && fn.Name == "fsum" {
			f = i
		}
	}
	const n = 1 << 20
	xs := make([]eval.Value, n)
	for i := range xs {
		xs[i] = eval.F32(float32(i%1000) / 7)
	}
	arg := eval.List(xs)
	x := NewDispatcher(d)
	x.Threshold = 1
	var cpu time.Duration
	for _, v := range []struct {
		name string
		run  eval.KernelRunner
	}{{"eval-cpu", nil}, {"eval-vulkan-" + d.Info.Type, x}} {
		b.Run(fmt.Sprintf("%dM/%s", n>>20, v.name), func(b *testing.B) {
			m := eval.New(p)
			m.Kernels = v.run
			b.SetBytes(4 * n)
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := m.Call(ir.FuncID(f), nil, arg); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
			}
			per := total / time.Duration(b.N)
			if v.run == nil {
				cpu = per
			}
			if cpu > 0 {
				b.ReportMetric(cpu.Seconds()/per.Seconds(), "x-cpu")
			}
		})
	}
}
