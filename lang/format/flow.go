// This file implements the printing of flow statements: steps and arcs.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// flowStmt prints a flow block with one step or arc per line. Arcs stay
// on one line whatever their length: an arc is read as one edge.
func (p *printer) flowStmt(s *syntax.FlowStmt) {
	sp := s.Span()
	p.tok(sp.Start, "flow")
	p.sp()
	open := p.nextAfter(sp.Start+source.Pos(len("flow")), "{")
	closePos := sp.End - 1
	p.tok(open, "{")
	if len(s.Items) == 0 && !p.hasComment(open, closePos) {
		p.tok(closePos, "}")
		return
	}
	p.indent++
	for i, it := range s.Items {
		n := 1
		if i > 0 && p.blankBefore(it.Span().Start) {
			n = 2
		}
		p.linebreak(n)
		switch it := it.(type) {
		case *syntax.Step:
			p.tok(it.Span().Start, "step")
			p.sp()
			p.name(it.Name)
			p.sp()
			p.keyword(it.Name.Span().End, "=")
			p.sp()
			p.value(it.Call)
			p.clauses(it.Clauses)
		case *syntax.Arc:
			for k, n := range it.From {
				if k > 0 {
					p.write(",")
					p.sp()
				}
				p.name(n)
			}
			p.sp()
			p.keyword(it.From[len(it.From)-1].Span().End, "->")
			p.sp()
			for k, n := range it.To {
				if k > 0 {
					p.write(",")
					p.sp()
				}
				p.name(n)
			}
			if it.Threads != nil {
				p.sp()
				p.kw("*")
				p.sp()
				p.expr(it.Threads)
			}
			p.join(it.Join)
			if it.When != nil {
				p.sp()
				p.keyword(p.prevEnd(it), "when")
				p.sp()
				p.expr(it.When)
			}
		}
	}
	p.linebreak(1)
	p.flush(closePos)
	p.indent--
	p.closeLine()
	p.tok(closePos, "}")
}

// prevEnd is the end of what precedes an arc's when clause.
func (p *printer) prevEnd(a *syntax.Arc) source.Pos {
	if a.Join != nil {
		return a.Join.Span().End
	}
	if a.Threads != nil {
		return a.Threads.Span().End
	}
	return a.To[len(a.To)-1].Span().End
}
