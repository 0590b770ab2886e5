// This file implements one front-end run for each language: the unit of
// work that the benchmark and cmd/frontend time.

package bench

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/syntax"
)

// DefaultLines is the size of the benchmark programs.
const DefaultLines = 100_000

// FrontEndKNHK parses and checks src as one KNHK file. It returns an error
// if either phase reports one, so a benchmark never times a failing run.
func FrontEndKNHK(src []byte) error {
	f, diags := syntax.Parse("gen.knhk", src)
	if diags.HasErrors() {
		return fmt.Errorf("parse: %w", diags)
	}
	_, _, diags = check.Check(f, &check.Config{})
	if diags.HasErrors() {
		return fmt.Errorf("check: %w", diags)
	}
	return nil
}

// ParseKNHK parses src as one KNHK file, without checking it.
func ParseKNHK(src []byte) error {
	if _, diags := syntax.Parse("gen.knhk", src); diags.HasErrors() {
		return fmt.Errorf("parse: %w", diags)
	}
	return nil
}

// GoChecker type-checks Go files with one importer, so that the standard
// library's export data is loaded once, not once per run: the Go toolchain
// caches it too.
type GoChecker struct {
	imp types.Importer
}

// NewGoChecker returns a checker using importer.Default.
func NewGoChecker() *GoChecker { return &GoChecker{imp: importer.Default()} }

// FrontEnd parses src with go/parser and type-checks it with go/types,
// recording types, definitions and uses like a tool would.
func (c *GoChecker) FrontEnd(src []byte) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "gen.go", src, parser.ParseComments)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	conf := types.Config{Importer: c.imp}
	info := &types.Info{
		Types: make(map[ast.Expr]types.TypeAndValue),
		Defs:  make(map[*ast.Ident]types.Object),
		Uses:  make(map[*ast.Ident]types.Object),
	}
	if _, err := conf.Check("orders", fset, []*ast.File{f}, info); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	return nil
}
