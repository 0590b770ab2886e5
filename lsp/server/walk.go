// This file implements a generic walk over the syntax tree.
//
// The syntax package has no visitor, and its node set grows with the
// language; a reflective walk needs no update when a statement is added.
// Fields are visited in declaration order, which in the participle structs
// is source order.

package server

import (
	"reflect"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

var (
	spannedType = reflect.TypeOf((*source.Spanned)(nil)).Elem()
	fileType    = reflect.TypeOf((*source.File)(nil))
)

// walk calls f for every node under root (root included) in depth-first
// source order. When f returns false the node's children are skipped.
func walk(root any, f func(n any) bool) {
	if file, ok := root.(*syntax.File); ok {
		if file == nil || !f(file) {
			return
		}
		if file.Package != nil {
			walk(file.Package, f)
		}
		for _, d := range file.Imports {
			walk(d, f)
		}
		for _, d := range file.Decls {
			walk(d, f)
		}
		return
	}
	walkValue(reflect.ValueOf(root), f, 0)
}

// maxWalkDepth bounds recursion; the parser limits nesting far below it.
const maxWalkDepth = 10000

func walkValue(v reflect.Value, f func(n any) bool, depth int) {
	if depth > maxWalkDepth || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			walkValue(v.Elem(), f, depth+1)
		}
	case reflect.Pointer:
		if v.IsNil() || v.Type() == fileType || v.Elem().Kind() != reflect.Struct {
			return
		}
		if v.Type().Implements(spannedType) && !f(v.Interface()) {
			return
		}
		s := v.Elem()
		for i := 0; i < s.NumField(); i++ {
			if !s.Type().Field(i).IsExported() {
				continue
			}
			walkValue(s.Field(i), f, depth+1)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkValue(v.Index(i), f, depth+1)
		}
	}
}

// spanOf returns n's span, or false when n has none or computing it would
// fail on a partial node.
func spanOf(n any) (sp source.Span, ok bool) {
	s, isSpanned := n.(source.Spanned)
	if !isSpanned {
		return source.Span{}, false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	sp = s.Span()
	return sp, sp.Start >= 0 && sp.End >= sp.Start
}

// path returns the nodes enclosing off, outermost first.
func path(file *syntax.File, off source.Pos) []any {
	var out []any
	walk(file, func(n any) bool {
		sp, ok := spanOf(n)
		if !ok {
			return true
		}
		if off < sp.Start || off > sp.End {
			return false
		}
		out = append(out, n)
		return true
	})
	return out
}
