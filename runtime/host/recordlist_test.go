// This file tests the conversion of lists of records from the plain
// form ([eval.FromPlain]) in one array of fields against the conversion of each record on
// its own: the same values, and the same error for a bad element.

package host

import (
	"fmt"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/eval"
)

func TestRecordList(t *testing.T) {
	p := compile(t, `package t
type Color = enum { red, green }
type R = { name: string, n: int, f: float, c: Color, d: duration, o: int?, tags: [string] }
fn f(rs: [R]) -> [R] = rs
`)
	lt := p.Funcs[0].Params[0].Type
	rt := p.Type(lt).Elem
	rec := func(by map[string]any) []any { // fields in the IR's order
		out := make([]any, len(p.Type(rt).Fields))
		for k, f := range p.Type(rt).Fields {
			out[k] = by[f.Name]
		}
		return out
	}
	fields := func(i int) map[string]any {
		var o any
		if i%2 == 0 {
			o = int64(i)
		}
		return map[string]any{"name": fmt.Sprint("r", i), "n": int64(i), "f": float64(i) / 4, "c": []string{"red", "green"}[i%2], "d": time.Duration(i), "o": o, "tags": []any{"a"}}
	}
	good := func(i int) any { return rec(fields(i)) }
	with := func(name string, v any) any {
		by := fields(1)
		by[name] = v
		return rec(by)
	}
	for _, n := range []int{0, 1, 2, 3, 100} {
		l := make([]any, n)
		for i := range l {
			l[i] = good(i)
		}
		got, err := FromEngine(p, l, lt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Len() != n {
			t.Fatalf("%d records became %d", n, got.Len())
		}
		for i := range l {
			want, err := FromEngine(p, l[i], rt)
			if err != nil {
				t.Fatal(err)
			}
			if !eval.Equal(got.Index(i), want) || got.Index(i).String() != want.String() {
				t.Fatalf("record %d of %d: %v, want %v", i, n, got.Index(i), want)
			}
		}
	}
	// A bad element fails as it fails on its own, wherever it is.
	for _, bad := range []struct {
		at  int
		val any
	}{
		{0, "not a record"},
		{2, []any{"x", int64(1)}},
		{1, with("n", "one")},
		{2, with("c", "blue")},
		{2, with("o", "seven")},
		{0, with("tags", []any{int64(1)})},
	} {
		l := []any{good(0), good(1), good(2)}
		l[bad.at] = bad.val
		_, err := FromEngine(p, l, lt)
		_, want := FromEngine(p, bad.val, rt)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("bad element %v at %d: %v, want %v", bad.val, bad.at, err, want)
		}
	}
}

// BenchmarkRecordList converts 10,000 records from the plain form;
// allocs/op is the measure (two per list plus the fields' own, against
// two per record before).
func BenchmarkRecordList(b *testing.B) {
	p := compile(b, `package t
type R = { name: string, n: int, f: float }
fn f(rs: [R]) -> [R] = rs
`)
	lt := p.Funcs[0].Params[0].Type
	l := make([]any, 10000)
	for i := range l {
		l[i] = []any{0.5, int64(i), "r"} // f, n, name: the IR orders fields by name
	}
	b.ReportAllocs()
	for range b.N {
		if _, err := FromEngine(p, l, lt); err != nil {
			b.Fatal(err)
		}
	}
}
