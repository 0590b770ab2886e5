// This file implements the Go representation of registers: which IR
// types compiled code keeps in Go types instead of eval.Value, and the
// conversions between the two.
//
// A register's representation ("rep") is the text of its Go type, or ""
// for eval.Value. bool, int, float and string are Go scalars; a named
// record whose fields all have a Go representation is its struct of
// types.go; a list of such elements is a slice. Everything else (enums,
// optionals, maps, bytes, durations, times, the 32-bit numbers, records
// that refer to themselves) stays an eval.Value. Functions take and
// return their parameters and results in their representation, so a
// guard on a record reads a struct field and a filter over a list of
// records calls a typed function on each struct, with no boxing; the
// entry of the function table converts at the edge, and a list is
// converted once per list value ([eval.Value.Memo]).

package golang

import (
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// rep is the representation of type t.
func (g *gen) rep(t ir.TypeID) string {
	switch t {
	case ir.Bool:
		return "bool"
	case ir.Int:
		return "int64"
	case ir.Float:
		return "float64"
	case ir.String:
		return "string"
	}
	if g.reps == nil {
		g.reps = map[ir.TypeID]string{}
		g.repType = map[string]ir.TypeID{}
	}
	if r, ok := g.reps[t]; ok {
		return r
	}
	g.reps[t] = "" // a type that reaches itself stays a Value
	r := g.compositeRep(t)
	g.reps[t] = r
	if _, ok := g.repType[r]; !ok && r != "" {
		g.repType[r] = t
	}
	return r
}

func (g *gen) compositeRep(t ir.TypeID) string {
	ty := g.p.Type(t)
	if ty == nil {
		return ""
	}
	switch ty.Kind {
	case ir.KindList:
		if e := g.rep(ty.Elem); e != "" {
			return "[]" + e
		}
	case ir.KindRecord:
		if ty.Name == "" || !g.uniqueRecord(t) {
			return ""
		}
		names := map[string]bool{}
		for _, f := range ty.Fields {
			n := exported(f.Name)
			if names[n] || g.rep(f.Type) == "" {
				return ""
			}
			names[n] = true
		}
		return g.typeName(t)
	}
	return ""
}

// uniqueRecord reports whether no other record or enum of the program
// has record t's Go name, so that the struct of types.go is t's.
func (g *gen) uniqueRecord(t ir.TypeID) bool {
	name := g.typeName(t)
	for i := range g.p.Types {
		id := ir.FirstComposite + ir.TypeID(i)
		o := g.p.Type(id)
		if id != t && o.Name != "" && (o.Kind == ir.KindRecord || o.Kind == ir.KindEnum) && g.typeName(id) == name {
			return false
		}
	}
	return true
}

// composite reports whether rep is a struct or a slice.
func composite(rep string) bool {
	switch rep {
	case "", "bool", "int64", "float64", "string":
		return false
	}
	return true
}

// goRegType is the Go type of representation rep.
func goRegType(rep string) *jen.Statement {
	if rep == "" {
		return jen.Qual(evalPath, "Value")
	}
	if e, ok := strings.CutPrefix(rep, "[]"); ok {
		return jen.Index().Add(goRegType(e))
	}
	return jen.Id(rep)
}

// helperName is the suffix of the conversion functions of a composite
// representation: box_Order, unbox_list_Order.
func helperName(rep string) string { return strings.ReplaceAll(rep, "[]", "list_") }

// useRep records that the conversions of rep (and of its parts) are
// called, so that funcs.go defines them.
func (g *gen) useRep(rep string) {
	if !composite(rep) || g.usedReps[rep] {
		return
	}
	if g.usedReps == nil {
		g.usedReps = map[string]bool{}
	}
	g.usedReps[rep] = true
	if e, ok := strings.CutPrefix(rep, "[]"); ok {
		g.useRep(e)
		return
	}
	for _, f := range g.p.Type(g.repType[rep]).Fields {
		g.useRep(g.rep(f.Type))
	}
}

// box is the Value of v, a Go value of representation t (n, the
// *eval.Native, is in scope).
func (g *gen) box(v jen.Code, t string) jen.Code {
	switch t {
	case "":
		return v
	case "bool":
		return jen.Qual(evalPath, "Bool").Call(v)
	case "int64":
		return jen.Qual(evalPath, "Int").Call(v)
	case "float64":
		return jen.Qual(evalPath, "Float").Call(v)
	case "string":
		return jen.Qual(evalPath, "Str").Call(v)
	}
	g.useRep(t)
	return jen.Id("box_"+helperName(t)).Call(jen.Id("n"), v)
}

// unbox is the Go value of representation t held by the Value v.
func (g *gen) unbox(v jen.Code, t string) jen.Code {
	switch t {
	case "":
		return v
	case "bool":
		return jen.Add(v).Dot("AsBool").Call()
	case "int64":
		return jen.Add(v).Dot("AsInt").Call()
	case "float64":
		return jen.Add(v).Dot("AsFloat").Call()
	case "string":
		return jen.Add(v).Dot("AsString").Call()
	}
	g.useRep(t)
	return jen.Id("unbox_" + helperName(t)).Call(v)
}

// conv is v, of representation from, in representation to.
func (g *gen) conv(v jen.Code, from, to string) jen.Code {
	if from == to {
		return v
	}
	return g.unbox(g.box(v, from), to)
}

// zeroOf is the zero Go value of representation t.
func zeroOf(t string) jen.Code {
	switch {
	case t == "":
		return zeroValue()
	case t == "bool":
		return jen.False()
	case t == "int64", t == "float64":
		return jen.Lit(0)
	case t == "string":
		return jen.Lit("")
	case strings.HasPrefix(t, "[]"):
		return jen.Nil()
	}
	return jen.Id(t).Values()
}

// convHelpers are the conversion functions of the composite
// representations the functions use, in a fixed order.
func (g *gen) convHelpers() []jen.Code {
	reps := make([]string, 0, len(g.usedReps))
	for r := range g.usedReps {
		reps = append(reps, r)
	}
	sort.Strings(reps)
	var out []jen.Code
	native := jen.Id("n").Op("*").Qual(evalPath, "Native")
	for _, r := range reps {
		h := helperName(r)
		if e, ok := strings.CutPrefix(r, "[]"); ok {
			out = append(out,
				jen.Commentf("box_%s is a %s as a list Value.", h, r),
				jen.Func().Id("box_"+h).Params(native, jen.Id("xs").Add(goRegType(r))).Qual(evalPath, "Value").Block(
					jen.Id("out").Op(":=").Make(jen.Index().Qual(evalPath, "Value"), jen.Len(jen.Id("xs"))),
					jen.For(jen.List(jen.Id("i"), jen.Id("x")).Op(":=").Range().Id("xs")).Block(
						jen.Id("out").Index(jen.Id("i")).Op("=").Add(g.box(jen.Id("x"), e)),
					),
					jen.Return(jen.Qual(evalPath, "List").Call(jen.Id("out"))),
				), jen.Line(),
				jen.Commentf("key_%s identifies the %s memo of a list Value.", h, r),
				jen.Var().Id("key_"+h).Op("=").New(jen.Byte()), jen.Line(),
				jen.Commentf("unbox_%s is the list Value v as a %s, converted once per list.", h, r),
				jen.Func().Id("unbox_"+h).Params(jen.Id("v").Qual(evalPath, "Value")).Add(goRegType(r)).Block(
					jen.Return(jen.Id("v").Dot("Memo").Call(jen.Id("key_"+h), jen.Id("build_"+h)).Assert(goRegType(r))),
				), jen.Line(),
				jen.Func().Id("build_"+h).Params(jen.Id("v").Qual(evalPath, "Value")).Any().Block(
					jen.Id("es").Op(":=").Id("v").Dot("Elems").Call(),
					jen.Id("out").Op(":=").Make(goRegType(r), jen.Len(jen.Id("es"))),
					jen.For(jen.Id("i").Op(":=").Range().Id("es")).Block(
						jen.Id("out").Index(jen.Id("i")).Op("=").Add(g.unbox(jen.Id("es").Index(jen.Id("i")), e)),
					),
					jen.Return(jen.Id("out")),
				), jen.Line(),
			)
			continue
		}
		id := g.repType[r]
		t := g.p.Type(id)
		fields := []jen.Code{jen.Lit(int(id))}
		dict := jen.Dict{}
		for i, f := range t.Fields {
			fr := g.rep(f.Type)
			fields = append(fields, g.box(jen.Id("x").Dot(exported(f.Name)), fr))
			dict[jen.Id(exported(f.Name))] = g.unbox(jen.Id("f").Index(jen.Lit(i)), fr)
		}
		// The fields are read from the record's slice, bounds checked
		// once: converting a list of 10,000 records is this per record.
		var unboxBody []jen.Code
		if len(t.Fields) > 0 {
			unboxBody = append(unboxBody,
				jen.Id("f").Op(":=").Id("v").Dot("Elems").Call(),
				jen.Id("_").Op("=").Id("f").Index(jen.Lit(len(t.Fields)-1)).Comment("one bounds check for all fields"))
		}
		unboxBody = append(unboxBody, jen.Return(jen.Id(r).Values(dict)))
		out = append(out,
			jen.Commentf("box_%s is a %s as a record Value.", h, r),
			jen.Func().Id("box_"+h).Params(native, jen.Id("x").Id(r)).Qual(evalPath, "Value").Block(
				jen.Return(jen.Id("n").Dot("MakeRecord").Call(fields...)),
			), jen.Line(),
			jen.Commentf("unbox_%s is the record Value v as a %s.", h, r),
			jen.Func().Id("unbox_"+h).Params(jen.Id("v").Qual(evalPath, "Value")).Id(r).Block(unboxBody...), jen.Line(),
		)
	}
	return out
}
