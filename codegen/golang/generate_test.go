// This file tests the back end's diagnostics: what it cannot compile is
// reported at the construct, and nothing is generated.

package golang_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/codegen/golang"
	"github.com/knhk/knhk/compiler/ir"
)

func TestGenerateDiagnostics(t *testing.T) {
	root := repoRoot(t)
	cases := []struct {
		name   string
		mutate func(*ir.Instr) bool // changes the first instruction it accepts
		want   string
	}{
		{"call with an extra argument", func(in *ir.Instr) bool {
			if in.Op != ir.OpCallFunc {
				return false
			}
			in.Args = append(in.Args, in.Args[0])
			return true
		}, "cannot compile a call of"},
		{"invalid instruction", func(in *ir.Instr) bool {
			if in.Op != ir.OpBinary {
				return false
			}
			in.Op = ir.OpInvalid
			return true
		}, "cannot compile an invalid instruction"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, files := build(t, filepath.Join(root, "codegen", "golang", "testdata", "gen", "bench.knhk"))
			var at ir.Loc
			found := false
			for _, fn := range p.Funcs {
				for _, b := range fn.Blocks {
					for i := range b.Instrs {
						if !found && tc.mutate(&b.Instrs[i]) {
							at, found = b.Instrs[i].Loc, true
						}
					}
				}
			}
			if !found || !at.Known() {
				t.Fatal("no instruction to break")
			}
			out, diags := golang.Generate(p, golang.Options{Pos: golang.LinePos(p, files)})
			if out != nil {
				t.Errorf("files generated despite diagnostics")
			}
			if len(diags) == 0 {
				t.Fatal("no diagnostic")
			}
			d := diags[0]
			if d.Loc != at || !strings.Contains(d.Msg, tc.want) {
				t.Errorf("diagnostic %q at %v, want %q at %v", d.Msg, d.Loc, tc.want, at)
			}
		})
	}
}

// TestGenerateTypeNames: a record or enum named like a declaration of
// the generated package gets another name, so the package compiles.
func TestGenerateTypeNames(t *testing.T) {
	src := "package rt\n\ntype Source = { name: string }\ntype Program = enum { a, b }\n\nworkflow W(s: Source, p: Program) -> string {\n  return s.name\n}\n"
	types := string(generated(t, "rt.knhk", src)["types.go"])
	for _, want := range []string{"type SourceType struct", "type ProgramType int", "ProgramTypeB ProgramType = 1"} {
		if !strings.Contains(types, want) {
			t.Errorf("types.go lacks %q:\n%s", want, types)
		}
	}
}
