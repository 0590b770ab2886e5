// This file implements the typing of the values a caller hands the
// engine (a case's arguments, a signal's payload): what enters the
// engine is an eval.Value of the declared type, whatever form the caller
// had it in.

package engine

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// Args returns xs as eval values of the types of params, one each. Each
// of xs is an eval.Value ([eval.Retype] gives it the parameter's type
// when it was built without it) or a plain Go value (bool, int64,
// float64, string, []byte, time.Duration, time.Time, []any, nil; see
// [eval.FromPlain]). A value of the wrong type is an error naming the
// parameter.
func (m *Machine) Args(xs []any, params []ir.Param) ([]eval.Value, error) {
	return typeArgs(xs, params, func(x any, t ir.TypeID) (eval.Value, error) {
		return eval.FromPlain(m.Prog, x, t) // an eval.Value is retyped
	})
}

// ValueArgs is [Machine.Args] for values that are eval values already
// (a mail's payload): it retypes them without boxing them first.
func (m *Machine) ValueArgs(vs []eval.Value, params []ir.Param) ([]eval.Value, error) {
	return typeArgs(vs, params, func(v eval.Value, t ir.TypeID) (eval.Value, error) {
		return eval.Retype(m.Prog, v, t)
	})
}

// typeArgs gives each of xs the type of its parameter through one.
func typeArgs[T any](xs []T, params []ir.Param, one func(T, ir.TypeID) (eval.Value, error)) ([]eval.Value, error) {
	if len(xs) != len(params) {
		return nil, fmt.Errorf("%d values for %d parameters", len(xs), len(params))
	}
	if len(xs) == 0 {
		return nil, nil
	}
	out := make([]eval.Value, len(xs))
	for i, x := range xs {
		var err error
		if out[i], err = one(x, params[i].Type); err != nil {
			return nil, fmt.Errorf("%s: %w", params[i].Name, err)
		}
	}
	return out, nil
}

// Boxed returns vs as the []any that [Engine.Start] and [Engine.Signal]
// take.
func Boxed(vs []eval.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
