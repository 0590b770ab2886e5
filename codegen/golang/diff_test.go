// This file implements the differential test: every example and every
// pattern program, compiled to Go and linked into one generated binary,
// must write the same event-log bytes and end the same way as the
// interpreter.

package golang_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/knhk/knhk/codegen/golang"
	"github.com/knhk/knhk/codegen/golang/difftest"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

// repoRoot is the knhk module's directory, from this package's.
func repoRoot(t testing.TB) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// build checks path and passes it through the gate, as knhk run does.
func build(t testing.TB, path string) (*ir.Program, map[int32]*source.File) {
	t.Helper()
	pkg, info, diags := check.Load(path, nil)
	if diags.HasErrors() {
		t.Fatalf("%s does not check: %v", path, diags.Err())
	}
	prog, ld := compiler.Build(pkg, info)
	if ld.HasErrors() {
		t.Fatalf("%s does not pass the gate: %v", path, ld.Err())
	}
	return prog, compiler.SourceFiles(pkg, prog)
}

// generated generates the Go package of src, written to a file name in
// a temporary directory, and returns its files.
func generated(t *testing.T, name, src string) map[string][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, files := build(t, path)
	out, diags := golang.Generate(p, golang.Options{Pos: golang.LinePos(p, files)})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	return out
}

// generatedFuncs is the funcs.go of the Go package generated from src.
func generatedFuncs(t *testing.T, name, src string) string {
	t.Helper()
	return string(generated(t, name, src)["funcs.go"])
}

// funcBody is the generated function of the program's function name in
// funcs.
func funcBody(t *testing.T, funcs, name string) string {
	t.Helper()
	b := regexp.MustCompile(`(?s)\nfunc f\d+_` + name + `\(.*?\n}\n`).FindString(funcs)
	if b == "" {
		t.Fatalf("no function %s in\n%s", name, funcs)
	}
	return b
}

// generate writes the Go package of p into dir.
func generate(t testing.TB, p *ir.Program, files map[int32]*source.File, pkg, dir string) {
	t.Helper()
	out, diags := golang.Generate(p, golang.Options{Package: pkg, Pos: golang.LinePos(p, files)})
	if len(diags) > 0 {
		t.Fatalf("%s: %v", pkg, diags)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range out {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tempModule writes go.mod and go.sum of a module that requires knhk
// from root, so that generated code builds offline.
func tempModule(t testing.TB, root, dir, name string) {
	t.Helper()
	mod, err := golang.Module(name, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}

// goCmd runs the go command in dir, offline.
func goCmd(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type program struct {
	name      string
	path      string
	scenarios [][2]string // name, actions joined by newlines
}

// programs lists the examples and the pattern programs, with the
// scenarios of each pattern's .trace file.
func programs(t testing.TB, root string) []program {
	var out []program
	ex, _ := filepath.Glob(filepath.Join(root, "examples", "*.knhk"))
	pat, _ := filepath.Glob(filepath.Join(root, "testdata", "patterns", "*.knhk"))
	if len(ex) == 0 || len(pat) == 0 {
		t.Fatal("no examples or no pattern programs")
	}
	// Programs of this package's own: expressions that fail at run time.
	own, _ := filepath.Glob(filepath.Join(root, "codegen", "golang", "testdata", "diff", "*.knhk"))
	for _, path := range append(append(ex, pat...), own...) {
		pr := program{name: strings.TrimSuffix(filepath.Base(path), ".knhk"), path: path}
		if b, err := os.ReadFile(strings.TrimSuffix(path, ".knhk") + ".trace"); err == nil {
			pr.scenarios = scenarios(string(b))
		}
		out = append(out, pr)
	}
	return out
}

// scenarios reads the actions of a .trace file's scenarios.
func scenarios(text string) [][2]string {
	var out [][2]string
	in := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "=== "):
			out = append(out, [2]string{strings.TrimSpace(l[4:]), ""})
			in = true
		case strings.HasPrefix(l, "--- "):
			in = false
		case in && len(out) > 0:
			out[len(out)-1][1] += l + "\n"
		}
	}
	return out
}

var okLine = regexp.MustCompile(`(?m)^ok (.+) events=(\d+) status=(\S+)$`)

// TestDifferential runs every example and pattern program interpreted
// and compiled, in one generated binary, and compares the event-log
// bytes (fixed clock), the cases' ends and results.
func TestDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	tempModule(t, root, dir, "knhkdiff")
	var imports, entries strings.Builder
	want := 0
	for i, pr := range programs(t, root) {
		p, files := build(t, pr.path)
		pkg := fmt.Sprintf("p%d", i)
		generate(t, p, files, pkg, filepath.Join(dir, pkg))
		fmt.Fprintf(&imports, "\t%q\n", "knhkdiff/"+pkg)
		var scs strings.Builder
		for _, s := range pr.scenarios {
			fmt.Fprintf(&scs, "\t\t{Name: %q, Actions: strings.Split(strings.TrimSpace(%q), \"\\n\")},\n", s[0], s[1])
			want++
		}
		if len(pr.scenarios) == 0 {
			for _, n := range p.Nets {
				if difftest.Workflow(n) {
					want++
				}
			}
		}
		fmt.Fprintf(&entries, "\t{Name: %q, Descriptor: %s.Descriptor(), Evaluator: %s.Evaluator, Scenarios: []difftest.Scenario{\n%s\t}},\n", pr.name, pkg, pkg, scs.String())
	}
	main := fmt.Sprintf(`package main

import (
	"os"
	"strings"

	"github.com/knhk/knhk/codegen/golang/difftest"
%s)

var _ = strings.Split

func main() {
	if difftest.Main(os.Stdout, []difftest.Program{
%s	}) > 0 {
		os.Exit(1)
	}
}
`, imports.String(), entries.String())
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "FAIL ") {
			t.Error(l)
		}
	}
	if err != nil && !t.Failed() {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	oks := okLine.FindAllStringSubmatch(string(out), -1)
	if len(oks) != want {
		t.Errorf("%d scenarios agreed, want %d:\n%s", len(oks), want, out)
	}
	events, failed := 0, 0
	for _, m := range oks {
		if m[2] == "0" {
			t.Errorf("%s wrote no events", m[1])
		}
		// Every workflow of failures.knhk but Fine, Records and
		// Selections fails in an expression; the logs compared above
		// hold its message and span.
		if strings.HasPrefix(m[1], "failures/") {
			fine := m[1] == "failures/Fine" || m[1] == "failures/Records" || m[1] == "failures/Selections"
			if want := map[bool]string{true: "completed", false: "failed"}[fine]; m[3] != want {
				t.Errorf("%s ended %s, want %s", m[1], m[3], want)
			}
			failed++
		}
		events++
	}
	if failed != 17 {
		t.Errorf("%d scenarios of failures.knhk, want 17", failed)
	}
	t.Logf("%d scenarios, identical logs", events)
}
