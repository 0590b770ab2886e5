// This file implements runtime values: a small tagged struct for every IR
// type, with equality, a total order, hashing and a deterministic text
// form.

package eval

import (
	"encoding/base64"
	"hash/maphash"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// Value is one runtime value. It is a tagged struct rather than an
// interface so that scalars (the bulk of what guards and kernels compute)
// never allocate: numbers, bools, durations, times and enum members live
// in n, strings and bytes in s, and only lists, maps and records point at
// an immutable aggregate. Values are immutable; operations that "change"
// an aggregate copy it.
//
// The kind is the IR kind of the value's type, except that none has kind
// [ir.KindOptional] and a present optional has its element's kind.
type Value struct {
	k   ir.Kind
	n   uint64 // bool 0/1; int, duration, time, i32, u32, enum index as int64 bits; float, f32 as float64 bits
	s   string // string, bytes; the member name of an enum
	ref *agg   // list, map, record
}

// agg is the body of a list, map or record.
type agg struct {
	elems []Value  // list elements, record fields, map values
	keys  []Value  // map keys, sorted by Compare, parallel to elems
	rec   *ir.Type // the record type, for field names
	memo  memoSlot // see Value.Memo
}

// None is the absent optional.
var None = Value{k: ir.KindOptional}

// Void is the value of a void result.
var Void = Value{}

// Bool returns a bool value.
func Bool(b bool) Value {
	if b {
		return Value{k: ir.KindBool, n: 1}
	}
	return Value{k: ir.KindBool}
}

// Int returns an int value.
func Int(i int64) Value { return Value{k: ir.KindInt, n: uint64(i)} }

// Float returns a float value.
func Float(f float64) Value { return Value{k: ir.KindFloat, n: math.Float64bits(f)} }

// Str returns a string value (the method String formats any value).
func Str(s string) Value { return Value{k: ir.KindString, s: s} }

// Bytes returns a bytes value holding a copy of b.
func Bytes(b []byte) Value { return Value{k: ir.KindBytes, s: string(b)} }

// Duration returns a duration value.
func Duration(d time.Duration) Value { return Value{k: ir.KindDuration, n: uint64(d)} }

// Time returns a time value; it keeps Unix nanoseconds, so the location
// is dropped (times are UTC instants).
func Time(t time.Time) Value { return Value{k: ir.KindTime, n: uint64(t.UnixNano())} }

// TimeNanos returns the time value at Unix nanoseconds ns.
func TimeNanos(ns int64) Value { return Value{k: ir.KindTime, n: uint64(ns)} }

// F32 returns an f32 value.
func F32(f float32) Value { return Value{k: ir.KindF32, n: math.Float64bits(float64(f))} }

// I32 returns an i32 value.
func I32(i int32) Value { return Value{k: ir.KindI32, n: uint64(int64(i))} }

// U32 returns a u32 value.
func U32(u uint32) Value { return Value{k: ir.KindU32, n: uint64(u)} }

// Enum returns member index of an enum whose member is called name.
func Enum(index int, name string) Value {
	return Value{k: ir.KindEnum, n: uint64(int64(index)), s: name}
}

// EnumOf returns the member called name of enum type t, or false.
func EnumOf(t *ir.Type, name string) (Value, bool) {
	if t == nil || t.Kind != ir.KindEnum {
		return Value{}, false
	}
	for i, m := range t.Members {
		if m == name {
			return Enum(i, m), true
		}
	}
	return Value{}, false
}

// EnumName returns the name of member i of enum type t, or "" where t
// has no member i.
func EnumName(t *ir.Type, i int64) string {
	if i >= 0 && i < int64(len(t.Members)) {
		return t.Members[i]
	}
	return ""
}

// List returns a list of elems; it takes ownership of the slice.
func List(elems []Value) Value {
	return Value{k: ir.KindList, ref: &agg{elems: elems}}
}

// Record returns a record of type rt with fields in rt's field order; it
// takes ownership of the slice. rt may be nil, which only loses the field
// names in String.
func Record(rt *ir.Type, fields []Value) Value {
	return Value{k: ir.KindRecord, ref: &agg{elems: fields, rec: rt}}
}

// Map returns a map of keys[i] to vals[i]. A key given twice keeps its
// last value. It takes ownership of both slices.
func Map(keys, vals []Value) Value {
	n := len(keys)
	if len(vals) < n {
		n = len(vals)
	}
	keys, vals = keys[:n], vals[:n]
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return Compare(keys[idx[a]], keys[idx[b]]) < 0 })
	ks := make([]Value, 0, n)
	vs := make([]Value, 0, n)
	for _, i := range idx {
		if len(ks) > 0 && Compare(ks[len(ks)-1], keys[i]) == 0 {
			vs[len(vs)-1] = vals[i] // stable: the later one wins
			continue
		}
		ks = append(ks, keys[i])
		vs = append(vs, vals[i])
	}
	return Value{k: ir.KindMap, ref: &agg{keys: ks, elems: vs}}
}

// Kind returns the IR kind of v; none is [ir.KindOptional].
func (v Value) Kind() ir.Kind { return v.k }

// IsNone reports whether v is the absent optional.
func (v Value) IsNone() bool { return v.k == ir.KindOptional }

// AsBool returns a bool value's truth.
func (v Value) AsBool() bool { return v.n != 0 }

// AsInt returns the integer in an int, i32, u32, duration, time or enum
// value.
func (v Value) AsInt() int64 { return int64(v.n) }

// AsFloat returns the number in a float or f32 value.
func (v Value) AsFloat() float64 { return math.Float64frombits(v.n) }

// AsString returns the text of a string or bytes value, or an enum
// member's name.
func (v Value) AsString() string { return v.s }

// AsBytes returns a copy of the bytes of a bytes or string value.
func (v Value) AsBytes() []byte { return []byte(v.s) }

// AsDuration returns a duration value.
func (v Value) AsDuration() time.Duration { return time.Duration(int64(v.n)) }

// AsTime returns a time value in UTC.
func (v Value) AsTime() time.Time { return time.Unix(0, int64(v.n)).UTC() }

// Len returns the number of elements of a list, entries of a map, fields
// of a record or bytes of a string.
func (v Value) Len() int {
	switch v.k {
	case ir.KindString, ir.KindBytes:
		return len(v.s)
	}
	if v.ref == nil {
		return 0
	}
	return len(v.ref.elems)
}

// Index returns element i of a list, field i of a record or the value of
// entry i of a map (in key order). It panics when i is out of range, like
// a slice.
func (v Value) Index(i int) Value { return v.ref.elems[i] }

// Key returns the key of entry i of a map, in key order.
func (v Value) Key(i int) Value { return v.ref.keys[i] }

// Elems returns the elements of a list or the fields of a record. The
// slice is shared: do not modify it.
func (v Value) Elems() []Value {
	if v.ref == nil {
		return nil
	}
	return v.ref.elems
}

// RecordType returns the type of a record, nil when v is not a record
// or was built without its type.
func (v Value) RecordType() *ir.Type {
	if v.k != ir.KindRecord || v.ref == nil {
		return nil
	}
	return v.ref.rec
}

// Lookup returns the value of key k in a map.
func (v Value) Lookup(k Value) (Value, bool) {
	if v.ref == nil {
		return Value{}, false
	}
	i, ok := v.find(k)
	if !ok {
		return Value{}, false
	}
	return v.ref.elems[i], true
}

// find returns the position of k in a map's keys, or where it would go.
func (v Value) find(k Value) (int, bool) {
	ks := v.ref.keys
	i := sort.Search(len(ks), func(i int) bool { return Compare(ks[i], k) >= 0 })
	return i, i < len(ks) && Compare(ks[i], k) == 0
}

// Equal reports whether a and b are equal the way the language's ==
// compares: structurally, floats by IEEE 754 (so NaN is not equal to
// itself), none equal only to none.
func Equal(a, b Value) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case ir.KindFloat, ir.KindF32:
		return a.AsFloat() == b.AsFloat()
	case ir.KindString, ir.KindBytes:
		return a.s == b.s
	case ir.KindList, ir.KindRecord, ir.KindMap:
		ae, be := a.Elems(), b.Elems()
		if len(ae) != len(be) {
			return false
		}
		if a.k == ir.KindMap {
			for i := range ae {
				if !Equal(a.ref.keys[i], b.ref.keys[i]) {
					return false
				}
			}
		}
		for i := range ae {
			if !Equal(ae[i], be[i]) {
				return false
			}
		}
		return true
	}
	return a.n == b.n
}

// Compare is a total order on values: the language's < on numbers,
// strings, durations and times, extended to every value so that maps
// can keep their keys sorted. none sorts first; values of different kinds
// sort by kind; floats order NaN before every number and -0 equal to 0;
// lists and records compare element by element, then by length; maps by
// their entries.
func Compare(a, b Value) int {
	if a.k != b.k {
		switch {
		case a.k == ir.KindOptional:
			return -1
		case b.k == ir.KindOptional:
			return 1
		case a.k < b.k:
			return -1
		}
		return 1
	}
	switch a.k {
	case ir.KindFloat, ir.KindF32:
		x, y := a.AsFloat(), b.AsFloat()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		case x == y:
			return 0
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return -1
		}
		return 1
	case ir.KindString, ir.KindBytes:
		return strings.Compare(a.s, b.s)
	case ir.KindInt, ir.KindDuration, ir.KindTime, ir.KindI32, ir.KindEnum:
		return cmpOrdered(int64(a.n), int64(b.n))
	case ir.KindBool, ir.KindU32:
		return cmpOrdered(a.n, b.n)
	case ir.KindList, ir.KindRecord, ir.KindMap:
		ae, be := a.Elems(), b.Elems()
		for i := 0; i < len(ae) && i < len(be); i++ {
			if a.k == ir.KindMap {
				if c := Compare(a.ref.keys[i], b.ref.keys[i]); c != 0 {
					return c
				}
			}
			if c := Compare(ae[i], be[i]); c != 0 {
				return c
			}
		}
		return cmpOrdered(len(ae), len(be))
	}
	return 0
}

func cmpOrdered[T int | int64 | uint64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// Hash returns a hash of v consistent with [Compare]: values that compare
// equal hash equal. seed comes from [maphash.MakeSeed]; the hash is for
// in-memory tables, not for storage.
func Hash(seed maphash.Seed, v Value) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	hashInto(&h, v)
	return h.Sum64()
}

func hashInto(h *maphash.Hash, v Value) {
	h.WriteByte(byte(v.k))
	switch v.k {
	case ir.KindFloat, ir.KindF32:
		f := v.AsFloat()
		switch {
		case f == 0:
			f = 0 // -0 compares equal to 0
		case math.IsNaN(f):
			f = math.NaN()
		}
		writeUint(h, math.Float64bits(f))
	case ir.KindString, ir.KindBytes:
		h.WriteString(v.s)
	case ir.KindList, ir.KindRecord, ir.KindMap:
		es := v.Elems()
		writeUint(h, uint64(len(es)))
		for i, e := range es {
			if v.k == ir.KindMap {
				hashInto(h, v.ref.keys[i])
			}
			hashInto(h, e)
		}
	default:
		writeUint(h, v.n)
	}
}

func writeUint(h *maphash.Hash, n uint64) {
	var b [8]byte
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
	h.Write(b[:])
}

// String formats v deterministically, the way the language writes
// values: strings quoted, durations as Go durations ("1h30m0s"), times in
// RFC 3339, records with their field names (when the value knows its
// type), maps in key order.
func (v Value) String() string {
	var sb strings.Builder
	v.format(&sb)
	return sb.String()
}

func (v Value) format(sb *strings.Builder) {
	switch v.k {
	case ir.KindVoid:
		sb.WriteString("void")
	case ir.KindOptional:
		sb.WriteString("none")
	case ir.KindBool:
		sb.WriteString(strconv.FormatBool(v.AsBool()))
	case ir.KindInt, ir.KindI32:
		sb.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case ir.KindU32:
		sb.WriteString(strconv.FormatUint(v.n, 10))
	case ir.KindFloat:
		sb.WriteString(formatFloat(v.AsFloat(), 64))
	case ir.KindF32:
		sb.WriteString(formatFloat(v.AsFloat(), 32))
	case ir.KindString:
		sb.WriteString(strconv.Quote(v.s))
	case ir.KindBytes:
		sb.WriteString("b64\"")
		sb.WriteString(base64.StdEncoding.EncodeToString([]byte(v.s)))
		sb.WriteByte('"')
	case ir.KindDuration:
		sb.WriteString(v.AsDuration().String())
	case ir.KindTime:
		sb.WriteByte('@')
		sb.WriteString(v.AsTime().Format(time.RFC3339Nano))
	case ir.KindEnum:
		if v.s != "" {
			sb.WriteString(v.s)
		} else {
			sb.WriteString("enum#" + strconv.FormatInt(v.AsInt(), 10))
		}
	case ir.KindList:
		sb.WriteByte('[')
		for i, e := range v.Elems() {
			if i > 0 {
				sb.WriteString(", ")
			}
			e.format(sb)
		}
		sb.WriteByte(']')
	case ir.KindMap:
		if v.Len() == 0 {
			sb.WriteString("[:]")
			return
		}
		sb.WriteByte('[')
		for i, e := range v.Elems() {
			if i > 0 {
				sb.WriteString(", ")
			}
			v.ref.keys[i].format(sb)
			sb.WriteString(": ")
			e.format(sb)
		}
		sb.WriteByte(']')
	case ir.KindRecord:
		sb.WriteByte('{')
		for i, e := range v.Elems() {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte(' ')
			if rt := v.ref.rec; rt != nil && i < len(rt.Fields) {
				sb.WriteString(rt.Fields[i].Name)
			} else {
				sb.WriteString("_" + strconv.Itoa(i))
			}
			sb.WriteString(": ")
			e.format(sb)
		}
		sb.WriteString(" }")
	}
}

// formatFloat writes the shortest text that reads back as f.
func formatFloat(f float64, bits int) string {
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func sortStrings(s []string) { sort.Strings(s) }

// Zero returns the zero value of type t: false, 0, "", empty bytes, a
// zero duration, the Unix epoch, an empty list or map, none, the first
// member of an enum, and a record of zero fields. A record type that
// contains itself other than through a list, map or optional has no
// finite value; its inner occurrence is void.
func Zero(p *ir.Program, t ir.TypeID) Value { return zeroOf(p, t, nil) }

func zeroOf(p *ir.Program, t ir.TypeID, path []ir.TypeID) Value {
	switch k := p.KindOf(t); k {
	case ir.KindVoid:
		return Void
	case ir.KindFloat, ir.KindF32:
		return Value{k: k}
	case ir.KindList:
		return List(nil)
	case ir.KindMap:
		return Map(nil, nil)
	case ir.KindOptional:
		return None
	case ir.KindEnum:
		et := p.Type(t)
		name := ""
		if len(et.Members) > 0 {
			name = et.Members[0]
		}
		return Enum(0, name)
	case ir.KindRecord:
		for _, q := range path {
			if q == t {
				return Void
			}
		}
		rt := p.Type(t)
		fs := make([]Value, len(rt.Fields))
		path = append(path, t)
		for i, f := range rt.Fields {
			fs[i] = zeroOf(p, f.Type, path)
		}
		return Record(rt, fs)
	default:
		return Value{k: k}
	}
}
