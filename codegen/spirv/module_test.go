package spirv

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/knhk/knhk/codegen/spirv/spirvtest"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

// instructions splits a module into its instructions (after the header).
func instructions(t *testing.T, bin []byte) [][]uint32 {
	t.Helper()
	words := make([]uint32, len(bin)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(bin[4*i:])
	}
	if words[0] != MagicNumber || words[1] != Version {
		t.Fatalf("header %#x %#x", words[0], words[1])
	}
	var out [][]uint32
	for i := 5; i < len(words); {
		n := int(words[i] >> 16)
		if n == 0 || i+n > len(words) {
			t.Fatalf("bad instruction length %d at word %d", n, i)
		}
		out = append(out, words[i:i+n])
		i += n
	}
	return out
}

// TestTypesAndConstantsDeduplicated: no two type or constant
// instructions of a module are equal but for their result id.
func TestTypesAndConstantsDeduplicated(t *testing.T) {
	for _, path := range spirvtest.Sources() {
		p, err := spirvtest.Build(path)
		if err != nil {
			t.Fatal(err)
		}
		for k := range p.Kernels {
			sh, diags := Kernel(p, k)
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			seen := map[string]bool{}
			for _, in := range instructions(t, sh.Binary) {
				op := Opcode(in[0] & 0xffff)
				var key string
				switch {
				case op >= OpTypeVoid && op <= OpTypeFunction && op != OpTypeStruct:
					key = fmt.Sprint(op, in[2:]) // result id first
				case op == OpConstant || op == OpConstantTrue || op == OpConstantFalse:
					key = fmt.Sprint(op, in[1], in[3:]) // type, id, value
				default:
					continue
				}
				if seen[key] {
					t.Errorf("%s %s: duplicate %s", path, sh.Name, opInfo[op].Name)
				}
				seen[key] = true
			}
		}
	}
}

// TestUnexpressible builds kernels the checker would reject but the IR
// can hold and requires a diagnostic that names SPIR-V and the construct,
// at the instruction's location.
func TestUnexpressible(t *testing.T) {
	at := ir.Loc{File: 0, Span: source.Span{Start: 40, End: 47}}
	for name, body := range map[string]func(p *ir.Program, b *ir.FuncBuilder) ir.Reg{
		"a string": func(p *ir.Program, b *ir.FuncBuilder) ir.Reg {
			b.At(at).Str("x")
			return b.Const(ir.F32, ir.Const{Kind: ir.ConstFloat, Float: 1})
		},
		"a list literal": func(p *ir.Program, b *ir.FuncBuilder) ir.Reg {
			one := b.Const(ir.F32, ir.Const{Kind: ir.ConstFloat, Float: 1})
			b.At(at).F.Blocks[0].Instrs = append(b.F.Blocks[0].Instrs, ir.Instr{Op: ir.OpMakeList, Dst: b.NewReg(p.ListOf(ir.F32)), Args: []ir.Reg{one}, Loc: at})
			return one
		},
		"negated u32": func(p *ir.Program, b *ir.FuncBuilder) ir.Reg {
			u := b.Const(ir.U32, ir.Const{Kind: ir.ConstInt, Int: 3})
			b.At(at)
			d := b.NewReg(ir.U32)
			b.F.Blocks[0].Instrs = append(b.F.Blocks[0].Instrs, ir.Instr{Op: ir.OpUnary, Sub: uint8(ir.UnNeg), Dst: d, Args: []ir.Reg{u}, Loc: at})
			return b.Const(ir.F32, ir.Const{Kind: ir.ConstFloat, Float: 1})
		},
	} {
		p := ir.NewProgram("bad")
		p.Files = []ir.File{{Name: "bad.knhk", Size: 100}}
		arr := p.ListOf(ir.F32)
		b := ir.NewFunc("k", ir.F32, ir.Param{Name: "a", Type: arr}, ir.Param{Name: "i", Type: ir.I32})
		b.Return(body(p, b))
		p.Kernels = []*ir.Kernel{{Name: "k", Params: []ir.Param{{Name: "a", Type: arr}}, Result: arr, Body: p.AddFunc(b.F)}}
		sh, diags := Kernel(p, 0)
		if sh != nil || len(diags) == 0 {
			t.Errorf("%s: compiled", name)
			continue
		}
		d := diags[0]
		if d.Loc != at || len(d.Msg) < 30 || d.Msg[:28] != "spirv: SPIR-V cannot express" {
			t.Errorf("%s: diagnostic %q at %v, want one naming SPIR-V at %v", name, d.Msg, d.Loc, at)
		}
		t.Logf("%s: %s", name, d.Msg)
	}
}

// TestControlFlowForms: straight bodies and branches are emitted without
// the dispatch loop (no OpSwitch), fraud's risk as straight-line selects;
// bodies with loops or calls run in the dispatch loop (one OpLoopMerge,
// one OpSwitch). Loops stay there on purpose: as structured SPIR-V loops,
// lavapipe unrolled them and folded inf * 0 to 0 (Vulkan leaves
// infinities and NaN to the implementation), which the dispatch loop's
// shape prevents, so the nested kernel's results would differ.
func TestControlFlowForms(t *testing.T) {
	count := func(path, kernel string) (switches, loops int) {
		p, err := spirvtest.Build(path)
		if err != nil {
			t.Fatal(err)
		}
		for k, kn := range p.Kernels {
			if kn.Name != kernel {
				continue
			}
			sh, diags := Kernel(p, k)
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			for _, in := range instructions(t, sh.Binary) {
				switch Opcode(in[0] & 0xffff) {
				case OpSwitch:
					switches++
				case OpLoopMerge:
					loops++
				}
			}
			return switches, loops
		}
		t.Fatalf("no kernel %s in %s", kernel, path)
		return 0, 0
	}
	for _, c := range []struct {
		path, kernel    string
		switches, loops int
	}{
		{"examples/etl.knhk", "score", 1, 1},
		{"codegen/spirv/testdata/dense.knhk", "dense", 1, 1},
		{"examples/fraud.knhk", "risk", 0, 0},
		{"codegen/spirv/testdata/dense.knhk", "guarded", 0, 0},
		{"codegen/spirv/testdata/dense.knhk", "nested", 1, 1},
		{"codegen/spirv/testdata/dense.knhk", "armloop", 1, 1},
		{"codegen/golang/kerneltest/testdata/ops.knhk", "mix", 1, 1},
	} {
		s, l := count(c.path, c.kernel)
		if s != c.switches || l != c.loops {
			t.Errorf("%s %s: %d OpSwitch, %d OpLoopMerge; want %d, %d", c.path, c.kernel, s, l, c.switches, c.loops)
		}
	}
}
