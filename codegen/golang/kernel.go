// This file implements the compilation of kernels to Go loops: for each
// kernel, a typed entry function that runs its body over the elements
// (split over goroutines above vec.ParallelMin, a column at a time
// through runtime/vec where the body allows), and an adapter on
// runtime/eval values for the compiled program's kernel calls.

package golang

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

const vecPath = "github.com/knhk/knhk/runtime/vec"

// Kernels compiles the kernels of p into a Go source file of package pkg:
// for kernel NAME, Kernel<Name>(mode, args...) on Go slices, and the table
// KernelValues of adapters on runtime/eval values, indexed like
// p.Kernels. It returns diagnostics, and no source, for kernels it cannot
// compile.
func Kernels(p *ir.Program, pkg string) ([]byte, []Diagnostic) {
	f := jen.NewFile(pkg)
	header(f)
	g := &kgen{p: p, funcs: map[ir.FuncID]bool{}}
	g.kernelsInto(f)
	if len(g.diags) > 0 {
		sort.SliceStable(g.diags, func(i, j int) bool { return g.diags[i].Loc.Span.Start < g.diags[j].Loc.Span.Start })
		return nil, g.diags
	}
	var b bytes.Buffer
	if err := f.Render(&b); err != nil {
		return nil, []Diagnostic{{Loc: ir.NoLoc, Msg: fmt.Sprintf("internal error: kernels: %v", err)}}
	}
	return b.Bytes(), nil
}

// kernelsInto adds every kernel of g.p, the functions their bodies call
// and the shared helpers to f.
func (g *kgen) kernelsInto(f *jen.File) {
	var table []jen.Code
	for k, kn := range g.p.Kernels {
		if kn == nil {
			table = append(table, jen.Nil())
			continue
		}
		f.Add(g.kernel(k, kn))
		f.Add(g.adapter(k, kn))
		table = append(table, jen.Id(fmt.Sprintf("kernelValues%d", k)))
	}
	for i := 0; i < len(g.order); i++ {
		f.Add(g.scalarFunc(g.order[i]))
	}
	f.Comment("KernelValues runs kernel i of the program on runtime/eval values, as")
	f.Comment("eval.RunKernel does; a compiled program passes vec.ModeAuto.")
	f.Var().Id("KernelValues").Op("=").Index().Func().Params(jen.Qual(vecPath, "Mode"), jen.Index().Qual(evalPath, "Value")).Params(jen.Qual(evalPath, "Value"), jen.Error()).Values(table...)
	f.Comment("kernelFail is runtime/eval's error for a failing kernel instruction.")
	f.Func().Id("kernelFail").Params(jen.List(jen.Id("file"), jen.Id("start"), jen.Id("end")).Int(), jen.List(jen.Id("fn"), jen.Id("msg")).String()).Error().Block(
		jen.Return(jen.Op("&").Qual(evalPath, "Error").Values(jen.Dict{
			jen.Id("Loc"): jen.Qual(irPath, "Loc").Values(jen.Dict{
				jen.Id("File"): jen.Int32().Call(jen.Id("file")),
				jen.Id("Span"): jen.Qual(sourcePath, "Span").Values(jen.Dict{
					jen.Id("Start"): jen.Qual(sourcePath, "Pos").Call(jen.Id("start")),
					jen.Id("End"):   jen.Qual(sourcePath, "Pos").Call(jen.Id("end")),
				}),
			}),
			jen.Id("Func"): jen.Id("fn"),
			jen.Id("Msg"):  jen.Id("msg"),
		})),
	)
}

// KernelName is the Go name of the entry function of kernel name.
func KernelName(name string) string { return "Kernel" + exported(name) }

func (g *kgen) fileName(l ir.Loc) string {
	if l.File >= 0 && int(l.File) < len(g.p.Files) {
		return g.p.Files[l.File].Name
	}
	return "?"
}

// kernel generates the entry function of kernel k.
func (g *kgen) kernel(k int, kn *ir.Kernel) jen.Code {
	res, ok := g.kgoType(kn.Result)
	if !ok || g.p.KindOf(kn.Result) != ir.KindList {
		g.errorf(kn.Loc, "kernel %s: result type %s is not a kernel array", kn.Name, g.p.TypeString(kn.Result))
		return jen.Null()
	}
	if kn.Body < 0 || int(kn.Body) >= len(g.p.Funcs) {
		g.errorf(kn.Loc, "kernel %s has no body", kn.Name)
		return jen.Null()
	}
	g.need(kn.Body)
	first := -1
	var params, args []jen.Code
	for i, pa := range kn.Params {
		t, ok := g.kgoType(pa.Type)
		if !ok {
			g.errorf(kn.Loc, "kernel %s: parameter %s has type %s, not a kernel type", kn.Name, pa.Name, g.p.TypeString(pa.Type))
			return jen.Null()
		}
		if first < 0 && g.p.KindOf(pa.Type) == ir.KindList {
			first = i
		}
		params = append(params, jen.Id(kparamName(pa.Name)).Add(t))
		args = append(args, jen.Id(kparamName(pa.Name)))
	}
	if first < 0 {
		g.errorf(kn.Loc, "kernel %s has no array parameter", kn.Name)
		return jen.Null()
	}
	name := KernelName(kn.Name)
	cols, why := g.columns(k, kn)
	loop := []jen.Code{}
	if cols != nil {
		loop = append(loop, jen.If(jen.Id("mode").Op("&").Qual(vecPath, "ModeColumns").Op("!=").Lit(0).Op("&&").
			Id(fmt.Sprintf("kernelColumns%d", k)).Call(append([]jen.Code{jen.Id("out"), jen.Id("lo"), jen.Id("hi")}, args...)...)).Block(
			jen.Return(jen.Lit(-1), jen.Nil())))
	}
	loop = append(loop,
		jen.For(jen.Id("i").Op(":=").Id("lo"), jen.Id("i").Op("<").Id("hi"), jen.Id("i").Op("++")).Block(
			// Dirty upper vector halves slow math's assembly down a
			// hundredfold on some machines; see vec.ClearUpper.
			vq("ClearUpper").Call(),
			jen.List(jen.Id("v"), jen.Id("err")).Op(":=").Id(kfuncName(kn.Body)).Call(append(append([]jen.Code{}, args...), jen.Int32().Call(jen.Id("i")))...),
			jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Id("i"), jen.Id("err"))),
			jen.Id("out").Index(jen.Id("i")).Op("=").Id("v"),
		),
		jen.Return(jen.Lit(-1), jen.Nil()),
	)
	doc := fmt.Sprintf("%s runs kernel %s (%s:#%d) over the elements of %s.", name, kn.Name, g.fileName(kn.Loc), kn.Loc.Span.Start, kn.Params[first].Name)
	if cols == nil {
		doc += " Its body runs one element at a time: " + why + "."
	}
	code := jen.Comment(doc).Line().Func().Id(name).Params(append([]jen.Code{jen.Id("mode").Qual(vecPath, "Mode")}, params...)...).Params(res, jen.Error()).Block(
		jen.Id("n").Op(":=").Len(jen.Id(kparamName(kn.Params[first].Name))),
		jen.If(jen.Int64().Call(jen.Id("n")).Op(">").Lit(1<<31-1)).Block(jen.Return(jen.Nil(),
			jen.Id("kernelFail").Call(jen.Lit(int(kn.Loc.File)), jen.Lit(int(kn.Loc.Span.Start)), jen.Lit(int(kn.Loc.Span.End)), jen.Lit(kn.Name),
				jen.Qual("fmt", "Sprintf").Call(jen.Lit("kernel "+kn.Name+": %d elements do not fit an i32 index"), jen.Id("n"))))),
		jen.Id("out").Op(":=").Make(res, jen.Id("n")),
		jen.Id("split").Op(":=").Id("n").Op("+").Lit(1),
		jen.If(jen.Id("mode").Op("&").Qual(vecPath, "ModeSplit").Op("!=").Lit(0)).Block(jen.Id("split").Op("=").Qual(vecPath, "ParallelMin")),
		jen.Id("err").Op(":=").Qual(vecPath, "Parallel").Call(jen.Id("n"), jen.Id("split"),
			jen.Func().Params(jen.List(jen.Id("lo"), jen.Id("hi")).Int()).Params(jen.Int(), jen.Error()).Block(loop...)),
		jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("err"))),
		jen.Return(jen.Id("out"), jen.Nil()),
	)
	if cols != nil {
		code = code.Line().Line().Add(cols)
	}
	return code
}

// adapter generates kernelValues<k>: kernel k on runtime/eval values.
func (g *kgen) adapter(k int, kn *ir.Kernel) jen.Code {
	body := []jen.Code{
		jen.If(jen.Len(jen.Id("args")).Op("!=").Lit(len(kn.Params))).Block(jen.Return(jen.Qual(evalPath, "Value").Values(),
			jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("kernel %s takes %d arguments, not %%d", kn.Name, len(kn.Params))), jen.Len(jen.Id("args"))))),
	}
	var call []jen.Code
	for i, pa := range kn.Params {
		a := jen.Id("args").Index(jen.Lit(i))
		x := fmt.Sprintf("a%d", i)
		call = append(call, jen.Id(x))
		if g.p.KindOf(pa.Type) == ir.KindList {
			et := g.p.Type(pa.Type).Elem
			t, _ := g.kgoType(pa.Type)
			body = append(body,
				jen.Id(x).Op(":=").Make(t, a.Clone().Dot("Len").Call()),
				jen.For(jen.Id("j").Op(":=").Range().Id(x)).Block(
					jen.Id(x).Index(jen.Id("j")).Op("=").Add(fromValue(g.p.KindOf(et), a.Clone().Dot("Index").Call(jen.Id("j"))))))
		} else {
			body = append(body, jen.Id(x).Op(":=").Add(fromValue(g.p.KindOf(pa.Type), a)))
		}
	}
	ek := g.p.KindOf(g.p.Type(kn.Result).Elem)
	body = append(body,
		jen.List(jen.Id("out"), jen.Id("err")).Op(":=").Id(KernelName(kn.Name)).Call(append([]jen.Code{jen.Id("mode")}, call...)...),
		jen.If(jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Qual(evalPath, "Value").Values(), jen.Id("err"))),
		jen.Id("vs").Op(":=").Make(jen.Index().Qual(evalPath, "Value"), jen.Len(jen.Id("out"))),
		jen.For(jen.List(jen.Id("j"), jen.Id("x")).Op(":=").Range().Id("out")).Block(
			jen.Id("vs").Index(jen.Id("j")).Op("=").Qual(evalPath, map[ir.Kind]string{ir.KindF32: "F32", ir.KindI32: "I32", ir.KindU32: "U32", ir.KindBool: "Bool"}[ek]).Call(jen.Id("x"))),
		jen.Return(jen.Qual(evalPath, "List").Call(jen.Id("vs")), jen.Nil()),
	)
	return jen.Commentf("kernelValues%d runs %s on runtime/eval values.", k, KernelName(kn.Name)).Line().
		Func().Id(fmt.Sprintf("kernelValues%d", k)).Params(jen.Id("mode").Qual(vecPath, "Mode"), jen.Id("args").Index().Qual(evalPath, "Value")).Params(jen.Qual(evalPath, "Value"), jen.Error()).Block(body...)
}

// fromValue converts runtime/eval value v of kernel scalar kind k to Go.
func fromValue(k ir.Kind, v *jen.Statement) jen.Code {
	switch k {
	case ir.KindF32:
		return jen.Float32().Call(v.Dot("AsFloat").Call())
	case ir.KindI32:
		return jen.Int32().Call(v.Dot("AsInt").Call())
	case ir.KindU32:
		return jen.Uint32().Call(v.Dot("AsInt").Call())
	}
	return v.Dot("AsBool").Call()
}

// kparamName is the Go name of a kernel parameter in its entry function:
// the source name, with a _ added where it would be a Go keyword,
// predeclared identifier or one of the function's own variables.
func kparamName(name string) string {
	switch name {
	case "n", "mode", "split", "err", "lo", "hi", "i", "v", "vec", "fmt", "math", "strconv",
		"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
		"for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
		"return", "select", "struct", "switch", "type", "var",
		"bool", "int32", "uint32", "float32", "len", "make", "min", "max", "nil", "true", "false":
		return name + "_"
	}
	return name
}
