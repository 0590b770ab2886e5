// This file implements the plain form of values: untyped Go values (nil,
// bool, int64, float64, string, []byte, time.Duration, time.Time, []any)
// for programs that embed the engine and hand it Go values
// (engine.Machine.Args), and the conversion to and from Value.

package eval

import (
	"fmt"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// Plain converts v to its plain form: the untyped Go value (nil, bool,
// int64, float64, string, []byte, time.Duration, time.Time, []any). A
// record is the list of its fields in the IR's order, an enum its member
// name, a map a two-element list of its keys and its values, an absent
// optional nil (the shape of the canonical encoding, [Tag]);
// [FromPlain] restores the type from the IR type of the slot.
func Plain(v Value) any {
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
			out[i] = Plain(v.Index(i))
		}
		return out
	case ir.KindMap:
		keys := make([]any, v.Len())
		vals := make([]any, v.Len())
		for i := range keys {
			keys[i] = Plain(v.Key(i))
			vals[i] = Plain(v.Index(i))
		}
		return []any{keys, vals}
	}
	return nil
}

// PlainAll converts each of vs with [Plain].
func PlainAll(vs []Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = Plain(v)
	}
	return out
}

// FromPlain converts x, a value in plain form ([Plain]) or a Value
// (which [Retype] types), to a Value of type t. A value of the wrong
// shape is an error naming the type.
func FromPlain(p *ir.Program, x any, t ir.TypeID) (Value, error) {
	return fromPlain(p, x, t, 0)
}

// maxPlainDepth bounds the nesting FromPlain follows, so that a cyclic or
// absurdly deep value fails instead of exhausting the stack.
const maxPlainDepth = 10000

func fromPlain(p *ir.Program, x any, t ir.TypeID, depth int) (Value, error) {
	if depth > maxPlainDepth {
		return Value{}, fmt.Errorf("value nested too deeply")
	}
	if v, ok := x.(Value); ok {
		return retype(p, v, t, depth)
	}
	bad := func() (Value, error) {
		return Value{}, fmt.Errorf("a value of Go type %T is not a %s", x, p.TypeString(t))
	}
	switch k := p.KindOf(t); k {
	case ir.KindVoid:
		return Void, nil
	case ir.KindBool:
		if b, ok := x.(bool); ok {
			return Bool(b), nil
		}
	case ir.KindInt, ir.KindI32, ir.KindU32:
		n, ok := plainInt(x)
		if !ok {
			return bad()
		}
		switch k {
		case ir.KindI32:
			return I32(int32(n)), nil
		case ir.KindU32:
			return U32(uint32(n)), nil
		}
		return Int(n), nil
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
			return F32(float32(f)), nil
		}
		return Float(f), nil
	case ir.KindString:
		if s, ok := x.(string); ok {
			return Str(s), nil
		}
	case ir.KindBytes:
		switch y := x.(type) {
		case []byte:
			return Bytes(y), nil
		case string:
			return Bytes([]byte(y)), nil
		}
	case ir.KindDuration:
		switch y := x.(type) {
		case time.Duration:
			return Duration(y), nil
		case int64:
			return Duration(time.Duration(y)), nil
		}
	case ir.KindTime:
		switch y := x.(type) {
		case time.Time:
			return Time(y), nil
		case int64:
			return TimeNanos(y), nil
		}
	case ir.KindEnum:
		if s, ok := x.(string); ok {
			if v, ok := EnumOf(p.Type(t), s); ok {
				return v, nil
			}
			return Value{}, fmt.Errorf("%q is not a member of %s", s, p.TypeString(t))
		}
	case ir.KindOptional:
		if x == nil {
			return None, nil
		}
		return fromPlain(p, x, p.Type(t).Elem, depth+1)
	case ir.KindList:
		l, ok := x.([]any)
		if !ok {
			return bad()
		}
		elem := p.Type(t).Elem
		if rt := p.Type(elem); rt != nil && rt.Kind == ir.KindRecord && len(rt.Fields) > 0 && len(l) > 1 {
			return plainRecordList(p, l, elem, rt, depth)
		}
		out := make([]Value, len(l))
		for i, e := range l {
			v, err := fromPlain(p, e, elem, depth+1)
			if err != nil {
				return Value{}, err
			}
			out[i] = v
		}
		return List(out), nil
	case ir.KindRecord:
		rt := p.Type(t)
		l, ok := x.([]any)
		if !ok || len(l) != len(rt.Fields) {
			return bad()
		}
		out := make([]Value, len(l))
		for i, f := range rt.Fields {
			v, err := fromPlain(p, l[i], f.Type, depth+1)
			if err != nil {
				return Value{}, fmt.Errorf("field %s: %w", f.Name, err)
			}
			out[i] = v
		}
		return Record(rt, out), nil
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
		keys := make([]Value, len(ks))
		vals := make([]Value, len(vs))
		for i := range ks {
			k, err := fromPlain(p, ks[i], mt.Key, depth+1)
			if err != nil {
				return Value{}, err
			}
			v, err := fromPlain(p, vs[i], mt.Elem, depth+1)
			if err != nil {
				return Value{}, err
			}
			keys[i], vals[i] = k, v
		}
		return Map(keys, vals), nil
	}
	return bad()
}

// plainRecordList converts l, a list of records of type elem (rt), as
// fromEngine does element by element, with the records' fields in one
// array (Records): a list of 10,000 records is two allocations
// instead of 20,000.
func plainRecordList(p *ir.Program, l []any, elem ir.TypeID, rt *ir.Type, depth int) (Value, error) {
	nf := len(rt.Fields)
	fields := make([]Value, len(l)*nf)
	for i, e := range l {
		r, ok := e.([]any)
		if !ok || len(r) != nf || depth+1 > maxPlainDepth {
			// Not a record: the message of the element's own conversion.
			if _, err := fromPlain(p, e, elem, depth+1); err != nil {
				return Value{}, err
			}
			return Value{}, fmt.Errorf("a value of Go type %T is not a %s", e, p.TypeString(elem))
		}
		for j, f := range rt.Fields {
			v, err := fromPlain(p, r[j], f.Type, depth+2)
			if err != nil {
				return Value{}, fmt.Errorf("field %s: %w", f.Name, err)
			}
			fields[i*nf+j] = v
		}
	}
	return List(Records(rt, nf, fields)), nil
}

func plainInt(x any) (int64, bool) {
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
