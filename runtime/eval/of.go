// This file implements the building of values from Go values, for
// programs that embed the engine and for tests: the untyped value of a
// Go value, as [Untag] reads one from the log.

package eval

import (
	"fmt"
	"time"
)

// Of returns x as an untyped value: nil is void, a bool, integer, float,
// string, []byte, time.Duration or time.Time the value of that kind,
// []any a list of Of each element, a Value itself. [Retype] gives it a
// type; the engine does so for what Start and Signal are handed. Any
// other Go type panics.
func Of(x any) Value {
	switch y := x.(type) {
	case nil:
		return Void
	case Value:
		return y
	case bool:
		return Bool(y)
	case int:
		return Int(int64(y))
	case int64:
		return Int(y)
	case int32:
		return I32(y)
	case uint32:
		return U32(y)
	case float64:
		return Float(y)
	case float32:
		return F32(y)
	case string:
		return Str(y)
	case []byte:
		return Bytes(y)
	case time.Duration:
		return Duration(y)
	case time.Time:
		return Time(y)
	case []any:
		out := make([]Value, len(y))
		for i, e := range y {
			out[i] = Of(e)
		}
		return List(out)
	}
	panic(fmt.Sprintf("eval.Of: a Go %T", x))
}

// Values returns Of of each of xs.
func Values(xs ...any) []Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		out[i] = Of(x)
	}
	return out
}
