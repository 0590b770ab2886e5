// This file tests the fast path of typing a list: a list whose elements
// all have the element type is returned as it is, and a list with one
// element that does not is typed element by element as before.

package eval

import (
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

func TestRetypeTypedList(t *testing.T) {
	p := lowerFile(t, "../host/testdata/compat/values.knhk")
	rt := p.Type(p.Net("W").Params[0].Type)
	var lines, tags ir.TypeID
	for _, f := range rt.Fields {
		switch f.Name {
		case "lines":
			lines = f.Type
		case "tags":
			tags = f.Type
		}
	}
	line := p.Type(p.Type(lines).Elem)
	// fields orders by IR field order the values given by name.
	fields := func(by map[string]any) []any {
		out := make([]any, len(line.Fields))
		for i, f := range line.Fields {
			out[i] = by[f.Name]
		}
		return out
	}
	typed := func(sku string) Value {
		fs := make([]Value, len(line.Fields))
		for i, x := range fields(map[string]any{"sku": Str(sku), "qty": Int(1), "price": Float(2.5)}) {
			fs[i] = x.(Value)
		}
		return Record(line, fs)
	}
	price := -1
	for i, f := range line.Fields {
		if f.Name == "price" {
			price = i
		}
	}

	l := List([]Value{typed("a"), typed("b"), typed("c")})
	if got, err := Retype(p, l, lines); err != nil || !identical(got, l) {
		t.Errorf("a list of typed records was copied (%v)", err)
	}
	// One record built without its type: the list is typed again, and
	// that record gets the type.
	mixed := List([]Value{typed("a"), Of(fields(map[string]any{"sku": "b", "qty": int64(2), "price": int64(3)}))})
	got, err := Retype(p, mixed, lines)
	if err != nil || identical(got, mixed) {
		t.Fatalf("a list with an untyped record: %v, %v", got, err)
	}
	if r := got.Index(1); r.RecordType() != line || r.Index(price).Kind() != ir.KindFloat || r.Index(price).AsFloat() != 3 {
		t.Errorf("the untyped record became %v (type %v)", r, r.RecordType())
	}
	// A record of another type is not taken for a Line.
	other := Record(rt, make([]Value, len(rt.Fields)))
	if _, err := Retype(p, List([]Value{typed("a"), other}), lines); err == nil {
		t.Errorf("a Rec in a list of Line was accepted")
	}
	// Scalars: all of the element's kind is left as it is; one of
	// another kind is an error naming the type, as before.
	s := List([]Value{Str("p"), Str("q")})
	if got, err := Retype(p, s, tags); err != nil || !identical(got, s) {
		t.Errorf("a list of strings was copied (%v)", err)
	}
	if _, err := Retype(p, List([]Value{Str("p"), Int(1)}), tags); err == nil {
		t.Errorf("an int in a list of strings was accepted")
	}
	// The empty list stays itself.
	e := List(nil)
	if got, err := Retype(p, e, lines); err != nil || !identical(got, e) {
		t.Errorf("the empty list: %v, %v", got, err)
	}
}
