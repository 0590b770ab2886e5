// This file implements the conversion of values between the engine's
// plain Go form and eval.Value.

package host

import (
	"fmt"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// ToEngine converts v to the engine's form (see the package doc).
func ToEngine(v eval.Value) any {
	switch v.Kind() {
	case ir.KindVoid, ir.KindOptional:
		return nil
	case ir.KindBool:
		return v.AsBool()
	case ir.KindInt, ir.KindI32, ir.KindU32:
		return v.AsInt()
	case ir.KindFloat, ir.KindF32:
		return v.AsFloat()
	case ir.KindString:
		return v.AsString()
	case ir.KindBytes:
		return v.AsBytes()
	case ir.KindDuration:
		return v.AsDuration()
	case ir.KindTime:
		return v.AsTime()
	case ir.KindEnum:
		return v.AsString()
	case ir.KindList, ir.KindRecord:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = ToEngine(v.Index(i))
		}
		return out
	case ir.KindMap:
		keys := make([]any, v.Len())
		vals := make([]any, v.Len())
		for i := range keys {
			keys[i] = ToEngine(v.Key(i))
			vals[i] = ToEngine(v.Index(i))
		}
		return []any{keys, vals}
	}
	return nil
}

// ToEngineAll converts each of vs with [ToEngine].
func ToEngineAll(vs []eval.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = ToEngine(v)
	}
	return out
}

// FromEngine converts x, a value in the engine's form, to an eval.Value
// of type t. A value of the wrong shape is an error naming the type.
func FromEngine(p *ir.Program, x any, t ir.TypeID) (eval.Value, error) {
	return fromEngine(p, x, t, 0)
}

// maxDepth bounds the nesting FromEngine follows, so that a cyclic or
// absurdly deep value fails instead of exhausting the stack.
const maxDepth = 10000

func fromEngine(p *ir.Program, x any, t ir.TypeID, depth int) (eval.Value, error) {
	if depth > maxDepth {
		return eval.Value{}, fmt.Errorf("value nested too deeply")
	}
	bad := func() (eval.Value, error) {
		return eval.Value{}, fmt.Errorf("a value of Go type %T is not a %s", x, p.TypeString(t))
	}
	switch k := p.KindOf(t); k {
	case ir.KindVoid:
		return eval.Void, nil
	case ir.KindBool:
		if b, ok := x.(bool); ok {
			return eval.Bool(b), nil
		}
	case ir.KindInt, ir.KindI32, ir.KindU32:
		n, ok := asInt(x)
		if !ok {
			return bad()
		}
		switch k {
		case ir.KindI32:
			return eval.I32(int32(n)), nil
		case ir.KindU32:
			return eval.U32(uint32(n)), nil
		}
		return eval.Int(n), nil
	case ir.KindFloat, ir.KindF32:
		var f float64
		switch y := x.(type) {
		case float64:
			f = y
		case float32:
			f = float64(y)
		case int64:
			f = float64(y)
		case int:
			f = float64(y)
		default:
			return bad()
		}
		if k == ir.KindF32 {
			return eval.F32(float32(f)), nil
		}
		return eval.Float(f), nil
	case ir.KindString:
		if s, ok := x.(string); ok {
			return eval.Str(s), nil
		}
	case ir.KindBytes:
		switch y := x.(type) {
		case []byte:
			return eval.Bytes(y), nil
		case string:
			return eval.Bytes([]byte(y)), nil
		}
	case ir.KindDuration:
		switch y := x.(type) {
		case time.Duration:
			return eval.Duration(y), nil
		case int64:
			return eval.Duration(time.Duration(y)), nil
		}
	case ir.KindTime:
		switch y := x.(type) {
		case time.Time:
			return eval.Time(y), nil
		case int64:
			return eval.TimeNanos(y), nil
		}
	case ir.KindEnum:
		if s, ok := x.(string); ok {
			if v, ok := eval.EnumOf(p.Type(t), s); ok {
				return v, nil
			}
			return eval.Value{}, fmt.Errorf("%q is not a member of %s", s, p.TypeString(t))
		}
	case ir.KindOptional:
		if x == nil {
			return eval.None, nil
		}
		return fromEngine(p, x, p.Type(t).Elem, depth+1)
	case ir.KindList:
		l, ok := x.([]any)
		if !ok {
			return bad()
		}
		elem := p.Type(t).Elem
		if rt := p.Type(elem); rt != nil && rt.Kind == ir.KindRecord && len(rt.Fields) > 0 && len(l) > 1 {
			return recordList(p, l, elem, rt, depth)
		}
		out := make([]eval.Value, len(l))
		for i, e := range l {
			v, err := fromEngine(p, e, elem, depth+1)
			if err != nil {
				return eval.Value{}, err
			}
			out[i] = v
		}
		return eval.List(out), nil
	case ir.KindRecord:
		rt := p.Type(t)
		l, ok := x.([]any)
		if !ok || len(l) != len(rt.Fields) {
			return bad()
		}
		out := make([]eval.Value, len(l))
		for i, f := range rt.Fields {
			v, err := fromEngine(p, l[i], f.Type, depth+1)
			if err != nil {
				return eval.Value{}, fmt.Errorf("field %s: %w", f.Name, err)
			}
			out[i] = v
		}
		return eval.Record(rt, out), nil
	case ir.KindMap:
		mt := p.Type(t)
		l, ok := x.([]any)
		if !ok || len(l) != 2 {
			return bad()
		}
		ks, ok1 := l[0].([]any)
		vs, ok2 := l[1].([]any)
		if !ok1 || !ok2 || len(ks) != len(vs) {
			return bad()
		}
		keys := make([]eval.Value, len(ks))
		vals := make([]eval.Value, len(vs))
		for i := range ks {
			k, err := fromEngine(p, ks[i], mt.Key, depth+1)
			if err != nil {
				return eval.Value{}, err
			}
			v, err := fromEngine(p, vs[i], mt.Elem, depth+1)
			if err != nil {
				return eval.Value{}, err
			}
			keys[i], vals[i] = k, v
		}
		return eval.Map(keys, vals), nil
	}
	return bad()
}

// recordList converts l, a list of records of type elem (rt), as
// fromEngine does element by element, with the records' fields in one
// array (eval.Records): a list of 10,000 records is two allocations
// instead of 20,000.
func recordList(p *ir.Program, l []any, elem ir.TypeID, rt *ir.Type, depth int) (eval.Value, error) {
	nf := len(rt.Fields)
	fields := make([]eval.Value, len(l)*nf)
	for i, e := range l {
		r, ok := e.([]any)
		if !ok || len(r) != nf || depth+1 > maxDepth {
			// Not a record: the message of the element's own conversion.
			if _, err := fromEngine(p, e, elem, depth+1); err != nil {
				return eval.Value{}, err
			}
			return eval.Value{}, fmt.Errorf("a value of Go type %T is not a %s", e, p.TypeString(elem))
		}
		for j, f := range rt.Fields {
			v, err := fromEngine(p, r[j], f.Type, depth+2)
			if err != nil {
				return eval.Value{}, fmt.Errorf("field %s: %w", f.Name, err)
			}
			fields[i*nf+j] = v
		}
	}
	return eval.List(eval.Records(rt, nf, fields)), nil
}

func asInt(x any) (int64, bool) {
	switch y := x.(type) {
	case int64:
		return y, true
	case int:
		return int64(y), true
	case int32:
		return int64(y), true
	case uint32:
		return int64(y), true
	}
	return 0, false
}

// FromEngineParams converts xs to the types of params, one each.
func FromEngineParams(p *ir.Program, xs []any, params []ir.Param) ([]eval.Value, error) {
	if len(xs) != len(params) {
		return nil, fmt.Errorf("%d arguments for %d parameters", len(xs), len(params))
	}
	out := make([]eval.Value, len(xs))
	for i, x := range xs {
		v, err := FromEngine(p, x, params[i].Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", params[i].Name, err)
		}
		out[i] = v
	}
	return out, nil
}
