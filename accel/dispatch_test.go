//go:build cgo

package accel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// TestDispatcherThroughEval runs the fraud example's kernel call the way a
// workflow step does, on an eval machine whose Kernels is a Dispatcher:
// calls from the threshold on run on the device with the CPU's results,
// smaller ones and failing ones on the CPU.
func TestDispatcherThroughEval(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	k := -1
	for i, kn := range p.Kernels {
		if kn.Name == "ints" {
			k = i
		}
	}
	x := NewDispatcher(d)
	x.Threshold = 100
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		n      int
		zero   bool
		device int
	}{{50, false, 0}, {1000, false, 1}, {1000, true, 0}} {
		x.Device, x.CPU = 0, 0
		a, b := make([]eval.Value, c.n), make([]eval.Value, c.n)
		for i := range a {
			a[i], b[i] = eval.I32(r.Int32N(1000)-500), eval.I32(r.Int32N(20)+1)
		}
		if c.zero {
			b[c.n/2] = eval.I32(0)
		}
		args := []eval.Value{eval.List(a), eval.List(b)}
		m := eval.New(p)
		m.Kernels = x
		got, gotErr := m.RunKernel(k, args)
		want, wantErr := eval.RunKernel(p, k, args)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("n=%d: error %v, CPU %v", c.n, gotErr, wantErr)
		}
		if gotErr == nil && !eval.Equal(got, want) {
			t.Fatalf("n=%d: results differ", c.n)
		}
		if x.Device != c.device {
			t.Errorf("n=%d zero=%v: %d device runs, want %d", c.n, c.zero, x.Device, c.device)
		}
	}
}

// TestDispatcherConcurrent: cases run kernels from many goroutines at
// once; the device serialises them and every caller gets its own result.
func TestDispatcherConcurrent(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	k := slices.IndexFunc(p.Kernels, func(kn *ir.Kernel) bool { return kn.Name == "ints" })
	x := NewDispatcher(d)
	x.Threshold = 1
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			a, b := make([]eval.Value, 500+g), make([]eval.Value, 500+g)
			for i := range a {
				a[i], b[i] = eval.I32(int32(i*g)), eval.I32(int32(g+1))
			}
			args := []eval.Value{eval.List(a), eval.List(b)}
			got, ok, err := x.RunKernel(p, k, args)
			want, _ := eval.RunKernel(p, k, args)
			if !ok || err != nil || !eval.Equal(got, want) {
				errs <- fmt.Errorf("goroutine %d: ok=%v err=%v equal=%v", g, ok, err, eval.Equal(got, want))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if x.Device != 8 {
		t.Errorf("%d device runs, want 8", x.Device)
	}
}
