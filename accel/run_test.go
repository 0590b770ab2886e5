//go:build cgo

package accel

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
)

func openDevice(t *testing.T) *Device {
	t.Helper()
	v := openOrSkip(t)
	t.Cleanup(v.Close)
	d, err := v.OpenDevice(v.Preferred())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func kernelNamed(t *testing.T, p *ir.Program, name string) *spirv.Shader {
	t.Helper()
	for k, kn := range p.Kernels {
		if kn.Name == name {
			sh, diags := spirv.Kernel(p, k)
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			return sh
		}
	}
	t.Fatalf("no kernel %s", name)
	return nil
}

// TestSplitAndStaging runs one kernel with dispatches split at a
// lowered workgroup limit, and through staging buffers as on a discrete
// GPU, and requires the plain run's results.
func TestSplitAndStaging(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	sh := kernelNamed(t, p, "ints")
	const n = 10000
	a, b := make([]int32, n), make([]int32, n)
	for i := range a {
		a[i], b[i] = int32(i*7-n), int32(i%13+1)
	}
	plain, err := d.Run(context.Background(), sh, [][]any{{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Dispatches != 1 || plain.Failed >= 0 {
		t.Fatalf("plain run: %d dispatches, failed at %d", plain.Dispatches, plain.Failed)
	}
	d.maxGroups = 3 // 192 elements per dispatch
	d.staging = true
	split, err := d.Run(context.Background(), sh, [][]any{{a, b}})
	d.maxGroups, d.staging = d.Info.MaxGroups, d.Info.Discrete()
	if err != nil {
		t.Fatal(err)
	}
	if want := (n + 191) / 192; split.Dispatches != want {
		t.Errorf("%d dispatches, want %d", split.Dispatches, want)
	}
	x, y := plain.Outputs[0].([]int32), split.Outputs[0].([]int32)
	for i := range x {
		if want := a[i]/b[i] + a[i]%b[i] + max(a[i], -a[i]) - min(a[i], b[i]); x[i] != want || y[i] != want {
			t.Fatalf("[%d] = %d plain, %d split, want %d", i, x[i], y[i], want)
		}
	}
}

// TestFailureIndex: a division by zero at two elements reports the
// lesser.
func TestFailureIndex(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	sh := kernelNamed(t, p, "ints")
	a, b := make([]int32, 5000), make([]int32, 5000)
	for i := range b {
		b[i] = 1
	}
	b[4321], b[777] = 0, 0
	res, err := d.Run(context.Background(), sh, [][]any{{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 777 {
		t.Fatalf("Failed = %d, want 777", res.Failed)
	}
}

func TestRunBadArguments(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	sh := kernelNamed(t, p, "gate")
	for _, args := range [][]any{
		{[]int32{1}, float32(0)}, // wrong element type
		{[]float32{1}, int32(0)}, // wrong scalar type
		{[]float32{1}},           // missing argument
	} {
		if _, err := d.Run(context.Background(), sh, [][]any{args}); err == nil {
			t.Errorf("Run(%v) succeeded", args)
		}
	}
	if _, err := d.Run(context.Background(), sh, nil); err == nil {
		t.Error("Run without arguments succeeded")
	}
	d.Close()
	if _, err := d.Run(context.Background(), sh, [][]any{{[]float32{1}, float32(0)}}); !errors.Is(err, ErrNoDevice) {
		t.Errorf("Run on a closed device: %v", err)
	}
}

// TestFusedRun runs three kernels as one module and requires each one's
// result as run alone.
func TestFusedRun(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"gate", "expf", "saxpy"}
	var ks []int
	for _, name := range names {
		for k, kn := range p.Kernels {
			if kn.Name == name {
				ks = append(ks, k)
			}
		}
	}
	fused, diags := spirv.Compile(p, ks)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	n := 3000
	a, y := make([]float32, n), make([]float32, n)
	for i := range a {
		a[i], y[i] = float32(i%50)-25, float32(i)
	}
	args := [][]any{{a, float32(3)}, {a}, {a, y, float32(-2)}}
	res, err := d.Run(context.Background(), fused, args)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Outputs) != 3 {
		t.Fatalf("%d outputs", len(res.Outputs))
	}
	for j, k := range ks {
		alone, diags := spirv.Kernel(p, k)
		if len(diags) > 0 {
			t.Fatal(diags)
		}
		one, err := d.Run(context.Background(), alone, args[j:j+1])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one.Outputs[0], res.Outputs[j]) {
			t.Errorf("%s fused differs from %s alone", names[j], names[j])
		}
	}
	if _, err := d.Run(context.Background(), fused, [][]any{{a, float32(3)}, {a[:10]}, {a, y, float32(-2)}}); err == nil {
		t.Error("kernels over different lengths ran as one")
	}
}

// TestRunCancelled: a cancelled context is reported after the device
// has finished (its buffers must outlive the work), and the device
// stays usable.
func TestRunCancelled(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	sh := kernelNamed(t, p, "expf")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	xs := make([]float32, 1<<16)
	if _, err := d.Run(ctx, sh, [][]any{{xs}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context: %v", err)
	}
	res, err := d.Run(context.Background(), sh, [][]any{{xs}})
	if err != nil || res.Outputs[0].([]float32)[7] != 1 {
		t.Fatalf("after cancellation: %v", err)
	}
}
