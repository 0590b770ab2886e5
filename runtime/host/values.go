// This file implements the conversion of values between the engine's
// plain Go form and eval.Value, which is eval's Plain and FromPlain.

package host

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// ToEngine converts v to the engine's form (see the package doc).
func ToEngine(v eval.Value) any { return eval.Plain(v) }

// ToEngineAll converts each of vs with [ToEngine].
func ToEngineAll(vs []eval.Value) []any { return eval.PlainAll(vs) }

// FromEngine converts x, a value in the engine's form, to an eval.Value
// of type t. A value of the wrong shape is an error naming the type.
func FromEngine(p *ir.Program, x any, t ir.TypeID) (eval.Value, error) {
	return eval.FromPlain(p, x, t)
}

// FromEngineParams converts xs to the types of params, one each.
func FromEngineParams(p *ir.Program, xs []any, params []ir.Param) ([]eval.Value, error) {
	return eval.FromPlainParams(p, xs, params)
}
