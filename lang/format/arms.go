// This file implements the printing of the arms of choose, multi and
// select, with their arrows aligned.

package format

import (
	"strings"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// arm is one line of a choose, multi or select: a head printed before
// " -> " and a body statement.
type arm struct {
	node source.Spanned
	head func(q *printer)
	body syntax.Stmt
}

func (p *printer) arms(sp source.Span, whens []*syntax.When, els *syntax.Else) {
	var arms []arm
	for _, w := range whens {
		arms = append(arms, arm{node: w, body: w.Body, head: func(q *printer) {
			q.tok(w.Span().Start, "when")
			q.sp()
			q.expr(w.Cond)
		}})
	}
	if els != nil {
		arms = append(arms, arm{node: els, body: els.Body, head: func(q *printer) {
			q.tok(els.Span().Start, "else")
		}})
	}
	p.armList(sp, arms)
}

// armList prints " { arm* }" with one arm per line. The arrows of
// consecutive arms line up, as in a gofmt'd struct; a blank line between
// arms, or an arm whose head holds a comment, starts a new run.
func (p *printer) armList(sp source.Span, arms []arm) {
	p.sp()
	open := p.nextAfter(p.srcPos, "{")
	closePos := sp.End - 1
	p.tok(open, "{")
	if len(arms) == 0 && !p.hasComment(open, closePos) {
		p.tok(closePos, "}")
		return
	}
	widths := make([]int, len(arms))
	for i, a := range arms {
		widths[i] = -1
		if !p.flat && !p.hasComment(a.node.Span().Start, a.body.Span().Start) {
			widths[i] = measure(a.head)
		}
	}
	p.indent++
	for i := 0; i < len(arms); {
		// A run of alignable arms: i..j-1.
		j := i + 1
		if widths[i] >= 0 && !p.flat {
			for j < len(arms) && widths[j] >= 0 && !p.blankBefore(arms[j].node.Span().Start) && p.oneLine(arms[j-1].body, widths[j-1], arms[j].node.Span().Start) {
				j++
			}
		}
		max := 0
		for k := i; k < j; k++ {
			if widths[k] > max {
				max = widths[k]
			}
		}
		for k := i; k < j; k++ {
			a := arms[k]
			n := 1
			if k > 0 && p.blankBefore(a.node.Span().Start) {
				n = 2
			}
			p.linebreak(n)
			a.head(p)
			if widths[k] >= 0 && !p.lineComment {
				p.raw(strings.Repeat(" ", max-widths[k]))
			}
			p.sp()
			p.keyword(headEnd(a), "->")
			p.sp()
			p.stmt(a.body)
		}
		i = j
	}
	p.linebreak(1)
	p.flush(closePos)
	p.indent--
	p.closeLine()
	p.tok(closePos, "}")
}

// oneLine reports whether s prints on a single line: it holds no
// non-empty block, no choose, multi, select or flow, and no comment comes
// between it and next, the start of the next arm. An arm whose body spans
// lines ends a run of aligned arrows, as a multi-line entry ends an
// aligned section in gofmt. The comment test runs up to the next arm, not
// to the end of s, because a comment inside s may be printed after it.
//
// head is the width of the arm's head: a body that would pass column 80
// after it is taken to span lines too.
func (p *printer) oneLine(s syntax.Stmt, head int, next source.Pos) bool {
	sp := s.Span()
	if p.hasComment(sp.Start-1, next) {
		return false
	}
	if p.indent*len(indentUnit)+head+len(" -> ")+measure(func(q *printer) { q.stmt(s) }) > maxWidth {
		return false
	}
	one := true
	syntax.Inspect(s, func(n any) bool {
		switch n := n.(type) {
		case *syntax.Block:
			if len(n.Stmts) > 0 {
				one = false
			}
		case *syntax.ChooseStmt, *syntax.MultiStmt, *syntax.SelectStmt, *syntax.FlowStmt:
			one = false
		}
		return one
	})
	return one
}

// headEnd is a position after the arm's head and before its arrow, from
// which the arrow is looked up.
func headEnd(a arm) source.Pos {
	switch n := a.node.(type) {
	case *syntax.When:
		return n.Cond.Span().End
	case *syntax.Else:
		return n.Span().Start + source.Pos(len("else"))
	case *syntax.Arm:
		switch {
		case n.As != nil:
			return n.As.Span().End
		case n.Timer != nil:
			return n.Timer.Span().End
		case n.Done != nil:
			return n.Done.Span().End
		case len(n.Params) > 0:
			return n.Params[len(n.Params)-1].Span().End
		case n.Signal != nil:
			return n.Signal.Span().End
		}
	}
	return source.NoPos
}

func (p *printer) selectHead(a *syntax.Arm) {
	p.tok(a.Span().Start, "on")
	p.sp()
	switch {
	case a.Signal != nil:
		p.kw("signal")
		p.sp()
		p.name(a.Signal)
		if len(a.Params) > 0 {
			p.params(a.Signal.Span().End, a.Params)
		}
	case a.Timer != nil:
		p.kw("timer")
		p.sp()
		p.expr(a.Timer)
	case a.Done != nil:
		p.kw("done")
		p.sp()
		p.expr(a.Done)
		if a.As != nil {
			p.sp()
			p.keyword(a.Done.Span().End, "as")
			p.sp()
			p.name(a.As)
		}
	}
}
