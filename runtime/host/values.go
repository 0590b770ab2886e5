// This file implements the typing of a value the engine holds as an
// eval value of its slot's type: the engine carries eval values, so
// there is nothing to convert, but an untyped value (an event read from
// the log, before it is applied) or a plain Go value gets its type.

package host

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// FromEngine returns x, an eval.Value (possibly untyped, as a log or a
// snapshot is read before it is applied) or a plain Go value
// ([eval.FromPlain]), as an eval.Value of type t. A value of the wrong
// shape is an error naming the type.
func FromEngine(p *ir.Program, x any, t ir.TypeID) (eval.Value, error) {
	return eval.FromPlain(p, x, t) // an eval.Value is retyped
}
