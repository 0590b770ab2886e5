// This file implements the result of a run, shared by builds with and
// without cgo.

package accel

import "time"

// Result is what one run of a module computed.
type Result struct {
	// Outputs holds each kernel's result, in the order of
	// Shader.Kernels: []float32, []int32, []uint32 or []bool. RunReduce
	// leaves it empty.
	Outputs []any
	// Reduced is RunReduce's value: a float32, int32 or uint32.
	Reduced any
	// Failed is the least element index at which some kernel failed
	// (an index out of range, a division by zero, a conversion out of
	// range), or -1. The device cannot say why; the caller re-runs the
	// kernel on the CPU for the exact error.
	Failed int
	// Dispatches is how many vkCmdDispatch calls the run took.
	Dispatches int
	// Kernel is the device time of the kernel's dispatches alone
	// (timestamps), or 0 where the device has none.
	Kernel time.Duration
}
