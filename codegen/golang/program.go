// This file implements program.go of the generated package: the embedded
// descriptor, the function table and the evaluator.

package golang

import (
	"sort"

	"github.com/dave/jennifer/jen"
)

func (g *gen) programFile() *jen.File {
	f := jen.NewFile(g.opts.Package)
	header(f)
	f.PackageComment("Package " + g.opts.Package + " is program " + g.p.Package + " compiled to Go by knhk build: its nets run on\nruntime/engine from the embedded descriptor, its expressions as the Go\nfunctions of funcs.go.")
	f.Anon("embed")
	f.Comment("descriptor is the program's IR (compiler/ir's encoding), which the\nengine runs; the compiled functions are its expressions.")
	f.Comment("//go:embed program.ir")
	f.Var().Id("descriptor").Index().Byte()

	f.Comment("Descriptor returns the encoded program, as a data directory keeps it.")
	f.Func().Id("Descriptor").Params().Index().Byte().Block(jen.Return(jen.Id("descriptor")))

	f.Comment("Program decodes the embedded program.")
	f.Func().Id("Program").Params().Params(jen.Op("*").Qual(irPath, "Program"), jen.Error()).Block(
		jen.Return(jen.Qual(irPath, "Decode").Call(jen.Id("descriptor"))),
	)

	f.Comment("Evaluator returns the engine.Evaluator of p, the decoded embedded\nprogram: its functions run as compiled Go.")
	f.Func().Id("Evaluator").Params(jen.Id("p").Op("*").Qual(irPath, "Program")).Params(jen.Op("*").Qual(hostPath, "Compiled"), jen.Error()).Block(
		jen.Return(jen.Qual(hostPath, "NewCompiled").Call(jen.Id("p"), jen.Id("funcs").Index(jen.Op(":")))),
	)

	f.Comment("Source is the path of the .knhk file the program was compiled from.")
	f.Const().Id("Source").Op("=").Lit(g.opts.Source)

	var idx []int
	for i := range g.opts.Sources {
		idx = append(idx, int(i))
	}
	sort.Ints(idx)
	var srcs []jen.Code
	for _, i := range idx {
		name := ""
		if i >= 0 && i < len(g.p.Files) {
			name = g.p.Files[i].Name
		}
		srcs = append(srcs, jen.Lit(i).Op(":").Values(jen.Lit(name), jen.Lit(string(g.opts.Sources[int32(i)]))))
	}
	f.Comment("Sources returns the name and text of the program's files by file\nindex, for the positions of runtime failures.")
	f.Func().Id("Sources").Params().Map(jen.Int32()).Index(jen.Lit(2)).String().Block(
		jen.Return(jen.Map(jen.Int32()).Index(jen.Lit(2)).String().Values(srcs...)),
	)
	return f
}
