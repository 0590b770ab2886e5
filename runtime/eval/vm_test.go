// This file tests the register machine instruction by instruction on
// hand-built IR.

package eval

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

func at(start, end int) ir.Loc {
	return ir.Loc{File: 0, Span: source.Span{Start: source.Pos(start), End: source.Pos(end)}}
}

// build adds a function made by body to a fresh program and returns both.
func build(result ir.TypeID, params []ir.Param, body func(p *ir.Program, b *ir.FuncBuilder)) (*ir.Program, ir.FuncID) {
	p := ir.NewProgram("t")
	b := ir.NewFunc("f", result, params...)
	body(p, b)
	return p, p.AddFunc(b.F)
}

func TestInstrConsts(t *testing.T) {
	cases := []struct {
		name string
		make func(p *ir.Program) (ir.TypeID, ir.Const)
		want string
		kind ir.Kind
	}{
		{"enum", func(p *ir.Program) (ir.TypeID, ir.Const) {
			return p.EnumOf("L", "lo", "hi"), ir.Const{Kind: ir.ConstInt, Int: 1}
		}, "hi", ir.KindEnum},
		{"i32", func(*ir.Program) (ir.TypeID, ir.Const) { return ir.I32, ir.Const{Kind: ir.ConstInt, Int: -2} }, "-2", ir.KindI32},
		{"f32", func(*ir.Program) (ir.TypeID, ir.Const) { return ir.F32, ir.Const{Kind: ir.ConstFloat, Float: 0.1} }, "0.1", ir.KindF32},
		{"f32 from int", func(*ir.Program) (ir.TypeID, ir.Const) { return ir.F32, ir.Const{Kind: ir.ConstInt, Int: 3} }, "3", ir.KindF32},
		{"duration", func(*ir.Program) (ir.TypeID, ir.Const) {
			return ir.Duration, ir.Const{Kind: ir.ConstInt, Int: 90e9}
		}, "1m30s", ir.KindDuration},
		{"time", func(*ir.Program) (ir.TypeID, ir.Const) { return ir.Time, ir.Const{Kind: ir.ConstInt, Int: 0} }, "@1970-01-01T00:00:00Z", ir.KindTime},
		{"bytes", func(*ir.Program) (ir.TypeID, ir.Const) { return ir.Bytes, ir.Const{Kind: ir.ConstString, Str: "hi"} }, `b64"aGk="`, ir.KindBytes},
		{"none", func(p *ir.Program) (ir.TypeID, ir.Const) { return p.OptionalOf(ir.Int), ir.Const{Kind: ir.ConstNone} }, "none", ir.KindOptional},
		{"some", func(p *ir.Program) (ir.TypeID, ir.Const) {
			return p.OptionalOf(ir.Int), ir.Const{Kind: ir.ConstInt, Int: 4}
		}, "4", ir.KindInt},
	}
	for _, c := range cases {
		var typ ir.TypeID
		p, f := build(ir.Void, nil, func(p *ir.Program, b *ir.FuncBuilder) {
			tt, k := c.make(p)
			typ = tt
			b.Return(b.Const(tt, k))
		})
		p.Funcs[f].Result = typ
		got, err := Call(p, f, nil)
		if err != nil || got.String() != c.want || got.Kind() != c.kind {
			t.Errorf("%s: %v (%s), %v; want %s (%s)", c.name, got, got.Kind(), err, c.want, c.kind)
		}
	}
}

// TestInstrLoop runs a loop whose header parameters swap: fib(n) with
// block parameters (a, b) -> (b, a+b), which needs parallel assignment.
func TestInstrLoop(t *testing.T) {
	p, f := build(ir.Int, []ir.Param{{Name: "n", Type: ir.Int}}, func(p *ir.Program, b *ir.FuncBuilder) {
		head, ps := b.NewBlock(ir.Int, ir.Int, ir.Int) // i, a, b
		body, _ := b.NewBlock()
		exit, _ := b.NewBlock()
		b.Jump(head, b.Int(0), b.Int(0), b.Int(1))
		b.SetBlock(head)
		b.Branch(b.Binary(ir.BinLt, ir.Bool, ps[0], b.Param(0)), body, exit)
		b.SetBlock(body)
		b.Jump(head, b.Binary(ir.BinAdd, ir.Int, ps[0], b.Int(1)), ps[2], b.Binary(ir.BinAdd, ir.Int, ps[1], ps[2]))
		b.SetBlock(exit)
		b.Return(ps[1])
	})
	fib := func(n int) int64 {
		a, b := int64(0), int64(1)
		for i := 0; i < n; i++ {
			a, b = b, a+b
		}
		return a
	}
	m := New(p)
	for _, n := range []int{0, 1, 2, 10, 50, 91} {
		got, err := m.Call(f, nil, Int(int64(n)))
		if err != nil || got.AsInt() != fib(n) {
			t.Errorf("fib(%d) = %v, %v; want %d", n, got, err, fib(n))
		}
	}
	// fib(92) computes fib(93) one step ahead, which overflows int: a
	// checked runtime error, not a wrap.
	if _, err := m.Call(f, nil, Int(92)); err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Errorf("fib(93): %v", err)
	}
	// A step budget stops a long loop deterministically.
	m.MaxSteps = 100
	_, err := m.Call(f, nil, Int(91))
	if e := evalErr(t, err); e.Msg != "step limit exceeded" {
		t.Errorf("step limit: %v", e)
	}
}

func TestInstrAggregates(t *testing.T) {
	p := ir.NewProgram("t")
	rec := p.RecordOf("R", ir.Field{Name: "a", Type: ir.Int}, ir.Field{Name: "b", Type: ir.String})
	list := p.ListOf(rec)
	mp := p.MapOf(ir.String, ir.Int)
	b := ir.NewFunc("f", ir.String, ir.Param{Name: "k", Type: ir.String})
	r1 := b.MakeRecord(rec, b.Int(1), b.Str("x"))
	r2 := b.SetField(r1, 0, b.Int(7))
	l := b.MakeList(list, r1, r2)
	l2 := b.SetIndex(l, b.Int(0), r2)
	m := b.MakeMap(mp, b.Str("z"), b.Int(26), b.Str("a"), b.Int(1))
	m2 := b.SetIndex(m, b.Param(0), b.Int(99))
	v := b.Index(ir.Int, m2, b.Param(0))
	s := b.Convert(ir.String, v)
	out := b.Binary(ir.BinAdd, ir.String, s, b.Convert(ir.String, b.Field(ir.Int, b.Index(rec, l2, b.Int(1)), 0)))
	b.Return(out)
	f := p.AddFunc(b.F)
	got, err := Call(p, f, nil, Str("k"))
	if err != nil || got.AsString() != "997" {
		t.Errorf("aggregates = %v, %v; want \"997\"", got, err)
	}
}

func TestInstrErrorsCarrySpans(t *testing.T) {
	p := ir.NewProgram("t")
	lt := p.ListOf(ir.Int)
	mt := p.MapOf(ir.String, ir.Int)
	b := ir.NewFunc("f", ir.Int, ir.Param{Name: "xs", Type: lt}, ir.Param{Name: "m", Type: mt}, ir.Param{Name: "i", Type: ir.Int})
	b.At(at(10, 15))
	x := b.Index(ir.Int, b.Param(0), b.Param(2))
	b.At(at(20, 30))
	y := b.Index(ir.Int, b.Param(1), b.Str("missing"))
	b.At(at(40, 45))
	b.Return(b.Binary(ir.BinDiv, ir.Int, x, y))
	f := p.AddFunc(b.F)
	m := New(p)
	xs := List([]Value{Int(1), Int(2)})
	cases := []struct {
		xs, m, i Value
		msg      string
		loc      ir.Loc
	}{
		{xs, Map(nil, nil), Int(2), "index 2 out of range [0:2]", at(10, 15)},
		{xs, Map(nil, nil), Int(-1), "index -1 out of range [0:2]", at(10, 15)},
		{xs, Map(nil, nil), Int(0), `key "missing" not in map`, at(20, 30)},
		{xs, Map([]Value{Str("missing")}, []Value{Int(0)}), Int(0), "integer division by zero", at(40, 45)},
	}
	for _, c := range cases {
		_, err := m.Call(f, nil, c.xs, c.m, c.i)
		e := evalErr(t, err)
		if e.Msg != c.msg || e.Loc != c.loc || e.Func != "f" {
			t.Errorf("error %q at %v in %s; want %q at %v", e.Msg, e.Loc, e.Func, c.msg, c.loc)
		}
	}
	// The diagnostic positions the error in its file.
	file := source.NewFile("x.knhk", []byte("fn f() = 1\n\nline three here is long enough for 45\n"))
	_, err := m.Call(f, nil, xs, Map(nil, nil), Int(0))
	d := evalErr(t, err).Diagnostic(map[int32]*source.File{0: file}, source.BadIndex)
	if got := d.Error(); got != `x.knhk:3:9: key "missing" not in map` {
		t.Errorf("diagnostic = %s", got)
	}
	if got, err := m.Call(f, nil, xs, Map([]Value{Str("missing")}, []Value{Int(2)}), Int(1)); err != nil || got.AsInt() != 1 {
		t.Errorf("f = %v, %v", got, err)
	}
}

func TestInstrEnv(t *testing.T) {
	p, f := build(ir.Bool, nil, func(p *ir.Program, b *ir.FuncBuilder) {
		v := b.Var(1, ir.Bool)
		ms := b.Milestone("editing")
		b.Return(b.Binary(ir.BinAnd, ir.Bool, v, ms))
	})
	env := newVars(Int(0), Bool(true))
	env.milestones = map[string]bool{"editing": true}
	if got, err := Call(p, f, env); err != nil || !got.AsBool() {
		t.Errorf("with milestone = %v, %v", got, err)
	}
	env.milestones["editing"] = false
	if got, err := Call(p, f, env); err != nil || got.AsBool() {
		t.Errorf("without milestone = %v, %v", got, err)
	}
	// CallFunc takes the function itself, as the engine holds it; Vars
	// adapts a plain function.
	vf := Vars(func(i int) (Value, bool) { return Bool(i == 1), true })
	if got, err := New(p).CallFunc(p.Funcs[f], vf); err != nil || got.AsBool() {
		t.Errorf("Vars env (milestone not held) = %v, %v", got, err)
	}
	if _, err := Call(p, f, nil); err == nil || !strings.Contains(err.Error(), "without a case") {
		t.Errorf("nil env: %v", err)
	}
	if _, err := Call(p, f, newVars(Int(0))); err == nil || !strings.Contains(err.Error(), "case variable #1 has no value") {
		t.Errorf("unset var: %v", err)
	}
}

func TestCallsAndLimits(t *testing.T) {
	p := ir.NewProgram("t")
	lt := p.ListOf(ir.Int)
	// lam(k, x) = x * k
	lb := ir.NewFunc("f.map", ir.Int, ir.Param{Name: "k", Type: ir.Int}, ir.Param{Name: "x", Type: ir.Int})
	lb.Return(lb.Binary(ir.BinMul, ir.Int, lb.Param(1), lb.Param(0)))
	lam := p.AddFunc(lb.F)
	// scale(xs, k) = map(xs, x => x * k)
	sb := ir.NewFunc("scale", lt, ir.Param{Name: "xs", Type: lt}, ir.Param{Name: "k", Type: ir.Int})
	sb.Return(sb.BuiltinCapture(lt, "map", lam, []ir.Reg{sb.Param(0)}, []ir.Reg{sb.Param(1)}))
	scale := p.AddFunc(sb.F)
	// loop() = loop(): recursion without end
	rb := ir.NewFunc("loop", ir.Int)
	rb.Return(rb.Call(ir.Int, ir.FuncID(len(p.Funcs)+0)))
	loop := p.AddFunc(rb.F)
	// caller() = scale([1, 2, 3], 10)
	cb := ir.NewFunc("caller", lt)
	cb.Return(cb.Call(lt, scale, cb.MakeList(lt, cb.Int(1), cb.Int(2), cb.Int(3)), cb.Int(10)))
	caller := p.AddFunc(cb.F)

	if got, err := Call(p, caller, nil); err != nil || got.String() != "[10, 20, 30]" {
		t.Errorf("caller = %v, %v", got, err)
	}
	if _, err := Call(p, loop, nil); err == nil || !strings.Contains(err.Error(), "calls nested more than 2000 deep") {
		t.Errorf("loop: %v", err)
	}
	if _, err := Call(p, scale, nil, List(nil)); err == nil || !strings.Contains(err.Error(), "takes 2 arguments, not 1") {
		t.Errorf("arity: %v", err)
	}
	if _, err := Call(p, 99, nil); err == nil {
		t.Error("missing function accepted")
	}
	// A malformed program (a register out of range) is an error, not a panic.
	bad := ir.NewFunc("bad", ir.Int)
	bad.Return(ir.Reg(7))
	if _, err := Call(p, p.AddFunc(bad.F), nil); err == nil || !strings.Contains(err.Error(), "malformed program") {
		t.Errorf("malformed: %v", err)
	}
	// The machine is still usable after a recovered failure.
	if got, err := Call(p, caller, nil); err != nil || got.Len() != 3 {
		t.Errorf("after failure: %v, %v", got, err)
	}
}

// TestStepsChargeAggregates runs a loop that doubles a list 64 times: the
// instruction count is small, but the elements are charged, so the step
// budget stops it long before memory runs out.
func TestStepsChargeAggregates(t *testing.T) {
	p := ir.NewProgram("t")
	lt := p.ListOf(ir.Int)
	b := ir.NewFunc("double", ir.Int, ir.Param{Name: "n", Type: ir.Int})
	head, ps := b.NewBlock(ir.Int, lt)
	body, _ := b.NewBlock()
	exit, _ := b.NewBlock()
	b.Jump(head, b.Int(0), b.MakeList(lt, b.Int(1)))
	b.SetBlock(head)
	b.Branch(b.Binary(ir.BinLt, ir.Bool, ps[0], b.Param(0)), body, exit)
	b.SetBlock(body)
	b.Jump(head, b.Binary(ir.BinAdd, ir.Int, ps[0], b.Int(1)), b.Binary(ir.BinAdd, lt, ps[1], ps[1]))
	b.SetBlock(exit)
	b.Return(b.Builtin(ir.Int, "len", ir.NoFunc, ps[1]))
	f := p.AddFunc(b.F)
	m := New(p)
	m.MaxSteps = 10_000
	if got, err := m.Call(f, nil, Int(10)); err != nil || got.AsInt() != 1024 {
		t.Errorf("double(10) = %v, %v", got, err)
	}
	_, err := m.Call(f, nil, Int(64))
	if e := evalErr(t, err); e.Msg != "step limit exceeded" {
		t.Errorf("double(64): %v", e)
	}
}
