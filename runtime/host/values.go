// This file implements the helpers for callers that hold values as Go
// interfaces: the engine's Start and Signal take []any, and an event
// read from the log is untyped until it is applied.

package host

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// ToEngine returns v as the engine holds it: v itself (the engine
// carries eval values). It is kept for callers that box values for
// [engine.Engine.Start] and [engine.Engine.Signal].
func ToEngine(v eval.Value) eval.Value { return v }

// ToEngineAll boxes vs for [engine.Engine.Start] and
// [engine.Engine.Signal].
func ToEngineAll(vs []eval.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

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
