// This file implements the checker's entry points and side tables.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// Config configures a check.
type Config struct {
	// ReadFile loads an imported .knhk file by its cleaned path. Nil means
	// os.ReadFile. The language server supplies unsaved editor buffers here.
	ReadFile func(path string) ([]byte, error)
	// MaxErrors stops reporting after this many errors; 0 means no limit.
	MaxErrors int
}

// Package is a checked file together with what it imports.
type Package struct {
	Name    string
	Path    string // file path, or "std/NAME" for standard modules
	File    *syntax.File
	Scope   *Scope
	Imports []*Package
}

// Info holds the results of a check, keyed by syntax node. The checker
// fills it; it never writes into the syntax tree.
type Info struct {
	// Types records the type of every expression that was checked.
	Types map[syntax.Expr]Type
	// Defs maps each declaring name (declarations, parameters, let/var,
	// loop variables, signal parameters, steps, regions, ...) to its object.
	Defs map[*syntax.Name]Object
	// Uses maps each identifier in an expression to the object it denotes.
	Uses map[*syntax.Ident]Object
	// TypeUses maps each name inside a type expression, and each name that
	// refers to a declared construct (cancel region R, arcs a -> b, hook
	// targets), to its object.
	TypeUses map[*syntax.Name]Object
	// Fields maps each selector x.f that selects a record field or enum
	// member to the record or enum type it selected from.
	Fields map[*syntax.SelectorExpr]Type
	// Scopes maps scope-opening nodes (files, declarations, blocks, select
	// arms, lambdas) to their scope.
	Scopes map[source.Spanned]*Scope
}

// NewInfo returns an Info with every map allocated.
func NewInfo() *Info {
	return &Info{
		Types:    make(map[syntax.Expr]Type),
		Defs:     make(map[*syntax.Name]Object),
		Uses:     make(map[*syntax.Ident]Object),
		TypeUses: make(map[*syntax.Name]Object),
		Fields:   make(map[*syntax.SelectorExpr]Type),
		Scopes:   make(map[source.Spanned]*Scope),
	}
}

// ObjectOf returns the object an identifier denotes or declares, or nil.
func (info *Info) ObjectOf(n any) Object {
	switch n := n.(type) {
	case *syntax.Ident:
		return info.Uses[n]
	case *syntax.Name:
		if o := info.Defs[n]; o != nil {
			return o
		}
		return info.TypeUses[n]
	}
	return nil
}
