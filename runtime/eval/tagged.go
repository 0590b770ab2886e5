// This file implements the canonical encoding of values in the event log
// and in snapshots: tagged JSON. Strings, bools and null stand for
// themselves; every other value is a one-key object that says what it
// is ("i" an integer, "f" a float, "d" a duration, "t" a time, "b"
// bytes, "l" a list). A record is the list of its fields in the IR's
// order, an enum its member's name, a map the two-element list of its
// keys and its values (in key order), none and void null. The encoding
// carries no types, so [Untag] gives an untyped value that [Retype] types
// from the IR type of its slot; this is the format logs have always
// had, so old logs read as they are.

package eval

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// Tag returns v as the JSON tree (what encoding/json marshals) of its
// canonical encoding.
func Tag(v Value) any {
	switch v.k {
	case ir.KindVoid, ir.KindOptional:
		return nil
	case ir.KindBool:
		return v.AsBool()
	case ir.KindString, ir.KindEnum:
		return v.s
	case ir.KindInt, ir.KindI32, ir.KindU32:
		return map[string]any{"i": strconv.FormatInt(v.AsInt(), 10)}
	case ir.KindFloat, ir.KindF32:
		return map[string]any{"f": v.AsFloat()}
	case ir.KindDuration:
		return map[string]any{"d": strconv.FormatInt(v.AsInt(), 10)}
	case ir.KindTime:
		return map[string]any{"t": strconv.FormatInt(v.AsInt(), 10)}
	case ir.KindBytes:
		return map[string]any{"b": base64.StdEncoding.EncodeToString([]byte(v.s))}
	case ir.KindList, ir.KindRecord:
		return map[string]any{"l": TagAll(v.Elems(), true)}
	case ir.KindMap:
		n := v.Len()
		keys, vals := make([]any, n), make([]any, n)
		for i := range n {
			keys[i], vals[i] = Tag(v.Key(i)), Tag(v.Index(i))
		}
		return map[string]any{"l": []any{map[string]any{"l": keys}, map[string]any{"l": vals}}}
	}
	return nil
}

// TagAll tags each of vs. A nil vs is nil unless empty is set, which
// makes it an empty list (a value's list is never null; an event's
// missing list is).
func TagAll(vs []Value, empty bool) []any {
	if vs == nil && !empty {
		return nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = Tag(v)
	}
	return out
}

// maxTagDepth bounds the nesting Untag follows.
const maxTagDepth = 10000

// Untag decodes x, a JSON tree of the canonical encoding, to an untyped
// value: null is [None], an integer is an int, a float a float, a list a
// list, a map written by an old engine as {"m": {...}} a map with string
// keys. [Retype] gives it the type of its slot.
func Untag(x any) (Value, error) { return untag(x, 0) }

func untag(x any, depth int) (Value, error) {
	if depth > maxTagDepth {
		return Value{}, fmt.Errorf("value nested too deeply")
	}
	switch y := x.(type) {
	case nil:
		return None, nil
	case bool:
		return Bool(y), nil
	case string:
		return Str(y), nil
	case map[string]any:
		if len(y) != 1 {
			break
		}
		for k, e := range y {
			s, _ := e.(string)
			switch k {
			case "i", "d", "t":
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return Value{}, fmt.Errorf("bad tagged value %q", s)
				}
				switch k {
				case "i":
					return Int(n), nil
				case "d":
					return Duration(time.Duration(n)), nil
				}
				return TimeNanos(n), nil
			case "f":
				if f, ok := e.(float64); ok {
					return Float(f), nil
				}
			case "b":
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return Value{}, err
				}
				return Bytes(b), nil
			case "l":
				l, ok := e.([]any)
				if !ok {
					break
				}
				out, err := untagAll(l, depth+1)
				if out == nil {
					out = []Value{}
				}
				return List(out), err
			case "m":
				m, ok := e.(map[string]any)
				if !ok {
					break
				}
				keys := make([]Value, 0, len(m))
				vals := make([]Value, 0, len(m))
				for k, e := range m {
					u, err := untag(e, depth+1)
					if err != nil {
						return Value{}, err
					}
					keys, vals = append(keys, Str(k)), append(vals, u)
				}
				return Map(keys, vals), nil
			}
		}
	}
	return Value{}, fmt.Errorf("bad tagged value %v", x)
}

// UntagAll decodes each of xs with [Untag]; nil stays nil.
func UntagAll(xs []any) ([]Value, error) { return untagAll(xs, 0) }

func untagAll(xs []any, depth int) ([]Value, error) {
	if xs == nil {
		return nil, nil
	}
	out := make([]Value, len(xs))
	for i, x := range xs {
		v, err := untag(x, depth)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
