//go:build cgo

// This file runs every kernel of every program with kernels on the CPU
// reference (runtime/eval), as compiled Go (knhk build's loops, where
// codegen/golang/kerneltest has them compiled) and on the Vulkan device,
// and requires equal results: integers and bools exact, f32 within
// MaxULP, and a device failure exactly where the CPU fails.

package accel

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/knhk/knhk/codegen/golang/kerneltest/etl"
	"github.com/knhk/knhk/codegen/golang/kerneltest/fraud"
	"github.com/knhk/knhk/codegen/golang/kerneltest/kern"
	"github.com/knhk/knhk/codegen/golang/kerneltest/ops"
	"github.com/knhk/knhk/codegen/golang/kerneltest/scoring"
	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/vec"
)

// compiledGo are the kernels as knhk build compiles them, by source.
var compiledGo = map[string][]func(vec.Mode, []eval.Value) (eval.Value, error){
	"examples/fraud.knhk":                         fraud.KernelValues,
	"examples/etl.knhk":                           etl.KernelValues,
	"compiler/testdata/kernel.txtar":              kern.KernelValues,
	"lang/check/testdata/golden/kernel.txtar":     scoring.KernelValues,
	"codegen/golang/kerneltest/testdata/ops.knhk": ops.KernelValues,
}

// specials are the f32 values where rounding, NaN and signed-zero rules
// show. Subnormals are left out: Vulkan leaves their handling to the
// device (lavapipe flushes them to zero), see docs/gpu.md.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, 7, -1.5, 3e38, float32(math.Inf(1)), float32(math.NaN())}

func randValue(r *rand.Rand, k ir.Kind) eval.Value {
	switch k {
	case ir.KindF32:
		if r.IntN(8) == 0 {
			return eval.F32(specials[r.IntN(len(specials))])
		}
		return eval.F32(float32(r.NormFloat64() * 4))
	case ir.KindI32:
		if r.IntN(16) == 0 {
			return eval.I32([]int32{0, 7, -1, math.MinInt32, math.MaxInt32}[r.IntN(5)])
		}
		return eval.I32(int32(r.IntN(41) - 20))
	case ir.KindU32:
		return eval.U32(uint32(r.IntN(100)))
	}
	return eval.Bool(r.IntN(2) == 0)
}

// kernelArgs makes arguments for kn with n elements: other arrays are n
// long, or 64 longer (for arrays read at constant or shifted indexes),
// or, with short, one shorter (an index error near the end).
func kernelArgs(r *rand.Rand, p *ir.Program, kn *ir.Kernel, n int, short bool) []eval.Value {
	var out []eval.Value
	first := true
	for _, pa := range kn.Params {
		if p.KindOf(pa.Type) != ir.KindList {
			out = append(out, randValue(r, p.KindOf(pa.Type)))
			continue
		}
		m := n
		if !first {
			if short && n > 0 {
				m = n - 1
			} else {
				m = n + 64
			}
		}
		first = false
		ek := p.KindOf(p.Type(pa.Type).Elem)
		xs := make([]eval.Value, m)
		for j := range xs {
			xs[j] = randValue(r, ek)
		}
		out = append(out, eval.List(xs))
	}
	return out
}

// sameBits reports whether two lists hold the same elements bit for bit
// (eval.Equal treats NaN as unequal to itself).
func sameBits(a, b eval.Value) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i := 0; i < a.Len(); i++ {
		x, y := a.Index(i), b.Index(i)
		if x.Kind() != y.Kind() || x.AsInt() != y.AsInt() {
			return false
		}
	}
	return true
}

// ulps is the distance between two f32 in units in the last place; NaN
// equals NaN, and -0 equals +0 only at distance 1.
func ulps(a, b float32) uint32 {
	if a != a && b != b {
		return 0
	}
	if a != a || b != b {
		return math.MaxUint32
	}
	key := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31)) - 1
		}
		return u
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return uint32(min(d, math.MaxUint32))
}

// MaxULP and MaxAbs bound the difference of an f32 element computed on a
// Vulkan device from the CPU's (see docs/gpu.md): +, -, *, conversions,
// abs, min, max and comparisons are exact; exp, log, sqrt and / may
// differ by a few ULP each under Vulkan's precision rules, which the rest
// of a body propagates: an element is within MaxULP, or, where it
// cancels to a small value (exp(a) - log(a) near 0), within MaxAbs.
const (
	MaxULP = 64
	MaxAbs = 1.0 / (1 << 20)
)

// near reports whether device result g is within the bounds of CPU
// result w.
func near(g, w float32) bool {
	return ulps(g, w) <= MaxULP || math.Abs(float64(g)-float64(w)) <= MaxAbs
}

func TestKernelsMatchCPU(t *testing.T) {
	v := openOrSkip(t)
	defer v.Close()
	d, err := v.OpenDevice(v.Preferred())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := rand.New(rand.NewPCG(1, 2))
	worst := uint32(0)
	for _, path := range spirvtest.Sources() {
		p, err := spirvtest.Build(path)
		if err != nil {
			t.Fatal(err)
		}
		for k, kn := range p.Kernels {
			sh, diags := spirv.Kernel(p, k)
			if len(diags) > 0 {
				t.Fatalf("%s %s: %v", path, kn.Name, diags)
			}
			for _, n := range []int{0, 1, 7, 63, 64, 65, 1000, 4099} {
				for _, short := range []bool{false, true} {
					args := kernelArgs(r, p, kn, n, short)
					want, cpuErr := eval.RunKernel(p, k, args)
					if table, ok := compiledGo[path]; ok {
						// The compiled Go kernel is the CPU the device
						// falls back to in built programs: it must agree
						// with the reference bit for bit, so the device is
						// held to the same bound against both.
						goWant, goErr := table[k](vec.ModeAuto, args)
						if (goErr == nil) != (cpuErr == nil) || cpuErr == nil && !eval.Equal(goWant, want) && !sameBits(goWant, want) {
							t.Fatalf("%s %s n=%d: compiled Go (%v) differs from runtime/eval (%v)", path, kn.Name, n, goErr, cpuErr)
						}
					}
					goArgs := make([]any, len(args))
					for i, pa := range kn.Params {
						a, _, ok := toGo(p, pa.Type, args[i])
						if !ok {
							t.Fatalf("%s: argument %d does not convert", kn.Name, i)
						}
						goArgs[i] = a
					}
					res, err := d.Run(context.Background(), sh, [][]any{goArgs})
					if err != nil {
						t.Fatalf("%s %s n=%d: %v", path, kn.Name, n, err)
					}
					if (cpuErr != nil) != (res.Failed >= 0) {
						t.Errorf("%s %s n=%d short=%v: CPU error %v, device failed at %d", path, kn.Name, n, short, cpuErr, res.Failed)
						continue
					}
					if cpuErr != nil {
						continue
					}
					got := fromGo(res.Outputs[0])
					if got.Len() != want.Len() {
						t.Fatalf("%s %s: %d elements, want %d", path, kn.Name, got.Len(), want.Len())
					}
					for i := 0; i < n; i++ {
						g, w := got.Index(i), want.Index(i)
						if g.Kind() == ir.KindF32 {
							u := ulps(float32(g.AsFloat()), float32(w.AsFloat()))
							if u != math.MaxUint32 {
								worst = max(worst, u)
							}
							if !near(float32(g.AsFloat()), float32(w.AsFloat())) {
								t.Errorf("%s %s n=%d [%d] = %v, CPU %v (%d ULP)", path, kn.Name, n, i, g, w, u)
							}
						} else if g.AsInt() != w.AsInt() || g.Kind() != w.Kind() {
							t.Errorf("%s %s n=%d [%d] = %v, CPU %v", path, kn.Name, n, i, g, w)
						}
					}
				}
			}
		}
	}
	t.Logf("largest f32 difference: %d ULP", worst)
}
