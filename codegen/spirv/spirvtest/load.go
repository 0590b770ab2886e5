// Package spirvtest lists the programs with kernels that the SPIR-V back
// end and the Vulkan runner are tested on, and loads them the way
// `knhk check` and `knhk run` do: check, soundness gate, lowering
// (compiler.Build).
package spirvtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/tools/txtar"

	"github.com/knhk/knhk/codegen/golang/kerneltest"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
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
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Build checks, gates and lowers the program at path (relative to the
// module root); a .txtar archive's in.knhk is the program.
func Build(path string) (*ir.Program, error) {
	full := filepath.Join(Root(), path)
	var cfg *check.Config
	root := full
	if filepath.Ext(full) == ".txtar" {
		ar, err := txtar.ParseFile(full)
		if err != nil {
			return nil, err
		}
		cfg = &check.Config{ReadFile: func(name string) ([]byte, error) {
			for _, f := range ar.Files {
				if f.Name == filepath.Base(name) || f.Name == name {
					return f.Data, nil
				}
			}
			return nil, os.ErrNotExist
		}}
		root = "in.knhk"
	}
	pkg, info, diags := check.Load(root, cfg)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s does not check:\n%s", path, diags.Format())
	}
	prog, bd := compiler.Build(pkg, info)
	if bd.HasErrors() {
		return nil, fmt.Errorf("%s does not build:\n%s", path, bd.Format())
	}
	return prog, nil
}
