// This file implements the expression nodes.

package syntax

import "github.com/knhk/knhk/lang/source"

// Expr is an expression. Expressions are pure; only task calls, which the
// checker allows only in statement position, have effects.
type Expr interface {
	source.Spanned
	expr()
}

// Ident is a name in an expression.
type Ident struct {
	NamePos source.Pos
	Name    string
}

// LitKind classifies a BasicLit.
type LitKind int

const (
	IntLit LitKind = iota
	FloatLit
	StringLitKind
	DurationLit
	TimeLit
	BoolLit
	NoneLit
)

// BasicLit is a literal: 42, 1.5, "s", 200ms, @2026-01-02T15:04:05Z, true,
// false or none. Value is the source text.
type BasicLit struct {
	ValuePos source.Pos
	Kind     LitKind
	Value    string
}

// UnaryExpr is -x or !x.
type UnaryExpr struct {
	OpPos source.Pos
	Op    string
	X     Expr
}

// BinaryExpr is x op y, including the range lo..hi and the default x ?? y.
type BinaryExpr struct {
	X     Expr
	OpPos source.Pos
	Op    string
	Y     Expr
}

// SelectorExpr is x.name: a field, an enum member or a qualified name.
type SelectorExpr struct {
	X   Expr
	Sel *Ident
}

// IndexExpr is x[i].
type IndexExpr struct {
	X      Expr
	Index  Expr
	Rbrack source.Pos
}

// CallExpr is f(args).
type CallExpr struct {
	Fun    Expr
	Lparen source.Pos
	Args   []Expr
	Rparen source.Pos
}

// ParenExpr is (x).
type ParenExpr struct {
	Lparen source.Pos
	X      Expr
	Rparen source.Pos
}

// ListLit is [a, b, c].
type ListLit struct {
	Lbrack source.Pos
	Elems  []Expr
	Rbrack source.Pos
}

// MapLit is [k: v, ...] or the empty map [:].
type MapLit struct {
	Lbrack source.Pos
	Keys   []Expr
	Values []Expr
	Rbrack source.Pos
}

// FieldInit is name: value inside a record literal.
type FieldInit struct {
	Name  *Ident
	Value Expr
}

// RecordLit is { name: value, ... }. Records are structural, so no type
// name is written.
type RecordLit struct {
	Lbrace source.Pos
	Fields []*FieldInit
	Rbrace source.Pos
}

// LambdaExpr is x => body or (x, y) => body, used by list builtins.
type LambdaExpr struct {
	Params []*Ident
	Lparen source.Pos // NoPos when the single parameter is unparenthesised
	Body   Expr
}

// MilestoneExpr is "milestone M": true while milestone M is held.
type MilestoneExpr struct {
	KwPos source.Pos
	Name  *Ident
}

// BadExpr stands for an expression that failed to parse.
type BadExpr struct {
	From, To source.Pos
}

func (x *Ident) Span() source.Span {
	return source.Span{Start: x.NamePos, End: x.NamePos + source.Pos(len(x.Name))}
}
func (x *BasicLit) Span() source.Span {
	return source.Span{Start: x.ValuePos, End: x.ValuePos + source.Pos(len(x.Value))}
}
func (x *UnaryExpr) Span() source.Span { return source.Span{Start: x.OpPos, End: x.X.Span().End} }
func (x *BinaryExpr) Span() source.Span {
	return source.Span{Start: x.X.Span().Start, End: x.Y.Span().End}
}
func (x *SelectorExpr) Span() source.Span {
	return source.Span{Start: x.X.Span().Start, End: x.Sel.Span().End}
}
func (x *IndexExpr) Span() source.Span {
	return source.Span{Start: x.X.Span().Start, End: x.Rbrack + 1}
}
func (x *CallExpr) Span() source.Span {
	return source.Span{Start: x.Fun.Span().Start, End: x.Rparen + 1}
}
func (x *ParenExpr) Span() source.Span { return source.Span{Start: x.Lparen, End: x.Rparen + 1} }
func (x *ListLit) Span() source.Span   { return source.Span{Start: x.Lbrack, End: x.Rbrack + 1} }
func (x *MapLit) Span() source.Span    { return source.Span{Start: x.Lbrack, End: x.Rbrack + 1} }
func (x *RecordLit) Span() source.Span { return source.Span{Start: x.Lbrace, End: x.Rbrace + 1} }
func (x *LambdaExpr) Span() source.Span {
	start := x.Lparen
	if !start.IsValid() {
		start = x.Params[0].NamePos
	}
	return source.Span{Start: start, End: x.Body.Span().End}
}
func (x *MilestoneExpr) Span() source.Span {
	return source.Span{Start: x.KwPos, End: x.Name.Span().End}
}
func (x *BadExpr) Span() source.Span { return source.Span{Start: x.From, End: x.To} }

func (*Ident) expr()         {}
func (*BasicLit) expr()      {}
func (*UnaryExpr) expr()     {}
func (*BinaryExpr) expr()    {}
func (*SelectorExpr) expr()  {}
func (*IndexExpr) expr()     {}
func (*CallExpr) expr()      {}
func (*ParenExpr) expr()     {}
func (*ListLit) expr()       {}
func (*MapLit) expr()        {}
func (*RecordLit) expr()     {}
func (*LambdaExpr) expr()    {}
func (*MilestoneExpr) expr() {}
func (*BadExpr) expr()       {}
