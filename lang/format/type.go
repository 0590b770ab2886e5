// This file implements the printing of type expressions.

package format

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

func (p *printer) typ(t *syntax.Type) {
	if t == nil {
		return
	}
	switch {
	case t.List != nil:
		l := t.List
		p.tok(l.Span().Start, "[")
		p.typ(l.Elem)
		if l.Value != nil {
			p.keyword(l.Elem.Span().End, ":")
			p.sp()
			p.typ(l.Value)
		}
		p.tok(l.Span().End-1, "]")
	case t.Record != nil:
		r := t.Record
		p.list(list{
			open: "{", close: "}", openPos: r.Span().Start, closePos: r.Span().End - 1, n: len(r.Fields),
			start: func(i int) source.Pos { return r.Fields[i].Span().Start },
			elem:  func(i int) { p.param(r.Fields[i]) },
			pad:   true,
			width: func() int { return measure(func(q *printer) { q.typ(&syntax.Type{Record: r}) }) },
		})
	case t.Enum != nil:
		e := t.Enum
		p.tok(e.Span().Start, "enum")
		p.sp()
		open := p.nextAfter(e.Span().Start+4, "{")
		p.list(list{
			open: "{", close: "}", openPos: open, closePos: e.Span().End - 1, n: len(e.Members),
			start: func(i int) source.Pos { return e.Members[i].Span().Start },
			elem:  func(i int) { p.name(e.Members[i]) },
			pad:   true,
			width: func() int {
				return measure(func(q *printer) { q.typ(&syntax.Type{Enum: e}) }) - len("enum ")
			},
		})
	case t.Named != nil:
		for i, n := range t.Named.Parts {
			if i > 0 {
				p.keyword(t.Named.Parts[i-1].Span().End, ".")
			}
			p.name(n)
		}
	}
	if t.Optional {
		p.tok(t.Span().End-1, "?")
	}
}
