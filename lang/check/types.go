// This file implements the type representation.

package check

import (
	"strings"
)

// Type is a KNHK type.
type Type interface {
	String() string
	typ()
}

// BasicKind enumerates the built-in scalar types.
type BasicKind int

const (
	Invalid BasicKind = iota // the type of an erroneous expression; never reported twice
	Void                     // the result of a task or workflow with no result
	Bool
	Int
	Float
	String
	Bytes
	Duration
	Time
	F32 // kernel scalar types
	I32
	U32
	UntypedNone // the type of the literal none before it meets an optional
)

// Basic is a scalar type.
type Basic struct {
	Kind BasicKind
	Name string
}

// The basic types, shared.
var (
	TypInvalid  = &Basic{Invalid, "invalid"}
	TypVoid     = &Basic{Void, "void"}
	TypBool     = &Basic{Bool, "bool"}
	TypInt      = &Basic{Int, "int"}
	TypFloat    = &Basic{Float, "float"}
	TypString   = &Basic{String, "string"}
	TypBytes    = &Basic{Bytes, "bytes"}
	TypDuration = &Basic{Duration, "duration"}
	TypTime     = &Basic{Time, "time"}
	TypF32      = &Basic{F32, "f32"}
	TypI32      = &Basic{I32, "i32"}
	TypU32      = &Basic{U32, "u32"}
	TypNone     = &Basic{UntypedNone, "none"}
)

// List is [Elem].
type List struct{ Elem Type }

// Map is [Key: Elem].
type Map struct{ Key, Elem Type }

// Field is one field of a record.
type Field struct {
	Name string
	Type Type
	// Obj is the field's declaring object, for go-to-definition and
	// rename: the field name in a record type, or in the record literal a
	// record type was inferred from.
	Obj *Var
}

// Record is { name: T, ... }. Records are structural: two record types are
// identical when they have the same field names with identical types, in
// any order.
type Record struct{ Fields []*Field }

// Field returns the named field, or nil.
func (r *Record) Field(name string) *Field {
	for _, f := range r.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Enum is a nominal enumeration declared with "type Name = enum { ... }".
type Enum struct {
	Name    string
	Members []string
	objs    []*Label  // one per member, for go-to-definition
	obj     *TypeName // the declaring type name, for qualified printing
}

// Member returns the object of the named member, or nil.
func (t *Enum) Member(name string) Object {
	for i, m := range t.Members {
		if m == name {
			if i < len(t.objs) {
				return t.objs[i]
			}
			return nil
		}
	}
	return nil
}

// Optional is T?.
type Optional struct{ Elem Type }

// Named is a declared type name. Names are aliases for structural types,
// kept so that messages and hover say "Order" rather than the whole record.
type Named struct {
	Obj        *TypeName
	underlying Type
}

// Signature is the type of a callable: fn, task, kernel, workflow, builtin.
type Signature struct {
	Params []*Var
	Result Type // TypVoid when there is none
}

func (*Basic) typ()     {}
func (*List) typ()      {}
func (*Map) typ()       {}
func (*Record) typ()    {}
func (*Enum) typ()      {}
func (*Optional) typ()  {}
func (*Named) typ()     {}
func (*Signature) typ() {}

func (t *Basic) String() string     { return t.Name }
func (t *List) String() string      { return TypeString(t, nil) }
func (t *Map) String() string       { return TypeString(t, nil) }
func (t *Enum) String() string      { return t.Name }
func (t *Optional) String() string  { return TypeString(t, nil) }
func (t *Named) String() string     { return t.Obj.Name() }
func (t *Record) String() string    { return TypeString(t, nil) }
func (t *Signature) String() string { return TypeString(t, nil) }

// A Qualifier says how to write the names of types declared in pkg: it
// returns the qualifier ("lib" for lib.Point), or "" to write them bare.
type Qualifier func(pkg *Package) string

// RelativeTo returns the [Qualifier] of code in pkg, as go/types'
// RelativeTo is: pkg's own types are written bare, another package's with
// the name pkg imports it under (its alias, else its package name), so
// that a message or a hover never shows two different types as the same
// Point. Without pkg nothing is qualified.
func RelativeTo(pkg *Package) Qualifier {
	if pkg == nil {
		return nil
	}
	return func(other *Package) string {
		if other == nil || other == pkg {
			return ""
		}
		if pkg.Scope != nil {
			for _, o := range pkg.Scope.Names() {
				if pn, ok := o.(*PkgName); ok && pn.Pkg == other {
					return pn.Name()
				}
			}
		}
		return other.Name
	}
}

// TypeString returns t as KNHK source writes it, with the names of
// declared types qualified by q (nil qualifies none; [Type.String] is
// TypeString with nil).
func TypeString(t Type, q Qualifier) string {
	var sb strings.Builder
	writeType(&sb, t, q)
	return sb.String()
}

func writeType(sb *strings.Builder, t Type, q Qualifier) {
	switch t := t.(type) {
	case nil:
		sb.WriteString("<nil>")
	case *Named:
		writeQualified(sb, t.Obj, t.Obj.Name(), q)
	case *Enum:
		writeQualified(sb, t.obj, t.Name, q)
	case *List:
		sb.WriteString("[")
		writeType(sb, t.Elem, q)
		sb.WriteString("]")
	case *Map:
		sb.WriteString("[")
		writeType(sb, t.Key, q)
		sb.WriteString(": ")
		writeType(sb, t.Elem, q)
		sb.WriteString("]")
	case *Optional:
		writeType(sb, t.Elem, q)
		sb.WriteString("?")
	case *Record:
		sb.WriteString("{")
		writeFields(sb, len(t.Fields), func(i int) (string, Type) { return t.Fields[i].Name, t.Fields[i].Type }, q)
		sb.WriteString("}")
	case *Signature:
		sb.WriteString("(")
		writeFields(sb, len(t.Params), func(i int) (string, Type) { return t.Params[i].Name(), t.Params[i].Type() }, q)
		sb.WriteString(")")
		if t.Result != nil && t.Result != TypVoid {
			sb.WriteString(" -> ")
			writeType(sb, t.Result, q)
		}
	default:
		sb.WriteString(t.String())
	}
}

// writeFields writes n "name: type" pairs, separated by ", ": a record's
// fields or a signature's parameters.
func writeFields(sb *strings.Builder, n int, field func(i int) (string, Type), q Qualifier) {
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		name, t := field(i)
		sb.WriteString(name + ": ")
		writeType(sb, t, q)
	}
}

// writeQualified writes a declared type's name, qualified when q says so.
func writeQualified(sb *strings.Builder, tn *TypeName, name string, q Qualifier) {
	if q != nil && tn != nil {
		if p := q(tn.pkg); p != "" {
			sb.WriteString(p + ".")
		}
	}
	sb.WriteString(name)
}

// Underlying returns the structural type behind any chain of names.
func (t *Named) Underlying() Type { return t.underlying }

// SetUnderlying is used by the checker while resolving type declarations.
func (t *Named) SetUnderlying(u Type) { t.underlying = u }

// Underlying strips names: it returns the structural type of t.
func Underlying(t Type) Type {
	for {
		n, ok := t.(*Named)
		if !ok || n.underlying == nil {
			return t
		}
		t = n.underlying
	}
}
