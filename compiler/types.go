// This file implements the translation of checked types to IR types.

package compiler

import (
	"sort"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
)

// typeOf returns the IR type of t. Records are structural in the
// language, in any field order, but positional in the IR, so their
// fields are sorted by name: two records the checker calls identical
// lower to identical IR types. A named record or enum keeps its name;
// a named record gets its own table entry before its fields are lowered,
// so that recursive types terminate.
func (l *lowerer) typeOf(t check.Type) ir.TypeID {
	switch t := t.(type) {
	case *check.Basic:
		return basicType(t.Kind)
	case *check.Named:
		switch u := check.Underlying(t).(type) {
		case *check.Record:
			if id, ok := l.named[t]; ok {
				return id
			}
			id := l.prog.DeclareType()
			l.named[t] = id
			fields := l.fields(u)
			l.prog.SetType(id, ir.Type{Kind: ir.KindRecord, Name: t.Obj.Name(), Fields: fields})
			return id
		case nil:
			return ir.Void
		default:
			return l.typeOf(u)
		}
	case *check.Enum:
		if id, ok := l.enums[t]; ok {
			return id
		}
		id := l.prog.EnumOf(t.Name, t.Members...)
		l.enums[t] = id
		return id
	case *check.Record, *check.List, *check.Map, *check.Optional:
		// The type table interns by a linear search; most expressions
		// share their checked type objects, so remember them.
		if id, ok := l.composite[t]; ok {
			return id
		}
		id := l.structural(t)
		l.composite[t] = id
		return id
	}
	return ir.Void
}

func (l *lowerer) structural(t check.Type) ir.TypeID {
	switch t := t.(type) {
	case *check.Record:
		return l.prog.RecordOf("", l.fields(t)...)
	case *check.List:
		return l.prog.ListOf(l.typeOf(t.Elem))
	case *check.Map:
		return l.prog.MapOf(l.typeOf(t.Key), l.typeOf(t.Elem))
	case *check.Optional:
		return l.prog.OptionalOf(l.typeOf(t.Elem))
	}
	return ir.Void
}

// fields lowers the fields of r, sorted by name.
func (l *lowerer) fields(r *check.Record) []ir.Field {
	fs := make([]ir.Field, 0, len(r.Fields))
	for _, f := range r.Fields {
		fs = append(fs, ir.Field{Name: f.Name, Type: l.typeOf(f.Type)})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	return fs
}

// basicType maps the checker's scalar kinds to IR scalar types.
func basicType(k check.BasicKind) ir.TypeID {
	switch k {
	case check.Bool:
		return ir.Bool
	case check.Int:
		return ir.Int
	case check.Float:
		return ir.Float
	case check.String:
		return ir.String
	case check.Bytes:
		return ir.Bytes
	case check.Duration:
		return ir.Duration
	case check.Time:
		return ir.Time
	case check.F32:
		return ir.F32
	case check.I32:
		return ir.I32
	case check.U32:
		return ir.U32
	}
	return ir.Void
}

// fieldIndex returns the index of field name in record type id, or -1.
func (l *lowerer) fieldIndex(id ir.TypeID, name string) int {
	t := l.prog.Type(id)
	if t == nil || t.Kind != ir.KindRecord {
		return -1
	}
	for i, f := range t.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// memberIndex returns the index of member name in enum type id, or -1.
func (l *lowerer) memberIndex(id ir.TypeID, name string) int {
	t := l.prog.Type(id)
	if t == nil || t.Kind != ir.KindEnum {
		return -1
	}
	for i, m := range t.Members {
		if m == name {
			return i
		}
	}
	return -1
}
