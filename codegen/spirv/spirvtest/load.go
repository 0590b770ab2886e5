// Package spirvtest lists the programs with kernels that the SPIR-V back
// end and the Vulkan runner are tested on, and loads them the way
// `knhk check` and `knhk run` do: check, soundness gate, lowering
// (compiler.Build).
package spirvtest

import (
	"fmt"

	"github.com/knhk/knhk/codegen/golang/kerneltest"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
)

// Sources are every program with kernels in examples/ and the tests:
// those of the Go back end, the checker's fulfil example and
// codegen/spirv/testdata/dense.knhk.
func Sources() []string {
	var out []string
	for _, s := range kerneltest.Sources {
		out = append(out, s.Path)
	}
	return append(out, "lang/check/testdata/golden/fulfil.txtar", "codegen/spirv/testdata/dense.knhk")
}

// Root is the module root.
func Root() string { return kerneltest.Root() }

// Build checks, gates and lowers the program at path (relative to the
// module root; a .txtar archive's in.knhk is the program, read by
// kerneltest.Check).
func Build(path string) (*ir.Program, error) {
	pkg, info, err := kerneltest.Check(path)
	if err != nil {
		return nil, err
	}
	prog, bd := compiler.Build(pkg, info)
	if bd.HasErrors() {
		return nil, fmt.Errorf("%s does not build:\n%s", path, bd.Format())
	}
	return prog, nil
}
