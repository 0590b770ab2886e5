// This file implements the printing of expressions. The tree is printed
// as it is: parentheses are ParenExpr nodes, so no precedence rules are
// needed to print a tree that parses back to itself.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

func (p *printer) expr(x syntax.Expr) {
	top := p.topCall
	p.topCall = false
	switch x := x.(type) {
	case nil:
	case *syntax.Ident:
		p.tok(x.NamePos, x.Name)
	case *syntax.BasicLit:
		p.tok(x.ValuePos, x.Value)
	case *syntax.UnaryExpr:
		p.tok(x.OpPos, x.Op)
		if y, ok := x.X.(*syntax.UnaryExpr); ok && y.Op == "-" && x.Op == "-" {
			p.sp() // "- -x", which does not read as a decrement
		}
		p.expr(x.X)
	case *syntax.BinaryExpr:
		p.expr(x.X)
		// Ranges are written tight, like Rust's and Kotlin's: lo..hi,
		// unless a time literal would swallow the dots.
		tight := x.Op == ".." && !endsInTime(x.X)
		if !tight {
			p.sp()
		}
		p.tok(x.OpPos, x.Op)
		if !tight {
			p.sp()
		}
		p.expr(x.Y)
	case *syntax.SelectorExpr:
		p.expr(x.X)
		if endsInTime(x.X) {
			p.sp()
		}
		p.keyword(x.X.Span().End, ".")
		p.tok(x.Sel.NamePos, x.Sel.Name)
	case *syntax.IndexExpr:
		p.expr(x.X)
		p.keyword(x.X.Span().End, "[")
		p.expr(x.Index)
		p.tok(x.Rbrack, "]")
	case *syntax.CallExpr:
		p.expr(x.Fun)
		p.list(list{
			open: "(", close: ")", openPos: x.Lparen, closePos: x.Rparen, n: len(x.Args),
			start: func(i int) source.Pos { return x.Args[i].Span().Start },
			elem:  func(i int) { p.expr(x.Args[i]) },
			width: p.callWidth(top, x),
		})
	case *syntax.ParenExpr:
		p.tok(x.Lparen, "(")
		p.expr(x.X)
		p.tok(x.Rparen, ")")
	case *syntax.ListLit:
		p.list(list{
			open: "[", close: "]", openPos: x.Lbrack, closePos: x.Rbrack, n: len(x.Elems),
			start: func(i int) source.Pos { return x.Elems[i].Span().Start },
			elem:  func(i int) { p.expr(x.Elems[i]) },
			width: p.width(x),
		})
	case *syntax.MapLit:
		if len(x.Keys) == 0 {
			p.tok(x.Lbrack, "[")
			p.kw(":")
			p.tok(x.Rbrack, "]")
			return
		}
		p.list(list{
			open: "[", close: "]", openPos: x.Lbrack, closePos: x.Rbrack, n: len(x.Keys),
			start: func(i int) source.Pos { return x.Keys[i].Span().Start },
			elem: func(i int) {
				p.expr(x.Keys[i])
				if endsInTime(x.Keys[i]) {
					p.sp()
				}
				p.keyword(x.Keys[i].Span().End, ":")
				p.sp()
				if i < len(x.Values) {
					p.expr(x.Values[i])
				}
			},
			width: p.width(x),
		})
	case *syntax.RecordLit:
		p.list(list{
			open: "{", close: "}", openPos: x.Lbrace, closePos: x.Rbrace, n: len(x.Fields),
			start: func(i int) source.Pos { return x.Fields[i].Name.NamePos },
			elem: func(i int) {
				f := x.Fields[i]
				p.tok(f.Name.NamePos, f.Name.Name)
				p.keyword(f.Name.Span().End, ":")
				p.sp()
				p.expr(f.Value)
			},
			pad:   true,
			width: p.width(x),
		})
	case *syntax.LambdaExpr:
		if x.Lparen.IsValid() || len(x.Params) != 1 {
			p.tok(x.Lparen, "(")
			for i, id := range x.Params {
				if i > 0 {
					p.write(",")
					p.sp()
				}
				p.tok(id.NamePos, id.Name)
			}
			p.kw(")")
		} else {
			p.tok(x.Params[0].NamePos, x.Params[0].Name)
		}
		p.sp()
		p.kw("=>")
		p.sp()
		p.expr(x.Body)
	case *syntax.MilestoneExpr:
		p.tok(x.KwPos, "milestone")
		p.sp()
		p.tok(x.Name.NamePos, x.Name.Name)
	case *syntax.BadExpr:
		// Never produced for a file without errors; print the source so
		// nothing is lost if it is.
		sp := x.Span()
		if sp.Start.IsValid() && sp.Start <= sp.End && int(sp.End) <= len(p.src) {
			p.tok(sp.Start, string(p.src[sp.Start:sp.End]))
		}
	}
}

// width returns a function measuring x printed on one line.
func (p *printer) width(x syntax.Expr) func() int {
	return func() int { return measure(func(q *printer) { q.expr(x) }) }
}

// callWidth returns the width function of a call's argument list. Only a
// call that is a whole statement, or the whole value of a let, step, query
// or return, is broken one argument per line when it would pass column 80:
// breaking a call nested in an expression seldom shortens the line and
// scatters the expression.
func (p *printer) callWidth(top bool, x *syntax.CallExpr) func() int {
	if !top {
		return nil
	}
	return func() int {
		return measure(func(q *printer) {
			q.list(list{open: "(", close: ")", n: len(x.Args), elem: func(i int) { q.expr(x.Args[i]) }})
		})
	}
}

// value prints x, the whole value of a statement: a call there may break
// its arguments over lines.
func (p *printer) value(x syntax.Expr) {
	p.topCall = true
	p.expr(x)
	p.topCall = false
}

// endsInTime reports whether the last token of x is a time literal. The
// lexer reads '.', ':', '+' and '-' as part of a time literal, so "." of a
// selector, ".." and the ":" of a map entry need a space after one.
func endsInTime(x syntax.Expr) bool {
	for {
		switch y := x.(type) {
		case *syntax.BasicLit:
			return y.Kind == syntax.TimeLit
		case *syntax.UnaryExpr:
			x = y.X
		case *syntax.BinaryExpr:
			x = y.Y
		case *syntax.LambdaExpr:
			x = y.Body
		default:
			return false
		}
	}
}
