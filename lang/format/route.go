// This file implements the printing of route statements.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// routeStmt prints "route learn name(features) among { candidates }
// reward e". The candidates are a list like a record's fields: one line
// when it fits, reward included, else one candidate per line.
func (p *printer) routeStmt(s *syntax.RouteStmt) {
	p.tok(s.Span().Start, "route")
	p.sp()
	p.kw("learn")
	p.sp()
	p.name(s.Name)
	closePos := p.parenList(s.Name.Span().End, s.Features)
	p.sp()
	among := source.NoPos
	if closePos.IsValid() {
		among = p.nextAfter(closePos+1, "among")
	}
	p.tok(among, "among")
	p.sp()
	cs := s.Candidates
	lbrace := source.NoPos
	if among.IsValid() {
		lbrace = p.nextAfter(among+source.Pos(len("among")), "{")
	}
	rbrace := source.NoPos
	if len(cs) > 0 {
		rbrace = p.nextAfter(cs[len(cs)-1].Span().End, "}")
	}
	p.list(list{
		open: "{", close: "}", openPos: lbrace, closePos: rbrace, n: len(cs),
		start: func(i int) source.Pos { return cs[i].Span().Start },
		elem:  func(i int) { p.expr(cs[i]) },
		pad:   true,
		// The reward follows on the same line, so it counts too.
		width: func() int {
			return measure(func(q *printer) {
				q.list(list{open: "{", close: "}", n: len(cs), pad: true, elem: func(i int) { q.expr(cs[i]) }})
				if s.Reward != nil {
					q.write(" reward ")
					q.expr(s.Reward)
				}
			})
		},
	})
	if s.Reward != nil {
		p.sp()
		after := source.NoPos
		if rbrace.IsValid() {
			after = rbrace + 1
		}
		p.keyword(after, "reward")
		p.sp()
		p.expr(s.Reward)
	}
}
