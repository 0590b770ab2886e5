//go:build cgo

package accel

import (
	"context"
	"testing"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
)

// TestRunReduce scores and reduces on the device and requires what
// Run's result reduced on the CPU gives, with and without staging.
func TestRunReduce(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	ints, gate := kernelNamed(t, p, "ints"), kernelNamed(t, p, "gate")
	n := 3*spirv.ReduceChunk + 17
	a, b, f := make([]int32, n), make([]int32, n), make([]float32, n)
	for i := range a {
		a[i], b[i], f[i] = int32(i%901-450), int32(i%11+1), float32(i%97)-48
	}
	for _, staging := range []bool{false, true} {
		d.staging = staging
		plain, err := d.Run(context.Background(), ints, [][]any{{a, b}})
		if err != nil {
			t.Fatal(err)
		}
		var sum int32
		lo := plain.Outputs[0].([]int32)[0]
		for _, v := range plain.Outputs[0].([]int32) {
			sum += v
			lo = min(lo, v)
		}
		for op, want := range map[spirv.ReduceOp]any{spirv.ReduceSum: sum, spirv.ReduceMin: lo} {
			res, err := d.RunReduce(context.Background(), ints, [][]any{{a, b}}, op)
			if err != nil || res.Failed >= 0 || res.Reduced != want || len(res.Outputs) != 0 {
				t.Errorf("staging=%v: %s = %+v, %v; want %v", staging, op, res, err, want)
			}
		}
		count := uint32(0)
		g, err := d.Run(context.Background(), gate, [][]any{{f, float32(10)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range g.Outputs[0].([]bool) {
			if v {
				count++
			}
		}
		res, err := d.RunReduce(context.Background(), gate, [][]any{{f, float32(10)}}, spirv.ReduceCount)
		if err != nil || res.Reduced != count {
			t.Errorf("staging=%v: count = %+v, %v; want %d", staging, res, err, count)
		}
		b[100] = 0
		res, err = d.RunReduce(context.Background(), ints, [][]any{{a, b}}, spirv.ReduceSum)
		b[100] = 1
		if err != nil || res.Failed != 100 || res.Reduced != nil {
			t.Errorf("staging=%v: a failing element: %+v, %v", staging, res, err)
		}
	}
	d.staging = d.Info.Discrete()
	if _, err := d.RunReduce(context.Background(), gate, [][]any{{f, float32(1)}}, spirv.ReduceSum); err == nil {
		t.Error("a sum of bools ran")
	}
}
