// This file implements the printing of blocks and statements.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// block prints "{", one statement per line, "}". An empty block without
// comments is "{}". Blank lines between statements are kept, at most one.
func (p *printer) block(b *syntax.Block) {
	if b == nil {
		return
	}
	sp := b.Span()
	open, closePos := sp.Start, sp.End-1
	p.tok(open, "{")
	if len(b.Stmts) == 0 && !p.hasComment(open, closePos) {
		p.tok(closePos, "}")
		return
	}
	p.indent++
	for i, s := range b.Stmts {
		n := 1
		if i > 0 && p.blankBefore(s.Span().Start) {
			n = 2
		}
		p.linebreak(n)
		p.stmt(s)
	}
	p.linebreak(1)
	p.flush(closePos)
	p.indent--
	p.closeLine()
	p.tok(closePos, "}")
}

func (p *printer) stmt(s syntax.Stmt) {
	start := s.Span().Start
	switch s := s.(type) {
	case *syntax.LetStmt:
		p.tok(start, s.Keyword)
		p.sp()
		p.name(s.Name)
		after := s.Name.Span().End
		if s.Type != nil {
			p.keyword(after, ":")
			p.sp()
			p.typ(s.Type)
			after = s.Type.Span().End
		}
		p.sp()
		p.keyword(after, "=")
		p.sp()
		p.value(s.Value)
		p.clauses(s.Clauses)
	case *syntax.GuardStmt:
		p.tok(start, "guard")
		p.sp()
		p.expr(s.Cond)
		p.sp()
		p.keyword(s.Cond.Span().End, "else")
		p.sp()
		p.kw("fail")
		p.sp()
		p.expr(s.Message)
	case *syntax.FailStmt:
		p.tok(start, "fail")
		p.sp()
		p.expr(s.Message)
	case *syntax.ReturnStmt:
		p.tok(start, "return")
		if s.Value != nil {
			p.sp()
			p.value(s.Value)
		}
	case *syntax.ParallelStmt:
		p.tok(start, "parallel")
		p.sp()
		p.block(s.Body)
		p.join(s.Join)
	case *syntax.ChooseStmt:
		p.tok(start, "choose")
		p.arms(s.Span(), s.Whens, s.Else)
	case *syntax.MultiStmt:
		p.tok(start, "multi")
		p.arms(s.Span(), s.Whens, s.Else)
	case *syntax.IfStmt:
		p.ifStmt(s)
	case *syntax.ForStmt:
		p.tok(start, "for")
		p.sp()
		p.name(s.Var)
		p.sp()
		p.keyword(s.Var.Span().End, "in")
		p.sp()
		p.expr(s.Iter)
		if s.Parallel {
			p.sp()
			p.keyword(s.Iter.Span().End, "parallel")
			if s.Limit != nil {
				p.sp()
				p.kw("limit")
				p.sp()
				p.expr(s.Limit)
			}
			if s.More != nil {
				p.sp()
				p.kw("more")
				p.sp()
				p.kw("on")
				p.sp()
				p.name(s.More)
			}
		}
		p.sp()
		p.block(s.Body)
		p.join(s.Join)
	case *syntax.WhileStmt:
		p.tok(start, "while")
		p.sp()
		p.expr(s.Cond)
		p.sp()
		p.block(s.Body)
	case *syntax.BranchStmt:
		p.tok(start, s.Keyword)
	case *syntax.SelectStmt:
		p.tok(start, "select")
		arms := make([]arm, len(s.Arms))
		for i, a := range s.Arms {
			arms[i] = arm{node: a, head: func(q *printer) { q.selectHead(a) }, body: a.Body}
		}
		p.armList(s.Span(), arms)
	case *syntax.CancelStmt:
		p.tok(start, "cancel")
		p.sp()
		if s.Kind == "case" {
			p.kw("case")
		} else {
			p.kw(s.Kind)
			p.sp()
			p.name(s.Target)
		}
	case *syntax.RegionStmt:
		p.namedBlock(start, "region", s.Name, s.Body)
	case *syntax.CriticalStmt:
		p.namedBlock(start, "critical", s.Name, s.Body)
	case *syntax.MilestoneStmt:
		p.namedBlock(start, "milestone", s.Name, s.Body)
	case *syntax.InterleaveStmt:
		p.tok(start, "interleave")
		p.sp()
		p.block(s.Body)
	case *syntax.FlowStmt:
		p.flowStmt(s)
	case *syntax.RouteStmt:
		p.routeStmt(s)
	case *syntax.SendStmt:
		p.sendStmt(s)
	case *syntax.HookStmt:
		p.tok(start, "hook")
		p.sp()
		p.name(s.Name)
		p.sp()
		p.kw("on")
		p.sp()
		p.kw(s.Event)
		after := s.Name.Span().End
		if s.Target != nil {
			p.sp()
			p.name(s.Target)
			after = s.Target.Span().End
		}
		if s.Cond != nil {
			p.sp()
			p.keyword(after, "when")
			p.sp()
			p.expr(s.Cond)
			after = s.Cond.Span().End
		}
		p.sp()
		p.keyword(after, "->")
		p.sp()
		p.stmt(s.Body)
	case *syntax.SignalDecl:
		p.tok(start, "signal")
		p.sp()
		p.name(s.Name)
		if len(s.Params) > 0 {
			p.params(s.Name.Span().End, s.Params)
		}
		if s.Transient {
			p.sp()
			p.kw("transient")
		}
	case *syntax.QueryDecl:
		p.tok(start, "query")
		p.sp()
		p.name(s.Name)
		p.result(s.Name.Span().End, s.Result)
		p.sp()
		p.keyword(s.Result.Span().End, "=")
		p.sp()
		p.value(s.Value)
	case *syntax.BlockStmt:
		p.block(s.Block)
	case *syntax.ExprStmt:
		if s.Value == nil {
			p.value(s.X)
		} else {
			p.expr(s.X)
			p.sp()
			p.keyword(s.X.Span().End, "=")
			p.sp()
			p.value(s.Value)
		}
		p.clauses(s.Clauses)
	}
}

func (p *printer) namedBlock(start source.Pos, kw string, name *syntax.Name, b *syntax.Block) {
	p.tok(start, kw)
	p.sp()
	p.name(name)
	p.sp()
	p.block(b)
}

// join prints " join all|any|active|N [keep]". After a block, a line comment or a
// comment on its own line before "join" puts it on a line of its own at
// the block's indentation, as for else.
func (p *printer) join(j *syntax.Join) {
	if j == nil {
		return
	}
	if p.needsOwnLine(p.srcPos, j.Span().Start) {
		p.linebreak(1)
	} else {
		p.sp()
	}
	p.tok(j.Span().Start, "join")
	p.sp()
	if j.Count != nil {
		p.expr(j.Count)
	} else {
		p.kw(j.Kind)
	}
	if j.Keep {
		p.sp()
		p.kw("keep")
	}
}

func (p *printer) ifStmt(s *syntax.IfStmt) {
	p.tok(s.Span().Start, "if")
	p.sp()
	p.expr(s.Cond)
	p.sp()
	p.block(s.Then)
	if s.ElseIf == nil && s.Else == nil {
		return
	}
	// A line comment or a comment on its own line between "}" and "else"
	// puts else on a line of its own, at the block's indentation.
	elsePos := p.nextAfter(s.Then.Span().End, "else")
	if p.needsOwnLine(s.Then.Span().End, elsePos) {
		p.linebreak(1)
	} else {
		p.sp()
	}
	p.tok(elsePos, "else")
	p.sp()
	if s.ElseIf != nil {
		p.ifStmt(s.ElseIf)
	} else {
		p.block(s.Else)
	}
}

// needsOwnLine reports whether a comment between from and to is a line
// comment or stands on a line of its own, so that the token at to must
// start a new line.
func (p *printer) needsOwnLine(from, to source.Pos) bool {
	if !from.IsValid() || !to.IsValid() {
		return false
	}
	for _, c := range p.comments[p.ci:] {
		if c.Start >= to {
			break
		}
		if c.Start >= from && (!c.Block() || !p.trailing(c)) {
			return true
		}
	}
	return false
}
