// This file runs every kernel of every source on runtime/eval and on the
// generated Go in each mode, and requires the same elements, bit for bit,
// or the same error.

package kerneltest_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/knhk/knhk/codegen/golang/kerneltest"
	"github.com/knhk/knhk/codegen/golang/kerneltest/etl"
	"github.com/knhk/knhk/codegen/golang/kerneltest/fraud"
	"github.com/knhk/knhk/codegen/golang/kerneltest/kern"
	"github.com/knhk/knhk/codegen/golang/kerneltest/ops"
	"github.com/knhk/knhk/codegen/golang/kerneltest/scoring"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/vec"
)

type kernelTable = []func(vec.Mode, []eval.Value) (eval.Value, error)

var compiled = map[string]kernelTable{
	"fraud":   fraud.KernelValues,
	"etl":     etl.KernelValues,
	"kern":    kern.KernelValues,
	"scoring": scoring.KernelValues,
	"ops":     ops.KernelValues,
}

var modes = []vec.Mode{0, vec.ModeSplit, vec.ModeColumns, vec.ModeAuto}

// specials are the f32 values where rounding, NaN and signed-zero rules
// show.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, 7, -1.5, 1e-40, 3e38, float32(math.Inf(1)), float32(math.NaN())}

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

// args makes arguments for kernel kn with n elements; the other arrays
// are n long, or longer (for arrays read at constant indexes), or, with
// short, one shorter (an index error at the last element).
func args(r *rand.Rand, p *ir.Program, kn *ir.Kernel, n int, short bool) []eval.Value {
	var out []eval.Value
	first := true
	for _, pa := range kn.Params {
		if p.KindOf(pa.Type) != ir.KindList {
			out = append(out, randValue(r, p.KindOf(pa.Type)))
			continue
		}
		m := n
		if !first {
			switch {
			case short && n > 0:
				m = n - 1
			case r.IntN(2) == 0:
				m = n + 7
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

func same(a, b eval.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	if a.Kind() == ir.KindList {
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !same(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return a.Kind() == b.Kind() && a.AsInt() == b.AsInt() // the bits, for f32 too
}

// lengths are the tails 0..33 around the vector widths, unaligned sizes,
// and one above vec.ParallelMin so that the split runs.
func lengths() []int {
	var ns []int
	for n := 0; n <= 33; n++ {
		ns = append(ns, n)
	}
	return append(ns, 100, 257, 1000, 1023, vec.ParallelMin+77)
}

func TestKernelsMatchEval(t *testing.T) {
	for _, s := range kerneltest.Sources {
		p, err := kerneltest.Load(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		table := compiled[s.Pkg]
		if len(table) != len(p.Kernels) {
			t.Fatalf("%s: %d compiled kernels, %d in the program", s.Pkg, len(table), len(p.Kernels))
		}
		for k, kn := range p.Kernels {
			r := rand.New(rand.NewPCG(uint64(k), 42))
			for _, n := range lengths() {
				for _, short := range []bool{false, true} {
					if short && n > 40 && n < vec.ParallelMin {
						continue
					}
					in := args(r, p, kn, n, short)
					want, werr := eval.RunKernel(p, k, in)
					for _, mode := range modes {
						got, gerr := table[k](mode, in)
						name := fmt.Sprintf("%s.%s n=%d short=%v mode=%d", s.Pkg, kn.Name, n, short, mode)
						switch {
						case (werr == nil) != (gerr == nil):
							t.Fatalf("%s: eval error %v, compiled error %v", name, werr, gerr)
						case werr != nil && werr.Error() != gerr.Error():
							t.Fatalf("%s: eval error %q, compiled error %q", name, werr, gerr)
						case werr == nil && !same(want, got):
							t.Fatalf("%s: eval\n%v\ncompiled\n%v", name, want, got)
						}
					}
				}
			}
		}
	}
}
