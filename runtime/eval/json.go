// This file implements the JSON boundary: workflow inputs, task results
// and signal payloads are decoded against their IR type, and values are
// encoded for tasks, queries and outputs.

package eval

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/knhk/knhk/compiler/ir"
)

// The JSON forms of the scalar types:
//
//   - int, i32, u32: a JSON number whose exact value is whole and in
//     range (1.0 and 1e3 are accepted; 1.5, 1e-400 and
//     1.0000000000000000001 are not)
//   - float, f32: a number in range (f32 rejects numbers beyond float32)
//   - duration: a Go duration string ("1h30m", "250ms"), a duration
//     literal of the language ("2d", "1d12h") or an integer number of
//     nanoseconds; encoded as a Go duration string ("1h30m0s"),
//     which time.ParseDuration reads back exactly
//   - time: an RFC 3339 string; encoded in UTC with nanoseconds as needed
//   - bytes: standard base64 with padding
//   - enum: the member's name
//   - optional: null for none, else the element's form
//   - record: an object with exactly the record's fields; a field may be
//     left out (or null) only when its type is optional
//   - map: an object whose keys are strings, or the text form of int,
//     bool, enum, duration or time keys; encoded in key order
//   - string: valid UTF-8 (invalid bytes and lone surrogate escapes are
//     refused, not replaced)
//
// Arrays and objects nest at most [MaxDepth] levels, in and out.

// DecodeError is input that does not match its type. Path locates the
// value ("order.items[2].qty"; empty for the whole input).
type DecodeError struct {
	Path string
	Msg  string
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// FromJSON decodes data as a value of type t.
func FromJSON(p *ir.Program, t ir.TypeID, data []byte) (Value, error) {
	return FromJSONNamed(p, t, "", data)
}

// FromJSONNamed decodes data as a value of type t named name, which
// starts the path of every error ("order" gives "order.items[2].qty").
func FromJSONNamed(p *ir.Program, t ir.TypeID, name string, data []byte) (Value, error) {
	x, err := parseJSON(data, name)
	if err != nil {
		return Value{}, err
	}
	d := decoder{p: p}
	return d.value(t, x, name)
}

type decoder struct{ p *ir.Program }

func (d *decoder) fail(path string, t ir.TypeID, x any) error {
	return &DecodeError{Path: path, Msg: fmt.Sprintf("expected %s, found %s", d.p.TypeString(t), describe(x))}
}

// describe names a decoded JSON value for messages: its JSON kind and,
// for scalars, a short form of it.
func describe(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case bool:
		return "bool " + strconv.FormatBool(x)
	case json.Number:
		return "number " + clip(string(x))
	case string:
		return "string " + strconv.Quote(clip(x))
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (d *decoder) value(t ir.TypeID, x any, path string) (Value, error) {
	k := d.p.KindOf(t)
	switch k {
	case ir.KindVoid:
		if x != nil {
			return Value{}, d.fail(path, t, x)
		}
		return Void, nil
	case ir.KindOptional:
		if x == nil {
			return None, nil
		}
		return d.value(d.p.Type(t).Elem, x, path)
	case ir.KindBool:
		b, ok := x.(bool)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		return Bool(b), nil
	case ir.KindInt, ir.KindI32, ir.KindU32:
		n, ok := x.(json.Number)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		i, err := parseInt(string(n), k)
		if err != nil {
			return Value{}, &DecodeError{Path: path, Msg: err.Error()}
		}
		return Value{k: k, n: uint64(i)}, nil
	case ir.KindFloat, ir.KindF32:
		n, ok := x.(json.Number)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || (k == ir.KindF32 && math.Abs(f) > math.MaxFloat32) {
			return Value{}, &DecodeError{Path: path, Msg: fmt.Sprintf("number %s out of range for %s", clip(string(n)), k)}
		}
		if k == ir.KindF32 {
			return f32(f), nil
		}
		return Float(f), nil
	case ir.KindString:
		s, ok := x.(string)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		return Str(s), nil
	case ir.KindBytes:
		s, ok := x.(string)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return Value{}, &DecodeError{Path: path, Msg: "expected bytes in base64, found string " + strconv.Quote(clip(s))}
		}
		return Bytes(b), nil
	case ir.KindDuration:
		switch x := x.(type) {
		case json.Number:
			i, err := parseInt(string(x), ir.KindInt)
			if err != nil {
				return Value{}, &DecodeError{Path: path, Msg: "duration in nanoseconds: " + err.Error()}
			}
			return Value{k: ir.KindDuration, n: uint64(i)}, nil
		case string:
			dur, ok := parseDuration(x)
			if !ok {
				return Value{}, &DecodeError{Path: path, Msg: "expected duration such as \"1h30m\" or \"2d\", found string " + strconv.Quote(clip(x))}
			}
			return Duration(dur), nil
		}
		return Value{}, d.fail(path, t, x)
	case ir.KindTime:
		s, ok := x.(string)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		return parseTime(s, path)
	case ir.KindEnum:
		s, ok := x.(string)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		et := d.p.Type(t)
		v, ok := EnumOf(et, s)
		if !ok {
			return Value{}, &DecodeError{Path: path, Msg: fmt.Sprintf("%q is not a member of %s (%s)", clip(s), d.p.TypeString(t), strings.Join(et.Members, ", "))}
		}
		return v, nil
	case ir.KindList:
		xs, ok := x.([]any)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		elem := d.p.Type(t).Elem
		out := make([]Value, len(xs))
		for i, e := range xs {
			v, err := d.value(elem, e, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return Value{}, err
			}
			out[i] = v
		}
		return List(out), nil
	case ir.KindMap:
		obj, ok := x.(map[string]any)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		mt := d.p.Type(t)
		ks := make([]Value, 0, len(obj))
		vs := make([]Value, 0, len(obj))
		for _, name := range sortedKeys(obj) {
			kp := path + "[" + strconv.Quote(clip(name)) + "]"
			key, err := d.key(mt.Key, name, kp)
			if err != nil {
				return Value{}, err
			}
			v, err := d.value(mt.Elem, obj[name], kp)
			if err != nil {
				return Value{}, err
			}
			ks, vs = append(ks, key), append(vs, v)
		}
		return Map(ks, vs), nil
	case ir.KindRecord:
		obj, ok := x.(map[string]any)
		if !ok {
			return Value{}, d.fail(path, t, x)
		}
		rt := d.p.Type(t)
		fields := make([]Value, len(rt.Fields))
		for i, f := range rt.Fields {
			e, present := obj[f.Name]
			if !present {
				if d.p.KindOf(f.Type) != ir.KindOptional {
					return Value{}, &DecodeError{Path: path, Msg: fmt.Sprintf("missing field %s of type %s", f.Name, d.p.TypeString(f.Type))}
				}
				fields[i] = None
				continue
			}
			v, err := d.value(f.Type, e, join(path, f.Name))
			if err != nil {
				return Value{}, err
			}
			fields[i] = v
		}
		if len(obj) > len(rt.Fields) || hasUnknown(obj, rt) {
			for _, name := range sortedKeys(obj) {
				if fieldIndex(rt, name) < 0 {
					return Value{}, &DecodeError{Path: path, Msg: fmt.Sprintf("unknown field %s in %s", strconv.Quote(clip(name)), d.p.TypeString(t))}
				}
			}
		}
		return Record(rt, fields), nil
	}
	return Value{}, &DecodeError{Path: path, Msg: fmt.Sprintf("type %s cannot be read from JSON", d.p.TypeString(t))}
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func hasUnknown(obj map[string]any, rt *ir.Type) bool {
	for name := range obj {
		if fieldIndex(rt, name) < 0 {
			return true
		}
	}
	return false
}

func fieldIndex(rt *ir.Type, name string) int {
	for i, f := range rt.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func sortedKeys(obj map[string]any) []string {
	ks := make([]string, 0, len(obj))
	for k := range obj {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}

// key decodes a map key from its object-key text.
func (d *decoder) key(t ir.TypeID, s, path string) (Value, error) {
	switch k := d.p.KindOf(t); k {
	case ir.KindString:
		return Str(s), nil
	case ir.KindInt, ir.KindI32, ir.KindU32:
		i, err := parseInt(s, k)
		if err != nil {
			return Value{}, &DecodeError{Path: path, Msg: "map key: " + err.Error()}
		}
		return Value{k: k, n: uint64(i)}, nil
	case ir.KindBool:
		switch s {
		case "true":
			return Bool(true), nil
		case "false":
			return Bool(false), nil
		}
		return Value{}, d.fail(path, t, s)
	case ir.KindEnum, ir.KindDuration, ir.KindTime:
		return d.value(t, s, path)
	}
	return Value{}, &DecodeError{Path: path, Msg: fmt.Sprintf("map key type %s cannot be written in JSON", d.p.TypeString(t))}
}

// The instants a time value can hold: Unix nanoseconds in an int64.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// parseTime reads an RFC 3339 time that fits Unix nanoseconds in int64
// (1677-09-21 to 2262-04-11).
func parseTime(s, path string) (Value, error) {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Value{}, &DecodeError{Path: path, Msg: "expected time in RFC 3339 such as \"2026-11-27T10:00:00Z\", found string " + strconv.Quote(clip(s))}
	}
	if tm.Before(minTime) || tm.After(maxTime) {
		return Value{}, &DecodeError{Path: path, Msg: "time " + strconv.Quote(clip(s)) + " out of range (1677-09-21 to 2262-04-11)"}
	}
	return Time(tm), nil
}

// ToJSON encodes v, a value of type t.
func ToJSON(p *ir.Program, v Value, t ir.TypeID) ([]byte, error) {
	e := encoder{p: p}
	if err := e.value(v, t, ""); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

type encoder struct {
	p     *ir.Program
	buf   bytes.Buffer
	depth int // arrays and objects open around the value being written
}

func (e *encoder) fail(path string, t ir.TypeID, v Value) error {
	return &DecodeError{Path: path, Msg: fmt.Sprintf("cannot encode %s as %s", kindName(v), e.p.TypeString(t))}
}

// str writes s as a JSON string. Text that is not UTF-8 (a string
// converted from arbitrary bytes) is an error rather than silently
// replaced, so that what is encoded decodes to the same value.
func (e *encoder) str(s, path string) error {
	if !utf8.ValidString(s) {
		return &DecodeError{Path: path, Msg: "string is not valid UTF-8; use bytes"}
	}
	b, _ := json.Marshal(s) // a valid string always marshals
	e.buf.Write(b)
	return nil
}

func (e *encoder) value(v Value, t ir.TypeID, path string) error {
	k := e.p.KindOf(t)
	if k == ir.KindOptional {
		if v.IsNone() {
			e.buf.WriteString("null")
			return nil
		}
		t = e.p.Type(t).Elem
		k = e.p.KindOf(t)
	}
	if v.k != k {
		if k == ir.KindVoid && v.k == ir.KindVoid {
			e.buf.WriteString("null")
			return nil
		}
		return e.fail(path, t, v)
	}
	switch k {
	case ir.KindList, ir.KindMap, ir.KindRecord:
		if e.depth >= MaxDepth {
			return &DecodeError{Path: path, Msg: fmt.Sprintf("nested more than %d levels deep", MaxDepth)}
		}
		e.depth++
		defer func() { e.depth-- }()
	}
	switch k {
	case ir.KindVoid:
		e.buf.WriteString("null")
	case ir.KindBool:
		e.buf.WriteString(strconv.FormatBool(v.AsBool()))
	case ir.KindInt, ir.KindI32:
		e.buf.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case ir.KindU32:
		e.buf.WriteString(strconv.FormatUint(v.n, 10))
	case ir.KindFloat, ir.KindF32:
		f := v.AsFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return &DecodeError{Path: path, Msg: fmt.Sprintf("cannot encode %s in JSON", formatFloat(f, 64))}
		}
		bits := 64
		if k == ir.KindF32 {
			bits = 32
		}
		e.buf.WriteString(formatFloat(f, bits))
	case ir.KindString:
		return e.str(v.s, path)
	case ir.KindBytes:
		return e.str(base64.StdEncoding.EncodeToString([]byte(v.s)), path)
	case ir.KindDuration, ir.KindTime, ir.KindEnum:
		return e.str(toString(v), path)
	case ir.KindList:
		elem := e.p.Type(t).Elem
		e.buf.WriteByte('[')
		for i, x := range v.Elems() {
			if i > 0 {
				e.buf.WriteByte(',')
			}
			if err := e.value(x, elem, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		e.buf.WriteByte(']')
	case ir.KindMap:
		mt := e.p.Type(t)
		e.buf.WriteByte('{')
		for i, x := range v.Elems() {
			key := v.ref.keys[i]
			kp := path + "[" + key.String() + "]"
			if i > 0 {
				e.buf.WriteByte(',')
			}
			switch key.k {
			case ir.KindString, ir.KindInt, ir.KindI32, ir.KindU32, ir.KindBool, ir.KindEnum, ir.KindDuration, ir.KindTime:
				if err := e.str(toString(key), kp); err != nil {
					return err
				}
			default:
				return &DecodeError{Path: kp, Msg: fmt.Sprintf("map key type %s cannot be written in JSON", e.p.TypeString(mt.Key))}
			}
			e.buf.WriteByte(':')
			if err := e.value(x, mt.Elem, kp); err != nil {
				return err
			}
		}
		e.buf.WriteByte('}')
	case ir.KindRecord:
		rt := e.p.Type(t)
		fs := v.Elems()
		if len(fs) != len(rt.Fields) {
			return e.fail(path, t, v)
		}
		e.buf.WriteByte('{')
		for i, f := range rt.Fields {
			if i > 0 {
				e.buf.WriteByte(',')
			}
			if err := e.str(f.Name, path); err != nil {
				return err
			}
			e.buf.WriteByte(':')
			if err := e.value(fs[i], f.Type, join(path, f.Name)); err != nil {
				return err
			}
		}
		e.buf.WriteByte('}')
	default:
		return e.fail(path, t, v)
	}
	return nil
}
