// This file tests the kernel generator: the generated packages under
// kerneltest are what it writes now (KNHK_UPDATE=1 rewrites them), and a
// kernel it cannot compile is a diagnostic at the construct.

package golang

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/codegen/golang/kerneltest"
	"github.com/knhk/knhk/compiler/ir"
)

func TestKernelGolden(t *testing.T) {
	for _, s := range kerneltest.Sources {
		t.Run(s.Pkg, func(t *testing.T) {
			p, err := kerneltest.Load(s.Path)
			if err != nil {
				t.Fatal(err)
			}
			src, diags := Kernels(p, s.Pkg)
			if len(diags) > 0 {
				t.Fatalf("%s: %v", s.Path, diags)
			}
			out := filepath.Join("kerneltest", s.Pkg, "kernels.go")
			if os.Getenv("KNHK_UPDATE") != "" {
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(out, src, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			old, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (KNHK_UPDATE=1 writes it)", err)
			}
			if !bytes.Equal(old, src) {
				t.Errorf("%s is stale: run KNHK_UPDATE=1 go test ./codegen/golang -run TestKernelGolden", out)
			}
		})
	}
}

// TestKernelUnsupported: an instruction the Go back end has no kernel
// form for (here a milestone test, which the checker never lets into a
// kernel) is a diagnostic at that instruction (the first, by position), and no
// source.
func TestKernelUnsupported(t *testing.T) {
	p, err := kerneltest.Load("examples/fraud.knhk")
	if err != nil {
		t.Fatal(err)
	}
	body := p.Funcs[p.Kernels[0].Body]
	in := &body.Blocks[0].Instrs[1]
	in.Op, in.Name, in.Args = ir.OpMilestone, "m", nil
	body.Regs[in.Dst] = ir.Bool
	src, diags := Kernels(p, "fraud")
	if src != nil || len(diags) == 0 {
		t.Fatalf("source %d bytes, diagnostics %v; want diagnostics and no source", len(src), diags)
	}
	if diags[0].Loc != in.Loc || !strings.Contains(diags[0].Msg, "cannot compile milestone") {
		t.Fatalf("diagnostic %+v at %v, want one at %v about the milestone", diags[0], diags[0].Loc, in.Loc)
	}
}
