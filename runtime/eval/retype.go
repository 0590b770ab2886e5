// This file implements the typing of untyped values: what [Untag] reads
// from the event log or a snapshot, or a value built without its type,
// becomes the value of the IR type of its slot.

package eval

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// Retype returns v as a value of type t: a list of fields becomes a
// record, a member's name an enum member, a two-element list of keys and
// values (or a map with string keys) a map, an int an i32, u32,
// duration, time or float where t says so, null (none) void where t is
// not optional (an unset slot). A
// value that already has type t is returned as it is, without copying;
// a record built with t's record type is taken to have it.
// A value of the wrong shape is an error naming the type.
func Retype(p *ir.Program, v Value, t ir.TypeID) (Value, error) {
	return retype(p, v, t, 0)
}

func retype(p *ir.Program, v Value, t ir.TypeID, depth int) (Value, error) {
	if depth > maxTagDepth {
		return Value{}, fmt.Errorf("value nested too deeply")
	}
	bad := func() (Value, error) {
		return Value{}, fmt.Errorf("a %s value is not a %s", retypeKind(v), p.TypeString(t))
	}
	k := p.KindOf(t)
	if (v.k == ir.KindVoid || v.k == ir.KindOptional) && k != ir.KindOptional {
		// Unset: a variable not yet assigned, the result of an instance
		// still running in a list of results kept at a quorum.
		return Void, nil
	}
	switch k {
	case ir.KindBool, ir.KindString:
		if v.k == k {
			return v, nil
		}
	case ir.KindInt, ir.KindI32, ir.KindU32:
		switch v.k {
		case k:
			return v, nil
		case ir.KindInt, ir.KindI32, ir.KindU32:
			switch k {
			case ir.KindI32:
				return I32(int32(v.AsInt())), nil
			case ir.KindU32:
				return U32(uint32(v.AsInt())), nil
			}
			return Int(v.AsInt()), nil
		}
	case ir.KindFloat, ir.KindF32:
		var f float64
		switch v.k {
		case k:
			return v, nil
		case ir.KindFloat, ir.KindF32:
			f = v.AsFloat()
		case ir.KindInt:
			f = float64(v.AsInt())
		default:
			return bad()
		}
		if k == ir.KindF32 {
			return F32(float32(f)), nil
		}
		return Float(f), nil
	case ir.KindBytes:
		switch v.k {
		case ir.KindBytes:
			return v, nil
		case ir.KindString:
			return Value{k: ir.KindBytes, s: v.s}, nil
		}
	case ir.KindDuration, ir.KindTime:
		switch v.k {
		case k:
			return v, nil
		case ir.KindInt:
			return Value{k: k, n: v.n}, nil
		}
	case ir.KindEnum:
		switch v.k {
		case ir.KindEnum, ir.KindString:
			if e, ok := EnumOf(p.Type(t), v.s); ok {
				if identical(e, v) {
					return v, nil
				}
				return e, nil
			}
			return Value{}, fmt.Errorf("%q is not a member of %s", v.s, p.TypeString(t))
		}
	case ir.KindOptional:
		if v.k == ir.KindOptional || v.k == ir.KindVoid {
			return None, nil
		}
		return retype(p, v, p.Type(t).Elem, depth+1)
	case ir.KindList:
		if v.k != ir.KindList {
			return bad()
		}
		elem := p.Type(t).Elem
		es := v.Elems()
		if typedElems(p, es, elem) {
			return v, nil
		}
		if rt := p.Type(elem); rt != nil && rt.Kind == ir.KindRecord && len(rt.Fields) > 0 && len(es) > 1 && es[0].k == ir.KindList {
			return retypeRecordList(p, es, elem, rt, depth)
		}
		out, err := retypeAll(p, es, func(int) ir.TypeID { return elem }, depth)
		if err != nil {
			return Value{}, err
		}
		if out == nil {
			return v, nil
		}
		return List(out), nil
	case ir.KindRecord:
		rt := p.Type(t)
		switch v.k {
		case ir.KindRecord:
			if v.ref.rec == rt {
				// Built with its type (Record(rt, …)), from typed
				// fields: what eval and compiled code build. Trusting
				// it keeps typing a list of 10,000 such records to a
				// pointer comparison each.
				return v, nil
			}
			if v.ref.rec == nil {
				out, err := retypeFields(p, v.Elems(), rt, depth)
				if err != nil {
					return Value{}, err
				}
				if out == nil && v.ref.rec == rt {
					return v, nil
				}
				if out == nil {
					out = v.Elems()
				}
				return Record(rt, out), nil
			}
		case ir.KindList:
		default:
			return bad()
		}
		es := v.Elems()
		if len(es) != len(rt.Fields) {
			return bad()
		}
		out, err := retypeFields(p, es, rt, depth)
		if err != nil {
			return Value{}, err
		}
		if out == nil {
			out = append([]Value(nil), es...)
		}
		return Record(rt, out), nil
	case ir.KindMap:
		mt := p.Type(t)
		var keys, vals []Value
		switch v.k {
		case ir.KindMap:
			keys, vals = v.ref.keys, v.ref.elems
		case ir.KindList:
			es := v.Elems()
			if len(es) != 2 || es[0].k != ir.KindList || es[1].k != ir.KindList || es[0].Len() != es[1].Len() {
				return bad()
			}
			keys, vals = es[0].Elems(), es[1].Elems()
		default:
			return bad()
		}
		ks, err := retypeAll(p, keys, func(int) ir.TypeID { return mt.Key }, depth)
		if err != nil {
			return Value{}, err
		}
		vs, err := retypeAll(p, vals, func(int) ir.TypeID { return mt.Elem }, depth)
		if err != nil {
			return Value{}, err
		}
		if v.k == ir.KindMap && ks == nil && vs == nil {
			return v, nil
		}
		if ks == nil {
			ks = append([]Value(nil), keys...)
		}
		if vs == nil {
			vs = append([]Value(nil), vals...)
		}
		return Map(ks, vs), nil
	}
	return bad()
}

// retypeAll retypes vs[i] to ts(i). It returns nil when every element
// already had its type (nothing to copy).
func retypeAll(p *ir.Program, vs []Value, ts func(int) ir.TypeID, depth int) ([]Value, error) {
	var out []Value
	for i, e := range vs {
		r, err := retype(p, e, ts(i), depth+1)
		if err != nil {
			return nil, err
		}
		if out == nil && !identical(r, e) {
			out = make([]Value, len(vs))
			copy(out, vs[:i])
		}
		if out != nil {
			out[i] = r
		}
	}
	if out == nil && vs != nil && len(vs) == 0 {
		return nil, nil
	}
	return out, nil
}

// retypeFields retypes the fields of a record of type rt, naming the
// field that fails.
func retypeFields(p *ir.Program, fs []Value, rt *ir.Type, depth int) ([]Value, error) {
	if len(fs) != len(rt.Fields) {
		return nil, fmt.Errorf("%d fields for %d", len(fs), len(rt.Fields))
	}
	var out []Value
	for i, e := range fs {
		r, err := retype(p, e, rt.Fields[i].Type, depth+1)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", rt.Fields[i].Name, err)
		}
		if out == nil && !identical(r, e) {
			out = make([]Value, len(fs))
			copy(out, fs[:i])
		}
		if out != nil {
			out[i] = r
		}
	}
	return out, nil
}

// retypeRecordList retypes es, a list of lists of fields, to a list of
// records of type elem (rt) with the records' fields in one array
// ([Records]): a list of 10,000 records is two allocations instead of
// 20,000.
func retypeRecordList(p *ir.Program, es []Value, elem ir.TypeID, rt *ir.Type, depth int) (Value, error) {
	nf := len(rt.Fields)
	fields := make([]Value, len(es)*nf)
	for i, e := range es {
		if e.k != ir.KindList || e.Len() != nf {
			r, err := retype(p, e, elem, depth+1)
			if err != nil {
				return Value{}, err
			}
			copy(fields[i*nf:(i+1)*nf], r.Elems())
			continue
		}
		for j, f := range rt.Fields {
			v, err := retype(p, e.Index(j), f.Type, depth+2)
			if err != nil {
				return Value{}, fmt.Errorf("field %s: %w", f.Name, err)
			}
			fields[i*nf+j] = v
		}
	}
	return List(Records(rt, nf, fields)), nil
}

// identical reports whether a and b are the same value representation (not
// merely equal): retyping changed nothing.
func identical(a, b Value) bool { return a.k == b.k && a.n == b.n && a.s == b.s && a.ref == b.ref }

// retypeKind names v's kind for an error message.
func retypeKind(v Value) string {
	switch v.k {
	case ir.KindVoid:
		return "void"
	case ir.KindOptional:
		return "none"
	}
	return v.k.String()
}

// RetypeAll retypes vs[i] to ts[i], one each; what is nil stays nil.
func RetypeAll(p *ir.Program, vs []Value, ts []ir.TypeID) ([]Value, error) {
	if vs == nil {
		return nil, nil
	}
	if len(vs) != len(ts) {
		return nil, fmt.Errorf("%d values for %d types", len(vs), len(ts))
	}
	out := make([]Value, len(vs))
	for i, v := range vs {
		r, err := Retype(p, v, ts[i])
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
