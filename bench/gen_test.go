// This file tests the generators and the memory budget: the KNHK program
// parses (and checks) cleanly, the Go program type-checks, both are
// deterministic, and parse+check stays within 1 GiB for 100,000 lines.

package bench

import (
	"bytes"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"runtime"
	"testing"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

func TestKNHKParses(t *testing.T) {
	src := KNHK(5000)
	if n := Lines(src); n < 5000 || n > 5200 {
		t.Fatalf("KNHK(5000) has %d lines", n)
	}
	f, diags := syntax.Parse("gen.knhk", src)
	for _, d := range diags {
		t.Errorf("%v", d)
	}
	if len(f.Decls) < 100 {
		t.Errorf("only %d declarations", len(f.Decls))
	}
	kinds := map[string]int{}
	for _, d := range f.Decls {
		switch d.(type) {
		case *syntax.TypeDecl:
			kinds["type"]++
		case *syntax.FnDecl:
			kinds["fn"]++
		case *syntax.TaskDecl:
			kinds["task"]++
		case *syntax.WorkflowDecl:
			kinds["workflow"]++
		}
	}
	for _, k := range []string{"type", "fn", "task", "workflow"} {
		if kinds[k] == 0 {
			t.Errorf("no %s declarations", k)
		}
	}
}

// checkerWorks reports whether lang/check is more than its stub: a stub
// reports nothing for a program that uses an undefined name.
func checkerWorks() bool {
	f, _ := syntax.Parse("bad.knhk", []byte("package p\n\nfn f(x: int) -> int = undefined_name + x\n"))
	_, _, diags := check.Check(f, &check.Config{})
	return diags.HasErrors()
}

func TestKNHKChecks(t *testing.T) {
	if !checkerWorks() {
		t.Skip("lang/check is still a stub: it reports no error for an undefined name")
	}
	src := KNHK(3000)
	f, pdiags := syntax.Parse("gen.knhk", src)
	if len(pdiags) > 0 {
		t.Fatalf("parse: %v", pdiags)
	}
	_, info, diags := check.Check(f, &check.Config{})
	if len(info.Types) == 0 || len(info.Uses) == 0 {
		t.Errorf("check recorded %d types and %d uses", len(info.Types), len(info.Uses))
	}
	n := 0
	for _, d := range diags {
		if d.Severity == source.Warning {
			t.Logf("%v", d)
		}
		if d.Severity == source.Error {
			if n++; n <= 20 {
				t.Errorf("%v", d)
			}
		}
	}
	if n > 20 {
		t.Errorf("... and %d more errors", n-20)
	}
}

func TestGoTypeChecks(t *testing.T) {
	src := Go(3000)
	if n := Lines(src); n < 3000 || n > 3200 {
		t.Fatalf("Go(3000) has %d lines", n)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "gen.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.Default()}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	if _, err := conf.Check("orders", fset, []*ast.File{f}, info); err != nil {
		t.Fatal(err)
	}
	if len(info.Uses) == 0 {
		t.Error("no uses recorded")
	}
}

func TestDeterministic(t *testing.T) {
	if !bytes.Equal(KNHK(2000), KNHK(2000)) {
		t.Error("KNHK is not deterministic")
	}
	if !bytes.Equal(Go(2000), Go(2000)) {
		t.Error("Go is not deterministic")
	}
}

// TestMemoryBudget guards the 1 GiB target for 100,000 lines without
// timing anything: the bytes allocated by parse and check (an upper bound
// on their peak heap) on a 20,000-line program, scaled to 100,000 lines,
// must stay under 1 GiB. cmd/frontend reports the real peak RSS.
func TestMemoryBudget(t *testing.T) {
	src := KNHK(20_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := FrontEndKNHK(src); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	perLine := float64(after.TotalAlloc-before.TotalAlloc) / float64(Lines(src))
	if scaled := perLine * DefaultLines; scaled >= 1<<30 {
		t.Errorf("parse+check allocates %.0f bytes per line: %.0f MiB for %d lines, over the 1 GiB budget", perLine, scaled/(1<<20), DefaultLines)
	}
	t.Logf("%.0f bytes allocated per line", perLine)
}
