// This file implements the robustness tests: the checker must never panic
// on anything the parser produces, including the partial trees of broken
// input, and every diagnostic must point inside its file.

package check

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
	"golang.org/x/tools/txtar"
)

// corpus returns the sources of the test data.
func corpus(t testing.TB) [][]byte {
	var out [][]byte
	errs, _ := filepath.Glob("testdata/errors/*.knhk")
	for _, p := range errs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	goldens, _ := filepath.Glob("testdata/golden/*.txtar")
	for _, p := range goldens {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if filepath.Ext(f.Name) == ".knhk" {
				out = append(out, f.Data)
			}
		}
	}
	return out
}

// checkNoPanic checks src and verifies the diagnostics' invariants.
func checkNoPanic(t testing.TB, src []byte) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v\ninput:\n%s", r, src)
		}
	}()
	cfg := &Config{ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}
	_, info, diags := CheckSource("in.knhk", src, cfg)
	if info == nil {
		t.Fatal("nil Info")
	}
	for _, d := range diags {
		if d.File == nil {
			t.Fatalf("diagnostic without file: %s", d.Message)
		}
		n := source.Pos(len(d.File.Content))
		if d.Span.Start < 0 || d.Span.End > n || d.Span.Start > d.Span.End {
			t.Fatalf("span %v outside file of %d bytes: %s", d.Span, n, d.Error())
		}
		if d.Message == "" {
			t.Fatalf("empty message at %v", d.Span)
		}
	}
}

// TestTruncated checks every prefix of every test program (at a stride,
// to keep the test fast) and single-byte deletions.
func TestTruncated(t *testing.T) {
	for _, src := range corpus(t) {
		stride := len(src)/150 + 1
		for i := 0; i <= len(src); i += stride {
			checkNoPanic(t, src[:i])
			if i < len(src) {
				cut := append(append([]byte(nil), src[:i]...), src[i+1:]...)
				checkNoPanic(t, cut)
			}
		}
	}
}

// FuzzCheck fuzzes the parser and checker together.
func FuzzCheck(f *testing.F) {
	for _, src := range corpus(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkNoPanic(t, src)
	})
}

// TestZeroNodes checks trees whose nodes have every optional field unset,
// as a parser recovering from errors might leave them.
func TestZeroNodes(t *testing.T) {
	exprs := []syntax.Expr{
		&syntax.Ident{}, &syntax.BasicLit{}, &syntax.UnaryExpr{}, &syntax.BinaryExpr{},
		&syntax.SelectorExpr{}, &syntax.IndexExpr{}, &syntax.CallExpr{}, &syntax.ParenExpr{},
		&syntax.ListLit{}, &syntax.MapLit{Keys: []syntax.Expr{nil}}, &syntax.RecordLit{Fields: []*syntax.FieldInit{nil, {}}},
		&syntax.LambdaExpr{Params: []*syntax.Ident{{}}}, &syntax.MilestoneExpr{}, &syntax.BadExpr{},
		&syntax.CallExpr{Fun: &syntax.Ident{Name: "len"}, Args: []syntax.Expr{nil}},
		&syntax.CallExpr{Fun: &syntax.Ident{Name: "sum"}, Args: []syntax.Expr{&syntax.ListLit{}, &syntax.LambdaExpr{}}},
		&syntax.SelectorExpr{X: &syntax.Ident{Name: "x"}, Sel: &syntax.Ident{}},
		&syntax.BinaryExpr{X: &syntax.Ident{Name: "x"}, Op: "+"},
	}
	var stmts []syntax.Stmt
	for _, e := range exprs {
		stmts = append(stmts, &syntax.ExprStmt{X: e}, &syntax.LetStmt{Value: e}, &syntax.ExprStmt{X: &syntax.Ident{Name: "x"}, Value: e})
	}
	stmts = append(stmts,
		&syntax.LetStmt{}, &syntax.GuardStmt{}, &syntax.FailStmt{}, &syntax.ReturnStmt{},
		&syntax.ParallelStmt{}, &syntax.ParallelStmt{Body: &syntax.Block{Stmts: []syntax.Stmt{nil}}, Join: &syntax.Join{}},
		&syntax.ChooseStmt{Whens: []*syntax.When{nil, {}}, Else: &syntax.Else{}}, &syntax.MultiStmt{Whens: []*syntax.When{{}}},
		&syntax.IfStmt{}, &syntax.IfStmt{ElseIf: &syntax.IfStmt{}}, &syntax.ForStmt{}, &syntax.ForStmt{Parallel: true, Join: &syntax.Join{Count: &syntax.BasicLit{}}},
		&syntax.WhileStmt{}, &syntax.BranchStmt{}, &syntax.SelectStmt{}, &syntax.SelectStmt{Arms: []*syntax.Arm{nil, {}, {Signal: &syntax.Name{}}, {Done: &syntax.CallExpr{}, As: &syntax.Name{}}}},
		&syntax.CancelStmt{}, &syntax.CancelStmt{Kind: "task", Target: &syntax.Name{}}, &syntax.CancelStmt{Kind: "region", Target: &syntax.Name{}},
		&syntax.RegionStmt{}, &syntax.CriticalStmt{}, &syntax.InterleaveStmt{}, &syntax.MilestoneStmt{},
		&syntax.FlowStmt{}, &syntax.FlowStmt{Items: []syntax.FlowItem{nil, &syntax.Step{}, &syntax.Arc{From: []*syntax.Name{nil, {}}, To: []*syntax.Name{{}}}}},
		&syntax.RouteStmt{}, &syntax.RouteStmt{Candidates: []syntax.Expr{nil}}, &syntax.HookStmt{}, &syntax.HookStmt{Event: "signal"},
		&syntax.SignalDecl{Params: []*syntax.Param{nil, {}}}, &syntax.QueryDecl{}, &syntax.BlockStmt{}, &syntax.ExprStmt{},
		&syntax.ExprStmt{X: &syntax.CallExpr{Fun: &syntax.Ident{Name: "x"}}, Clauses: []*syntax.Clause{nil, {}, {Kind: "undo"}}},
	)
	body := &syntax.Block{Stmts: stmts}
	src := source.NewFile("zero.knhk", []byte("package zero\n"))
	f := &syntax.File{
		Source:  src,
		Package: &syntax.PackageDecl{},
		Imports: []*syntax.ImportDecl{nil, {}, {Path: &syntax.StringLit{}}},
		Decls: []syntax.Decl{
			&syntax.TypeDecl{}, &syntax.TypeDecl{Name: &syntax.Name{Value: "T"}},
			&syntax.TypeDecl{Name: &syntax.Name{Value: "U"}, Type: &syntax.Type{List: &syntax.ListType{}}},
			&syntax.TypeDecl{Name: &syntax.Name{Value: "R"}, Type: &syntax.Type{Record: &syntax.RecordType{Fields: []*syntax.Param{nil, {}}}}},
			&syntax.TypeDecl{Name: &syntax.Name{Value: "E"}, Type: &syntax.Type{Enum: &syntax.EnumType{Members: []*syntax.Name{nil}}}},
			&syntax.TypeDecl{Name: &syntax.Name{Value: "N"}, Type: &syntax.Type{Named: &syntax.NamedType{}}},
			&syntax.FnDecl{}, &syntax.FnDecl{Name: &syntax.Name{Value: "f"}, Params: []*syntax.Param{nil, {}}},
			&syntax.TaskDecl{Name: &syntax.Name{Value: "t"}, Binding: &syntax.Binding{}, Clauses: []*syntax.Clause{nil, {Kind: "retry"}}},
			&syntax.TaskDecl{Name: &syntax.Name{Value: "t2"}, Binding: &syntax.Binding{Method: &syntax.Name{}}},
			&syntax.TaskDecl{Name: &syntax.Name{Value: "t3"}, Binding: &syntax.Binding{Std: &syntax.StringLit{}}},
			&syntax.KernelDecl{Name: &syntax.Name{Value: "k"}},
			&syntax.KernelDecl{Name: &syntax.Name{Value: "k2"}, Body: body},
			&syntax.WorkflowDecl{Name: &syntax.Name{Value: "w"}},
			&syntax.WorkflowDecl{Name: &syntax.Name{Value: "w2"}, Body: body},
		},
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic on zero-valued nodes: %v\n%s", r, debug.Stack())
		}
	}()
	_, _, diags := Check(f, nil)
	for _, d := range diags {
		if strings.Contains(d.Message, "internal error") {
			t.Errorf("%s", d.Message)
		}
	}
	Check(&syntax.File{Source: src}, nil)
	Check(nil, nil)
}
