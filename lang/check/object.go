// This file implements objects: the things names denote.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// ObjKind classifies an [Object].
type ObjKind int

const (
	ObjType       ObjKind = iota // type declaration
	ObjFunc                      // fn
	ObjTask                      // task
	ObjKernel                    // kernel
	ObjWorkflow                  // workflow
	ObjVar                       // let/var, parameter, loop variable, signal parameter
	ObjBuiltin                   // len, sum, float, exp, ...
	ObjPackage                   // an import
	ObjSignal                    // signal declared in a workflow or select arm
	ObjRegion                    // cancellation region
	ObjStep                      // flow step
	ObjMilestone                 // milestone
	ObjRoute                     // learned route
	ObjQuery                     // query
	ObjHook                      // hook
	ObjCritical                  // critical section
	ObjEnumMember                // member of an enum
	ObjField                     // field of a record type
)

var objKindNames = [...]string{
	ObjType: "type", ObjFunc: "fn", ObjTask: "task", ObjKernel: "kernel",
	ObjWorkflow: "workflow", ObjVar: "var", ObjBuiltin: "builtin",
	ObjPackage: "package", ObjSignal: "signal", ObjRegion: "region",
	ObjStep: "step", ObjMilestone: "milestone", ObjRoute: "route",
	ObjQuery: "query", ObjHook: "hook", ObjCritical: "critical",
	ObjEnumMember: "enum member", ObjField: "field",
}

// String returns the kind as a word used in messages and hover: "fn",
// "task", "enum member".
func (k ObjKind) String() string {
	if k >= 0 && int(k) < len(objKindNames) {
		return objKindNames[k]
	}
	return "object"
}

// Object is a named entity. Every object records the file and span of its
// declaring name (for go-to-definition) and its type.
type Object interface {
	Name() string
	Kind() ObjKind
	Type() Type
	// File is the file that declares the object; nil for builtins.
	File() *source.File
	// Span is the declaring name's span.
	Span() source.Span
	// Decl is the declaring syntax node (a *syntax.FnDecl, *syntax.LetStmt,
	// *syntax.Param, ...), or nil for builtins.
	Decl() source.Spanned
}

type object struct {
	name string
	kind ObjKind
	typ  Type
	file *source.File
	span source.Span
	decl source.Spanned
}

func (o *object) Name() string         { return o.name }
func (o *object) Kind() ObjKind        { return o.kind }
func (o *object) Type() Type           { return o.typ }
func (o *object) File() *source.File   { return o.file }
func (o *object) Span() source.Span    { return o.span }
func (o *object) Decl() source.Spanned { return o.decl }

// TypeName is a declared type.
type TypeName struct {
	object
	state uint8 // resolution state of a type declaration (see typexpr.go)
	tdecl *syntax.TypeDecl
	pkg   *Package // the declaring package; nil for the predeclared types
}

// Pkg returns the package that declares the type, or nil for a
// predeclared type.
func (t *TypeName) Pkg() *Package { return t.pkg }

// Var is a variable or parameter. Mutable reports whether it was declared
// with var.
type Var struct {
	object
	Mutable bool
	used    bool
	warn    bool // report if never used (let/var, loop and as variables)
}

// Used reports whether the variable is read anywhere.
func (v *Var) Used() bool { return v.used }

// Callable is a fn, task, kernel, workflow or builtin. Its Type is a
// *Signature (builtins may be generic and report nil).
type Callable struct {
	object
	builtin builtinID
	// Binding is the task binding ("exec", "http", "std", "queue",
	// "extern"), empty
	// for other kinds.
	Binding string
}

// PkgName is an imported package.
type PkgName struct {
	object
	Pkg  *Package
	used bool
}

// Label is a named construct inside a workflow: signal, region, step,
// milestone, route, query, hook or critical section.
type Label struct{ object }

// NewVar, NewTypeName, ... are used by the checker to build objects.
func newObject(name string, kind ObjKind, typ Type, file *source.File, n *syntax.Name, decl source.Spanned) object {
	o := object{name: name, kind: kind, typ: typ, file: file, decl: decl}
	if n != nil {
		o.span = n.Span()
	}
	return o
}

// Signature returns the callable's signature, or nil for generic builtins.
func (c *Callable) Signature() *Signature {
	s, _ := c.typ.(*Signature)
	return s
}
