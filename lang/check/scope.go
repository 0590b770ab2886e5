// This file implements scopes: the nested name tables of files,
// declarations, blocks, select arms and lambdas.

package check

import (
	"sort"

	"github.com/knhk/knhk/lang/source"
)

// smallScope is the number of names a scope keeps in a slice before it
// switches to a map. Most block scopes hold a handful of names, and a
// linear scan over them is faster than hashing and allocates less.
const smallScope = 12

// Scope maps names to objects. Scopes nest: universe, file, declaration,
// block.
type Scope struct {
	Parent   *Scope
	Children []*Scope
	Span     source.Span // the extent of the construct that opened it
	list     []Object    // insertion order; always complete
	names    map[string]Object
}

// NewScope returns an empty scope inside parent.
func NewScope(parent *Scope, span source.Span) *Scope {
	s := &Scope{Parent: parent, Span: span}
	if parent != nil {
		parent.Children = append(parent.Children, s)
	}
	return s
}

// Lookup finds name in s only.
func (s *Scope) Lookup(name string) Object {
	if s.names != nil {
		return s.names[name]
	}
	for _, o := range s.list {
		if o.Name() == name {
			return o
		}
	}
	return nil
}

// LookupParent finds name in s or its ancestors.
func (s *Scope) LookupParent(name string) Object {
	for ; s != nil; s = s.Parent {
		if o := s.Lookup(name); o != nil {
			return o
		}
	}
	return nil
}

// Insert adds o unless the name is taken; it returns the previous object.
func (s *Scope) Insert(o Object) Object {
	name := o.Name()
	if prev := s.Lookup(name); prev != nil {
		return prev
	}
	s.list = append(s.list, o)
	if s.names != nil {
		s.names[name] = o
	} else if len(s.list) > smallScope {
		s.names = make(map[string]Object, 2*len(s.list))
		for _, o := range s.list {
			s.names[o.Name()] = o
		}
	}
	return nil
}

// Len returns the number of names declared in s.
func (s *Scope) Len() int { return len(s.list) }

// Names returns every object in s (not its parents), for completion, in
// the order they were declared.
func (s *Scope) Names() []Object {
	out := make([]Object, len(s.list))
	copy(out, s.list)
	return out
}

// SortedNames returns the names declared in s, sorted.
func (s *Scope) SortedNames() []string {
	out := make([]string, len(s.list))
	for i, o := range s.list {
		out[i] = o.Name()
	}
	sort.Strings(out)
	return out
}

// Innermost returns the deepest scope under s whose span contains p.
func (s *Scope) Innermost(p source.Pos) *Scope {
	for _, c := range s.Children {
		if c.Span.Contains(p) {
			return c.Innermost(p)
		}
	}
	return s
}
