// This file implements the operators and conversions on values.

package eval

import (
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

var errOverflow = failure("integer overflow")

func addInt(a, b int64) (int64, error) {
	c := a + b
	if (c > a) != (b > 0) {
		return 0, errOverflow
	}
	return c, nil
}

func subInt(a, b int64) (int64, error) {
	c := a - b
	if (c < a) != (b > 0) {
		return 0, errOverflow
	}
	return c, nil
}

func mulInt(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	hi, lo := bits.Mul64(uint64(absU(a)), uint64(absU(b)))
	neg := (a < 0) != (b < 0)
	if hi != 0 || (!neg && lo > math.MaxInt64) || (neg && lo > 1<<63) {
		return 0, errOverflow
	}
	if neg {
		return -int64(lo), nil
	}
	return int64(lo), nil
}

func absU(a int64) uint64 {
	if a < 0 {
		return uint64(-a) // MinInt64 stays 1<<63 as uint64
	}
	return uint64(a)
}

func divInt(a, b int64) (int64, error) {
	if b == 0 {
		return 0, failure("integer division by zero")
	}
	if a == math.MinInt64 && b == -1 {
		return 0, errOverflow
	}
	return a / b, nil
}

func remInt(a, b int64) (int64, error) {
	if b == 0 {
		return 0, failure("integer division by zero")
	}
	if b == -1 {
		return 0, nil
	}
	return a % b, nil
}

// f32 rounds to float32 and back: f32 arithmetic rounds every result.
func f32(f float64) Value { return F32(float32(f)) }

// floatToInt truncates f toward zero into [lo, hi].
func floatToInt(f float64, lo, hi float64, to string) (int64, error) {
	t := math.Trunc(f)
	if math.IsNaN(t) || t < lo || t >= hi {
		return 0, failf("cannot convert %s to %s: out of range", formatFloat(f, 64), to)
	}
	return int64(t), nil
}

// durationOf converts nanoseconds computed in floating point to a
// duration, truncating toward zero.
func durationOf(f float64) (Value, error) {
	d, err := floatToInt(f, -(1 << 63), 1<<63, "duration")
	if err != nil {
		return Value{}, errOverflow
	}
	return Value{k: ir.KindDuration, n: uint64(d)}, nil
}

// binary applies op to x and y. The kinds of the operands decide the
// operation, as the checker's typing rules do.
func binary(op ir.BinOp, x, y Value) (Value, error) {
	switch op {
	case ir.BinEq:
		return Bool(Equal(x, y)), nil
	case ir.BinNe:
		return Bool(!Equal(x, y)), nil
	case ir.BinCoalesce:
		if x.IsNone() {
			return y, nil
		}
		return x, nil
	case ir.BinLt, ir.BinLe, ir.BinGt, ir.BinGe:
		return compare(op, x, y)
	case ir.BinAnd:
		return Bool(x.AsBool() && y.AsBool()), nil
	case ir.BinOr:
		return Bool(x.AsBool() || y.AsBool()), nil
	}
	if x.IsNone() || y.IsNone() {
		return Value{}, failf("none used as a value in %s", op)
	}
	if x.k == y.k {
		return same(op, x, y)
	}
	return mixed(op, x, y)
}

func compare(op ir.BinOp, x, y Value) (Value, error) {
	if x.k != y.k || x.IsNone() {
		return Value{}, failf("cannot compare %s and %s with %s", x.k, y.k, op)
	}
	var c int
	if x.k == ir.KindFloat || x.k == ir.KindF32 {
		a, b := x.AsFloat(), y.AsFloat()
		if math.IsNaN(a) || math.IsNaN(b) {
			return Bool(false), nil
		}
		c = Compare(x, y)
	} else {
		c = Compare(x, y)
	}
	switch op {
	case ir.BinLt:
		return Bool(c < 0), nil
	case ir.BinLe:
		return Bool(c <= 0), nil
	case ir.BinGt:
		return Bool(c > 0), nil
	}
	return Bool(c >= 0), nil
}

// same applies an arithmetic operator to two operands of one kind.
func same(op ir.BinOp, x, y Value) (Value, error) {
	switch x.k {
	case ir.KindInt, ir.KindDuration:
		a, b := x.AsInt(), y.AsInt()
		var r int64
		var err error
		switch op {
		case ir.BinAdd:
			r, err = addInt(a, b)
		case ir.BinSub:
			r, err = subInt(a, b)
		case ir.BinMul:
			if x.k == ir.KindDuration {
				return Value{}, failure("cannot multiply two durations")
			}
			r, err = mulInt(a, b)
		case ir.BinDiv:
			if x.k == ir.KindDuration {
				if b == 0 {
					return Value{}, failure("division by a zero duration")
				}
				return Float(float64(a) / float64(b)), nil
			}
			r, err = divInt(a, b)
		case ir.BinRem:
			r, err = remInt(a, b)
		default:
			return Value{}, failf("bad operator %s", op)
		}
		return Value{k: x.k, n: uint64(r)}, err
	case ir.KindI32:
		a, b := int32(x.AsInt()), int32(y.AsInt())
		switch op {
		case ir.BinAdd:
			return I32(a + b), nil
		case ir.BinSub:
			return I32(a - b), nil
		case ir.BinMul:
			return I32(a * b), nil
		case ir.BinDiv, ir.BinRem:
			if b == 0 {
				return Value{}, failure("integer division by zero")
			}
			if op == ir.BinDiv {
				return I32(a / b), nil // MinInt32 / -1 wraps, as on the kernel back ends
			}
			return I32(a % b), nil
		}
	case ir.KindU32:
		a, b := uint32(x.n), uint32(y.n)
		switch op {
		case ir.BinAdd:
			return U32(a + b), nil
		case ir.BinSub:
			return U32(a - b), nil
		case ir.BinMul:
			return U32(a * b), nil
		case ir.BinDiv, ir.BinRem:
			if b == 0 {
				return Value{}, failure("integer division by zero")
			}
			if op == ir.BinDiv {
				return U32(a / b), nil
			}
			return U32(a % b), nil
		}
	case ir.KindFloat, ir.KindF32:
		a, b := x.AsFloat(), y.AsFloat()
		var r float64
		switch op {
		case ir.BinAdd:
			r = a + b
		case ir.BinSub:
			r = a - b
		case ir.BinMul:
			r = a * b
		case ir.BinDiv:
			r = a / b
		default:
			return Value{}, failf("bad operator %s on %s", op, x.k)
		}
		if x.k == ir.KindF32 {
			return f32(r), nil
		}
		return Float(r), nil
	case ir.KindString:
		if op == ir.BinAdd {
			return Str(x.s + y.s), nil
		}
	case ir.KindList:
		if op == ir.BinAdd {
			xs, ys := x.Elems(), y.Elems()
			out := make([]Value, 0, len(xs)+len(ys))
			return List(append(append(out, xs...), ys...)), nil
		}
	case ir.KindTime:
		if op == ir.BinSub {
			r, err := subInt(x.AsInt(), y.AsInt())
			return Value{k: ir.KindDuration, n: uint64(r)}, err
		}
	}
	return Value{}, failf("bad operator %s on %s", op, x.k)
}

// mixed applies the operators whose operands differ in kind: duration
// scaling and time arithmetic.
func mixed(op ir.BinOp, x, y Value) (Value, error) {
	switch {
	case x.k == ir.KindTime && y.k == ir.KindDuration && (op == ir.BinAdd || op == ir.BinSub):
		var r int64
		var err error
		if op == ir.BinAdd {
			r, err = addInt(x.AsInt(), y.AsInt())
		} else {
			r, err = subInt(x.AsInt(), y.AsInt())
		}
		return Value{k: ir.KindTime, n: uint64(r)}, err
	case x.k == ir.KindDuration && y.k == ir.KindTime && op == ir.BinAdd:
		r, err := addInt(x.AsInt(), y.AsInt())
		return Value{k: ir.KindTime, n: uint64(r)}, err
	case x.k == ir.KindDuration && y.k == ir.KindInt && (op == ir.BinMul || op == ir.BinDiv):
		var r int64
		var err error
		if op == ir.BinMul {
			r, err = mulInt(x.AsInt(), y.AsInt())
		} else {
			r, err = divInt(x.AsInt(), y.AsInt())
		}
		return Value{k: ir.KindDuration, n: uint64(r)}, err
	case x.k == ir.KindInt && y.k == ir.KindDuration && op == ir.BinMul:
		r, err := mulInt(x.AsInt(), y.AsInt())
		return Value{k: ir.KindDuration, n: uint64(r)}, err
	case x.k == ir.KindDuration && y.k == ir.KindFloat && op == ir.BinMul:
		return durationOf(float64(x.AsInt()) * y.AsFloat())
	case x.k == ir.KindFloat && y.k == ir.KindDuration && op == ir.BinMul:
		return durationOf(x.AsFloat() * float64(y.AsInt()))
	case x.k == ir.KindDuration && y.k == ir.KindFloat && op == ir.BinDiv:
		if y.AsFloat() == 0 {
			return Value{}, failure("division of a duration by zero")
		}
		return durationOf(float64(x.AsInt()) / y.AsFloat())
	}
	return Value{}, failf("bad operator %s on %s and %s", op, x.k, y.k)
}

// unary applies op to x.
func unary(op ir.UnOp, x Value) (Value, error) {
	switch op {
	case ir.UnNot:
		if x.k == ir.KindBool {
			return Bool(!x.AsBool()), nil
		}
	case ir.UnNeg:
		switch x.k {
		case ir.KindInt, ir.KindDuration:
			if x.AsInt() == math.MinInt64 {
				return Value{}, errOverflow
			}
			return Value{k: x.k, n: uint64(-x.AsInt())}, nil
		case ir.KindI32:
			return I32(-int32(x.AsInt())), nil
		case ir.KindFloat:
			return Float(-x.AsFloat()), nil
		case ir.KindF32:
			return f32(-x.AsFloat()), nil
		}
	}
	return Value{}, failf("bad operator %s on %s", op, x.k)
}

// convert converts x to type t: a conversion call, or the wrapping of a
// value into an optional (which changes nothing in this representation).
func convert(p *ir.Program, x Value, t ir.TypeID) (Value, error) {
	tk := p.KindOf(t)
	if tk == ir.KindOptional {
		return x, nil
	}
	if x.IsNone() {
		return Value{}, failf("none converted to %s", p.TypeString(t))
	}
	if x.k == tk && tk != ir.KindString {
		return x, nil
	}
	isFloat := x.k == ir.KindFloat || x.k == ir.KindF32
	isInt := x.k == ir.KindInt || x.k == ir.KindI32 || x.k == ir.KindU32
	switch tk {
	case ir.KindInt, ir.KindI32, ir.KindU32:
		lo, hi := float64(math.MinInt64), float64(1<<63)
		switch tk {
		case ir.KindI32:
			lo, hi = math.MinInt32, 1<<31
		case ir.KindU32:
			lo, hi = 0, 1<<32
		}
		var i int64
		switch {
		case isFloat:
			var err error
			if i, err = floatToInt(x.AsFloat(), lo, hi, tk.String()); err != nil {
				return Value{}, err
			}
		case isInt:
			i = x.AsInt()
			if float64(i) < lo || float64(i) >= hi {
				return Value{}, failf("cannot convert %d to %s: out of range", i, tk)
			}
		default:
			return Value{}, failf("cannot convert %s to %s", x.k, tk)
		}
		return Value{k: tk, n: uint64(i)}, nil
	case ir.KindFloat, ir.KindF32:
		var f float64
		switch {
		case isFloat:
			f = x.AsFloat()
		case isInt:
			f = float64(x.AsInt())
		default:
			return Value{}, failf("cannot convert %s to %s", x.k, tk)
		}
		if tk == ir.KindF32 {
			return f32(f), nil
		}
		return Float(f), nil
	case ir.KindString:
		return Str(toString(x)), nil
	case ir.KindBytes:
		if x.k == ir.KindString {
			return Value{k: ir.KindBytes, s: x.s}, nil
		}
	}
	return Value{}, failf("cannot convert %s to %s", x.k, p.TypeString(t))
}

// toString is string(x): numbers in shortest form, durations as Go
// durations, times in RFC 3339 (UTC), bytes as their text, enum members by
// name.
func toString(x Value) string {
	switch x.k {
	case ir.KindString, ir.KindBytes, ir.KindEnum:
		return x.s
	case ir.KindBool:
		return strconv.FormatBool(x.AsBool())
	case ir.KindInt, ir.KindI32:
		return strconv.FormatInt(x.AsInt(), 10)
	case ir.KindU32:
		return strconv.FormatUint(x.n, 10)
	case ir.KindFloat:
		return formatFloat(x.AsFloat(), 64)
	case ir.KindF32:
		return formatFloat(x.AsFloat(), 32)
	case ir.KindDuration:
		return x.AsDuration().String()
	case ir.KindTime:
		return x.AsTime().Format(time.RFC3339Nano)
	}
	return x.String()
}
