// This file implements the fuzz test of the lowering: any source that
// checks clean lowers without panicking, and when the lowering reports no
// error the program verifies, round-trips through its encoding and can be
// explored by the soundness analysis.

package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/compiler/sound"
	"github.com/knhk/knhk/lang/check"
	"golang.org/x/tools/txtar"
)

func FuzzLower(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*.knhk")
	patterns, _ := filepath.Glob("../testdata/patterns/*.knhk")
	seeds = append(seeds, patterns...)
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	golden, _ := filepath.Glob("testdata/*.txtar")
	for _, p := range golden {
		if ar, err := txtar.ParseFile(p); err == nil {
			for _, fl := range ar.Files {
				if fl.Name == "in.knhk" {
					f.Add(fl.Data)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// Imports would read the file system; keep to one file.
		cfg := &check.Config{ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}
		pkg, info, diags := check.CheckSource("fuzz.knhk", src, cfg)
		if diags.HasErrors() || pkg == nil {
			return
		}
		// Lower alone, on purpose: this fuzzer tests the lowering of any
		// program that checks, sound or not, so it must not stop at the
		// soundness proof that Build (the gate of knhk run) adds; it runs
		// the analysis itself below, bounded, to check it does not panic.
		prog, ld := Lower(pkg, info)
		if ld.HasErrors() {
			return
		}
		if err := prog.Verify(); err != nil {
			t.Fatalf("lowered program does not verify: %v", err)
		}
		roundTrip(t, prog)
		sound.CheckProgram(prog, &sound.Options{MaxStates: 2000})
	})
}
