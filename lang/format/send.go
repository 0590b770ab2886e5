// This file implements the printing of send statements.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// sendStmt prints "send W.S(args) to id". The arguments are a list like
// a call's: one line when it fits, else one per line.
func (p *printer) sendStmt(s *syntax.SendStmt) {
	p.tok(s.Span().Start, "send")
	p.sp()
	if s.Workflow != nil {
		p.name(s.Workflow)
		p.keyword(s.Workflow.Span().End, ".")
	}
	p.name(s.Signal)
	after := s.Signal.Span().End
	if s.Paren || len(s.Args) > 0 {
		closePos := p.parenList(after, s.Args)
		if closePos.IsValid() {
			after = closePos + 1
		}
	}
	if s.To != nil {
		p.sp()
		p.keyword(after, "to")
		p.sp()
		p.expr(s.To)
	}
}

// parenList prints xs as a parenthesized list like a call's arguments,
// finding the parentheses in the source after pos, and returns the
// position of ")" (NoPos when not found).
func (p *printer) parenList(after source.Pos, xs []syntax.Expr) source.Pos {
	open := p.nextAfter(after, "(")
	closeAfter := source.NoPos
	if open.IsValid() {
		closeAfter = open + 1
	}
	if n := len(xs); n > 0 {
		closeAfter = xs[n-1].Span().End
	}
	closePos := p.nextAfter(closeAfter, ")")
	p.list(list{
		open: "(", close: ")", openPos: open, closePos: closePos, n: len(xs),
		start: func(i int) source.Pos { return xs[i].Span().Start },
		elem:  func(i int) { p.expr(xs[i]) },
	})
	return closePos
}
