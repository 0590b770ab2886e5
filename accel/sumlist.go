// This file implements the device side of the language's list reduction:
// sum(xs) over a long list of f32, i32 or u32 (a kernel's result, say)
// runs as Device.Reduce.

package accel

import (
	"context"
	"fmt"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

var (
	_ eval.ListReducer = (*Dispatcher)(nil)
	_ eval.ListReducer = (*lazy)(nil)
	_ eval.ListReducer = failing{}
)

// SumList sums xs on the device when it has at least Threshold elements,
// all of kind k (f32, i32 or u32; k may be ir.KindVoid for the elements'
// own). Integer sums wrap, as the CPU's, so they are exact; f32 sums add
// in a tree instead of left to right and differ from the CPU's within
// vec.SumF32Bound (n·2⁻²³·Σ|xᵢ|) for normal values. Device failures fall
// back to the CPU unless Strict.
func (x *Dispatcher) SumList(xs eval.Value, k ir.Kind) (eval.Value, bool, error) {
	if x == nil || x.dev == nil || xs.Kind() != ir.KindList || xs.Len() < x.Threshold || xs.Len() == 0 {
		return eval.Value{}, false, nil
	}
	data, ok := sumData(xs, k)
	if !ok {
		return eval.Value{}, false, nil
	}
	r, err := x.dev.Reduce(context.Background(), spirv.ReduceSum, data)
	if err != nil {
		if x.Strict {
			return eval.Value{}, true, fmt.Errorf("sum on %s: %w", x.dev.Info.Name, err)
		}
		x.count(false)
		return eval.Value{}, false, nil
	}
	x.count(true)
	switch r := r.(type) {
	case float32:
		return eval.F32(r), true, nil
	case int32:
		return eval.I32(r), true, nil
	case uint32:
		return eval.U32(r), true, nil
	}
	return eval.Value{}, false, nil
}

// sumKind is the kind of xs's elements when the device can sum them: all
// have kind k (or, for ir.KindVoid, the first element's), and that is
// f32, i32 or u32.
func sumKind(xs eval.Value, k ir.Kind) (ir.Kind, bool) {
	es := xs.Elems()
	if len(es) == 0 {
		return 0, false
	}
	if k == ir.KindVoid {
		k = es[0].Kind()
	}
	if k != ir.KindF32 && k != ir.KindI32 && k != ir.KindU32 {
		return 0, false
	}
	for _, e := range es {
		if e.Kind() != k {
			return 0, false
		}
	}
	return k, true
}

// sumData is xs as the slice Device.Reduce takes (see sumKind).
func sumData(xs eval.Value, k ir.Kind) (any, bool) {
	k, ok := sumKind(xs, k)
	if !ok {
		return nil, false
	}
	es := xs.Elems()
	switch k {
	case ir.KindF32:
		s := make([]float32, len(es))
		for i, e := range es {
			s[i] = float32(e.AsFloat())
		}
		return s, true
	case ir.KindI32:
		s := make([]int32, len(es))
		for i, e := range es {
			s[i] = int32(e.AsInt())
		}
		return s, true
	case ir.KindU32:
		s := make([]uint32, len(es))
		for i, e := range es {
			s[i] = uint32(e.AsInt())
		}
		return s, true
	}
	return nil, false
}

// SumList opens the device on the first sum that needs it.
func (l *lazy) SumList(xs eval.Value, k ir.Kind) (eval.Value, bool, error) {
	if xs.Kind() != ir.KindList || xs.Len() < l.threshold {
		return eval.Value{}, false, nil
	}
	if _, ok := sumKind(xs, k); !ok {
		return eval.Value{}, false, nil
	}
	if r, ok := l.open().(eval.ListReducer); ok {
		return r.SumList(xs, k)
	}
	return eval.Value{}, false, nil
}

// SumList fails the sums the device would have taken.
func (f failing) SumList(xs eval.Value, k ir.Kind) (eval.Value, bool, error) {
	if xs.Kind() != ir.KindList || xs.Len() < f.threshold {
		return eval.Value{}, false, nil
	}
	if _, ok := sumKind(xs, k); !ok {
		return eval.Value{}, false, nil
	}
	return eval.Value{}, true, f.err
}
