// This file implements tests of the API the language server relies on:
// scopes by position, objects of names, and the error limit.

package check

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

const apiSrc = `package p

type Item = { sku: string, qty: int }

task ship(i: Item) -> string exec "./ship"

workflow W(items: [Item]) -> int {
  let total = sum(items, it => it.qty)
  for item in items {
    let label = ship(item)
    guard label != "" else fail "no label"
  }
  return total
}
`

func TestScopesAndObjects(t *testing.T) {
	pkg, info, diags := CheckSource("p.knhk", []byte(apiSrc), nil)
	if len(diags) != 0 {
		t.Fatal(diags.Format())
	}
	at := func(marker string, skip int) source.Pos {
		i := strings.Index(apiSrc, marker)
		if i < 0 {
			t.Fatalf("no %q", marker)
		}
		return source.Pos(i + skip)
	}
	// Inside the loop body: item, label, total, items, W and the universe
	// are visible; it (the lambda parameter) is not.
	s := pkg.Scope.Innermost(at("guard label", 0))
	for _, name := range []string{"item", "label", "total", "items", "W", "ship", "Item", "len", "int"} {
		if s.LookupParent(name) == nil {
			t.Errorf("%s not visible in the loop body", name)
		}
	}
	if s.LookupParent("it") != nil {
		t.Error("lambda parameter visible outside its lambda")
	}
	if s.Lookup("label") == nil || len(s.Names()) != 1 {
		t.Errorf("loop body scope names = %v", s.SortedNames())
	}
	// The field qty: its declaration, its use in it.qty and the object
	// of both are the same, so rename finds every occurrence.
	var qtyDef Object
	var qtyUses int
	syntax.Inspect(pkg.File, func(n any) bool {
		switch n := n.(type) {
		case *syntax.Name:
			if n.Value == "qty" {
				qtyDef = info.ObjectOf(n)
			}
		case *syntax.SelectorExpr:
			if n.Sel.Name == "qty" {
				if info.ObjectOf(n.Sel) == nil || info.ObjectOf(n.Sel) != qtyDef {
					t.Errorf("it.qty does not resolve to the field declaration")
				}
				if info.Fields[n] == nil || info.Fields[n].String() != "Item" {
					t.Errorf("Fields[it.qty] = %v, want Item", info.Fields[n])
				}
				qtyUses++
			}
		}
		return true
	})
	if qtyDef == nil || qtyDef.Kind() != ObjField || qtyUses != 1 {
		t.Fatalf("qty: def %v, %d uses", qtyDef, qtyUses)
	}
	if p := qtyDef.File().Position(qtyDef.Span().Start); p.Line != 3 || p.Column != 28 {
		t.Errorf("qty declared at %d:%d, want 3:28", p.Line, p.Column)
	}
	// total's type was inferred from sum.
	for n, o := range info.Defs {
		if n.Value == "total" && o.Type() != TypInt {
			t.Errorf("total: %v", o.Type())
		}
	}
}

func TestMaxErrors(t *testing.T) {
	src := "package p\nworkflow W() {\n  a()\n  b()\n  c()\n  d()\n}\n"
	_, _, all := CheckSource("p.knhk", []byte(src), nil)
	_, _, two := CheckSource("p.knhk", []byte(src), &Config{MaxErrors: 2})
	if len(all) != 4 || len(two) != 2 {
		t.Errorf("got %d errors without limit and %d with MaxErrors 2", len(all), len(two))
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"amount", "items", "region", "x", "qty"}
	for _, tc := range []struct{ in, want string }{
		{"amout", "amount"}, {"amonut", "amount"}, {"itme", "items"}, {"qyt", "qty"},
		{"y", ""}, {"zzzzzz", ""}, {"amount", ""}, {"rgn", ""},
	} {
		if got := suggest(tc.in, cands); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLiteralParsers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1h30m", 90 * 60e9, true}, {"2d", 2 * 86400e9, true}, {"200ms", 200e6, true},
		{"5us", 5000, true}, {"1ns", 1, true}, {"99999999999h", 0, false}, {"5", 0, false}, {"h", 0, false},
	} {
		d, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || tc.ok && int64(d) != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, d, err)
		}
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{{"1_000", true}, {"9223372036854775807", true}, {"9223372036854775808", false}, {"1__0", false}, {"_1", false}} {
		if _, err := parseInt(tc.in); (err == nil) != tc.ok {
			t.Errorf("parseInt(%q): %v", tc.in, err)
		}
	}
	if _, err := ParseTime("@2026-11-27T10:00:00Z"); err != nil {
		t.Error(err)
	}
	if _, err := ParseTime("@2026-11-27"); err == nil {
		t.Error("date without time accepted")
	}
}
