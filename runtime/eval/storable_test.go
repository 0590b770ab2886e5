// This file tests what a case may keep: finite floats, nesting within
// MaxDepth, and errors at the function's location otherwise.

package eval

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

func TestCheckStorable(t *testing.T) {
	p := ir.NewProgram("t")
	loc := at(3, 9)
	fl := p.ListOf(ir.Float)
	rec := p.RecordOf("R", ir.Field{Name: "a", Type: ir.Int}, ir.Field{Name: "b", Type: p.MapOf(ir.String, ir.Float)})
	nan := Float(math.NaN())
	cases := []struct {
		t    ir.TypeID
		v    Value
		want string
	}{
		{ir.Float, Float(1.5), ""},
		{ir.Float, nan, "the result is NaN; a case keeps only finite floats"},
		{ir.F32, F32(float32(math.Inf(-1))), "the result is -Inf; a case keeps only finite floats"},
		{fl, List([]Value{Float(1), Float(math.Inf(1))}), "element [1] of the result is +Inf; a case keeps only finite floats"},
		{p.OptionalOf(ir.Float), None, ""},
		{rec, Record(p.Type(rec), []Value{Int(1), Map([]Value{Str("k")}, []Value{nan})}), "element [1][0] of the result is NaN"},
		{ir.String, Str("x"), ""},
	}
	for _, c := range cases {
		fn := &ir.Func{Name: "f", Result: c.t, Loc: loc}
		err := CheckStorable(p, fn, c.v)
		got := ""
		if err != nil {
			got = err.Error()
			var ee *Error
			if !errors.As(err, &ee) || ee.Loc != loc {
				t.Errorf("%v: error %T at %v, want *Error at the function's location", c.v, err, ee)
			}
		}
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%v as %s: got %q, want %q", c.v, p.TypeString(c.t), got, c.want)
		}
	}
	// Nesting: a recursive type holds values of any depth; one level past
	// MaxDepth is refused.
	tree := p.RecordOf("Tree", ir.Field{Name: "kids", Type: ir.Int})
	p.Types[tree-ir.FirstComposite].Fields[0].Type = p.ListOf(tree)
	v := Record(p.Type(tree), []Value{List(nil)})
	for range MaxDepth / 2 {
		v = Record(p.Type(tree), []Value{List([]Value{v})})
	}
	fn := &ir.Func{Name: "f", Result: tree, Loc: loc}
	if err := CheckStorable(p, fn, v); err == nil || !strings.Contains(err.Error(), "nested more than 1000 levels deep") {
		t.Errorf("%d-deep tree: %v", MaxDepth+2, err)
	}
}
