// This file implements the printing of a file and its top-level
// declarations.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// file prints the package clause, the imports and the declarations in
// source order. Blank lines between them are kept, at most one at a time.
func (p *printer) file(f *syntax.File) {
	var tops []syntax.TopDecl
	if f.Package != nil {
		tops = append(tops, f.Package)
	}
	for _, d := range f.Imports {
		tops = append(tops, d)
	}
	for _, d := range f.Decls {
		tops = append(tops, d)
	}
	for i, d := range tops {
		if i > 0 {
			n := 1
			if p.blankBefore(d.Span().Start) {
				n = 2
			}
			p.linebreak(n)
		}
		p.topDecl(d)
	}
	p.linebreak(1)
	p.flushAll()
	if p.buf.Len() > 0 {
		p.raw("\n")
	}
}

func (p *printer) topDecl(d syntax.TopDecl) {
	switch d := d.(type) {
	case *syntax.PackageDecl:
		p.tok(d.Span().Start, "package")
		p.sp()
		p.name(d.Name)
	case *syntax.ImportDecl:
		p.tok(d.Span().Start, "import")
		p.sp()
		p.strLit(d.Path)
		if d.Alias != nil {
			p.sp()
			p.keyword(d.Path.Span().End, "as")
			p.sp()
			p.name(d.Alias)
		}
	case *syntax.TypeDecl:
		p.tok(d.Span().Start, "type")
		p.sp()
		p.name(d.Name)
		p.sp()
		p.keyword(d.Name.Span().End, "=")
		p.sp()
		p.typ(d.Type)
	case *syntax.FnDecl:
		p.signature(d.Span().Start, "fn", d.Name, d.Params, d.Result)
		p.sp()
		p.keyword(d.Result.Span().End, "=")
		// A body that would pass column 80 goes on a continuation line,
		// unless it is a call or literal, which breaks its own list.
		if !p.flat && p.col+1+measure(func(q *printer) { q.expr(d.Body) }) > maxWidth && !breaksItself(d.Body) {
			p.contLine()
		} else {
			p.sp()
		}
		p.value(d.Body)
	case *syntax.TaskDecl:
		p.signature(d.Span().Start, "task", d.Name, d.Params, d.Result)
		// When the declaration would pass column 80, the binding and the
		// clauses each go on a continuation line.
		long := !p.flat && p.col+1+measure(func(q *printer) {
			q.sp()
			q.binding(d.Binding)
			q.clauses(d.Clauses)
		}) > maxWidth
		if long {
			p.contLine()
		} else {
			p.sp()
		}
		p.binding(d.Binding)
		if long && len(d.Clauses) > 0 {
			p.contLine()
		}
		p.clauses(d.Clauses)
	case *syntax.KernelDecl:
		p.signature(d.Span().Start, "kernel", d.Name, d.Params, d.Result)
		p.sp()
		p.block(d.Body)
	case *syntax.WorkflowDecl:
		p.signature(d.Span().Start, "workflow", d.Name, d.Params, d.Result)
		p.sp()
		p.block(d.Body)
	}
}

// keyword prints a token whose position the AST does not record: it is
// looked up in the source after pos, so comments before it stay before it.
func (p *printer) keyword(after source.Pos, s string) {
	p.tok(p.nextAfter(after, s), s)
}

func (p *printer) name(n *syntax.Name) {
	if n == nil {
		return
	}
	p.tok(n.Span().Start, n.Value)
}

func (p *printer) strLit(s *syntax.StringLit) {
	if s == nil {
		return
	}
	p.tok(s.Span().Start, s.Value)
}

// params prints "(a: T, b: U)" after the name ending at after, and returns
// the end of the closing parenthesis.
// signature prints "kw name(params) -> result", the head that fn, task,
// kernel and workflow declarations share.
func (p *printer) signature(start source.Pos, kw string, name *syntax.Name, ps []*syntax.Param, result *syntax.Type) {
	p.tok(start, kw)
	p.sp()
	p.name(name)
	end := p.params(name.Span().End, ps)
	p.result(end, result)
}

func (p *printer) params(after source.Pos, ps []*syntax.Param) source.Pos {
	open := p.nextAfter(after, "(")
	closeAfter := open + 1
	if len(ps) > 0 {
		closeAfter = ps[len(ps)-1].Span().End
	}
	if !open.IsValid() {
		closeAfter = source.NoPos
	}
	closePos := p.nextAfter(closeAfter, ")")
	p.list(list{
		open: "(", close: ")", openPos: open, closePos: closePos, n: len(ps),
		start: func(i int) source.Pos { return ps[i].Span().Start },
		elem:  func(i int) { p.param(ps[i]) },
		width: func() int {
			return measure(func(q *printer) { q.params(source.NoPos, ps) })
		},
	})
	if !closePos.IsValid() {
		return source.NoPos
	}
	return closePos + 1
}

func (p *printer) param(d *syntax.Param) {
	p.name(d.Name)
	p.keyword(d.Name.Span().End, ":")
	p.sp()
	p.typ(d.Type)
}

// result prints " -> T" when t is set.
func (p *printer) result(after source.Pos, t *syntax.Type) {
	if t == nil {
		return
	}
	p.sp()
	p.keyword(after, "->")
	p.sp()
	p.typ(t)
}

func (p *printer) binding(b *syntax.Binding) {
	if b == nil {
		return
	}
	start := b.Span().Start
	switch b.Kind() {
	case "exec":
		p.tok(start, "exec")
		for _, s := range b.Exec {
			p.sp()
			p.strLit(s)
		}
	case "http":
		p.tok(start, "http")
		p.sp()
		p.name(b.Method)
		p.sp()
		p.strLit(b.URL)
	case "std":
		p.tok(start, "std")
		p.sp()
		p.strLit(b.Std)
	case "queue":
		p.tok(start, "queue")
		p.sp()
		p.strLit(b.Queue)
	default:
		p.tok(start, "extern")
		if b.Symbol != nil {
			p.sp()
			p.strLit(b.Symbol)
		}
	}
}

// clauses prints " retry 3 backoff 200ms ..." on the current line.
func (p *printer) clauses(cs []*syntax.Clause) {
	for _, c := range cs {
		p.sp()
		p.tok(c.Span().Start, c.Kind)
		p.sp()
		p.expr(c.Value)
	}
}

// breaksItself reports whether x can spread over lines by itself: a call
// that is a whole value, or a record, list or map literal.
func breaksItself(x syntax.Expr) bool {
	switch x.(type) {
	case *syntax.CallExpr, *syntax.RecordLit, *syntax.ListLit, *syntax.MapLit:
		return true
	}
	return false
}
