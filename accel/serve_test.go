//go:build cgo

package accel_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/vec"
	"github.com/knhk/knhk/server"
)

// TestServeUsesDevice deploys a program to a knhk serve Service with
// KNHK_DEVICE=vulkan and runs its cases: kernel calls from
// KNHK_DEVICE_MIN elements on go to the device (the shared runner counts
// them), smaller ones stay on the CPU, and every result is the
// interpreter's, element for element. A sum of such a kernel's list is a
// second dispatch (Device.Reduce): exact for i32, within
// vec.SumF32Bound of the interpreter's left fold for f32.
func TestServeUsesDevice(t *testing.T) {
	t.Setenv("KNHK_CACHE_DIR", t.TempDir())
	t.Setenv("KNHK_DEVICE", "vulkan")
	t.Setenv("KNHK_DEVICE_MIN", "64")
	requireVulkan(t)
	const file = "accel/testdata/served.knhk"
	p, err := spirvtest.Build(file)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(spirvtest.Root(), file))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := server.Open(t.TempDir(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(context.Background())
	if _, err := svc.Deploy("served.knhk", src, nil); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		workflow, kernel string
		n                int
		device           int // dispatches the case adds
	}{
		{"Scale", "scale", 5000, 1},
		{"Share", "share", 5000, 1},
		{"Scale", "scale", 10, 0},
		{"Share", "share", 63, 0},
		{"SumScale", "total", 5000, 2},
		{"SumShare", "itotal", 5000, 2},
		{"SumScale", "total", 63, 0},
	} {
		xs := make([]float64, c.n)
		for i := range xs {
			xs[i] = float64(r.IntN(4000)-2000)/8 + r.Float64()/3 // f32 sums round
			if xs[i] > -1 && xs[i] < 1 {
				xs[i] = 3 // share divides by int(x)
			}
		}
		in, _ := json.Marshal(xs)
		before, _ := accel.Dispatches(accel.Shared())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		id, _, err := svc.Start(ctx, server.StartRequest{Workflow: c.workflow, Input: in})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		sum, _, err := svc.Wait(ctx, id, false)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if sum.Status != "completed" {
			t.Fatalf("%s n=%d: case %s: %s", c.workflow, c.n, sum.Status, sum.Error)
		}
		after, _ := accel.Dispatches(accel.Shared())
		if after-before != c.device {
			t.Errorf("%s n=%d: %d device dispatches, want %d", c.workflow, c.n, after-before, c.device)
		}
		if strings.HasPrefix(c.workflow, "Sum") {
			checkSum(t, p, c.kernel, xs, sum.Result)
			continue
		}
		var got []float64
		if err := json.Unmarshal([]byte(sum.Result), &got); err != nil {
			t.Fatalf("%s: result %.80s: %v", c.workflow, sum.Result, err)
		}
		want := cpuKernel(t, p, c.kernel, xs)
		if len(got) != len(want) {
			t.Fatalf("%s n=%d: %d results, want %d", c.workflow, c.n, len(got), len(want))
		}
		for i := range got {
			if float32(got[i]) != float32(want[i]) { // JSON has the shortest f32 form
				t.Fatalf("%s n=%d: element %d is %v, the interpreter's %v", c.workflow, c.n, i, got[i], want[i])
			}
		}
	}
}

// checkSum compares a served sum (JSON) with the interpreter's fn name on
// xs: i32 exactly, f32 within vec.SumF32Bound of the summed terms.
func checkSum(t *testing.T, p *ir.Program, name string, xs []float64, result string) {
	t.Helper()
	var got float64
	if err := json.Unmarshal([]byte(result), &got); err != nil {
		t.Fatalf("%s: result %.80s: %v", name, result, err)
	}
	f := -1
	for i, fn := range p.Funcs {
		if fn != nil && fn.Name == name {
			f = i
		}
	}
	in := make([]eval.Value, len(xs))
	for i, x := range xs {
		in[i] = eval.Float(x)
	}
	want, err := eval.Call(p, ir.FuncID(f), nil, eval.List(in))
	if err != nil {
		t.Fatal(err)
	}
	if want.Kind() == ir.KindI32 {
		if got != float64(want.AsInt()) {
			t.Fatalf("%s n=%d: %v, the interpreter's %d", name, len(xs), got, want.AsInt())
		}
		return
	}
	terms := cpuKernel(t, p, "scale", xs)
	t32 := make([]float32, len(terms))
	for i, x := range terms {
		t32[i] = float32(x)
	}
	bound := vec.SumF32Bound(t32)
	got = float64(float32(got)) // JSON has the shortest f32 form
	if d := math.Abs(got - want.AsFloat()); d > bound {
		t.Fatalf("%s n=%d: %v, the interpreter's %v: off by %g, bound %g", name, len(xs), got, want.AsFloat(), d, bound)
	}
	t.Logf("%s n=%d: device %v, interpreter %v (bound %g)", name, len(xs), got, want.AsFloat(), bound)
}

// cpuKernel runs the named kernel of p in the interpreter on xs converted
// to its parameter's kind, as the workflow's fn does.
func cpuKernel(t *testing.T, p *ir.Program, name string, xs []float64) []float64 {
	t.Helper()
	for k, kn := range p.Kernels {
		if kn.Name != name {
			continue
		}
		f32 := p.KindOf(p.Type(kn.Params[0].Type).Elem) == ir.KindF32
		a := make([]eval.Value, len(xs))
		for i, x := range xs {
			if f32 {
				a[i] = eval.F32(float32(x))
			} else {
				a[i] = eval.I32(int32(x))
			}
		}
		v, err := eval.RunKernel(p, k, []eval.Value{eval.List(a)})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, v.Len())
		for i, e := range v.Elems() {
			if f32 {
				out[i] = e.AsFloat()
			} else {
				out[i] = float64(e.AsInt())
			}
		}
		return out
	}
	t.Fatalf("no kernel %s", name)
	return nil
}

// requireVulkan skips where Vulkan has no device; CI
// (KNHK_REQUIRE_E2E, with lavapipe installed) fails instead.
func requireVulkan(t *testing.T) {
	t.Helper()
	v, err := accel.Open()
	if err == nil {
		if len(v.Devices) == 0 {
			err = accel.ErrNoDevice
		}
		v.Close()
	}
	if err != nil {
		if os.Getenv("KNHK_REQUIRE_E2E") != "" {
			t.Fatalf("Vulkan: %v", err)
		}
		t.Skipf("Vulkan: %v", err)
	}
}
