// This file implements the tests of Inspect: it must reach every node.

package syntax

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/knhk/knhk/lang/source"
)

// walkSample uses every node type at least once.
const walkSample = `package p
import "std/http" as h
type R = { a: [int], b: [string: int?], c: enum { x, y }, d: h.T }
fn f(a: int) -> int = -a + g(a)[0].b ?? (1) + len([1]) + len(["k": 2]) + { z: 1 }.z
task t(x: int) -> int exec "a" "b" retry 3 undo u(x)
task u(x: int) http POST "url"
task v() std "time.sleep"
task w() extern "sym"
kernel k(a: [f32]) -> [f32] { out[i] = a[i] }
workflow W(o: int) -> int {
  let x: int = t(o) timeout 5s
  var y = 0
  y = y + 1
  guard x > 0 else fail "no"
  fail "boom"
  parallel { a() } join 2
  choose { when x > 1 -> a() else -> b() }
  multi { when x > 1 -> a() }
  if x > 1 { a() } else if x > 2 { b() } else { c() }
  for e in [1] parallel limit 2 { a() } join any
  while false { break continue }
  select {
    on signal S(p: int) -> a()
    on timer 1h -> {}
    on done t(1) as r -> b()
  }
  cancel region R
  cancel case
  region R { a() }
  critical C { a() }
  interleave { a() }
  milestone M { a() }
  flow { step s = a() start -> s s -> end join all when milestone M }
  route learn r(x) among { a(), b() } reward 1.0
  hook h on complete t when true -> map([1], (q) => q)
  signal S(p: int) transient
  query q -> int = x
  send S(1)
  send W.S(2) to "c-1"
  { filter([1], e => true) }
  return x
}
`

// TestInspectComplete checks that Inspect reaches every node that
// reflection can reach from the file, and that the sample above really
// contains every node type.
func TestInspectComplete(t *testing.T) {
	f, diags := Parse("walk.knhk", []byte(walkSample))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	visited := map[any]bool{}
	depth := 0
	Inspect(f, func(n any) bool {
		if n == nil {
			depth--
			return true
		}
		depth++
		visited[n] = true
		return true
	})
	if depth != 0 {
		t.Errorf("Inspect's f(nil) calls do not balance: depth %d", depth)
	}

	reachable := map[any]bool{}
	var collect func(v reflect.Value)
	collect = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				collect(v.Elem())
			}
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			if v.Type() == reflect.TypeFor[*source.File]() || v.Type() == reflect.TypeFor[*Comment]() {
				return
			}
			reachable[v.Interface()] = true
			collect(v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				collect(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				collect(v.Index(i))
			}
		}
	}
	collect(reflect.ValueOf(f))

	types := map[string]bool{}
	for n := range reachable {
		types[fmt.Sprintf("%T", n)] = true
		if !visited[n] {
			t.Errorf("Inspect does not visit %T", n)
		}
	}
	for n := range visited {
		if !reachable[n] {
			t.Errorf("Inspect visits %T, which is not in the tree", n)
		}
	}
	for _, want := range []string{
		"*syntax.File", "*syntax.PackageDecl", "*syntax.ImportDecl", "*syntax.TypeDecl",
		"*syntax.FnDecl", "*syntax.TaskDecl", "*syntax.KernelDecl", "*syntax.WorkflowDecl",
		"*syntax.Param", "*syntax.Binding", "*syntax.Clause", "*syntax.Type", "*syntax.ListType",
		"*syntax.RecordType", "*syntax.EnumType", "*syntax.NamedType", "*syntax.Name",
		"*syntax.StringLit", "*syntax.Block", "*syntax.LetStmt", "*syntax.GuardStmt",
		"*syntax.FailStmt", "*syntax.ReturnStmt", "*syntax.Join", "*syntax.ParallelStmt",
		"*syntax.When", "*syntax.Else", "*syntax.ChooseStmt", "*syntax.MultiStmt",
		"*syntax.IfStmt", "*syntax.ForStmt", "*syntax.WhileStmt", "*syntax.BranchStmt",
		"*syntax.SelectStmt", "*syntax.Arm", "*syntax.CancelStmt", "*syntax.RegionStmt",
		"*syntax.CriticalStmt", "*syntax.InterleaveStmt", "*syntax.MilestoneStmt",
		"*syntax.FlowStmt", "*syntax.Step", "*syntax.Arc", "*syntax.RouteStmt",
		"*syntax.HookStmt", "*syntax.SignalDecl", "*syntax.QueryDecl", "*syntax.BlockStmt",
		"*syntax.ExprStmt", "*syntax.Ident", "*syntax.BasicLit", "*syntax.UnaryExpr",
		"*syntax.BinaryExpr", "*syntax.SelectorExpr", "*syntax.IndexExpr", "*syntax.CallExpr",
		"*syntax.ParenExpr", "*syntax.ListLit", "*syntax.MapLit", "*syntax.FieldInit",
		"*syntax.RecordLit", "*syntax.LambdaExpr", "*syntax.MilestoneExpr",
	} {
		if !types[want] {
			t.Errorf("the sample has no %s; extend walkSample", want)
		}
	}
}

// TestInspectPrune checks that returning false skips a node's children.
func TestInspectPrune(t *testing.T) {
	f, diags := Parse("walk.knhk", []byte(walkSample))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	Inspect(f, func(n any) bool {
		switch n.(type) {
		case *Block:
			return false
		case *LetStmt, *ReturnStmt:
			t.Errorf("visited %T inside a pruned block", n)
		}
		return true
	})
}

func TestInspectNil(t *testing.T) {
	called := false
	var f *File
	Inspect(f, func(any) bool { called = true; return true })
	Inspect(nil, func(any) bool { called = true; return true })
	if called {
		t.Error("Inspect called f for a nil node")
	}
	if _, ok := SpanOf((*Name)(nil)); ok {
		t.Error("SpanOf of a typed nil reported a span")
	}
}
