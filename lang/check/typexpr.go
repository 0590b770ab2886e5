// This file implements type expressions and the resolution of type
// declarations, including recursive ones.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// Resolution states of a declared type name.
const (
	unresolved uint8 = iota
	resolving
	resolved
)

// resolveTypeName resolves tn's declaration. A name met again while its
// own right side is being resolved, outside a list, map or record, is an
// invalid recursive type (type A = B, type B = A?); recursion through a
// container (type Tree = { kids: [Tree] }) is fine.
func (c *checker) resolveTypeName(tn *TypeName) {
	switch tn.state {
	case resolved:
		return
	case resolving:
		c.errorf(tn.span, source.NotAType, "invalid recursive type %s", tn.name)
		tn.typ.(*Named).SetUnderlying(TypInvalid)
		tn.state = resolved
		return
	}
	tn.state = resolving
	saved := c.scope
	c.scope = c.fileScope
	u := c.typ(tn.tdecl.Type, true, tn)
	c.scope = saved
	if tn.state == resolving { // not already marked invalid by a cycle
		tn.typ.(*Named).SetUnderlying(u)
		tn.state = resolved
	}
}

// typExpr returns the type denoted by t.
func (c *checker) typExpr(t *syntax.Type) Type { return c.typ(t, false, nil) }

// typ resolves t. direct is true while resolving a type declaration's
// right side outside any container; owner is the declaration when t is
// its whole right side (the only place an enum may appear).
func (c *checker) typ(t *syntax.Type, direct bool, owner *TypeName) Type {
	if t == nil {
		return TypInvalid
	}
	var r Type
	switch {
	case t.Named != nil:
		r = c.namedType(t.Named, direct)
	case t.List != nil:
		l := t.List
		if l.Value == nil {
			r = &List{Elem: c.typ(l.Elem, false, nil)}
		} else {
			k := c.typ(l.Elem, direct, nil)
			if !validMapKey(k) {
				c.errorf(l.Elem.Span(), source.TypeMismatch, "invalid map key type %s (must be string, int, bool or an enum)", k)
				k = TypInvalid
			}
			r = &Map{Key: k, Elem: c.typ(l.Value, false, nil)}
		}
	case t.Record != nil:
		r = c.recordType(t.Record)
	case t.Enum != nil:
		if owner == nil || t.Optional {
			c.errorf(t.Span(), source.NotAType, "enum is only valid as the whole right side of a type declaration: type Status = enum { ... }")
			return TypInvalid
		}
		r = c.enumType(t.Enum, owner)
	default:
		return TypInvalid
	}
	if t.Optional && r != TypInvalid {
		if _, ok := Underlying(r).(*Optional); ok {
			c.errorf(t.Span(), source.NotAType, "%s is already optional", r)
			return r
		}
		r = &Optional{Elem: r}
	}
	return r
}

// validMapKey reports whether k may key a map.
func validMapKey(k Type) bool {
	switch u := Underlying(k).(type) {
	case *Basic:
		return u.Kind == Invalid || u.Kind == String || u.Kind == Int || u.Kind == Bool
	case *Enum:
		return true
	}
	return false
}

// namedType resolves Name or pkg.Name.
func (c *checker) namedType(n *syntax.NamedType, direct bool) Type {
	if len(n.Parts) == 0 || n.Parts[0] == nil {
		return TypInvalid
	}
	first := n.Parts[0]
	var obj Object
	if len(n.Parts) == 2 && n.Parts[1] != nil {
		pn, ok := c.scope.LookupParent(first.Value).(*PkgName)
		if !ok {
			c.errorf(first.Span(), source.UndefinedName, "undefined package %s", first.Value)
			return TypInvalid
		}
		pn.used = true
		c.info.TypeUses[first] = pn
		if pn.Pkg == nil {
			return TypInvalid
		}
		second := n.Parts[1]
		obj = pn.Pkg.Scope.Lookup(second.Value)
		if obj == nil {
			d := c.errorf(second.Span(), source.UndefinedName, "undefined: %s.%s", first.Value, second.Value)
			c.suggestFix(d, second.Span(), second.Value, scopeNames(pn.Pkg.Scope, typeNamesOnly))
			return TypInvalid
		}
		c.info.TypeUses[second] = obj
		first = second
	} else {
		obj = c.lookupType(first.Value)
		if obj == nil {
			d := c.errorf(first.Span(), source.UndefinedName, "undefined type %s", first.Value)
			c.suggestFix(d, first.Span(), first.Value, c.visibleNames(typeNamesOnly))
			return TypInvalid
		}
		c.info.TypeUses[first] = obj
	}
	tn, ok := obj.(*TypeName)
	if !ok {
		c.errorf(first.Span(), source.NotAType, "%s is a %s, not a type", obj.Name(), obj.Kind())
		return TypInvalid
	}
	if tn.tdecl != nil && tn.state != resolved && (tn.state == unresolved || direct) {
		c.resolveTypeName(tn)
	}
	return tn.typ
}

// lookupType finds a type name, looking past package names: the module
// std/time is imported as "time", and the type time must stay usable.
func (c *checker) lookupType(name string) Object {
	for s := c.scope; s != nil; s = s.Parent {
		if o := s.Lookup(name); o != nil {
			if _, isPkg := o.(*PkgName); !isPkg {
				return o
			}
		}
	}
	return nil
}

func (c *checker) recordType(rt *syntax.RecordType) Type {
	r := &Record{Fields: make([]*Field, 0, len(rt.Fields))}
	for _, p := range rt.Fields {
		if p == nil || p.Name == nil {
			continue
		}
		if prev := r.Field(p.Name.Value); prev != nil {
			d := c.errorf(p.Name.Span(), source.DuplicateField, "duplicate field %s", p.Name.Value)
			c.related(d, prev.Obj, "other declaration of "+p.Name.Value)
			continue
		}
		ft := c.typ(p.Type, false, nil)
		v := &Var{object: object{name: p.Name.Value, kind: ObjField, typ: ft, file: c.file, span: p.Name.Span(), decl: p}}
		c.info.Defs[p.Name] = v
		r.Fields = append(r.Fields, &Field{Name: p.Name.Value, Type: ft, Obj: v})
	}
	return r
}

func (c *checker) enumType(et *syntax.EnumType, owner *TypeName) Type {
	e := &Enum{Name: owner.name, obj: owner}
	for _, m := range et.Members {
		if m == nil {
			continue
		}
		if prev := e.Member(m.Value); prev != nil {
			d := c.errorf(m.Span(), source.DuplicateField, "duplicate enum member %s", m.Value)
			c.related(d, prev, "other declaration of "+m.Value)
			continue
		}
		l := &Label{object: object{name: m.Value, kind: ObjEnumMember, typ: owner.typ, file: c.file, span: m.Span(), decl: m}}
		c.info.Defs[m] = l
		e.Members = append(e.Members, m.Value)
		e.objs = append(e.objs, l)
	}
	return e
}
