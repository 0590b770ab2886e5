// This file implements the robustness test: lowering the checker's
// partial results for broken inputs reports problems but never panics.

package compiler

import (
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/lang/check"
)

// TestLowerBrokenInputs lowers what the checker produced for every input
// of its error tests. Lower's contract asks for a clean check, but a
// caller that ignores it must get diagnostics, not a crash.
func TestLowerBrokenInputs(t *testing.T) {
	paths, _ := filepath.Glob("../lang/check/testdata/errors/*.knhk")
	if len(paths) == 0 {
		t.Fatal("no inputs")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			pkg, info, _ := check.Load(path, nil)
			if pkg == nil {
				return
			}
			Lower(pkg, info)
		})
	}
}

func TestLowerNothing(t *testing.T) {
	prog, diags := Lower(nil, nil)
	if prog == nil || !diags.HasErrors() {
		t.Fatalf("Lower(nil, nil) = %v, %v; want an empty program and an error", prog, diags)
	}
	prog, diags = Lower(&check.Package{Name: "p"}, check.NewInfo())
	if prog == nil || !diags.HasErrors() {
		t.Fatalf("Lower of a package without a file = %v, %v; want an empty program and an error", prog, diags)
	}
}
