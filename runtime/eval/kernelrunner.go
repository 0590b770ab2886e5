// This file implements the seam through which kernel calls may run on an
// accelerator instead of the machine's own loop.

package eval

import "github.com/knhk/knhk/compiler/ir"

// KernelRunner runs kernels elsewhere: package accel's Dispatcher sends
// large calls to a Vulkan device. RunKernel reports ok=false to leave the
// call to the machine (too small, not expressible there, or an element
// failed, so that the machine reports the exact error); with ok=true, v is
// the result list or err the failure.
type KernelRunner interface {
	RunKernel(p *ir.Program, k int, args []Value) (v Value, ok bool, err error)
}
