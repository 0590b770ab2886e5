// This file implements what is left of the conversion between the
// engine's values and eval's: nothing, since they are one
// representation. These helpers remain for callers written against the
// old API; FromEngine also types an untyped value (an event read from
// the log, before it is applied) or a plain Go value.

package host

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// ToEngine returns v as the engine holds it: v itself, since the engine
// carries eval values.
//
// Deprecated: there is nothing to convert; pass v.
func ToEngine(v eval.Value) eval.Value { return v }

// FromEngine returns x, an eval.Value (possibly untyped, as a log or a
// snapshot is read before it is applied) or a plain Go value
// ([eval.FromPlain]), as an eval.Value of type t. A value of the wrong
// shape is an error naming the type.
func FromEngine(p *ir.Program, x any, t ir.TypeID) (eval.Value, error) {
	if v, ok := x.(eval.Value); ok {
		return eval.Retype(p, v, t)
	}
	return eval.FromPlain(p, x, t)
}
