// This file implements the golden tests: testdata/golden/*.txtar hold a
// program (in.knhk, plus any files it imports) and the expected output of
// the checker (out/check). KNHK_UPDATE=1 rewrites the expected output.

package check

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
	"golang.org/x/tools/txtar"
)

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	update := os.Getenv("KNHK_UPDATE") != ""
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := runArchive(t, ar)
			idx := -1
			for i, f := range ar.Files {
				if f.Name == "out/check" {
					idx = i
				}
			}
			if update {
				if idx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "out/check"})
					idx = len(ar.Files) - 1
				}
				ar.Files[idx].Data = []byte(got)
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if idx < 0 {
				t.Fatalf("no out/check section; run with KNHK_UPDATE=1")
			}
			if want := string(ar.Files[idx].Data); got != want {
				t.Errorf("output differs (KNHK_UPDATE=1 rewrites it)\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

// archiveFS serves the files of a txtar archive as a Config.ReadFile.
func archiveFS(ar *txtar.Archive) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		name = filepath.ToSlash(filepath.Clean(name))
		for _, f := range ar.Files {
			if f.Name == name {
				return f.Data, nil
			}
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

// runArchive checks in.knhk of ar and prints the diagnostics and a
// summary of what the checker learned about the main file.
func runArchive(t *testing.T, ar *txtar.Archive) string {
	cfg := &Config{ReadFile: archiveFS(ar)}
	pkg, info, diags := Load("in.knhk", cfg)
	var sb strings.Builder
	for _, d := range diags {
		sb.WriteString(d.Error())
		sb.WriteString(" [" + d.Code.Name() + "]\n")
		for _, r := range d.Related {
			p := r.File.Position(r.Span.Start)
			sb.WriteString("\t" + r.File.Name + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column) + ": " + r.Message + "\n")
		}
		for _, f := range d.Fixes {
			sb.WriteString("\thelp: " + f.Message + "\n")
		}
	}
	if pkg == nil || pkg.File == nil {
		return sb.String()
	}
	if len(diags) > 0 {
		sb.WriteString("\n")
	}
	sb.WriteString(summary(pkg, info))
	return sb.String()
}

// summary lists every object declared in the main file with its kind and
// type, in source order.
func summary(pkg *Package, info *Info) string {
	type def struct {
		pos  source.Pos
		line string
	}
	src := pkg.File.Source
	var defs []def
	for n, o := range info.Defs {
		if o.File() != src {
			continue
		}
		p := src.Position(n.Span().Start)
		typ := "-"
		if o.Type() != nil {
			typ = o.Type().String()
		}
		defs = append(defs, def{n.Span().Start, strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column) + " " + o.Kind().String() + " " + o.Name() + ": " + typ})
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].pos < defs[j].pos })
	var sb strings.Builder
	for _, d := range defs {
		sb.WriteString(d.line + "\n")
	}
	return sb.String()
}

// TestInfoComplete checks, on every clean golden program, that the side
// tables cover the tree: every expression has a type, every identifier in
// an expression is resolved and every declaring name is defined.
func TestInfoComplete(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.txtar")
	for _, path := range files {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pkg, info, diags := Load("in.knhk", &Config{ReadFile: archiveFS(ar)})
		if diags.HasErrors() || pkg == nil {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			checkInfoComplete(t, pkg.File, info)
		})
	}
}

func checkInfoComplete(t *testing.T, f *syntax.File, info *Info) {
	t.Helper()
	src := f.Source
	where := func(n source.Spanned) string {
		p := src.Position(n.Span().Start)
		return src.Name + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
	}
	var stack []any
	syntax.Inspect(f, func(n any) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		var parent any
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *syntax.Ident:
			if info.Uses[n] == nil {
				t.Errorf("%s: identifier %s has no Uses entry", where(n), n.Name)
			}
		case *syntax.Name:
			switch parent.(type) {
			case *syntax.PackageDecl, *syntax.Binding:
				return true
			}
			if info.ObjectOf(n) == nil {
				t.Errorf("%s: name %s is neither defined nor used", where(n), n.Value)
			}
		}
		if e, ok := n.(syntax.Expr); ok {
			if id, ok := e.(*syntax.Ident); ok {
				if _, isPkg := info.Uses[id].(*PkgName); isPkg {
					return true // package names have no type, as in go/types
				}
			}
			if info.Types[e] == nil {
				if sel, ok := parent.(*syntax.SelectorExpr); ok && sel.Sel == e {
					return true // the selected name: the selector has the type
				}
				if _, ok := parent.(*syntax.FieldInit); ok {
					if id, ok := e.(*syntax.Ident); ok && id != nil {
						return true // a record literal's field name
					}
				}
				if _, ok := parent.(*syntax.MilestoneExpr); ok {
					return true
				}
				if c, ok := parent.(*syntax.CallExpr); ok && c.Fun == e {
					if id, ok := e.(*syntax.Ident); ok && info.Uses[id] != nil && info.Uses[id].Kind() == ObjBuiltin {
						return true // generic builtins have no signature
					}
				}
				t.Errorf("%s: expression %T has no type", where(e), e)
			}
		}
		return true
	})
}

// TestExamples checks that every program under examples/ checks without
// errors. The examples are written by others; the test skips while there
// are none.
func TestExamples(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".knhk") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no examples yet")
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			_, _, diags := Load(path, nil)
			if diags.HasErrors() {
				t.Errorf("%s", diags.Format())
			}
		})
	}
}
