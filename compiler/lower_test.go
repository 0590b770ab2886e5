// This file implements the tests that lower every example and every clean
// input of the checker's golden tests, verify the IR, round-trip its
// encoding and run the soundness analysis on it.

package compiler

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/bench"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"golang.org/x/tools/txtar"
)

// lowerFile checks and lowers path, failing the test on any diagnostic
// error.
func lowerFile(t *testing.T, path string, cfg *check.Config) *ir.Program {
	t.Helper()
	pkg, info, diags := check.Load(path, cfg)
	if diags.HasErrors() {
		t.Fatalf("%s does not check:\n%s", path, diagText(diags))
	}
	prog, ldiags := Lower(pkg, info)
	if ldiags.HasErrors() {
		t.Fatalf("lowering %s:\n%s", path, diagText(ldiags))
	}
	if err := prog.Verify(); err != nil {
		t.Fatalf("lowered %s does not verify: %v\n%s", path, err, prog)
	}
	return prog
}

func diagText(ds source.Diagnostics) string {
	var sb strings.Builder
	for _, d := range ds {
		sb.WriteString(d.Error())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// roundTrip checks that the encoding decodes to a program that encodes to
// the same bytes and prints the same text.
func roundTrip(t *testing.T, prog *ir.Program) {
	t.Helper()
	b, err := prog.Encode()
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	back, err := ir.Decode(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	b2, err := back.Encode()
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	if !bytes.Equal(b, b2) {
		t.Errorf("encoding does not round-trip: %d bytes, then %d", len(b), len(b2))
	}
	if prog.String() != back.String() {
		t.Errorf("decoded program prints differently")
	}
}

func TestLowerExamples(t *testing.T) {
	paths, err := filepath.Glob("../examples/*.knhk")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			prog := lowerFile(t, path, nil)
			roundTrip(t, prog)
			reports, idle := Soundness(prog, nil)
			for _, r := range reports {
				if !r.Sound {
					for _, p := range r.Problems {
						t.Errorf("%s: %s: %s\n%s", r.Net, p.Kind, p.Message, p.TraceString())
					}
				}
			}
			for _, p := range idle {
				t.Errorf("warning: %s", p.Message)
			}
		})
	}
}

// archiveFS serves the files of a txtar archive, by base name.
func archiveFS(ar *txtar.Archive) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		for _, f := range ar.Files {
			if f.Name == filepath.Base(path) || f.Name == path {
				return f.Data, nil
			}
		}
		return nil, &notFound{path}
	}
}

type notFound struct{ path string }

func (e *notFound) Error() string { return e.path + ": no such file" }

func TestLowerCheckGolden(t *testing.T) {
	paths, _ := filepath.Glob("../lang/check/testdata/golden/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no golden inputs")
	}
	lowered := 0
	for _, path := range paths {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg := &check.Config{ReadFile: archiveFS(ar)}
		pkg, info, diags := check.Load("in.knhk", cfg)
		if diags.HasErrors() {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			prog, ldiags := Lower(pkg, info)
			if ldiags.HasErrors() {
				t.Fatalf("lowering:\n%s", diagText(ldiags))
			}
			if err := prog.Verify(); err != nil {
				t.Fatalf("does not verify: %v\n%s", err, prog)
			}
			roundTrip(t, prog)
		})
		lowered++
	}
	if lowered == 0 {
		t.Fatal("no golden input checks clean")
	}
}

// TestBenchProgramSound lowers the benchmark generator's program, which
// uses most constructs many times over, and proves every net sound: the
// soundness gate of knhk check must accept it.
func TestBenchProgramSound(t *testing.T) {
	src := bench.KNHK(3000)
	pkg, info, diags := check.CheckSource("bench.knhk", src, nil)
	if diags.HasErrors() {
		t.Fatalf("does not check:\n%s", diagText(diags))
	}
	prog, ld := Lower(pkg, info)
	if ld.HasErrors() {
		t.Fatalf("lowering:\n%s", diagText(ld))
	}
	if err := prog.Verify(); err != nil {
		t.Fatal(err)
	}
	reports, idle := Soundness(prog, nil)
	for _, r := range reports {
		if !r.Sound {
			t.Errorf("%s", r.Summary())
		}
	}
	for _, p := range idle {
		t.Errorf("warning: %s", p.Message)
	}
}
