//go:build !cgo

// This file implements the package without cgo, which the Vulkan binding
// needs: there is no loader, so kernels run on the CPU, and knhk still
// builds where no C compiler is (cross-compiles, knhk build on such
// machines).

package accel

import (
	"context"
	"fmt"
	"time"

	"github.com/knhk/knhk/codegen/spirv"
)

var errNoCgo = fmt.Errorf("%w: this knhk was built without cgo", ErrNoLoader)

// Vulkan is an instance of the Vulkan API; without cgo there is none.
type Vulkan struct {
	Devices []DeviceInfo
}

// Open fails without cgo.
func Open() (*Vulkan, error) { return nil, errNoCgo }

// Close does nothing.
func (v *Vulkan) Close() {}

// Preferred returns the index of the device to use, or -1.
func (v *Vulkan) Preferred() int { return preferredOf(v.Devices) }

// OpenDevice fails without cgo.
func (v *Vulkan) OpenDevice(i int) (*Device, error) { return nil, errNoCgo }

// Device is an opened Vulkan device; without cgo there is none.
type Device struct {
	Info DeviceInfo
}

// Close does nothing.
func (d *Device) Close() {}

// Run fails without cgo.
func (d *Device) Run(context.Context, *spirv.Shader, [][]any) (*Result, error) {
	return nil, errNoCgo
}

// RunReduce fails without cgo.
func (d *Device) RunReduce(context.Context, *spirv.Shader, [][]any, spirv.ReduceOp) (*Result, error) {
	return nil, errNoCgo
}

// Reduce fails without cgo.
func (d *Device) Reduce(context.Context, spirv.ReduceOp, any) (any, error) { return nil, errNoCgo }

// CopyTime fails without cgo.
func (d *Device) CopyTime(context.Context, int) (time.Duration, error) { return 0, errNoCgo }
