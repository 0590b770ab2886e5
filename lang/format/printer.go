// This file implements the printer's output engine: pending whitespace,
// indentation, and the interleaving of comments with tokens.

package format

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// maxWidth is the column limit of the one-line forms (see doc.go).
const maxWidth = 80

// indentUnit is one level of indentation.
const indentUnit = "  "

// printer writes a syntax tree as canonical text.
//
// Whitespace is never written eagerly. Printing code asks for a space or
// for line breaks; the request is held as pending and written in front of
// the next token. This lets a trailing comment found between two tokens go
// onto the end of the line that is already written, before the pending
// line break, which is how go/printer keeps "x, // note" together.
type printer struct {
	src      []byte            // the source, for comment placement; nil when flat
	comments []*syntax.Comment // all comments, in source order
	ci       int               // index of the next comment to print
	srcPos   source.Pos        // source offset after the last token printed

	buf    bytes.Buffer
	indent int // current block indentation level
	col    int // runes written since the last newline

	pending int  // line breaks to write before the next token (0, 1 or 2)
	soft    bool // the pending break is a continuation inside a construct: indent one more level
	space   bool // a space is pending

	lastOpen    bool // the last token opened a bracket: no blank line may follow
	afterOwn    bool // pending was set by a comment on its own line, from its blankAfter
	lineComment bool // the current output line ends in a // comment

	topCall bool // the expression about to print is a statement's whole value

	// flat measures: no comments, no line breaks, lists on one line.
	flat bool
}

func newPrinter(f *syntax.File) *printer {
	p := &printer{}
	if f.Source != nil {
		p.src = f.Source.Content
		p.comments = f.Comments
	}
	return p
}

// write emits s preceded by whatever whitespace is pending.
func (p *printer) write(s string) {
	switch {
	case p.pending > 0 && p.buf.Len() > 0:
		for range p.pending {
			p.buf.WriteByte('\n')
		}
		n := p.indent
		if p.soft {
			n++
		}
		for range n {
			p.buf.WriteString(indentUnit)
		}
		p.col = n * len(indentUnit)
		p.lineComment = false
	case p.space && p.buf.Len() > 0:
		p.buf.WriteByte(' ')
		p.col++
	}
	p.pending, p.soft, p.space, p.afterOwn = 0, false, false, false
	p.raw(s)
}

// raw appends s to the output, keeping col up to date.
func (p *printer) raw(s string) {
	p.buf.WriteString(s)
	// Columns count runes, so that non-ASCII text in strings and comments
	// is as wide as an editor shows it.
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		p.col = utf8.RuneCountInString(s[i+1:])
		p.lineComment = false
	} else {
		p.col += utf8.RuneCountInString(s)
	}
	p.lastOpen = s == "{" || s == "(" || s == "["
}

// tok prints the token s found in the source at pos, after any comments
// that come before pos. pos may be NoPos when the token's place is unknown.
func (p *printer) tok(pos source.Pos, s string) {
	p.flush(pos)
	p.write(s)
	if pos.IsValid() {
		p.srcPos = pos + source.Pos(len(s))
	}
}

// kw prints the token s, looking up its position in the source after the
// last token printed, so that comments before it are printed before it.
func (p *printer) kw(s string) {
	p.tok(p.nextAfter(p.srcPos, s), s)
}

// sp requests a space before the next token.
func (p *printer) sp() { p.space = true }

// linebreak requests n line breaks (1, or 2 for a blank line) before the
// next token, at the block's indentation.
func (p *printer) linebreak(n int) {
	if p.flat {
		p.space = true
		return
	}
	if n > p.pending {
		p.pending = n
	}
	p.soft = false
}

// contLine requests a line break into a continuation line, indented one
// level more than the block.
func (p *printer) contLine() {
	if p.flat {
		p.space = true
		return
	}
	if p.pending == 0 {
		p.pending, p.soft = 1, true
	}
}

// closeLine requests exactly one line break, at the block's indentation:
// the line before a closing bracket never leaves a blank line.
func (p *printer) closeLine() {
	if p.flat {
		return
	}
	p.pending, p.soft = 1, false
}

// flush prints every comment that starts before pos.
func (p *printer) flush(pos source.Pos) {
	if !pos.IsValid() {
		return
	}
	for p.ci < len(p.comments) && p.comments[p.ci].Start < pos {
		p.comment(p.comments[p.ci])
		p.ci++
	}
}

// flushAll prints the remaining comments.
func (p *printer) flushAll() {
	for p.ci < len(p.comments) {
		p.comment(p.comments[p.ci])
		p.ci++
	}
}

// comment prints c either at the end of the current output line (when it
// followed code on its line in the source) or on a line of its own.
func (p *printer) comment(c *syntax.Comment) {
	text := c.Text
	if !c.Block() {
		text = strings.TrimRight(text, " \t\r")
	}
	if p.trailing(c) && p.buf.Len() > 0 && !p.lineComment {
		p.raw(" " + text)
		if p.afterOwn {
			// The line ends in c now, not in the comment before it:
			// whether a blank line follows is c's to say.
			p.pending = 1
			if !p.soft && p.blankAfter(c.End) {
				p.pending = 2
			}
		}
		if !c.Block() {
			p.lineComment = true
			if p.pending == 0 {
				p.pending, p.soft = 1, true
			}
		} else if p.pending == 0 {
			p.space = true
		}
		return
	}
	// On a line of its own. A blank line before it in the source survives
	// unless it would follow an opening bracket or sit inside an
	// expression. A blank line requested for the next token is dropped
	// here unless the source has one right before the comment: it is the
	// comment's blankAfter that puts it back between comment and token,
	// where the source has it. This keeps blank lines from hopping over
	// comments from one run to the next.
	n, soft := 1, p.soft
	if p.pending == 0 {
		soft = p.buf.Len() > 0
	}
	if !soft && !p.lastOpen && p.blankBefore(c.Start) {
		n = 2
	}
	p.pending, p.soft, p.space = n, soft, false
	p.write(text)
	if !c.Block() {
		p.lineComment = true
	}
	p.pending, p.soft, p.afterOwn = 1, soft, true
	if !soft && p.blankAfter(c.End) {
		p.pending = 2
	}
}

// trailing reports whether code precedes c on its line in the source.
func (p *printer) trailing(c *syntax.Comment) bool {
	for i := int(c.Start) - 1; i >= 0; i-- {
		switch p.src[i] {
		case ' ', '\t', '\r':
			continue
		case '\n':
			return false
		}
		return true
	}
	return false
}

// blankBefore reports whether a blank line directly precedes pos in the
// source (only whitespace in between).
func (p *printer) blankBefore(pos source.Pos) bool {
	if p.src == nil {
		return false
	}
	nl := 0
	for i := int(pos) - 1; i >= 0 && i < len(p.src); i-- {
		switch p.src[i] {
		case '\n':
			nl++
			if nl >= 2 {
				return true
			}
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return false
}

// blankAfter reports whether a blank line directly follows pos in the
// source.
func (p *printer) blankAfter(pos source.Pos) bool {
	nl := 0
	for i := int(pos); i < len(p.src); i++ {
		switch p.src[i] {
		case '\n':
			nl++
			if nl >= 2 {
				return true
			}
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return false
}

// next returns the offset of the first token at or after pos, skipping
// whitespace and comments, or NoPos when there is no source.
func (p *printer) next(pos source.Pos) source.Pos {
	if p.src == nil || !pos.IsValid() {
		return source.NoPos
	}
	i := int(pos)
	for i < len(p.src) {
		switch c := p.src[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '/' && i+1 < len(p.src) && p.src[i+1] == '/':
			for i < len(p.src) && p.src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(p.src) && p.src[i+1] == '*':
			j := bytes.Index(p.src[i+2:], []byte("*/"))
			if j < 0 {
				return source.Pos(len(p.src))
			}
			i += j + 4
		default:
			return source.Pos(i)
		}
	}
	return source.Pos(len(p.src))
}

// nextAfter returns the position of the token s at or after pos, skipping
// whitespace, comments and commas; NoPos if another token comes first.
func (p *printer) nextAfter(pos source.Pos, s string) source.Pos {
	for {
		q := p.next(pos)
		if !q.IsValid() || int(q)+len(s) > len(p.src) {
			return source.NoPos
		}
		if string(p.src[q:int(q)+len(s)]) == s {
			return q
		}
		if p.src[q] == ',' {
			pos = q + 1
			continue
		}
		return source.NoPos
	}
}

// hasComment reports whether a comment starts inside (from, to).
func (p *printer) hasComment(from, to source.Pos) bool {
	if !from.IsValid() || !to.IsValid() {
		return false
	}
	for _, c := range p.comments[p.ci:] {
		if c.Start >= to {
			return false
		}
		if c.Start > from {
			return true
		}
	}
	return false
}

// measure reports how many columns print takes when printed flat on one
// line.
func measure(print func(q *printer)) int {
	q := &printer{flat: true}
	print(q)
	return q.col
}
