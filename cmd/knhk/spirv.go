// This file implements "knhk spirv": kernels compiled to SPIR-V modules
// for Vulkan.

package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

var spirvCmd = &command{
	name:      "spirv",
	usageLine: "knhk spirv [--kernel K | --fuse K1,K2,...] [-o OUT] FILE",
	short:     "compile the kernels of a .knhk file to SPIR-V",
	long: `Spirv checks FILE, lowers it and compiles its kernels to SPIR-V 1.3
compute modules (GLCompute, for Vulkan 1.1 and later), one per kernel,
written directly as binary: no GLSL compiler is involved.

With --kernel K only kernel K is compiled. With one kernel to write, OUT is
the module's file (default K.spv); with several, OUT is a directory
(default the current one) that receives K.spv for each kernel K.

With --fuse K1,K2,... the named kernels become one module that computes
all their results in one dispatch (a map with several inputs and
outputs; their results must be equally long), written to OUT (default
K1+K2+....spv).

For each module spirv prints its interface on standard output: the
storage buffer at each binding of descriptor set 0 (the array
parameters, the result, and one u32 that receives the least failing
element or 0xFFFFFFFF) and the push constant words (the dispatch's first
element, the element count, the arrays' lengths, the scalar parameters).
docs/gpu.md describes them; knhk's own runner (KNHK_DEVICE) binds them.

A kernel using a construct SPIR-V cannot express is reported at its
source position, naming the construct, and spirv exits with status 1.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o spirvOptions
		fs.StringVar(&o.kernel, "kernel", "", "compile only kernel `K`")
		fs.StringVar(&o.fuse, "fuse", "", "compile kernels `K1,K2,...` into one module")
		fs.StringVar(&o.out, "o", "", "write to `OUT` (a file for one kernel, else a directory)")
		return func(e *env, args []string) int { return runSPIRV(e, &o, args) }
	},
}

type spirvOptions struct {
	kernel, fuse, out string
}

func runSPIRV(e *env, o *spirvOptions, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one FILE, got %d", len(args))
	}
	if o.kernel != "" && o.fuse != "" {
		return usageError(e, "--kernel and --fuse exclude each other")
	}
	c, code := compileFile(e, args[0])
	if c == nil {
		return code
	}
	var ks []int
	var names []string
	for k, kn := range c.prog.Kernels {
		if kn != nil {
			names = append(names, kn.Name)
			if o.kernel == "" || kn.Name == o.kernel {
				ks = append(ks, k)
			}
		}
	}
	if len(ks) == 0 {
		have := "it declares no kernels"
		if len(names) > 0 {
			have = "have " + strings.Join(names, ", ")
		}
		if o.kernel == "" {
			fmt.Fprintf(e.stderr, "knhk spirv: %s declares no kernels\n", c.path)
		} else {
			fmt.Fprintf(e.stderr, "knhk spirv: no kernel %s in %s (%s)\n", o.kernel, c.path, have)
		}
		return exitUser
	}
	groups := make([][]int, len(ks))
	for i, k := range ks {
		groups[i] = []int{k}
	}
	if o.fuse != "" {
		var fused []int
		for _, name := range strings.Split(o.fuse, ",") {
			k := slices.IndexFunc(c.prog.Kernels, func(kn *ir.Kernel) bool { return kn != nil && kn.Name == strings.TrimSpace(name) })
			if k < 0 {
				fmt.Fprintf(e.stderr, "knhk spirv: --fuse: no kernel %s in %s (have %s)\n", strings.TrimSpace(name), c.path, strings.Join(names, ", "))
				return exitUser
			}
			fused = append(fused, k)
		}
		groups = [][]int{fused}
	}
	var shaders []*spirv.Shader
	var ds source.Diagnostics
	for _, g := range groups {
		sh, diags := spirv.Compile(c.prog, g)
		for _, d := range diags {
			sd := &source.Diagnostic{Severity: source.Error, Code: source.NotImplemented, Message: d.Msg}
			if f := c.files[d.Loc.File]; f != nil && d.Loc.Known() {
				sd.File, sd.Span = f, d.Loc.Span
			}
			ds = append(ds, sd)
		}
		if sh != nil {
			shaders = append(shaders, sh)
		}
	}
	if len(ds) > 0 {
		ds.Sort()
		printDiagnostics(e, ds)
		return exitUser
	}
	dir, file := o.out, ""
	if len(shaders) == 1 && (o.out == "" || !isDir(o.out)) {
		dir, file = "", o.out
		if file == "" {
			file = shaders[0].Name + ".spv"
		}
	}
	if file == "" && dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintf(e.stderr, "knhk spirv: %v\n", err)
			return exitUser
		}
	}
	for _, sh := range shaders {
		path := file
		if path == "" {
			path = filepath.Join(dir, sh.Name+".spv")
		}
		if err := os.WriteFile(path, sh.Binary, 0o644); err != nil {
			fmt.Fprintf(e.stderr, "knhk spirv: %v\n", err)
			return exitUser
		}
		fmt.Fprintf(e.stdout, "%s: kernel %s, %d bytes\n", path, sh.Name, len(sh.Binary))
		describeInterface(e, c.prog, sh)
	}
	return exitOK
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// describeInterface prints a module's bindings and push constant words.
func describeInterface(e *env, p *ir.Program, sh *spirv.Shader) {
	param := func(s spirv.Slot) string { return p.Kernels[sh.Kernels[s.Kernel]].Params[s.Param].Name }
	for i, s := range sh.Buffers {
		switch s.Role {
		case spirv.RoleInput:
			fmt.Fprintf(e.stdout, "  binding %d: %s [%s]\n", i, param(s), s.Kind)
		case spirv.RoleOutput:
			fmt.Fprintf(e.stdout, "  binding %d: result [%s]\n", i, s.Kind)
		case spirv.RoleError:
			fmt.Fprintf(e.stdout, "  binding %d: failed element (u32, 0xFFFFFFFF: none)\n", i)
		}
	}
	for i, s := range sh.Push {
		what := map[spirv.Role]string{spirv.RoleBase: "first element", spirv.RoleCount: "element count"}[s.Role]
		switch s.Role {
		case spirv.RoleLength:
			what = "len(" + param(s) + ")"
		case spirv.RoleScalar:
			what = param(s) + " " + s.Kind.String()
		}
		fmt.Fprintf(e.stdout, "  push %d: %s\n", 4*i, what)
	}
}
