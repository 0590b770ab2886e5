// This file implements the dispatcher that workflows' kernel calls go
// through: the device above a size threshold, the CPU below it, and the
// CPU again for any element the device reports as failed, so that errors
// are the CPU's, exactly.

package accel

import (
	"context"
	"fmt"

	"sync"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// DefaultThreshold is the element count from which kernels go to the
// device: below it the copies and the submission cost more than the CPU
// loop (see docs/gpu.md).
const DefaultThreshold = 1 << 16

// Dispatcher runs the kernels of programs on a device. It implements
// eval.KernelRunner; the zero value is not usable, see NewDispatcher.
type Dispatcher struct {
	dev *Device
	// Threshold is the least element count sent to the device.
	Threshold int
	// Strict makes device failures errors instead of CPU fallbacks
	// (KNHK_DEVICE named Vulkan explicitly).
	Strict bool

	mu      sync.Mutex
	shaders map[shaderKey]*spirv.Shader // nil: the kernel cannot run on the device
	// Stats, for tests and `knhk run -v`.
	Device, CPU int
}

type shaderKey struct {
	p *ir.Program
	k int
}

// NewDispatcher returns a dispatcher on dev.
func NewDispatcher(dev *Device) *Dispatcher {
	return &Dispatcher{dev: dev, Threshold: DefaultThreshold, shaders: map[shaderKey]*spirv.Shader{}}
}

// shader compiles kernel k of p once; nil when SPIR-V cannot express it.
func (x *Dispatcher) shader(p *ir.Program, k int) *spirv.Shader {
	x.mu.Lock()
	defer x.mu.Unlock()
	key := shaderKey{p, k}
	sh, ok := x.shaders[key]
	if !ok {
		sh, _ = spirv.Kernel(p, k)
		x.shaders[key] = sh
	}
	return sh
}

// RunKernel runs kernel k of p on the device when its first array
// argument has at least Threshold elements and the kernel compiles to
// SPIR-V. It reports ok=false to leave the kernel to the caller's CPU
// loop: below the threshold, when an element failed (the CPU then
// reports the exact error), and, unless Strict, when the device failed.
func (x *Dispatcher) RunKernel(p *ir.Program, k int, args []eval.Value) (eval.Value, bool, error) {
	if x == nil || x.dev == nil || k < 0 || k >= len(p.Kernels) || p.Kernels[k] == nil {
		return eval.Value{}, false, nil
	}
	kn := p.Kernels[k]
	if len(args) != len(kn.Params) {
		return eval.Value{}, false, nil
	}
	n := -1
	goArgs := make([]any, len(args))
	for i, pa := range kn.Params {
		a, l, ok := toGo(p, pa.Type, args[i])
		if !ok {
			return eval.Value{}, false, nil
		}
		if l >= 0 && n < 0 {
			n = l
		}
		goArgs[i] = a
	}
	if n < x.Threshold {
		x.count(false)
		return eval.Value{}, false, nil
	}
	sh := x.shader(p, k)
	if sh == nil {
		x.count(false)
		return eval.Value{}, false, nil
	}
	res, err := x.dev.Run(context.Background(), sh, [][]any{goArgs})
	if err != nil {
		if x.Strict {
			return eval.Value{}, true, fmt.Errorf("kernel %s on %s: %w", kn.Name, x.dev.Info.Name, err)
		}
		x.count(false)
		return eval.Value{}, false, nil
	}
	if res.Failed >= 0 {
		x.count(false)
		return eval.Value{}, false, nil
	}
	x.count(true)
	return fromGo(res.Outputs[0]), true, nil
}

func (x *Dispatcher) count(dev bool) {
	x.mu.Lock()
	if dev {
		x.Device++
	} else {
		x.CPU++
	}
	x.mu.Unlock()
}

// toGo converts v, of IR type t, to the Go form Device.Run takes, and
// returns its length, or -1 for a scalar.
func toGo(p *ir.Program, t ir.TypeID, v eval.Value) (any, int, bool) {
	k := p.KindOf(t)
	if k != ir.KindList {
		s, ok := scalarToGo(k, v)
		return s, -1, ok
	}
	if v.Kind() != ir.KindList {
		return nil, 0, false
	}
	n := v.Len()
	switch p.KindOf(p.Type(t).Elem) {
	case ir.KindF32:
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(v.Index(i).AsFloat())
		}
		return s, n, true
	case ir.KindI32:
		s := make([]int32, n)
		for i := range s {
			s[i] = int32(v.Index(i).AsInt())
		}
		return s, n, true
	case ir.KindU32:
		s := make([]uint32, n)
		for i := range s {
			s[i] = uint32(v.Index(i).AsInt())
		}
		return s, n, true
	case ir.KindBool:
		s := make([]bool, n)
		for i := range s {
			s[i] = v.Index(i).AsBool()
		}
		return s, n, true
	}
	return nil, 0, false
}

func scalarToGo(k ir.Kind, v eval.Value) (any, bool) {
	if v.Kind() != k {
		return nil, false
	}
	switch k {
	case ir.KindF32:
		return float32(v.AsFloat()), true
	case ir.KindI32:
		return int32(v.AsInt()), true
	case ir.KindU32:
		return uint32(v.AsInt()), true
	case ir.KindBool:
		return v.AsBool(), true
	}
	return nil, false
}

// fromGo converts a result slice to an eval list.
func fromGo(out any) eval.Value {
	var elems []eval.Value
	switch s := out.(type) {
	case []float32:
		elems = make([]eval.Value, len(s))
		for i, f := range s {
			elems[i] = eval.F32(f)
		}
	case []int32:
		elems = make([]eval.Value, len(s))
		for i, v := range s {
			elems[i] = eval.I32(v)
		}
	case []uint32:
		elems = make([]eval.Value, len(s))
		for i, v := range s {
			elems[i] = eval.U32(v)
		}
	case []bool:
		elems = make([]eval.Value, len(s))
		for i, v := range s {
			elems[i] = eval.Bool(v)
		}
	}
	return eval.List(elems)
}
