//go:build cgo

package accel_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/server"
)

// TestServeUsesDevice deploys a program to a knhk serve Service with
// KNHK_DEVICE=vulkan and runs its cases: kernel calls from
// KNHK_DEVICE_MIN elements on go to the device (the shared runner counts
// them), smaller ones stay on the CPU, and every result is the
// interpreter's, element for element.
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
	} {
		xs := make([]float64, c.n)
		for i := range xs {
			xs[i] = float64(r.IntN(4000)-2000) / 8
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
		var got []float64
		if err := json.Unmarshal([]byte(sum.Result), &got); err != nil {
			t.Fatalf("%s: result %.80s: %v", c.workflow, sum.Result, err)
		}
		want := cpuKernel(t, p, c.kernel, xs)
		if len(got) != len(want) {
			t.Fatalf("%s n=%d: %d results, want %d", c.workflow, c.n, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s n=%d: element %d is %v, the interpreter's %v", c.workflow, c.n, i, got[i], want[i])
			}
		}
	}
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
