// This file implements the run-time support of compiled code that keeps
// records and lists in Go types (codegen/golang's typed registers: a
// record a struct, a list a slice): the list builtins over slices, with
// the register machine's order of calls, results and errors, and the
// memo that converts a list Value to its slice once.

package eval

import (
	"math/bits"
	"sync/atomic"

	"github.com/knhk/knhk/compiler/ir"
)

// memo is what [Value.Memo] keeps in an aggregate.
type memo struct {
	key any
	val any
}

// Memo returns build(v) for the list, map or record v, computed once per
// aggregate and key: compiled code converts a large list it reads from a
// case variable or receives as an argument to a Go slice once, not at
// every call. It is sound because aggregates are immutable; the memo
// holds the last key asked for, so a value read as two different Go
// types is converted again when the key changes. v without an aggregate
// calls build every time.
func (v Value) Memo(key any, build func(Value) any) any {
	if v.ref == nil {
		return build(v)
	}
	if m := v.ref.memo.Load(); m != nil && m.key == key {
		return m.val
	}
	x := build(v)
	v.ref.memo.Store(&memo{key: key, val: x})
	return x
}

// ChargeLen adds k steps: the charge for building an aggregate of k
// elements or fields (see [Native.Charge]), for compiled code that built
// it as a Go slice or struct.
func (n *Native) ChargeLen(k int) { n.steps += int64(k) }

// FilterOf is filter over a slice: the elements for which f holds, nil
// when none does, calling f in order and stopping at its first error.
//
// It keeps the hits in a bitset and then copies them into a slice of
// exactly their number: one allocation instead of the log2(hits) of
// growing it by append, each copying the elements so far (a filter over
// 10,000 records copied up to twice their bytes).
func FilterOf[T any](xs []T, f func(T) (bool, error)) ([]T, error) {
	var small [1]uint64
	set := small[:]
	if len(xs) > 64 {
		set = make([]uint64, (len(xs)+63)/64)
	}
	hits, err := mark(xs, f, set)
	if err != nil {
		return nil, err
	}
	if hits == 0 {
		return nil, nil
	}
	out := make([]T, 0, hits)
	for w, word := range set {
		for word != 0 {
			i := w<<6 | bits.TrailingZeros64(word)
			out = append(out, xs[i])
			word &= word - 1
		}
	}
	return out, nil
}

// MapOf is map over a slice.
func MapOf[T, U any](xs []T, f func(T) (U, error)) ([]U, error) {
	out := make([]U, len(xs))
	for i, x := range xs {
		v, err := f(x)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// AnyOf is any over a slice: true at the first element f holds for.
func AnyOf[T any](xs []T, f func(T) (bool, error)) (bool, error) {
	for _, x := range xs {
		ok, err := f(x)
		if err != nil || ok {
			return ok && err == nil, err
		}
	}
	return false, nil
}

// AllOf is all over a slice: false at the first element f fails for.
func AllOf[T any](xs []T, f func(T) (bool, error)) (bool, error) {
	for _, x := range xs {
		ok, err := f(x)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// SumFloatOf is sum over a slice with a lambda of float result: the
// register machine's left-to-right float additions from 0.
func SumFloatOf[T any](xs []T, f func(T) (float64, error)) (float64, error) {
	acc := 0.0
	for _, x := range xs {
		v, err := f(x)
		if err != nil {
			return 0, err
		}
		acc += v
	}
	return acc, nil
}

// SumIntOf is sum over a slice with a lambda of int result, failing on
// overflow as the register machine's additions do.
func SumIntOf[T any](xs []T, f func(T) (int64, error)) (int64, error) {
	var acc int64
	for _, x := range xs {
		v, err := f(x)
		if err != nil {
			return 0, err
		}
		if acc, err = addInt(acc, v); err != nil {
			return 0, err
		}
	}
	return acc, nil
}

// SumFloats is sum without a lambda over floats.
func SumFloats(xs []float64) float64 {
	acc := 0.0
	for _, x := range xs {
		acc += x
	}
	return acc
}

// SumInts is sum without a lambda over ints.
func SumInts(xs []int64) (int64, error) {
	var acc int64
	for _, x := range xs {
		var err error
		if acc, err = addInt(acc, x); err != nil {
			return 0, err
		}
	}
	return acc, nil
}

// IndexOf is xs[i] with the register machine's range check and message.
func IndexOf[T any](xs []T, i int64) (T, error) {
	if i < 0 || i >= int64(len(xs)) {
		var zero T
		return zero, failf("index %d out of range [0:%d]", i, len(xs))
	}
	return xs[i], nil
}

// Room reports whether k more steps and one more call level fit in n's
// budget: a vector loop that does the work of k instructions of calls
// one deep at once checks it first, and leaves the work to the scalar
// loop (which fails where the register machine fails) when they do not.
func (n *Native) Room(k int64) bool {
	return n.depth < maxDepth && n.steps+k <= n.limit()
}

// memoSlot is the memo of an aggregate (a field of agg).
type memoSlot = atomic.Pointer[memo]

// Steps returns the steps charged so far: compiled code must charge what
// the register machine charges ([Machine.Steps]), and tests compare them.
func (n *Native) Steps() int64 { return n.steps }

// Steps returns the steps the last call charged.
func (m *Machine) Steps() int64 { return m.steps }

// Records returns the records of type rt whose fields are fields[i*nf :
// (i+1)*nf], one per nf fields, in two allocations (the records' bodies
// and the list of them) instead of one per record: [Retype] types a list
// of records read from the log this way. The records share fields'
// array, which lives as long as any of them does; it takes ownership of
// fields.
func Records(rt *ir.Type, nf int, fields []Value) []Value {
	if nf <= 0 {
		return nil
	}
	n := len(fields) / nf
	aggs := make([]agg, n)
	out := make([]Value, n)
	for i := range out {
		aggs[i].elems = fields[i*nf : (i+1)*nf : (i+1)*nf]
		aggs[i].rec = rt
		out[i] = Value{k: ir.KindRecord, ref: &aggs[i]}
	}
	return out
}
