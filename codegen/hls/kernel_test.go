package hls

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/knhk/knhk/codegen/golang/kerneltest/etl"
	"github.com/knhk/knhk/codegen/golang/kerneltest/fraud"
	"github.com/knhk/knhk/codegen/golang/kerneltest/kern"
	"github.com/knhk/knhk/codegen/golang/kerneltest/ops"
	"github.com/knhk/knhk/codegen/golang/kerneltest/scoring"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/vec"
)

// compiledGo are the kernels the Go back end compiled (codegen/golang's
// kerneltest packages), by source: the third side of the differential
// test, beside the interpreter and the C-simulation.
var compiledGo = map[string][]func(vec.Mode, []eval.Value) (eval.Value, error){
	"examples/fraud.knhk":                         fraud.KernelValues,
	"examples/etl.knhk":                           etl.KernelValues,
	"compiler/testdata/kernel.txtar":              kern.KernelValues,
	"lang/check/testdata/golden/kernel.txtar":     scoring.KernelValues,
	"codegen/golang/kerneltest/testdata/ops.knhk": ops.KernelValues,
}

// maxULP is the largest distance, in units in the last place of an f32,
// between the C-simulation's and the interpreter's elements. Both round
// every f32 operation alike; only exp and log differ, as the C library's
// double functions and Go's may differ in the double's last bit, which
// rounding to f32 almost always hides, and which the arithmetic after
// them could grow; on the tests' inputs every element is identical.
const maxULP = 1

// TestKernelsCSim compiles every kernel of every program with kernels in
// examples/ and testdata/ (built through compiler.Build) with g++
// -std=c++17 -Wall -Werror and runs its C-simulation against the
// interpreter on the same inputs: lengths 0 to 257, special values,
// arrays too short. Integers and bools must be equal, f32 elements equal
// or within maxULP (NaN matching NaN), errors at the same instruction.
func TestKernelsCSim(t *testing.T) {
	gxx(t)
	srcs := kernelSources(t)
	built := 0
	for _, src := range srcs {
		p, ok := build(t, src)
		if !ok {
			continue // a checker error test
		}
		built++
		ks, ds := Kernels(p, Options{})
		if len(ds) > 0 {
			t.Errorf("%s: %v", src, ds)
			continue
		}
		if len(ks) == 0 {
			t.Errorf("%s: no kernels generated", src)
		}
		for _, kn := range ks {
			var gofn func(vec.Mode, []eval.Value) (eval.Value, error)
			if fs := compiledGo[src]; fs != nil {
				gofn = fs[kernelIndex(p, kn.Name)]
			}
			t.Run(strings.ReplaceAll(src, "/", "_")+"/"+kn.Name, func(t *testing.T) {
				csimKernel(t, p, kn, gofn)
			})
		}
	}
	if built < 5 {
		t.Fatalf("only %d programs with kernels build (of %v); examples/fraud.knhk, examples/etl.knhk and the testdata kernels should", built, srcs)
	}
}

func kernelIndex(p *ir.Program, name string) int {
	for i, k := range p.Kernels {
		if k != nil && k.Name == name {
			return i
		}
	}
	return -1
}

// csimKernel runs kernel kn's C-simulation against the interpreter and,
// when gofn is not nil, the interpreter against the compiled Go kernel
// on the same inputs (identical elements, or an error at the same
// instruction).
func csimKernel(t *testing.T, p *ir.Program, kn *Kernel, gofn func(vec.Mode, []eval.Value) (eval.Value, error)) {
	dir := t.TempDir()
	files := map[string][]byte{HeaderName: []byte(Header)}
	for n, b := range kn.Files {
		files[n] = b
	}
	writeFiles(t, dir, files)
	bin := compileCpp(t, dir, "tb", kn.Name+".cpp", kn.Name+"_tb.cpp")
	ki := kernelIndex(p, kn.Name)
	k := p.Kernels[ki]
	rng := rand.New(rand.NewPCG(1, uint64(ki)))
	inexact, total, compared := 0, 0, 0
	errs := 0
	for round, n := range []int{0, 1, 2, 7, 33, 64, 100, 257} {
		for variant := range 4 {
			if variant == 3 && n != 64 {
				continue
			}
			args, words := inputs(p, k, n, variant, rng)
			text := strings.Join(words, "\n") + "\n"
			if variant == 3 && text != string(kn.Files[kn.Name+"_input.txt"]) {
				t.Fatalf("the sample input %s_input.txt is not 64 ones:\n%s", kn.Name, kn.Files[kn.Name+"_input.txt"])
			}
			in := filepath.Join(dir, fmt.Sprintf("in%d_%d", round, variant))
			if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, in).Output()
			if err != nil {
				t.Fatalf("testbench: %v%s", err, stderrOf(err))
			}
			lines := strings.Fields(string(out))
			want, werr := eval.RunKernel(p, ki, args)
			ctx := fmt.Sprintf("n=%d variant %d", n, variant)
			if gofn != nil {
				compared++
				gv, gerr := gofn(vec.ModeAuto, args)
				if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
					t.Fatalf("%s: interpreter %v, compiled Go %v", ctx, werr, gerr)
				}
				if gerr == nil && !sameValues(want, gv) {
					t.Fatalf("%s: interpreter and compiled Go differ", ctx)
				}
			}
			if werr != nil {
				errs++
				var ee *eval.Error
				if !errors.As(werr, &ee) {
					t.Fatalf("%s: interpreter: %v", ctx, werr)
				}
				if len(lines) != 3 || lines[0] != "error" {
					t.Fatalf("%s: interpreter fails (%v), C-simulation gives %q", ctx, werr, out)
				}
				elem, _ := strconv.Atoi(lines[1])
				code, _ := strconv.Atoi(lines[2])
				if code < 1 || code > len(kn.Sites) || elem < 0 || elem >= n {
					t.Fatalf("%s: C-simulation reports code %d at element %d", ctx, code, elem)
				}
				s := kn.Sites[code-1]
				if s.Loc != ee.Loc || !sameFailure(s.What, ee.Msg) {
					t.Fatalf("%s: interpreter fails at %v with %q; C-simulation at %v with %s", ctx, ee.Loc, ee.Msg, s.Loc, s.What)
				}
				continue
			}
			if len(lines) == 0 || lines[0] != "ok" || len(lines) != 1+want.Len() {
				t.Fatalf("%s: interpreter gives %d elements, C-simulation %q", ctx, want.Len(), out)
			}
			for j := 0; j < want.Len(); j++ {
				got, _ := strconv.ParseUint(lines[1+j], 16, 32)
				w := want.Index(j)
				total++
				switch w.Kind() {
				case ir.KindF32:
					wf := float32(w.AsFloat())
					gf := math.Float32frombits(uint32(got))
					d := ulps(wf, gf)
					if d > maxULP {
						t.Fatalf("%s: element %d: interpreter %v (%08x), C-simulation %v (%08x): %d ULP apart", ctx, j, wf, math.Float32bits(wf), gf, got, d)
					}
					if d > 0 {
						inexact++
					}
				case ir.KindBool:
					if (got != 0) != w.AsBool() {
						t.Fatalf("%s: element %d: interpreter %v, C-simulation %d", ctx, j, w.AsBool(), got)
					}
				default:
					if uint32(got) != uint32(w.AsInt()) {
						t.Fatalf("%s: element %d: interpreter %d, C-simulation %d", ctx, j, int32(w.AsInt()), int32(got))
					}
				}
			}
		}
	}
	t.Logf("%d elements compared, %d within %d ULP but not identical; %d inputs failing alike; %d inputs also run compiled to Go", total, inexact, maxULP, errs, compared)
	if total == 0 {
		t.Fatal("no element compared")
	}
}

// sameFailure reports whether the interpreter's message is the failure
// a site describes.
func sameFailure(what, msg string) bool {
	switch what {
	case "index out of range":
		return strings.HasPrefix(msg, "index ")
	case "integer division by zero":
		return msg == "integer division by zero"
	case "conversion out of range":
		return strings.HasPrefix(msg, "cannot convert")
	}
	return false
}

// ulps is the distance between two f32 in units in the last place; 0 for
// two NaNs.
func ulps(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	if a == b {
		if a == 0 && math.Signbit(float64(a)) != math.Signbit(float64(b)) {
			return 1
		}
		return 0
	}
	ord := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u&(1<<31) != 0 {
			return -(u & (1<<31 - 1))
		}
		return u
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

// inputs makes a kernel's arguments for n elements, as values for the
// interpreter and as the testbench's words. Variant 0 uses ordinary
// values, 1 special ones (±0, NaN, ±Inf, subnormals, extreme integers),
// 2 ordinary values with every array after the first shorter than n, 3
// ones everywhere (the sample input knhk hls writes, with n = 64).
func inputs(p *ir.Program, k *ir.Kernel, n, variant int, rng *rand.Rand) ([]eval.Value, []string) {
	var args []eval.Value
	var words []string
	first := true
	for _, pa := range k.Params {
		kd := p.KindOf(pa.Type)
		if variant == 3 {
			v, w := oneOf(kd)
			if kd == ir.KindList {
				ek := p.KindOf(p.Type(pa.Type).Elem)
				vs := make([]eval.Value, n)
				words = append(words, strconv.FormatUint(uint64(n), 16))
				for j := range vs {
					vs[j], w = oneOf(ek)
					words = append(words, w)
				}
				v = eval.List(vs)
			} else {
				words = append(words, w)
			}
			args = append(args, v)
			continue
		}
		if kd != ir.KindList {
			v, w := scalar(kd, variant == 1, rng)
			args = append(args, v)
			words = append(words, w)
			continue
		}
		m := n
		if !first && variant == 2 {
			m = n / 2
		} else if !first && m < 8 && variant == 0 {
			m = 8 // room for constant indexes such as w[3]
		}
		first = false
		ek := p.KindOf(p.Type(pa.Type).Elem)
		vs := make([]eval.Value, m)
		words = append(words, strconv.FormatUint(uint64(m), 16))
		for j := range vs {
			v, w := scalar(ek, variant == 1, rng)
			vs[j] = v
			words = append(words, w)
		}
		args = append(args, eval.List(vs))
	}
	return args, words
}

func scalar(k ir.Kind, special bool, rng *rand.Rand) (eval.Value, string) {
	hex := func(u uint32) string { return strconv.FormatUint(uint64(u), 16) }
	switch k {
	case ir.KindF32:
		f := float32(rng.Float64()*10 - 5)
		if special && rng.IntN(2) == 0 {
			sp := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
				math.Float32frombits(1), 1e-40, 3e38, -3e38, 1, 0.5, 7, 1e10, -2.5e9}
			f = sp[rng.IntN(len(sp))]
		}
		return eval.F32(f), hex(math.Float32bits(f))
	case ir.KindI32:
		i := int32(rng.IntN(21) - 10)
		if special && rng.IntN(2) == 0 {
			sp := []int32{0, -1, 1, 7, math.MinInt32, math.MaxInt32, 3, -3}
			i = sp[rng.IntN(len(sp))]
		}
		return eval.I32(i), hex(uint32(i))
	case ir.KindU32:
		u := uint32(rng.IntN(20))
		if special && rng.IntN(2) == 0 {
			u = []uint32{0, 1, math.MaxUint32, 1 << 31}[rng.IntN(4)]
		}
		return eval.U32(u), hex(u)
	}
	b := rng.IntN(2) == 0
	if b {
		return eval.Bool(true), "1"
	}
	return eval.Bool(false), "0"
}

// sameValues reports whether two kernel results are the same elements,
// bit for bit (NaN matching NaN).
func sameValues(a, b eval.Value) bool {
	if a.Len() != b.Len() {
		return false
	}
	for j := 0; j < a.Len(); j++ {
		x, y := a.Index(j), b.Index(j)
		if x.Kind() != y.Kind() {
			return false
		}
		if x.Kind() == ir.KindF32 {
			if ulps(float32(x.AsFloat()), float32(y.AsFloat())) != 0 {
				return false
			}
			continue
		}
		if x.AsInt() != y.AsInt() || x.AsBool() != y.AsBool() {
			return false
		}
	}
	return true
}

// oneOf is one of kind k, as a value and a testbench word.
func oneOf(k ir.Kind) (eval.Value, string) {
	switch k {
	case ir.KindF32:
		return eval.F32(1), "3f800000"
	case ir.KindI32:
		return eval.I32(1), "1"
	case ir.KindU32:
		return eval.U32(1), "1"
	case ir.KindBool:
		return eval.Bool(true), "1"
	}
	return eval.Value{}, ""
}
