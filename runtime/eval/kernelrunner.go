// This file implements the seam through which kernel calls may run on an
// accelerator instead of the machine's own loop.

package eval

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/vec"
)

// KernelRunner runs kernels elsewhere: package accel's Dispatcher sends
// large calls to a Vulkan device. RunKernel reports ok=false to leave the
// call to the machine (too small, not expressible there, or an element
// failed, so that the machine reports the exact error); with ok=true, v is
// the result list or err the failure.
type KernelRunner interface {
	RunKernel(p *ir.Program, k int, args []Value) (v Value, ok bool, err error)
}

// Kernel runs kernel k of n's program on args for code compiled by
// codegen/golang: on n.Kernels when it takes the call, otherwise with cpu,
// the compiled loop (mode vec.ModeAuto). A built binary's kernel calls so
// go where the interpreter's would, with the same results and errors.
func (n *Native) Kernel(k int, cpu func(vec.Mode, []Value) (Value, error), args []Value) (Value, error) {
	if n.Kernels != nil {
		if v, ok, err := n.Kernels.RunKernel(n.Prog, k, args); ok {
			if err != nil {
				return Value{}, failure(err.Error())
			}
			return v, nil
		}
	}
	return cpu(vec.ModeAuto, args)
}
