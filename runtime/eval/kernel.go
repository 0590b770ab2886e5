// This file implements kernels on the CPU: the reference implementation
// that the Go, SPIR-V and HLS back ends are compared with.

package eval

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// RunKernel runs kernel k of p over args, one per kernel parameter (lists
// for array parameters, scalars otherwise), and returns the result list:
// one element per element of the first list argument, element i computed
// by the kernel's body with i as an i32. Elements are computed in order,
// so a failure names the first failing element's instruction.
func RunKernel(p *ir.Program, k int, args []Value) (Value, error) {
	return New(p).RunKernel(k, args)
}

// RunKernel is [RunKernel] on m's program, reusing m's registers.
func (m *Machine) RunKernel(k int, args []Value) (v Value, err error) {
	if k < 0 || k >= len(m.prog.Kernels) || m.prog.Kernels[k] == nil {
		return Value{}, fmt.Errorf("no kernel %d", k)
	}
	kn := m.prog.Kernels[k]
	body, err := m.fn(kn.Body)
	if err != nil {
		return Value{}, err
	}
	m.steps, m.depth = 0, 0
	defer m.recover(body, &err)
	v, err = m.kernel(k, args)
	if f, ok := err.(failure); ok {
		err = &Error{Loc: kn.Loc, Func: kn.Name, Msg: string(f)}
	}
	return v, err
}

// kernel runs kernel k inside a running call.
func (m *Machine) kernel(k int, args []Value) (Value, error) {
	if k < 0 || k >= len(m.prog.Kernels) || m.prog.Kernels[k] == nil {
		return Value{}, failf("no kernel %d", k)
	}
	kn := m.prog.Kernels[k]
	body, err := m.fn(kn.Body)
	if err != nil {
		return Value{}, failure(err.Error())
	}
	if len(args) != len(kn.Params) {
		return Value{}, failf("kernel %s takes %d arguments, not %d", kn.Name, len(kn.Params), len(args))
	}
	n := -1
	for i, a := range args {
		if m.prog.KindOf(kn.Params[i].Type) == ir.KindList {
			if a.k != ir.KindList {
				return Value{}, failf("kernel %s: argument %s is %s, not a list", kn.Name, kn.Params[i].Name, kindName(a))
			}
			if n < 0 {
				n = a.Len()
			}
		}
	}
	if n < 0 {
		return Value{}, failf("kernel %s has no list parameter", kn.Name)
	}
	if int64(n) > 1<<31-1 {
		return Value{}, failf("kernel %s: %d elements do not fit an i32 index", kn.Name, n)
	}
	if m.Kernels != nil {
		if v, ok, err := m.Kernels.RunKernel(m.prog, k, args); ok {
			if err != nil {
				return Value{}, failure(err.Error())
			}
			return v, nil
		}
	}
	bargs := make([]Value, len(args)+1)
	copy(bargs, args)
	out := make([]Value, n)
	// Each element gets the step budget left when the kernel started:
	// kernel bodies are bounded by construction (constant loop bounds, no
	// recursion), so the budget only guards against malformed programs,
	// and a large array must not exhaust it.
	start := m.steps
	for i := 0; i < n; i++ {
		m.steps = start
		bargs[len(args)] = I32(int32(i))
		v, err := m.call(body, nil, bargs)
		if err != nil {
			return Value{}, err
		}
		out[i] = v
	}
	return List(out), nil
}
