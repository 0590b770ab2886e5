// This file implements the tests that keep the example workflows and the
// language reference honest: every example parses, checks without errors
// or warnings (the soundness gate of knhk check included) and is
// formatted; together the examples use every construct of the language;
// and every knhk block, std module and diagnostic code in
// docs/language.md matches the parser, stdlib and lang/source.

package examples

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/format"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
	"github.com/knhk/knhk/stdlib"
)

// required are the examples other parts of the project (the README, the
// CLI tests, the runtime's differential tests) refer to by name.
var required = []string{
	"orders.knhk",
	"loan.knhk",
	"incident.knhk",
	"etl.knhk",
	"fraud.knhk",
	"review.knhk",
}

// exampleFiles returns every examples/*.knhk file, sorted.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("*.knhk")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no .knhk files found in examples/")
	}
	sort.Strings(paths)
	return paths
}

func readExample(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// report formats diagnostics one per line as file:line:col: code message.
func report(diags source.Diagnostics) string {
	var sb strings.Builder
	for _, d := range diags {
		sb.WriteString("\n\t")
		sb.WriteString(d.Error())
		sb.WriteString(" [")
		sb.WriteString(d.Code.String())
		sb.WriteString("]")
	}
	return sb.String()
}

func TestRequiredExamplesExist(t *testing.T) {
	for _, name := range required {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("missing example %s: %v", name, err)
		}
	}
}

func TestExamplesParse(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(path, func(t *testing.T) {
			f, diags := syntax.Parse(path, readExample(t, path))
			if len(diags) > 0 {
				t.Fatalf("parse diagnostics:%s", report(diags))
			}
			if f.Package == nil {
				t.Fatal("no package clause")
			}
			if len(f.Decls) == 0 {
				t.Fatal("no declarations")
			}
		})
	}
}

func TestExamplesCheck(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(path, func(t *testing.T) {
			pkg, info, diags := check.Load(path, nil)
			if len(diags) > 0 {
				t.Fatalf("check diagnostics (errors and warnings both count):%s", report(diags))
			}
			if pkg == nil || pkg.File == nil {
				t.Fatal("check.Load returned no package")
			}
			// The soundness gate is part of knhk check.
			if _, ds := compiler.Build(pkg, info); len(ds) > 0 {
				t.Fatalf("gate diagnostics (errors and warnings both count):%s", report(ds))
			}
		})
	}
}

// TestExamplesFormatted holds the examples to the formatter's layout:
// they are what users copy, so they must look like `knhk fmt` output.
// Run `knhk fmt -w examples/` (or format.Bytes) to fix a failure.
func TestExamplesFormatted(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(path, func(t *testing.T) {
			src := readExample(t, path)
			out, diags := format.Bytes(path, src)
			if diags.HasErrors() {
				t.Fatalf("format diagnostics:%s", report(diags))
			}
			if string(out) != string(src) {
				n := firstDiff(src, out)
				t.Errorf("not formatted; first difference at line %d:\n have: %q\n want: %q", n+1, line(src, n), line(out, n))
			}
		})
	}
}

// firstDiff returns the 0-based number of the first line where a and b
// differ.
func firstDiff(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return i
		}
	}
	return min(len(la), len(lb))
}

// line returns line n (0-based) of b, or "" past the end.
func line(b []byte, n int) string {
	ls := strings.Split(string(b), "\n")
	if n < len(ls) {
		return ls[n]
	}
	return ""
}

// TestExamplesShape holds every example to what the examples are for:
// substantial, documented programs with at least one workflow.
func TestExamplesShape(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(path, func(t *testing.T) {
			src := readExample(t, path)
			f, diags := syntax.Parse(path, src)
			if diags.HasErrors() {
				t.Skip("does not parse; TestExamplesParse reports why")
			}
			if !strings.HasPrefix(string(src), "//") {
				t.Error("an example must open with a comment saying what it shows")
			}
			if n := strings.Count(string(src), "\n"); n < 60 || n > 170 {
				t.Errorf("example has %d lines; keep examples between 60 and 170: substantial, yet readable in one sitting", n)
			}
			workflows := 0
			for _, d := range f.Decls {
				if _, ok := d.(*syntax.WorkflowDecl); ok {
					workflows++
				}
			}
			if workflows == 0 && path != "common.knhk" {
				t.Error("example declares no workflow")
			}
		})
	}
}

// TestExamplesCoverLanguage checks that the examples, taken together, use
// every statement, expression, declaration and binding form the parser
// knows, so that a change to any construct is exercised by a real program.
func TestExamplesCoverLanguage(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range exampleFiles(t) {
		f, diags := syntax.Parse(path, readExample(t, path))
		if diags.HasErrors() {
			continue
		}
		collect(reflect.ValueOf(f), seen)
	}
	want := []string{
		// declarations
		"ImportDecl", "TypeDecl", "FnDecl", "TaskDecl", "KernelDecl", "WorkflowDecl",
		"EnumType", "RecordType", "ListType", "Clause",
		// statements
		"LetStmt", "GuardStmt", "FailStmt", "ReturnStmt", "ParallelStmt",
		"ChooseStmt", "MultiStmt", "IfStmt", "ForStmt", "WhileStmt",
		"BranchStmt", "SelectStmt", "CancelStmt", "RegionStmt", "CriticalStmt",
		"InterleaveStmt", "MilestoneStmt", "FlowStmt", "Step", "Arc",
		"RouteStmt", "HookStmt", "SignalDecl", "QueryDecl", "BlockStmt", "ExprStmt",
		// expressions
		"BinaryExpr", "UnaryExpr", "SelectorExpr", "IndexExpr", "CallExpr",
		"ParenExpr", "ListLit", "MapLit", "RecordLit", "LambdaExpr", "MilestoneExpr",
		// binding kinds and literal kinds
		"binding:exec", "binding:http", "binding:std", "binding:extern",
		"lit:duration", "lit:time", "lit:none", "lit:float",
		"join:all", "join:any", "join:N",
	}
	var missing []string
	for _, w := range want {
		if !seen[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no example uses: %s", strings.Join(missing, ", "))
	}
}

// collect records the name of every syntax node type reachable from v,
// plus a few finer distinctions (binding kinds, literal kinds, join kinds).
func collect(v reflect.Value, seen map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		collect(v.Elem(), seen)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			collect(v.Index(i), seen)
		}
	case reflect.Struct:
		if v.Type().PkgPath() != reflect.TypeFor[syntax.File]().PkgPath() {
			return // positions, source files
		}
		seen[v.Type().Name()] = true
		if v.CanAddr() {
			switch n := v.Addr().Interface().(type) {
			case *syntax.Binding:
				seen["binding:"+n.Kind()] = true
			case *syntax.BasicLit:
				seen["lit:"+litKinds[n.Kind]] = true
			case *syntax.Join:
				if n.Kind != "" {
					seen["join:"+n.Kind] = true
				} else {
					seen["join:N"] = true
				}
			}
		}
		for i := 0; i < v.NumField(); i++ {
			collect(v.Field(i), seen)
		}
	}
}

var litKinds = map[syntax.LitKind]string{
	syntax.IntLit:        "int",
	syntax.FloatLit:      "float",
	syntax.StringLitKind: "string",
	syntax.DurationLit:   "duration",
	syntax.TimeLit:       "time",
	syntax.BoolLit:       "bool",
	syntax.NoneLit:       "none",
}

// TestReferenceSnippetsParse keeps docs/language.md honest: every ```knhk
// block in it must parse, as a whole file, as top-level declarations, or
// as statements of a workflow body.
func TestReferenceSnippetsParse(t *testing.T) {
	doc := readExample(t, filepath.Join("..", "docs", "language.md"))
	blocks := knhkBlocks(string(doc))
	if len(blocks) < 10 {
		t.Fatalf("found %d knhk blocks in docs/language.md; expected the reference to show every construct", len(blocks))
	}
	for _, b := range blocks {
		wrappings := []string{
			b.text,
			"package doc\n" + b.text,
			"package doc\nworkflow W() {\n" + b.text + "\n}\n",
		}
		var last source.Diagnostics
		ok := false
		for _, src := range wrappings {
			_, diags := syntax.Parse("language.md", []byte(src))
			if !diags.HasErrors() {
				ok = true
				break
			}
			last = diags
		}
		if !ok {
			t.Errorf("docs/language.md:%d: knhk block does not parse (as a file, declarations or statements):%s", b.line, report(last))
			continue
		}
		// A block that is a whole file must also check without errors
		// (unused imports in a fragment are only warnings). Its relative
		// imports resolve against examples/.
		if strings.HasPrefix(b.text, "package ") {
			_, _, diags := check.CheckSource("language_md_snippet.knhk", []byte(b.text), nil)
			if diags.HasErrors() {
				t.Errorf("docs/language.md:%d: knhk file does not check:%s", b.line, report(diags.Errors()))
			}
		}
	}
}

type snippet struct {
	line int
	text string
}

// knhkBlocks returns the fenced ```knhk blocks of a Markdown document with
// the line of their opening fence.
func knhkBlocks(doc string) []snippet {
	var out []snippet
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```knhk" {
			continue
		}
		start := i + 1
		j := start
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		out = append(out, snippet{line: start, text: strings.Join(lines[start:j], "\n")})
		i = j
	}
	return out
}

// TestReferenceListsStdModules checks that the standard-modules table of
// docs/language.md names every module and every declaration it exports.
func TestReferenceListsStdModules(t *testing.T) {
	doc := string(readExample(t, filepath.Join("..", "docs", "language.md")))
	modules := stdlib.Modules()
	if len(modules) == 0 {
		t.Fatal("stdlib.Modules() is empty")
	}
	for _, mod := range modules {
		row := tableRow(doc, "`"+mod+"`")
		if row == "" {
			t.Errorf("docs/language.md: no row for %s in the standard modules table", mod)
			continue
		}
		src, _ := stdlib.Source(mod)
		f, diags := syntax.Parse(mod, src)
		if diags.HasErrors() {
			t.Errorf("%s does not parse:%s", mod, report(diags))
			continue
		}
		for _, d := range f.Decls {
			name := d.DeclName().Value
			if !strings.Contains(row, name) {
				t.Errorf("docs/language.md: the row for %s does not mention %s", mod, name)
			}
		}
	}
}

// TestReferenceListsDiagnostics checks that the diagnostics table of
// docs/language.md lists every code with its name.
func TestReferenceListsDiagnostics(t *testing.T) {
	doc := string(readExample(t, filepath.Join("..", "docs", "language.md")))
	n := 0
	for c := source.Code(0); c < 1000; c++ {
		name := c.Name()
		if name == "" {
			continue
		}
		n++
		row := tableRow(doc, fmt.Sprintf("K%d", int(c)))
		if !strings.Contains(row, "`"+name+"`") {
			t.Errorf("docs/language.md: diagnostics table lacks K%d `%s`", int(c), name)
		}
	}
	if n < 10 {
		t.Fatalf("found only %d diagnostic codes", n)
	}
}

// tableRow returns the Markdown table row whose first cell is first, or "".
func tableRow(doc, first string) string {
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "| "+first+" |") {
			return l
		}
	}
	return ""
}

// TestReferenceListsExamples checks that docs/language.md describes every
// example, so a new example is not left out of the reference.
func TestReferenceListsExamples(t *testing.T) {
	doc := string(readExample(t, filepath.Join("..", "docs", "language.md")))
	for _, path := range exampleFiles(t) {
		if tableRow(doc, "`"+path+"`") == "" {
			t.Errorf("docs/language.md: the examples table has no row for %s", path)
		}
	}
}
