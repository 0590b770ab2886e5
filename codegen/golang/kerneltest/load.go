// Package kerneltest holds the kernels the Go back end is tested on,
// compiled: one generated package per source (fraud, etl, kern, scoring,
// ops), regenerated and compared by codegen/golang's TestKernelGolden,
// and run against runtime/eval by this package's tests.
package kerneltest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"golang.org/x/tools/txtar"
)

// Source is a program with kernels and the generated package of them.
type Source struct {
	Path string // relative to the module root
	Pkg  string // the generated package, a directory of this one
}

// Sources are every program with kernels in examples/ and in the compiler
// and checker testdata, and testdata/ops.knhk.
var Sources = []Source{
	{"examples/fraud.knhk", "fraud"},
	{"examples/etl.knhk", "etl"},
	{"compiler/testdata/kernel.txtar", "kern"},
	{"lang/check/testdata/golden/kernel.txtar", "scoring"},
	{"codegen/golang/kerneltest/testdata/ops.knhk", "ops"},
}

// Root is the module root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Check reads and checks the program at path (relative to the module
// root); a .txtar archive's in.knhk is the program, its other files the
// modules it imports. Load here and spirvtest.Build both start from it,
// so the Go and SPIR-V back ends are tested on programs read alike.
func Check(path string) (*check.Package, *check.Info, error) {
	full := filepath.Join(Root(), path)
	var cfg *check.Config
	root := full
	if filepath.Ext(full) == ".txtar" {
		ar, err := txtar.ParseFile(full)
		if err != nil {
			return nil, nil, err
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
		return nil, nil, fmt.Errorf("%s does not check:\n%s", path, diags.Format())
	}
	return pkg, info, nil
}

// Load checks and lowers the program at path (relative to the module
// root; see [Check]) and verifies its IR.
func Load(path string) (*ir.Program, error) {
	pkg, info, err := Check(path)
	if err != nil {
		return nil, err
	}
	prog, ld := compiler.Lower(pkg, info)
	if ld.HasErrors() {
		return nil, fmt.Errorf("%s does not lower:\n%s", path, ld.Format())
	}
	if err := prog.Verify(); err != nil {
		return nil, fmt.Errorf("%s does not verify: %w", path, err)
	}
	return prog, nil
}
