// This file implements IR types.

package ir

import (
	"fmt"
	"strings"
)

// Kind classifies a [Type].
type Kind uint8

// The kinds. Scalar kinds double as the [TypeID] of their type, so a scalar
// type needs no entry in the type table.
const (
	KindVoid     Kind = iota // no value: the result of a task or workflow without one
	KindBool                 // bool
	KindInt                  // int, 64-bit
	KindFloat                // float, 64-bit
	KindString               // string
	KindBytes                // bytes
	KindDuration             // duration, nanoseconds
	KindTime                 // time, Unix nanoseconds UTC
	KindF32                  // f32 (kernels)
	KindI32                  // i32 (kernels)
	KindU32                  // u32 (kernels)
	KindList                 // [Elem]
	KindMap                  // [Key: Elem]
	KindRecord               // { Fields... } in declaration order
	KindEnum                 // enum { Members... }, nominal
	KindOptional             // Elem?
	numKinds
)

var kindNames = [...]string{
	KindVoid: "void", KindBool: "bool", KindInt: "int", KindFloat: "float",
	KindString: "string", KindBytes: "bytes", KindDuration: "duration",
	KindTime: "time", KindF32: "f32", KindI32: "i32", KindU32: "u32",
	KindList: "list", KindMap: "map", KindRecord: "record", KindEnum: "enum",
	KindOptional: "optional",
}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsScalar reports whether k is a scalar kind (including void).
func (k Kind) IsScalar() bool { return k < KindList }

// IsNumeric reports whether k is one of the number kinds.
func (k Kind) IsNumeric() bool {
	switch k {
	case KindInt, KindFloat, KindF32, KindI32, KindU32:
		return true
	}
	return false
}

// TypeID names a type. IDs below [FirstComposite] are the scalar types,
// equal to their [Kind]; an ID at or above it is the entry
// Types[id-FirstComposite] of the [Program].
type TypeID int32

// The scalar type IDs.
const (
	Void     = TypeID(KindVoid)
	Bool     = TypeID(KindBool)
	Int      = TypeID(KindInt)
	Float    = TypeID(KindFloat)
	String   = TypeID(KindString)
	Bytes    = TypeID(KindBytes)
	Duration = TypeID(KindDuration)
	Time     = TypeID(KindTime)
	F32      = TypeID(KindF32)
	I32      = TypeID(KindI32)
	U32      = TypeID(KindU32)

	// FirstComposite is the ID of Program.Types[0].
	FirstComposite = TypeID(KindList)
)

// Field is one field of a record type.
type Field struct {
	Name string
	Type TypeID
}

// Type is a composite type: list, map, record, enum or optional. Composite
// types live in a table so that recursive types (a tree whose kids are a
// list of trees) are plain index cycles.
type Type struct {
	Kind    Kind
	Name    string   // the declared name, if any (records and enums); for messages and enum identity
	Elem    TypeID   // list, map value, optional
	Key     TypeID   // map key
	Fields  []Field  // record, in declaration order
	Members []string // enum, in declaration order
}

// Type returns the composite type id, or nil when id is scalar or out of
// range.
func (p *Program) Type(id TypeID) *Type {
	i := int(id - FirstComposite)
	if id < FirstComposite || i >= len(p.Types) {
		return nil
	}
	return &p.Types[i]
}

// KindOf returns the kind of id; an unknown id has kind void.
func (p *Program) KindOf(id TypeID) Kind {
	if id >= 0 && id < FirstComposite {
		return Kind(id)
	}
	if t := p.Type(id); t != nil {
		return t.Kind
	}
	return KindVoid
}

// validType reports whether id names a type of p.
func (p *Program) validType(id TypeID) bool {
	return id >= 0 && (id < FirstComposite || p.Type(id) != nil)
}

// maxTypeString bounds the text of one type, which could otherwise grow
// exponentially with anonymous recursive types.
const maxTypeString = 400

// TypeString formats id the way the language writes it: named types by
// name, others structurally, so that it always terminates on recursive
// types.
func (p *Program) TypeString(id TypeID) string {
	var sb strings.Builder
	p.writeType(&sb, id, 0)
	return sb.String()
}

func (p *Program) writeType(sb *strings.Builder, id TypeID, depth int) {
	if sb.Len() > maxTypeString {
		sb.WriteString("...")
		return
	}
	if id >= 0 && id < FirstComposite {
		sb.WriteString(Kind(id).String())
		return
	}
	t := p.Type(id)
	if t == nil {
		fmt.Fprintf(sb, "type(%d)", id)
		return
	}
	if t.Name != "" {
		sb.WriteString(t.Name)
		return
	}
	p.writeTypeBody(sb, t, depth)
}

// writeTypeBody writes t's structure even when t is named, for the type
// table of the printer.
func (p *Program) writeTypeBody(sb *strings.Builder, t *Type, depth int) {
	if depth > 8 {
		sb.WriteString("...")
		return
	}
	switch t.Kind {
	case KindList:
		sb.WriteByte('[')
		p.writeType(sb, t.Elem, depth+1)
		sb.WriteByte(']')
	case KindMap:
		sb.WriteByte('[')
		p.writeType(sb, t.Key, depth+1)
		sb.WriteString(": ")
		p.writeType(sb, t.Elem, depth+1)
		sb.WriteByte(']')
	case KindOptional:
		p.writeType(sb, t.Elem, depth+1)
		sb.WriteByte('?')
	case KindRecord:
		sb.WriteByte('{')
		for i, f := range t.Fields {
			if i > 0 {
				sb.WriteString(", ")
			} else {
				sb.WriteByte(' ')
			}
			sb.WriteString(f.Name)
			sb.WriteString(": ")
			p.writeType(sb, f.Type, depth+1)
		}
		sb.WriteString(" }")
	case KindEnum:
		sb.WriteString("enum { ")
		sb.WriteString(strings.Join(t.Members, ", "))
		sb.WriteString(" }")
	default:
		fmt.Fprintf(sb, "kind(%d)", t.Kind)
	}
}
