package spirv_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
)

// validate runs spirv-val on a module; CI installs spirv-tools, so a
// missing tool fails there (KNHK_REQUIRE_E2E) and skips elsewhere.
func validate(t *testing.T, name string, bin []byte) {
	t.Helper()
	tool, err := exec.LookPath("spirv-val")
	if err != nil {
		if os.Getenv("KNHK_REQUIRE_E2E") != "" {
			t.Fatalf("spirv-val not found: %v", err)
		}
		t.Skip("spirv-val not installed (Debian spirv-tools)")
	}
	path := filepath.Join(t.TempDir(), name+".spv")
	if err := os.WriteFile(path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "--target-env", "vulkan1.1", path).CombinedOutput()
	if err != nil {
		dis, _ := exec.Command("spirv-dis", path).CombinedOutput()
		t.Fatalf("%s: spirv-val: %v\n%s\n%s", name, err, out, dis)
	}
}

func TestKernelsValidate(t *testing.T) {
	for _, path := range spirvtest.Sources() {
		prog, err := spirvtest.Build(path)
		if err != nil {
			t.Fatal(err)
		}
		for k, kn := range prog.Kernels {
			sh, diags := spirv.Kernel(prog, k)
			if len(diags) > 0 {
				t.Errorf("%s %s: %v", path, kn.Name, diags)
				continue
			}
			validate(t, kn.Name, sh.Binary)
		}
	}
}

func TestReduceValidate(t *testing.T) {
	for _, op := range []spirv.ReduceOp{spirv.ReduceSum, spirv.ReduceMin, spirv.ReduceMax} {
		for _, k := range []ir.Kind{ir.KindF32, ir.KindI32, ir.KindU32} {
			sh, err := spirv.Reduce(op, k)
			if err != nil {
				t.Fatal(err)
			}
			validate(t, sh.Name, sh.Binary)
		}
	}
	sh, err := spirv.Reduce(spirv.ReduceCount, ir.KindBool)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, sh.Name, sh.Binary)
	if _, err := spirv.Reduce(spirv.ReduceSum, ir.KindBool); err == nil {
		t.Error("a sum of bools compiled")
	}
}

// TestFusedValidates compiles several kernels into one module (a map
// with several inputs and outputs).
func TestFusedValidates(t *testing.T) {
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	var ks []int
	for k, kn := range p.Kernels {
		if kn.Name == "gate" || kn.Name == "expf" || kn.Name == "mix" {
			ks = append(ks, k)
		}
	}
	sh, diags := spirv.Compile(p, ks)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	outs := 0
	for _, b := range sh.Buffers {
		if b.Role == spirv.RoleOutput {
			outs++
		}
	}
	// mix's 4 arrays, gate's 1, expf's 1, 3 results, the error word.
	if outs != 3 || len(sh.Buffers) != 10 {
		t.Errorf("%d buffers, %d outputs: %+v", len(sh.Buffers), outs, sh.Buffers)
	}
	validate(t, sh.Name, sh.Binary)
}

// TestGLSLBuiltins compiles every f32 builtin that is one GLSL.std.450
// instruction (the language offers exp, log and sqrt; the table has the
// rest for when it offers them) and validates the module.
func TestGLSLBuiltins(t *testing.T) {
	p := ir.NewProgram("builtins")
	p.Files = []ir.File{{Name: "builtins.knhk"}}
	arr := p.ListOf(ir.F32)
	b := ir.NewFunc("k", ir.F32, ir.Param{Name: "a", Type: arr}, ir.Param{Name: "i", Type: ir.I32})
	x := b.Index(ir.F32, b.Param(0), b.Param(1))
	acc := x
	for _, name := range []string{"exp", "log", "sqrt", "pow", "floor", "ceil", "trunc", "round", "tanh", "sin", "cos", "tan", "exp2", "log2", "abs", "min", "max"} {
		args := []ir.Reg{acc}
		if name == "pow" || name == "min" || name == "max" {
			args = append(args, x)
		}
		acc = b.Builtin(ir.F32, name, ir.NoFunc, args...)
	}
	b.Return(acc)
	p.Kernels = []*ir.Kernel{{Name: "k", Params: []ir.Param{{Name: "a", Type: arr}}, Result: arr, Body: p.AddFunc(b.F)}}
	sh, diags := spirv.Kernel(p, 0)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	validate(t, "builtins", sh.Binary)
}
