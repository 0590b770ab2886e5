// This file implements the test that every program the repository ships
// (the workflow patterns and the examples) passes the gate of knhk check
// and knhk run: it checks, lowers, verifies and is proven sound.

package compiler

import (
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/lang/check"
)

// shippedPrograms returns the .knhk files under testdata/patterns and
// examples, relative to this package.
func shippedPrograms(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, pat := range []string{"../testdata/patterns/*.knhk", "../examples/*.knhk"} {
		ps, err := filepath.Glob(pat)
		if err != nil || len(ps) == 0 {
			t.Fatalf("no programs match %s (%v)", pat, err)
		}
		paths = append(paths, ps...)
	}
	return paths
}

// TestShippedProgramsPassGate runs every shipped program through
// [Build], the gate knhk check and knhk run call: none may have an error,
// and none a warning either, since the programs are what users copy.
func TestShippedProgramsPassGate(t *testing.T) {
	for _, path := range shippedPrograms(t) {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			pkg, info, diags := check.Load(path, nil)
			if diags.HasErrors() {
				t.Fatalf("does not check: %v", diags)
			}
			prog, ds := Build(pkg, info)
			for _, d := range ds {
				t.Errorf("%s: %s [%s]", d.Severity, d.Error(), d.Code)
			}
			if prog == nil {
				t.Fatal("no program")
			}
		})
	}
}
