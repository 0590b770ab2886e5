// This file tests the kernel generator: the generated packages under
// kerneltest are what it writes now (KNHK_UPDATE=1 rewrites them), and a
// kernel it cannot compile is a diagnostic at the construct.

package golang

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/codegen/golang/kerneltest"
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
