// This file implements the layout of bracketed, comma-separated lists:
// parameters, arguments, record and list literals, record and enum types,
// route candidates.

package format

import "github.com/knhk/knhk/lang/source"

// list describes one bracketed list for [printer.list].
type list struct {
	open, close       string
	openPos, closePos source.Pos
	n                 int
	start             func(i int) source.Pos // where element i starts in the source
	elem              func(i int)            // prints element i
	pad               bool                   // one-line form has spaces inside: "{ a, b }"
	width             func() int             // flat width of the whole list; nil: break only for comments
}

// list prints l on one line, or with one element per line and a trailing
// comma when a comment lies inside it or, for lists with a width, when the
// one-line form would pass column 80.
func (p *printer) list(l list) {
	p.flush(l.openPos)
	multi := false
	if !p.flat {
		multi = p.hasComment(l.openPos, l.closePos)
		if !multi && l.width != nil && l.n > 0 {
			multi = p.nextCol()+l.width() > maxWidth
		}
	}
	if !multi {
		p.write(l.open)
		if l.n == 0 {
			p.tok(l.closePos, l.close)
			return
		}
		if l.pad {
			p.sp()
		}
		for i := range l.n {
			if i > 0 {
				p.write(",")
				p.sp()
			}
			l.elem(i)
		}
		if l.pad {
			p.sp()
		}
		p.tok(l.closePos, l.close)
		return
	}
	p.write(l.open)
	p.indent++
	for i := range l.n {
		n := 1
		if i > 0 && p.blankBefore(l.start(i)) {
			n = 2
		}
		p.linebreak(n)
		l.elem(i)
		p.write(",")
	}
	p.linebreak(1)
	p.flush(l.closePos)
	p.indent--
	p.closeLine()
	p.tok(l.closePos, l.close)
}

// nextCol is the column at which the next token will start.
func (p *printer) nextCol() int {
	switch {
	case p.pending > 0 && p.buf.Len() > 0:
		n := p.indent
		if p.soft {
			n++
		}
		return n * len(indentUnit)
	case p.space:
		return p.col + 1
	}
	return p.col
}
