package spirv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
)

// FuzzKernels mutates kernel programs; whatever checks and builds must
// compile to a module whose instructions are well formed and whose ids
// are below its bound, or to diagnostics with a location in the file;
// never a panic.
func FuzzKernels(f *testing.F) {
	for _, path := range spirvtest.Sources() {
		if filepath.Ext(path) != ".knhk" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(spirvtest.Root(), path))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("package p\nkernel k(a: [f32], n: i32) -> [i32] { var s = 0\n for j in 0..3 { s = s + i32(a[i + j]) / n }\n out[i] = s }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		pkg, info, diags := check.CheckSource("fuzz.knhk", src, nil)
		if diags.HasErrors() {
			return
		}
		p, bd := compiler.Lower(pkg, info) // the soundness gate is no concern of kernels, and slow
		if bd.HasErrors() {
			return
		}
		for k := range p.Kernels {
			sh, ds := Kernel(p, k)
			for _, d := range ds {
				if d.Loc.Known() && (d.Loc.Span.Start > d.Loc.Span.End || int(d.Loc.Span.End) > len(src)) {
					t.Fatalf("diagnostic %q outside the source: %v", d.Msg, d.Loc)
				}
			}
			if sh == nil {
				continue
			}
			bound := uint32(sh.Binary[12]) | uint32(sh.Binary[13])<<8 | uint32(sh.Binary[14])<<16 | uint32(sh.Binary[15])<<24
			for _, in := range instructions(t, sh.Binary) {
				op := Opcode(in[0] & 0xffff)
				info, ok := opInfo[op]
				if !ok {
					t.Fatalf("unknown opcode %d", op)
				}
				if info.Result {
					at := 1
					if info.Type {
						at = 2
					}
					if len(in) <= at || in[at] == 0 || in[at] >= bound {
						t.Fatalf("%s: result id out of [1, %d)", info.Name, bound)
					}
				}
			}
		}
	})
}
