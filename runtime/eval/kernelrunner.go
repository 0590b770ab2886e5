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

// ListReducer is a KernelRunner that also folds lists: package accel's
// runner sums long lists of f32, i32 or u32 on its device. SumList
// reports ok=false to leave the sum to the machine; with ok=true, v (of
// kind k) is the sum or err the failure. k is the kind of the sum's
// result (ir.KindVoid where the caller does not know it).
type ListReducer interface {
	SumList(xs Value, k ir.Kind) (v Value, ok bool, err error)
}

// deviceSum offers sum(xs), a sum without a lambda whose result has kind
// k, to r when r folds lists. The language's only list reduction is sum:
// its min and max take two operands, and it has no count.
func deviceSum(r KernelRunner, xs Value, k ir.Kind) (Value, bool, error) {
	lr, ok := r.(ListReducer)
	if !ok || xs.k != ir.KindList {
		return Value{}, false, nil
	}
	v, ok, err := lr.SumList(xs, k)
	if !ok {
		return Value{}, false, nil
	}
	if err != nil {
		return Value{}, true, failure(err.Error())
	}
	return v, true, nil
}
