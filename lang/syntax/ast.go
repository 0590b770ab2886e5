// This file implements the declaration and type nodes. Where a node has
// participle tags, they are its grammar; the others are parsed by hand
// (parse_decl.go, parse_type.go) and their grammar is the EBNF documented
// there. grammar.ebnf at the repository root is generated from both and
// kept in step by a test.

package syntax

import (
	"strconv"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/knhk/knhk/lang/source"
)

// Node is embedded in every grammar struct. Participle fills Pos with the
// first token and EndPos with the token after the node; the scanner stores
// the previous token's end offset in Column, which makes EndPos.Column the
// node's tight end (see scanner).
type Node struct {
	Pos    lexer.Position
	EndPos lexer.Position
}

// Span returns the node's exact byte range.
func (n *Node) Span() source.Span {
	return source.Span{Start: source.Pos(n.Pos.Offset), End: source.Pos(n.EndPos.Column)}
}

// Name is an identifier with its position.
type Name struct {
	Node
	Value string
}

// StringLit is a string literal in a declaration (import paths, bindings).
// Value keeps the quotes; Unquoted decodes it.
type StringLit struct {
	Node
	Value string
}

// Unquoted returns the decoded string, or ok=false if the escapes are bad.
func (s *StringLit) Unquoted() (string, bool) {
	v, err := strconv.Unquote(s.Value)
	return v, err == nil
}

// File is a parsed source file.
type File struct {
	Source   *source.File
	Package  *PackageDecl
	Imports  []*ImportDecl
	Decls    []Decl
	Comments []*Comment
}

// Span covers the whole file.
func (f *File) Span() source.Span {
	return source.Span{Start: 0, End: source.Pos(len(f.Source.Content))}
}

// TopDecl is anything at the top level of a file: package clause, import or
// declaration. Parse sorts them into File's fields.
type TopDecl interface {
	source.Spanned
	topDecl()
}

// Decl is a named declaration: type, fn, task, kernel or workflow.
type Decl interface {
	TopDecl
	DeclName() *Name
}

// PackageDecl is "package name".
type PackageDecl struct {
	Node
	Name *Name `parser:"'package' @@"`
}

// ImportDecl is `import "std/http"` or `import "./common.knhk" as common`.
type ImportDecl struct {
	Node
	Path  *StringLit `parser:"'import' @@"`
	Alias *Name      `parser:"( 'as' @@ )?"`
}

// TypeDecl is "type Name = Type". Types are structural: the name is an
// alias, so record literals need no type name.
type TypeDecl struct {
	Node
	Name *Name
	Type *Type
}

// Param is "name: Type".
type Param struct {
	Node
	Name *Name
	Type *Type
}

// FnDecl is a pure function: "fn name(params) -> T = expr".
type FnDecl struct {
	Node
	Name   *Name
	Params []*Param
	Result *Type
	Body   Expr
}

// TaskDecl is a leaf unit of work with side effects, bound to a subprocess,
// an HTTP endpoint, a std task or a Go function registered by the embedder.
type TaskDecl struct {
	Node
	Name    *Name
	Params  []*Param
	Result  *Type
	Binding *Binding
	Clauses []*Clause
}

// Binding says what implements a task.
type Binding struct {
	Node
	Exec   []*StringLit
	Method *Name
	URL    *StringLit
	Std    *StringLit
	Extern bool
	Symbol *StringLit
	// Queue names the queue of a task that external workers execute.
	Queue *StringLit
}

// Kind returns "exec", "http", "std", "queue" or "extern".
func (b *Binding) Kind() string {
	switch {
	case len(b.Exec) > 0:
		return "exec"
	case b.Method != nil:
		return "http"
	case b.Std != nil:
		return "std"
	case b.Queue != nil:
		return "queue"
	default:
		return "extern"
	}
}

// Clause is a policy on a task declaration or call: retry N, backoff D,
// timeout D, undo call.
type Clause struct {
	Node
	Kind  string
	Value Expr
}

// KernelDecl is a data-parallel function over arrays. Its body runs once
// per output element; the element index is the implicit variable i and the
// output array is out.
type KernelDecl struct {
	Node
	Name   *Name
	Params []*Param
	Result *Type
	Body   *Block
}

// WorkflowDecl is a workflow: a typed, durable process.
type WorkflowDecl struct {
	Node
	Name   *Name
	Params []*Param
	Result *Type
	Body   *Block
}

func (*PackageDecl) topDecl()  {}
func (*ImportDecl) topDecl()   {}
func (*TypeDecl) topDecl()     {}
func (*FnDecl) topDecl()       {}
func (*TaskDecl) topDecl()     {}
func (*KernelDecl) topDecl()   {}
func (*WorkflowDecl) topDecl() {}

func (d *TypeDecl) DeclName() *Name     { return d.Name }
func (d *FnDecl) DeclName() *Name       { return d.Name }
func (d *TaskDecl) DeclName() *Name     { return d.Name }
func (d *KernelDecl) DeclName() *Name   { return d.Name }
func (d *WorkflowDecl) DeclName() *Name { return d.Name }

// Type is a type expression: a list [T], a map [K: V], a record
// { f: T, ... }, an enum { a, b }, or a (possibly qualified) name, each
// optionally followed by ? for an optional. Types are parsed by hand
// (parse_type.go): they are on every parameter and field, and a participle
// union allocates a node per alternative tried.
type Type struct {
	Node
	List     *ListType
	Record   *RecordType
	Enum     *EnumType
	Named    *NamedType
	Optional bool
}

// ListType is [Elem], or the map [Elem: Value] when Value is set.
type ListType struct {
	Node
	Elem  *Type
	Value *Type
}

// RecordType is { name: T, ... }.
type RecordType struct {
	Node
	Fields []*Param
}

// EnumType is enum { a, b, c }.
type EnumType struct {
	Node
	Members []*Name
}

// NamedType is a type name, optionally qualified by an import: http.Response.
type NamedType struct {
	Node
	Parts []*Name
}
