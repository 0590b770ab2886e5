// This file tests the operators, conversions and value functions table by
// table.

package eval

import (
	"hash/maphash"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

func TestBinary(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		op   ir.BinOp
		x, y Value
		want Value
		err  string
	}{
		{op: ir.BinAdd, x: Int(2), y: Int(3), want: Int(5)},
		{op: ir.BinAdd, x: Int(math.MaxInt64), y: Int(1), err: "integer overflow"},
		{op: ir.BinSub, x: Int(math.MinInt64), y: Int(1), err: "integer overflow"},
		{op: ir.BinMul, x: Int(1 << 32), y: Int(1 << 31), err: "integer overflow"},
		{op: ir.BinMul, x: Int(-1 << 31), y: Int(1 << 32), want: Int(math.MinInt64)},
		{op: ir.BinMul, x: Int(-7), y: Int(6), want: Int(-42)},
		{op: ir.BinDiv, x: Int(-7), y: Int(2), want: Int(-3)},
		{op: ir.BinDiv, x: Int(7), y: Int(0), err: "integer division by zero"},
		{op: ir.BinDiv, x: Int(math.MinInt64), y: Int(-1), err: "integer overflow"},
		{op: ir.BinRem, x: Int(-7), y: Int(3), want: Int(-1)},
		{op: ir.BinRem, x: Int(7), y: Int(0), err: "integer division by zero"},
		{op: ir.BinDiv, x: Float(1), y: Float(0), want: Float(math.Inf(1))},
		{op: ir.BinAdd, x: Float(0.1), y: Float(0.2), want: Float(0.30000000000000004)},
		{op: ir.BinAdd, x: F32(0.1), y: F32(0.2), want: F32(float32(0.1) + float32(0.2))},
		{op: ir.BinMul, x: F32(1e30), y: F32(1e30), want: F32(float32(math.Inf(1)))},
		{op: ir.BinAdd, x: I32(math.MaxInt32), y: I32(1), want: I32(math.MinInt32)},
		{op: ir.BinSub, x: U32(0), y: U32(1), want: U32(math.MaxUint32)},
		{op: ir.BinDiv, x: U32(7), y: U32(2), want: U32(3)},
		{op: ir.BinRem, x: I32(7), y: I32(0), err: "integer division by zero"},
		{op: ir.BinAdd, x: Str("ab"), y: Str("c"), want: Str("abc")},
		{op: ir.BinAdd, x: List([]Value{Int(1)}), y: List([]Value{Int(2)}), want: List([]Value{Int(1), Int(2)})},
		{op: ir.BinAdd, x: Duration(time.Hour), y: Duration(time.Minute), want: Duration(time.Hour + time.Minute)},
		{op: ir.BinSub, x: Duration(time.Second), y: Duration(time.Hour), want: Duration(time.Second - time.Hour)},
		{op: ir.BinAdd, x: Time(t0), y: Duration(90 * time.Minute), want: Time(t0.Add(90 * time.Minute))},
		{op: ir.BinAdd, x: Duration(time.Hour), y: Time(t0), want: Time(t0.Add(time.Hour))},
		{op: ir.BinSub, x: Time(t0), y: Duration(time.Hour), want: Time(t0.Add(-time.Hour))},
		{op: ir.BinSub, x: Time(t0.Add(time.Hour)), y: Time(t0), want: Duration(time.Hour)},
		{op: ir.BinMul, x: Duration(time.Second), y: Int(3), want: Duration(3 * time.Second)},
		{op: ir.BinMul, x: Int(3), y: Duration(time.Second), want: Duration(3 * time.Second)},
		{op: ir.BinMul, x: Duration(time.Second), y: Float(1.5), want: Duration(1500 * time.Millisecond)},
		{op: ir.BinMul, x: Float(0.25), y: Duration(time.Hour), want: Duration(15 * time.Minute)},
		{op: ir.BinMul, x: Duration(time.Hour), y: Float(1e20), err: "integer overflow"},
		{op: ir.BinDiv, x: Duration(time.Hour), y: Int(4), want: Duration(15 * time.Minute)},
		{op: ir.BinDiv, x: Duration(time.Hour), y: Float(0.5), want: Duration(2 * time.Hour)},
		{op: ir.BinDiv, x: Duration(time.Hour), y: Float(0), err: "division of a duration by zero"},
		{op: ir.BinDiv, x: Duration(90 * time.Minute), y: Duration(time.Hour), want: Float(1.5)},
		{op: ir.BinDiv, x: Duration(time.Hour), y: Duration(0), err: "division by a zero duration"},
		{op: ir.BinEq, x: Str("a"), y: Str("a"), want: Bool(true)},
		{op: ir.BinEq, x: None, y: None, want: Bool(true)},
		{op: ir.BinEq, x: Str("a"), y: None, want: Bool(false)},
		{op: ir.BinNe, x: Float(math.NaN()), y: Float(math.NaN()), want: Bool(true)},
		{op: ir.BinEq, x: Record(nil, []Value{Int(1), Str("x")}), y: Record(nil, []Value{Int(1), Str("x")}), want: Bool(true)},
		{op: ir.BinEq, x: Map([]Value{Str("a")}, []Value{Int(1)}), y: Map([]Value{Str("a")}, []Value{Int(2)}), want: Bool(false)},
		{op: ir.BinLt, x: Str("abc"), y: Str("abd"), want: Bool(true)},
		{op: ir.BinLe, x: Int(3), y: Int(3), want: Bool(true)},
		{op: ir.BinGt, x: Duration(time.Second), y: Duration(time.Millisecond), want: Bool(true)},
		{op: ir.BinGe, x: Time(t0), y: Time(t0.Add(1)), want: Bool(false)},
		{op: ir.BinLt, x: Float(math.NaN()), y: Float(1), want: Bool(false)},
		{op: ir.BinGe, x: Float(math.NaN()), y: Float(1), want: Bool(false)},
		{op: ir.BinLt, x: U32(1), y: U32(math.MaxUint32), want: Bool(true)},
		{op: ir.BinLt, x: Int(1), y: Str("a"), err: "cannot compare int and string with <"},
		{op: ir.BinAnd, x: Bool(true), y: Bool(false), want: Bool(false)},
		{op: ir.BinOr, x: Bool(true), y: Bool(false), want: Bool(true)},
		{op: ir.BinCoalesce, x: None, y: Str("d"), want: Str("d")},
		{op: ir.BinCoalesce, x: Str("x"), y: Str("d"), want: Str("x")},
		{op: ir.BinAdd, x: None, y: Int(1), err: "none used as a value in +"},
		{op: ir.BinAdd, x: Int(1), y: Float(1), err: "bad operator + on int and float"},
		{op: ir.BinMul, x: Duration(1), y: Duration(1), err: "cannot multiply two durations"},
	}
	for _, c := range cases {
		got, err := binary(c.op, c.x, c.y)
		name := c.x.String() + " " + c.op.String() + " " + c.y.String()
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: err %v, want %q", name, err, c.err)
			}
			continue
		}
		if err != nil || got.Kind() != c.want.Kind() || !Equal(got, c.want) && !(math.IsInf(got.AsFloat(), 1) && math.IsInf(c.want.AsFloat(), 1)) {
			t.Errorf("%s = %v (%s), %v; want %v (%s)", name, got, got.Kind(), err, c.want, c.want.Kind())
		}
	}
}

func TestUnary(t *testing.T) {
	cases := []struct {
		op   ir.UnOp
		x    Value
		want Value
		err  string
	}{
		{op: ir.UnNeg, x: Int(5), want: Int(-5)},
		{op: ir.UnNeg, x: Int(math.MinInt64), err: "integer overflow"},
		{op: ir.UnNeg, x: I32(math.MinInt32), want: I32(math.MinInt32)},
		{op: ir.UnNeg, x: Float(2.5), want: Float(-2.5)},
		{op: ir.UnNeg, x: F32(2.5), want: F32(-2.5)},
		{op: ir.UnNeg, x: Duration(time.Second), want: Duration(-time.Second)},
		{op: ir.UnNeg, x: U32(1), err: "bad operator - on u32"},
		{op: ir.UnNot, x: Bool(false), want: Bool(true)},
		{op: ir.UnNot, x: Int(0), err: "bad operator ! on int"},
	}
	for _, c := range cases {
		got, err := unary(c.op, c.x)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s%v: err %v, want %q", c.op, c.x, err, c.err)
			}
			continue
		}
		if err != nil || !Equal(got, c.want) || got.Kind() != c.want.Kind() {
			t.Errorf("%s%v = %v, %v; want %v", c.op, c.x, got, err, c.want)
		}
	}
}

func TestConvert(t *testing.T) {
	p := ir.NewProgram("t")
	opt := p.OptionalOf(ir.String)
	lvl := p.EnumOf("Level", "low", "high")
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 5, time.UTC)
	cases := []struct {
		x    Value
		to   ir.TypeID
		want Value
		err  string
	}{
		{x: Float(2.9), to: ir.Int, want: Int(2)},
		{x: Float(-2.9), to: ir.Int, want: Int(-2)},
		{x: Float(1e19), to: ir.Int, err: "cannot convert 1e+19 to int: out of range"},
		{x: Float(math.NaN()), to: ir.Int, err: "cannot convert NaN to int: out of range"},
		{x: Int(7), to: ir.Float, want: Float(7)},
		{x: Int(1 << 40), to: ir.I32, err: "cannot convert 1099511627776 to i32: out of range"},
		{x: Int(-1), to: ir.U32, err: "cannot convert -1 to u32: out of range"},
		{x: Int(math.MaxUint32), to: ir.U32, want: U32(math.MaxUint32)},
		{x: F32(3.75), to: ir.I32, want: I32(3)},
		{x: Float(0.1), to: ir.F32, want: F32(0.1)},
		{x: I32(-4), to: ir.Int, want: Int(-4)},
		{x: U32(4), to: ir.F32, want: F32(4)},
		{x: Int(42), to: ir.String, want: Str("42")},
		{x: Float(2.5), to: ir.String, want: Str("2.5")},
		{x: Float(3), to: ir.String, want: Str("3")},
		{x: F32(0.1), to: ir.String, want: Str("0.1")},
		{x: Bool(true), to: ir.String, want: Str("true")},
		{x: Duration(90 * time.Minute), to: ir.String, want: Str("1h30m0s")},
		{x: Time(t0), to: ir.String, want: Str("2026-11-27T10:00:00.000000005Z")},
		{x: Bytes([]byte("hi")), to: ir.String, want: Str("hi")},
		{x: Enum(1, "high"), to: ir.String, want: Str("high")},
		{x: Str("hi"), to: ir.Bytes, want: Bytes([]byte("hi"))},
		{x: Str("hi"), to: opt, want: Str("hi")},
		{x: None, to: ir.String, err: "none converted to string"},
		{x: Str("1"), to: ir.Int, err: "cannot convert string to int"},
		{x: Enum(0, "low"), to: lvl, want: Enum(0, "low")},
	}
	for _, c := range cases {
		got, err := convert(p, c.x, c.to)
		name := p.TypeString(c.to) + "(" + c.x.String() + ")"
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: err %v, want %q", name, err, c.err)
			}
			continue
		}
		if err != nil || !Equal(got, c.want) || got.Kind() != c.want.Kind() {
			t.Errorf("%s = %v (%s), %v; want %v", name, got, got.Kind(), err, c.want)
		}
	}
}

func TestValueOrderAndHash(t *testing.T) {
	seed := maphash.MakeSeed()
	sorted := []Value{None, Bool(false), Bool(true), Int(-3), Int(2), Float(math.NaN()), Float(-1), Float(0.5),
		Str(""), Str("a"), Str("b"), Duration(-1), Duration(5), List(nil), List([]Value{Int(1)}), List([]Value{Int(1), Int(0)}), List([]Value{Int(2)})}
	for i := range sorted {
		for j := range sorted {
			c := Compare(sorted[i], sorted[j])
			want := cmpOrdered(i, j)
			if c != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", sorted[i], sorted[j], c, want)
			}
		}
	}
	// Values that compare equal hash equal, even -0 and 0, NaN and NaN.
	pairs := [][2]Value{
		{Float(0), Float(math.Copysign(0, -1))},
		{Float(math.NaN()), Float(-math.NaN())},
		{Map([]Value{Str("b"), Str("a")}, []Value{Int(2), Int(1)}), Map([]Value{Str("a"), Str("b")}, []Value{Int(1), Int(2)})},
		{Record(nil, []Value{Str("x"), None}), Record(nil, []Value{Str("x"), None})},
	}
	for _, pr := range pairs {
		if Compare(pr[0], pr[1]) != 0 || Hash(seed, pr[0]) != Hash(seed, pr[1]) {
			t.Errorf("%v and %v: compare %d, hashes differ: %v", pr[0], pr[1], Compare(pr[0], pr[1]), Hash(seed, pr[0]) != Hash(seed, pr[1]))
		}
	}
	if Hash(seed, Str("a")) == Hash(seed, Str("b")) || Hash(seed, Int(1)) == Hash(seed, Duration(1)) {
		t.Error("distinct values hash equal")
	}
}

func TestMapValue(t *testing.T) {
	m := Map([]Value{Str("b"), Str("a"), Str("b")}, []Value{Int(1), Int(2), Int(3)})
	if got := m.String(); got != `["a": 2, "b": 3]` {
		t.Errorf("map = %s: want keys sorted, the later duplicate winning", got)
	}
	if v, ok := m.Lookup(Str("b")); !ok || v.AsInt() != 3 {
		t.Errorf("lookup b = %v %v", v, ok)
	}
	if _, ok := m.Lookup(Str("c")); ok {
		t.Error("lookup c found")
	}
	m2, err := setIndex(m, Str("aa"), Int(9))
	if err != nil || m2.String() != `["a": 2, "aa": 9, "b": 3]` || m.Len() != 2 {
		t.Errorf("set aa = %v %v; original %v", m2, err, m)
	}
	l, err := setIndex(List([]Value{Int(1), Int(2)}), Int(1), Int(5))
	if err != nil || l.String() != "[1, 5]" {
		t.Errorf("list set = %v %v", l, err)
	}
	if _, err := setIndex(List(nil), Int(0), Int(5)); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("set out of range: %v", err)
	}
}

func TestString(t *testing.T) {
	p := ir.NewProgram("t")
	rt := p.Type(p.RecordOf("R", ir.Field{Name: "a", Type: ir.Int}, ir.Field{Name: "b", Type: ir.Bytes}))
	cases := []struct {
		v    Value
		want string
	}{
		{Record(rt, []Value{Int(1), Bytes([]byte{0, 255})}), `{ a: 1, b: b64"AP8=" }`},
		{Map(nil, nil), "[:]"},
		{List([]Value{Str("q\""), None}), `["q\"", none]`},
		{TimeNanos(0), "@1970-01-01T00:00:00Z"},
		{Duration(1500 * time.Millisecond), "1.5s"},
		{U32(math.MaxUint32), "4294967295"},
		{I32(-1), "-1"},
		{F32(0.1), "0.1"},
		{Enum(2, ""), "enum#2"},
		{Void, "void"},
	}
	for _, c := range cases {
		if got := c.v.String(); got != c.want {
			t.Errorf("String = %s, want %s", got, c.want)
		}
	}
}

// TestFastFloatMatchesBinary checks the machine's float fast path against
// the general operator code on awkward values.
func TestFastFloatMatchesBinary(t *testing.T) {
	nums := []float64{0, math.Copysign(0, -1), 1, -2.5, 0.1, 1e300, math.Inf(1), math.NaN(), 3.4e38}
	ops := []ir.BinOp{ir.BinAdd, ir.BinSub, ir.BinMul, ir.BinDiv, ir.BinLt, ir.BinLe, ir.BinGt, ir.BinGe}
	for _, mk := range []func(float64) Value{Float, func(f float64) Value { return F32(float32(f)) }} {
		for _, a := range nums {
			for _, b := range nums {
				x, y := mk(a), mk(b)
				for _, op := range ops {
					fast, ok := fastFloat(op, &x, &y)
					slow, err := binary(op, x, y)
					if !ok || err != nil || fast.Kind() != slow.Kind() || fast.n != slow.n {
						t.Errorf("%v %s %v: fast %v, slow %v (%v)", x, op, y, fast, slow, err)
					}
				}
			}
		}
	}
	x, y := Int(1), Int(2)
	if _, ok := fastFloat(ir.BinAdd, &x, &y); ok {
		t.Error("fast path taken for ints")
	}
}
