// This file tests the value conversion and the evaluator, the latter by
// running compiled workflows on the engine.

package host

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

func compile(t testing.TB, src string) *ir.Program {
	t.Helper()
	pkg, info, diags := check.CheckSource("t.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatalf("check: %v", diags)
	}
	p, ld := compiler.Build(pkg, info) // the gate of knhk run
	if ld.HasErrors() {
		t.Fatalf("gate: %v", ld)
	}
	return p
}

// TestRoundTrip takes JSON-decoded values of every kind through the
// event encoding, which drops their types, and types them back.
func TestRoundTrip(t *testing.T) {
	p := compile(t, `package t
type Color = enum { red, green }
type Rec = { name: string, tags: [string], scores: [string: float], c: Color, when: time, d: duration, opt: int?, raw: bytes, ok: bool, n: int }
fn f(r: Rec) -> Rec = r
`)
	var rec ir.TypeID = -1
	for i, ty := range p.Types {
		if ty.Name == "Rec" {
			rec = ir.FirstComposite + ir.TypeID(i)
		}
	}
	in := `{"c":"green","d":"1h30m0s","n":-5,"name":"x","ok":true,"opt":null,"raw":"AAE=","scores":{"a":1.5,"b":-2},"tags":["p","q"],"when":"2026-01-02T03:04:05Z"}`
	v, err := eval.FromJSON(p, rec, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := engine.EncodeEvent(&engine.Event{Kind: engine.EvDone, Values: []eval.Value{v}})
	if err != nil {
		t.Fatalf("the engine cannot encode %#v: %v", v, err)
	}
	ev, err := engine.DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromEngine(p, ev.Values[0], rec)
	if err != nil {
		t.Fatal(err)
	}
	if !eval.Equal(v, back) {
		t.Fatalf("round trip changed %v into %v", v, back)
	}
	out, err := eval.ToJSON(p, back, rec)
	if err != nil || string(out) != in {
		t.Fatalf("JSON after the round trip = %s, %v", out, err)
	}
	if _, err := FromEngine(p, "nope", rec); err == nil || !strings.Contains(err.Error(), "Rec") {
		t.Errorf("FromEngine of a string as Rec: %v", err)
	}
	if _, err := FromEngine(p, eval.List([]eval.Value{eval.Str("x")}), rec); err == nil {
		t.Error("FromEngine accepted a record with one field")
	}
}

type fakeWorker struct{}

func (fakeWorker) Invoke(_ context.Context, inv engine.Invocation) (eval.Value, error) {
	// price(sku) -> float: the length of the sku.
	return eval.Float(float64(len(inv.Args[0].AsString()))), nil
}

// TestEvaluatorDrivesEngine runs a workflow whose guards, arguments,
// assignments and result are evaluated through the Evaluator.
func TestEvaluatorDrivesEngine(t *testing.T) {
	p := compile(t, `package t
type Item = { sku: string, qty: int }
task price(sku: string) -> float exec "price"
fn total(items: [Item], each: float) -> float = sum(items, i => each * float(i.qty))
workflow W(items: [Item]) -> string {
  guard len(items) > 0 else fail "empty"
  let each = price(items[0].sku)
  let t = total(items, each)
  choose {
    when t > 10.0 -> { return "big " + string(t) }
    else -> { return "small " + string(t) }
  }
}
`)
	run := func(items string) *engine.State {
		t.Helper()
		eng, err := engine.New(engine.Config{Program: p, Eval: &Evaluator{}, Worker: fakeWorker{}, Log: engine.NewMemLog(), Rounds: true})
		if err != nil {
			t.Fatal(err)
		}
		var itemsT ir.TypeID = p.Net("W").Params[0].Type
		v, err := eval.FromJSON(p, itemsT, []byte(items))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Start(ctx, "c", "W", []any{v}); err != nil {
			t.Fatal(err)
		}
		s, err := eng.Snapshot("c")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := run(`[{"sku":"abcd","qty":3}]`)
	if s.Status != engine.Completed || s.Result != eval.Str("big 12") {
		t.Errorf("status %v result %#v error %q, want big 12", s.Status, s.Result, s.Error)
	}
	s = run(`[{"sku":"ab","qty":1}]`)
	if s.Status != engine.Completed || s.Result != eval.Str("small 2") {
		t.Errorf("status %v result %#v error %q, want small 2", s.Status, s.Result, s.Error)
	}
	s = run(`[]`)
	if s.Status != engine.Failed || s.Error != "empty" {
		t.Errorf("status %v error %q, want failed with empty", s.Status, s.Error)
	}
}

// TestEvaluatorError keeps the span of a runtime failure.
func TestEvaluatorError(t *testing.T) {
	p := compile(t, `package t
fn at(xs: [int], i: int) -> int = xs[i]
`)
	var fn *ir.Func
	for _, f := range p.Funcs {
		if f.Name == "at" {
			fn = f
		}
	}
	var e Evaluator
	one := eval.List([]eval.Value{eval.Int(1)})
	v, err := e.Eval(context.Background(), fn, engine.Env{Prog: p, Args: []eval.Value{one, eval.Int(0)}})
	if err != nil || !eval.Equal(v, eval.Int(1)) {
		t.Fatalf("at([1], 0) = %v, %v", v, err)
	}
	_, err = e.Eval(context.Background(), fn, engine.Env{Prog: p, Args: []eval.Value{one, eval.Int(5)}})
	ee, ok := err.(*eval.Error)
	if !ok || !ee.Loc.Known() {
		t.Fatalf("error = %#v, want an *eval.Error with a location", err)
	}
	if _, err := e.Eval(context.Background(), fn, engine.Env{Prog: p, Args: []eval.Value{one}}); err == nil {
		t.Error("one argument was accepted for two parameters")
	}
}
