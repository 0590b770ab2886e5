//go:build cgo

package accel

import (
	"context"
	"errors"
	"testing"

	vk "github.com/vulkan-go/vulkan"

	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/runtime/eval"
)

func TestCheckMapsResults(t *testing.T) {
	for r, want := range map[vk.Result]error{
		vk.ErrorOutOfDeviceMemory:  ErrOutOfMemory,
		vk.ErrorOutOfHostMemory:    ErrOutOfMemory,
		vk.ErrorDeviceLost:         ErrDeviceLost,
		vk.ErrorIncompatibleDriver: ErrNoDevice,
	} {
		err := check(r, "vkTest")
		if !errors.Is(err, want) {
			t.Errorf("check(%d) = %v, want %v", r, err, want)
		}
	}
	if check(vk.Success, "vkTest") != nil {
		t.Error("success is an error")
	}
	if err := check(vk.ErrorFormatNotSupported, "vkTest"); err == nil {
		t.Error("a failure is not an error")
	}
}

// TestFailuresFallBack: a lost device and arrays beyond the device's
// buffer limit are clean errors from Run, and the dispatcher then leaves
// the call to the CPU, or reports the error when KNHK_DEVICE demanded the
// device.
func TestFailuresFallBack(t *testing.T) {
	d := openDevice(t)
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	sh := kernelNamed(t, p, "expf")
	k := sh.Kernels[0]
	xs := make([]float32, 100)
	args := []eval.Value{fromGo(xs)}
	for _, c := range []struct {
		name  string
		spoil func()
		want  error
	}{
		{"too large", func() { d.Info.MaxBuffer = 64 }, ErrUnsupported},
		{"lost", func() { d.lost = true }, ErrDeviceLost},
	} {
		saved := d.Info
		c.spoil()
		_, err := d.Run(context.Background(), sh, [][]any{{xs}})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Run: %v, want %v", c.name, err, c.want)
		}
		x := NewDispatcher(d)
		x.Threshold = 1
		if _, ok, err := x.RunKernel(p, k, args); ok || err != nil {
			t.Errorf("%s: dispatcher took the call (%v, %v) instead of the CPU", c.name, ok, err)
		}
		x.Strict = true
		if _, ok, err := x.RunKernel(p, k, args); !ok || !errors.Is(err, c.want) {
			t.Errorf("%s: strict dispatcher: %v, %v; want %v", c.name, ok, err, c.want)
		}
		d.Info, d.lost = saved, false
	}
}
