// This file implements the kernel files: for each kernel, the extern "C"
// top function with its interface pragmas and pipelined element loop,
// the IR functions it runs, and its header.

package hls

import (
	"fmt"
	"sort"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// Kernel is the generated C++ of one kernel.
type Kernel struct {
	Name string
	Top  string // the extern "C" top function
	// Files are the kernel's files by name: NAME.h (the top function's
	// prototype), NAME.cpp (the kernel), NAME_tb.cpp (the testbench),
	// NAME_input.txt (a sample input for it) and NAME_hls.tcl (the
	// Vitis HLS script: C-simulation and synthesis).
	Files map[string][]byte
	// Sites are the instructions that can fail, by code: the top
	// function reports the first failing element and its site's code.
	Sites []Site
	// Partitioned names the array parameters copied into completely
	// partitioned local arrays of Bound elements.
	Partitioned map[string]int64
}

// Site is an instruction that can fail in a kernel.
type Site struct {
	Code int32
	Loc  ir.Loc
	What string // "index out of range", "integer division by zero", "conversion out of range"
	Func string // the IR function it is in
}

// HeaderName is the file name of [Header].
const HeaderName = "knhk_hls.h"

// Options tune the generated files.
type Options struct {
	// Pos renders a location for the comments, say "etl.knhk:31" (see
	// codegen/golang's LinePos); nil gives the file and byte offset.
	Pos func(ir.Loc) string
}

// kgen generates one kernel.
type kgen struct {
	p     *ir.Program
	pos   func(ir.Loc) string
	diags []Diagnostic
	need_ []ir.FuncID
	seen  map[ir.FuncID]bool
	sites []Site
}

func (g *kgen) errorf(l ir.Loc, format string, args ...any) {
	g.diags = append(g.diags, Diagnostic{Loc: l, Msg: fmt.Sprintf(format, args...)})
}

func (g *kgen) need(f ir.FuncID) {
	if !g.seen[f] {
		g.seen[f] = true
		g.need_ = append(g.need_, f)
	}
}

// site records a failing instruction and returns its code.
func (g *kgen) site(l ir.Loc, what, fn string) int32 {
	code := int32(len(g.sites) + 1)
	g.sites = append(g.sites, Site{Code: code, Loc: l, What: what, Func: fn})
	return code
}

func (g *kgen) where(l ir.Loc) string {
	if g.pos != nil {
		return g.pos(l)
	}
	name := "?"
	if l.File >= 0 && int(l.File) < len(g.p.Files) {
		name = g.p.Files[l.File].Name
	}
	return fmt.Sprintf("%s:#%d", name, l.Span.Start)
}

// Kernels lints every kernel of p and writes its C++; the diagnostics
// say what the HLS target cannot express, at the kernel's source.
func Kernels(p *ir.Program, opts Options) ([]*Kernel, []Diagnostic) {
	if ds := Lint(p); len(ds) > 0 {
		return nil, ds
	}
	var out []*Kernel
	var ds []Diagnostic
	for _, k := range p.Kernels {
		if k == nil {
			continue
		}
		kn, d := kernel(p, k, opts)
		ds = append(ds, d...)
		if kn != nil {
			out = append(out, kn)
		}
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Loc.Span.Start < ds[j].Loc.Span.Start })
	if len(ds) > 0 {
		return nil, ds
	}
	return out, nil
}

// TopName is the C++ name of kernel name's top function.
func TopName(name string) string { return "knhk_" + name }

// argName is the C++ name of a kernel parameter in the top function:
// the source name, with _ added where it would clash with C++ or the
// function's own names.
func argName(name string) string {
	switch name {
	case "out", "n", "i", "v", "e", "j", "err_elem", "err_code", "fail_elem", "fail_code",
		"alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class",
		"const", "continue", "default", "delete", "do", "double", "else", "enum", "explicit", "export",
		"extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable",
		"namespace", "new", "not", "operator", "or", "private", "protected", "public", "register",
		"return", "short", "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw",
		"true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void",
		"volatile", "while", "xor", "exp", "log", "sqrt", "trunc", "abs", "min", "max":
		return name + "_"
	}
	if strings.HasPrefix(name, "knhk_") || strings.HasPrefix(name, "r") && len(name) > 1 && name[1] >= '0' && name[1] <= '9' {
		return name + "_"
	}
	return name
}

// partitionBound returns, for array parameter r of the kernel body, the
// number of leading elements every index of it stays below when each
// index is a constant or the counter of a counted loop (the shape a
// fully partitioned array needs); false otherwise, or when the array is
// passed on to a fn.
func partitionBound(p *ir.Program, body *ir.Func, r ir.Reg) (int64, bool) {
	c := analyse(body)
	counter := map[ir.Reg]*loop{}
	for h, lp := range c.loops {
		if lp.counted {
			counter[body.Blocks[h].Params[0]] = lp
		}
	}
	bound, used := int64(0), false
	for _, blk := range body.Blocks {
		for _, in := range blk.Instrs {
			for ai, a := range in.Args {
				if a != r {
					continue
				}
				if in.Op != ir.OpIndex || ai != 0 {
					return 0, false
				}
				used = true
				if k, ok := c.constOf(in.Args[1]); ok {
					bound = max(bound, k+1)
				} else if lp := counter[in.Args[1]]; lp != nil {
					bound = max(bound, lp.Hi)
				} else {
					return 0, false
				}
			}
		}
	}
	return bound, used && bound > 0 && bound <= maxPartition
}

// maxPartition is the largest array copied into registers.
const maxPartition = 64

func kernel(p *ir.Program, k *ir.Kernel, opts Options) (*Kernel, []Diagnostic) {
	g := &kgen{p: p, pos: opts.Pos, seen: map[ir.FuncID]bool{}}
	g.need(k.Body)
	body := p.Funcs[k.Body]
	first := -1
	for i, pa := range k.Params {
		if p.KindOf(pa.Type) == ir.KindList && first < 0 {
			first = i
		}
	}
	rk := g.elemKind(k.Result)
	if first < 0 || ctype(rk) == "" {
		g.errorf(k.Loc, "hls: kernel %s: needs an array parameter and an array result of kernel scalars", k.Name)
		return nil, g.diags
	}
	top := TopName(k.Name)
	kn := &Kernel{Name: k.Name, Top: top, Files: map[string][]byte{}, Partitioned: map[string]int64{}}

	// The prototype: arrays as pointers with their lengths, scalars by
	// value, then the output, its length and the error outputs.
	var proto, call []string
	var pragmas []string
	bundle := 0
	var prologue []string
	for i, pa := range k.Params {
		name := argName(pa.Name)
		if p.KindOf(pa.Type) == ir.KindList {
			et := ctype(g.elemKind(pa.Type))
			proto = append(proto, fmt.Sprintf("const %s *%s", et, name), "int32_t "+name+"_len")
			pragmas = append(pragmas,
				fmt.Sprintf("INTERFACE m_axi port=%s offset=slave bundle=gmem%d depth=%d", name, bundle, tbDepth),
				fmt.Sprintf("INTERFACE s_axilite port=%s bundle=control", name),
				fmt.Sprintf("INTERFACE s_axilite port=%s_len bundle=control", name))
			bundle++
			if b, ok := partitionBound(p, body, ir.Reg(i)); ok && i != first {
				kn.Partitioned[pa.Name] = b
				buf := name + "_buf"
				prologue = append(prologue,
					fmt.Sprintf("%s %s[%d];", et, buf, b),
					fmt.Sprintf("KNHK_HLS(ARRAY_PARTITION variable=%s complete dim=1)", buf),
					fmt.Sprintf("for (int32_t j = 0; j < %d; j++) {", b),
					"  KNHK_HLS(PIPELINE II=1)",
					fmt.Sprintf("  %s[j] = j < %s_len ? %s[j] : %s;", buf, name, name, zero(g.elemKind(pa.Type))),
					"}")
				call = append(call, buf, name+"_len")
			} else {
				call = append(call, name, name+"_len")
			}
		} else {
			proto = append(proto, ctype(p.KindOf(pa.Type))+" "+name)
			pragmas = append(pragmas, fmt.Sprintf("INTERFACE s_axilite port=%s bundle=control", name))
			call = append(call, name)
		}
	}
	proto = append(proto, ctype(rk)+" *out", "int32_t n", "int32_t *err_elem", "int32_t *err_code")
	pragmas = append(pragmas,
		fmt.Sprintf("INTERFACE m_axi port=out offset=slave bundle=gmem%d depth=%d", bundle, tbDepth),
		"INTERFACE s_axilite port=out bundle=control",
		"INTERFACE s_axilite port=n bundle=control",
		"INTERFACE s_axilite port=err_elem bundle=control",
		"INTERFACE s_axilite port=err_code bundle=control",
		"INTERFACE s_axilite port=return bundle=control")
	call = append(call, "i", "&v")

	var fns []string
	for i := 0; i < len(g.need_); i++ {
		fns = append(fns, g.function(g.need_[i]))
	}
	// Callees first, so that no prototypes are needed.
	for i, j := 0, len(fns)-1; i < j; i, j = i+1, j-1 {
		fns[i], fns[j] = fns[j], fns[i]
	}
	if len(g.diags) > 0 {
		return nil, g.diags
	}
	kn.Sites = g.sites
	signature := fmt.Sprintf("extern \"C\" void %s(%s)", top, strings.Join(proto, ", "))

	var h strings.Builder
	fmt.Fprintf(&h, "// Code generated by knhk hls. DO NOT EDIT.\n\n#ifndef KNHK_%s_H\n#define KNHK_%s_H\n\n#include \"%s\"\n\n", strings.ToUpper(k.Name), strings.ToUpper(k.Name), HeaderName)
	fmt.Fprintf(&h, "// %s runs kernel %s (%s) over the n elements of %s into out.\n", top, k.Name, g.where(k.Loc), k.Params[first].Name)
	h.WriteString("// *err_code is 0, or the code of the first failing instruction, at\n// element *err_elem (-1 when none fails).\n")
	fmt.Fprintf(&h, "%s;\n\n#endif\n", signature)
	kn.Files[k.Name+".h"] = []byte(h.String())

	var c strings.Builder
	fmt.Fprintf(&c, "// Code generated by knhk hls. DO NOT EDIT.\n//\n// Kernel %s (%s) for Vitis HLS: %s is the top function.\n//\n", k.Name, g.where(k.Loc), top)
	c.WriteString("// Failure codes (the first failing element's is reported):\n")
	for _, s := range g.sites {
		fmt.Fprintf(&c, "//   %d: %s in %s at %s\n", s.Code, s.What, s.Func, g.where(s.Loc))
	}
	fmt.Fprintf(&c, "\n#include \"%s.h\"\n\n", k.Name)
	for _, f := range fns {
		c.WriteString(f)
		c.WriteByte('\n')
	}
	fmt.Fprintf(&c, "%s {\n", signature)
	for _, pr := range pragmas {
		fmt.Fprintf(&c, "  KNHK_HLS(%s)\n", pr)
	}
	for _, l := range prologue {
		fmt.Fprintf(&c, "  %s\n", l)
	}
	c.WriteString("  int32_t fail_elem = -1, fail_code = 0;\n")
	c.WriteString("  for (int32_t i = 0; i < n; i++) {\n")
	c.WriteString("    KNHK_HLS(PIPELINE II=1)\n")
	fmt.Fprintf(&c, "    KNHK_HLS(LOOP_TRIPCOUNT min=1 max=%d)\n", tbDepth)
	fmt.Fprintf(&c, "    %s v = %s;\n", ctype(rk), zero(rk))
	fmt.Fprintf(&c, "    int32_t e = %s(%s);\n", funcName(k.Body), strings.Join(call, ", "))
	c.WriteString("    if (e != 0 && fail_code == 0) {\n      fail_elem = i;\n      fail_code = e;\n    }\n")
	c.WriteString("    out[i] = v;\n  }\n")
	c.WriteString("  *err_elem = fail_elem;\n  *err_code = fail_code;\n}\n")
	kn.Files[k.Name+".cpp"] = []byte(c.String())
	kn.Files[k.Name+"_tb.cpp"] = []byte(testbench(p, k, first))
	kn.Files[k.Name+"_input.txt"] = []byte(sampleInput(p, k))
	kn.Files[k.Name+"_hls.tcl"] = []byte(tclScript("Kernel "+k.Name, top, k.Name, []string{k.Name + ".cpp"}, k.Name+"_tb.cpp", k.Name+"_input.txt"))
	return kn, nil
}

// tbDepth is the array depth the interface pragmas declare for
// co-simulation and the element loop's largest trip count.
const tbDepth = 1 << 20
