//go:build cgo

package accel

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/runtime/vec"
)

func TestReduce(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 255, 256, 4096, 4097, 70000, 1 << 20} {
		f := make([]float32, n)
		is := make([]int32, n)
		us := make([]uint32, n)
		bs := make([]bool, n)
		trues := uint32(0)
		for j := range f {
			f[j] = float32(r.NormFloat64() * 100)
			is[j] = int32(r.Uint32())
			us[j] = r.Uint32()
			bs[j] = r.IntN(3) == 0
			if bs[j] {
				trues++
			}
		}
		sum, err := d.Reduce(ctx, spirv.ReduceSum, f)
		if err != nil {
			t.Fatal(err)
		}
		if exact := vec.SumF32(f); math.Abs(float64(sum.(float32))-float64(exact)) > vec.SumF32Bound(f) {
			t.Errorf("n=%d: sum %v, CPU %v, beyond the bound %g", n, sum, exact, vec.SumF32Bound(f))
		}
		check := func(op spirv.ReduceOp, data, want any) {
			t.Helper()
			got, err := d.Reduce(ctx, op, data)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("n=%d: %s of %T = %v, want %v", n, op, data, got, want)
			}
		}
		first := func(v any, _ bool) any { return v }
		check(spirv.ReduceMin, f, first(vec.MinF32(f)))
		check(spirv.ReduceMax, f, first(vec.MaxF32(f)))
		check(spirv.ReduceSum, is, vec.SumI32(is))
		check(spirv.ReduceMin, is, first(vec.MinI32(is)))
		check(spirv.ReduceMax, is, first(vec.MaxI32(is)))
		umin, umax, usum := us[0], us[0], uint32(0)
		for _, u := range us {
			umin, umax, usum = min(umin, u), max(umax, u), usum+u
		}
		check(spirv.ReduceSum, us, usum)
		check(spirv.ReduceMin, us, umin)
		check(spirv.ReduceMax, us, umax)
		check(spirv.ReduceCount, bs, trues)
	}
	// Through staging buffers, as on a discrete GPU, and split dispatches.
	d.staging, d.maxGroups = true, 2
	xs := make([]int32, 5*spirv.ReduceChunk+3)
	want := int32(0)
	for i := range xs {
		xs[i] = int32(i % 1000)
		want += xs[i]
	}
	got, err := d.Reduce(ctx, spirv.ReduceSum, xs)
	d.staging, d.maxGroups = d.Info.Discrete(), d.Info.MaxGroups
	if err != nil || got != want {
		t.Errorf("staged sum = %v, %v; want %d", got, err, want)
	}
	// NaN wins and -0 is below +0, as math.Min and math.Max have it.
	nan := []float32{1, float32(math.NaN()), -3}
	got, _ = d.Reduce(ctx, spirv.ReduceMin, nan)
	if g := got.(float32); g == g {
		t.Errorf("min with a NaN = %v", g)
	}
	zeros := []float32{0, float32(math.Copysign(0, -1))}
	got, _ = d.Reduce(ctx, spirv.ReduceMin, zeros)
	if !math.Signbit(float64(got.(float32))) {
		t.Error("min(+0, -0) is +0")
	}
	if _, err := d.Reduce(ctx, spirv.ReduceMax, []int32{}); err == nil {
		t.Error("max of nothing succeeded")
	}
	if got, err := d.Reduce(ctx, spirv.ReduceCount, []bool{}); err != nil || got != uint32(0) {
		t.Errorf("count of nothing = %v, %v", got, err)
	}
}
