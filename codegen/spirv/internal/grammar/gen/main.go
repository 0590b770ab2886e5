// Command gen writes package spirv's tables.go from the SPIR-V grammars
// (go generate ./codegen/spirv runs it).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/knhk/knhk/codegen/spirv/internal/grammar"
)

func main() {
	out := flag.String("o", "tables.go", "output file")
	corePath := flag.String("core", grammar.CorePath, "spirv.core.grammar.json")
	glslPath := flag.String("glsl", grammar.GLSLPath, "extinst.glsl.std.450.grammar.json")
	flag.Parse()
	if err := run(*out, *corePath, *glslPath); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, corePath, glslPath string) error {
	c, err := os.ReadFile(corePath)
	if err != nil {
		return err
	}
	g, err := os.ReadFile(glslPath)
	if err != nil {
		return err
	}
	src, err := grammar.Render(c, g)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
