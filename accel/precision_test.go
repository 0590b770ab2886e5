//go:build cgo

package accel

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/runtime/eval"
)

// expEdges are exp's special inputs: infinities, NaN, zeros, the largest
// finite result and beyond, and inputs whose results are 0.
var expEdges = []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0, float32(math.Copysign(0, -1)),
	88.72, 88.7228, 88.73, 89, 100, 1e30, -104, -150, -1e30}

// TestOperationPrecision measures exp, log, sqrt and / alone on the
// device against the CPU over normal f32 inputs: exp, codegen/spirv's own
// expansion, within 2 ULP (and exact on infinities, NaN and the overflow
// and underflow edges); log, sqrt and / by Vulkan's precision rules for
// GLSL.std.450 (docs/gpu.md quotes them): log within 3 ULP (2⁻²¹
// absolute in [0.5, 2]), sqrt and / within 3 ULP (the rules give 2.5).
func TestOperationPrecision(t *testing.T) {
	v := openOrSkip(t)
	defer v.Close()
	d, err := v.OpenDevice(v.Preferred())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	const n = 1 << 14
	for _, name := range []string{"expf", "logf", "sqrtf", "divf"} {
		k := -1
		for i, kn := range p.Kernels {
			if kn.Name == name {
				k = i
			}
		}
		sh, diags := spirv.Kernel(p, k)
		if len(diags) > 0 {
			t.Fatal(diags)
		}
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			switch name {
			case "expf":
				a[i] = float32(r.Float64()*175 - 87) // results stay normal
				if i < len(expEdges) {
					a[i] = expEdges[i]
				}
			case "logf", "sqrtf":
				a[i] = float32(math.Exp(r.Float64()*160 - 80))
			default:
				a[i] = float32(r.NormFloat64() * math.Exp(r.Float64()*40-20))
				b[i] = float32(r.NormFloat64() * math.Exp(r.Float64()*40-20))
			}
		}
		args := []any{a}
		vals := []eval.Value{fromGo(a)}
		if name == "divf" {
			args = append(args, b)
			vals = append(vals, fromGo(b))
		}
		res, err := d.Run(context.Background(), sh, [][]any{args})
		if err != nil {
			t.Fatal(err)
		}
		want, err := eval.RunKernel(p, k, vals)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Outputs[0].([]float32)
		worst := uint32(0)
		for i := range got {
			w := float32(want.Index(i).AsFloat())
			u := ulps(got[i], w)
			bound := uint32(3)
			switch {
			case name == "expf":
				bound = 2
			case name == "logf" && a[i] >= 0.5 && a[i] <= 2:
				if math.Abs(float64(got[i]-w)) <= 1.0/(1<<21) {
					continue
				}
			}
			worst = max(worst, u)
			if u > bound {
				t.Errorf("%s(%v) = %v, CPU %v: %d ULP > %d", name, a[i], got[i], w, u, bound)
				break
			}
		}
		t.Logf("%s on %s: largest difference %d ULP", name, d.Info.Name, worst)
	}
}
