package hls

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

// TestLintSource: a fn that builds a list and passes a lambda to a
// builtin passes the checker inside a kernel, but not the HLS lint:
// dynamic allocation and indirect calls are reported at their positions
// in the source, naming the target.
func TestLintSource(t *testing.T) {
	src := `package lint

fn sq(x: f32) -> f32 = sum(map([x, x], y => y * y), z => z)

kernel m(a: [f32]) -> [f32] {
  out[i] = sq(a[i])
}
`
	dir := t.TempDir()
	path := filepath.Join(dir, "lint.knhk")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg, info, ds := check.Load(path, nil)
	if ds.HasErrors() {
		t.Fatal(ds.Format())
	}
	p, ds := compiler.Build(pkg, info)
	if ds.HasErrors() {
		t.Fatal(ds.Format())
	}
	ks, got := Kernels(p, Options{})
	if ks != nil {
		t.Fatal("kernels generated despite the lint")
	}
	want := []struct{ at, msg string }{
		{"sum(map(", "hls: kernel m: an indirect call is not synthesizable: builtin sum calls a function value"},
		{"map([x", "hls: kernel m: an indirect call is not synthesizable: builtin map calls a function value"},
		{"[x, x]", "hls: kernel m: dynamic allocation is not synthesizable: list builds a [f32] at run time"},
	}
	for _, w := range want {
		found := false
		for _, d := range got {
			if d.Msg == w.msg && int(d.Loc.Span.Start) == strings.Index(src, w.at) {
				found = true
			}
		}
		if !found {
			t.Errorf("no diagnostic %q at %q; got %v", w.msg, w.at, got)
		}
	}
}

// TestLintIR: recursion and a loop without constant bounds, which the
// checker rejects in source, are rejected by the lint too when an IR
// program has them.
func TestLintIR(t *testing.T) {
	p := &ir.Program{Package: "p", Files: []ir.File{{Name: "p.knhk"}}}
	arr := p.ListOf(ir.F32)
	at := func(n int) ir.Loc { return ir.Loc{Span: source.Span{Start: source.Pos(n), End: source.Pos(n + 1)}} }

	// fn f(x) = f(x): recursion.
	fb := ir.NewFunc("f", ir.F32, ir.Param{Name: "x", Type: ir.F32})
	fid := ir.FuncID(len(p.Funcs))
	fb.At(at(10))
	fb.Return(fb.Call(ir.F32, fid, fb.Param(0)))
	p.AddFunc(fb.F)

	// kernel k(a: [f32], n: i32): for j in 0..n { } then f(a[i]).
	kb := ir.NewFunc("k", ir.F32, ir.Param{Name: "a", Type: arr}, ir.Param{Name: "n", Type: ir.I32}, ir.Param{Name: "i", Type: ir.I32})
	kb.At(at(20))
	zero := kb.Const(ir.I32, ir.Const{Kind: ir.ConstInt})
	head, ps := kb.NewBlock(ir.I32)
	body, _ := kb.NewBlock()
	exit, _ := kb.NewBlock()
	kb.Jump(head, zero)
	kb.SetBlock(head)
	kb.At(at(30))
	kb.Branch(kb.Binary(ir.BinLt, ir.Bool, ps[0], kb.Param(1)), body, exit)
	kb.SetBlock(body)
	kb.Jump(head, kb.Binary(ir.BinAdd, ir.I32, ps[0], kb.Const(ir.I32, ir.Const{Kind: ir.ConstInt, Int: 1})))
	kb.SetBlock(exit)
	kb.At(at(40))
	x := kb.Index(ir.F32, kb.Param(0), kb.Param(2))
	kb.Return(kb.Call(ir.F32, fid, x))
	body2 := p.AddFunc(kb.F)
	p.Kernels = append(p.Kernels, &ir.Kernel{Name: "k", Params: []ir.Param{{Name: "a", Type: arr}, {Name: "n", Type: ir.I32}}, Result: arr, Body: body2, Loc: at(1)})

	ds := Lint(p)
	want := map[string]int{
		"hls: kernel k: a loop without constant bounds is not synthesizable (its trip count must be known)": 30,
		"hls: kernel k: recursion is not synthesizable: fn f calls itself":                                  10,
	}
	for _, d := range ds {
		if pos, ok := want[d.Msg]; ok && int(d.Loc.Span.Start) == pos {
			delete(want, d.Msg)
		}
	}
	for m, pos := range want {
		t.Errorf("missing %q at %d; got %v", m, pos, ds)
	}
	if _, ds := Kernels(p, Options{}); len(ds) == 0 {
		t.Error("Kernels generated code for a kernel the lint rejects")
	}
}
