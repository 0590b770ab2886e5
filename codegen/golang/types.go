// This file implements types.go of the generated package: the records
// and enums of the program as Go types, for code that embeds the
// compiled program and wants typed inputs and results.

package golang

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/dave/jennifer/jen"

	"github.com/knhk/knhk/compiler/ir"
)

// reserved are the names the generated package declares itself.
var reserved = map[string]bool{"Descriptor": true, "Program": true, "Evaluator": true, "Source": true, "Sources": true, "KernelValues": true}

func (g *gen) typesFile() *jen.File {
	f := jen.NewFile(g.opts.Package)
	header(f)
	seen := map[string]bool{}
	for i, t := range g.p.Types {
		if t.Name == "" || (t.Kind != ir.KindRecord && t.Kind != ir.KindEnum) {
			continue
		}
		name := g.typeName(ir.FirstComposite + ir.TypeID(i))
		if seen[name] {
			continue
		}
		seen[name] = true
		switch t.Kind {
		case ir.KindRecord:
			fields := make([]jen.Code, len(t.Fields))
			for j, fl := range t.Fields {
				fields[j] = jen.Id(exported(fl.Name)).Add(g.goType(fl.Type)).Tag(map[string]string{"json": fl.Name})
			}
			f.Commentf("%s is record %s.", name, t.Name)
			f.Type().Id(name).Struct(fields...)
		case ir.KindEnum:
			f.Commentf("%s is enum %s; its values are member indexes.", name, t.Name)
			f.Type().Id(name).Int()
			var defs []jen.Code
			for j, m := range t.Members {
				defs = append(defs, jen.Id(name+exported(m)).Id(name).Op("=").Lit(j))
			}
			if len(defs) > 0 {
				f.Const().Defs(defs...)
			}
			names := make([]jen.Code, len(t.Members))
			for j, m := range t.Members {
				names[j] = jen.Lit(m)
			}
			f.Commentf("String returns the member's name.")
			f.Func().Params(jen.Id("e").Id(name)).Id("String").Params().String().Block(
				jen.Id("names").Op(":=").Index().String().Values(names...),
				jen.If(jen.Id("e").Op(">=").Lit(0).Op("&&").Int().Call(jen.Id("e")).Op("<").Len(jen.Id("names"))).Block(
					jen.Return(jen.Id("names").Index(jen.Id("e"))),
				),
				jen.Return(jen.Lit(t.Name+"(?)")),
			)
		}
	}
	return f
}

// typeName is the Go name of a named composite type.
func (g *gen) typeName(id ir.TypeID) string {
	t := g.p.Type(id)
	n := exported(t.Name)
	if reserved[n] {
		n += "Type"
	}
	return n
}

// goType is the Go type of an IR type.
func (g *gen) goType(id ir.TypeID) jen.Code {
	switch id {
	case ir.Void:
		return jen.Struct()
	case ir.Bool:
		return jen.Bool()
	case ir.Int:
		return jen.Int64()
	case ir.Float:
		return jen.Float64()
	case ir.String:
		return jen.String()
	case ir.Bytes:
		return jen.Index().Byte()
	case ir.Duration:
		return jen.Qual("time", "Duration")
	case ir.Time:
		return jen.Qual("time", "Time")
	case ir.F32:
		return jen.Float32()
	case ir.I32:
		return jen.Int32()
	case ir.U32:
		return jen.Uint32()
	}
	t := g.p.Type(id)
	if t == nil {
		return jen.Any()
	}
	switch t.Kind {
	case ir.KindList:
		return jen.Index().Add(g.goType(t.Elem))
	case ir.KindMap:
		return jen.Map(g.goType(t.Key)).Add(g.goType(t.Elem))
	case ir.KindOptional:
		return jen.Op("*").Add(g.goType(t.Elem))
	case ir.KindRecord, ir.KindEnum:
		if t.Name != "" {
			return jen.Id(g.typeName(id))
		}
	}
	return jen.Any()
}

// exported is name as an exported Go identifier.
func exported(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	s := b.String()
	if s == "" || unicode.IsDigit(rune(s[0])) {
		s = fmt.Sprintf("X%s", s)
	}
	return s
}
