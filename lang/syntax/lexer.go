// This file implements the lexer.

package syntax

import (
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/knhk/knhk/lang/source"
)

// Comment is a line (//) or block (/* */) comment, kept for the formatter
// and for doc comments in hover.
type Comment struct {
	Start, End source.Pos
	Text       string
}

// Span returns the comment's extent.
func (c *Comment) Span() source.Span { return source.Span{Start: c.Start, End: c.End} }

// Block reports whether c is a /* */ comment.
func (c *Comment) Block() bool { return len(c.Text) > 1 && c.Text[1] == '*' }

// scanner splits a file into tokens. It never fails: a byte that starts no
// token becomes a diagnostic and is skipped, so the parser still sees the
// rest of the file.
//
// Tight end positions: participle sets a node's EndPos to the position of
// the token after it, which would make spans swallow whitespace and
// comments. The scanner therefore stores in each token's Position.Column
// the end offset of the token before it, so EndPos.Column is the node's
// exact end. Line is the real line; columns for humans are always
// recomputed from offsets by [source.File].
type scanner struct {
	file     *source.File
	src      []byte
	off      int
	line     int
	prevEnd  int
	tokens   []lexer.Token
	comments []*Comment
	diags    source.Diagnostics
}

func scan(f *source.File) *scanner {
	s := &scanner{file: f, src: f.Content, line: 1}
	s.tokens = make([]lexer.Token, 0, len(f.Content)/4+1)
	s.run()
	return s
}

func (s *scanner) errorf(start, end int, code source.Code, format string, args ...any) {
	s.diags = append(s.diags, source.Errorf(s.file, source.Span{Start: source.Pos(start), End: source.Pos(end)}, code, format, args...))
}

func (s *scanner) emit(t lexer.TokenType, start int) {
	s.tokens = append(s.tokens, lexer.Token{
		Type:  t,
		Value: s.text(start, s.off),
		Pos:   lexer.Position{Filename: s.file.Name, Offset: start, Line: s.line, Column: s.prevEnd},
	})
	s.prevEnd = s.off
}

// text returns src[start:end] as a string without copying. Tokens are
// views into the file content, which is never modified after parsing
// starts; this saves one allocation per token.
func (s *scanner) text(start, end int) string {
	if end <= start {
		return ""
	}
	return unsafe.String(&s.src[start], end-start)
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func (s *scanner) run() {
	src := s.src
	for s.off < len(src) {
		c := src[s.off]
		start := s.off
		switch {
		case c == '\n':
			s.line++
			s.off++
		case c == ' ' || c == '\t' || c == '\r':
			s.off++
		case c == '/' && s.off+1 < len(src) && src[s.off+1] == '/':
			for s.off < len(src) && src[s.off] != '\n' {
				s.off++
			}
			s.comments = append(s.comments, &Comment{Start: source.Pos(start), End: source.Pos(s.off), Text: string(src[start:s.off])})
		case c == '/' && s.off+1 < len(src) && src[s.off+1] == '*':
			s.blockComment()
		case isLetter(c):
			for s.off < len(src) && (isLetter(src[s.off]) || isDigit(src[s.off])) {
				s.off++
			}
			if keywords[string(src[start:s.off])] {
				s.emit(TokKeyword, start)
			} else {
				s.emit(TokIdent, start)
			}
		case isDigit(c):
			s.number()
		case c == '"':
			s.str()
		case c == '@':
			s.time()
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(src[s.off:])
			s.off += n
			if r == utf8.RuneError && n == 1 {
				s.errorf(start, s.off, source.BadFile, "invalid UTF-8 byte 0x%02x", c)
			} else if unicode.IsLetter(r) {
				s.errorf(start, s.off, source.BadToken, "identifiers must be ASCII: %q is not allowed", r)
			} else {
				s.errorf(start, s.off, source.BadToken, "unexpected character %q", r)
			}
		default:
			s.punct()
		}
	}
	s.tokens = append(s.tokens, lexer.Token{
		Type: TokEOF,
		Pos:  lexer.Position{Filename: s.file.Name, Offset: len(src), Line: s.line, Column: s.prevEnd},
	})
}

func (s *scanner) blockComment() {
	start := s.off
	s.off += 2
	for s.off < len(s.src) {
		if s.src[s.off] == '*' && s.off+1 < len(s.src) && s.src[s.off+1] == '/' {
			s.off += 2
			s.comments = append(s.comments, &Comment{Start: source.Pos(start), End: source.Pos(s.off), Text: string(s.src[start:s.off])})
			return
		}
		if s.src[s.off] == '\n' {
			s.line++
		}
		s.off++
	}
	s.errorf(start, start+2, source.UnterminatedComment, "comment not terminated")
}

// number scans an int, a float or a duration. "0..8" is an int followed by
// the range operator, not a float.
func (s *scanner) number() {
	src := s.src
	start := s.off
	digits := func() {
		for s.off < len(src) && (isDigit(src[s.off]) || src[s.off] == '_') {
			s.off++
		}
	}
	digits()
	kind := TokInt
	if s.off+1 < len(src) && src[s.off] == '.' && isDigit(src[s.off+1]) {
		kind = TokFloat
		s.off++
		digits()
	}
	if s.off < len(src) && (src[s.off] == 'e' || src[s.off] == 'E') {
		save := s.off
		s.off++
		if s.off < len(src) && (src[s.off] == '+' || src[s.off] == '-') {
			s.off++
		}
		if s.off < len(src) && isDigit(src[s.off]) {
			kind = TokFloat
			digits()
		} else {
			s.off = save
		}
	}
	if s.off < len(src) && isLetter(src[s.off]) {
		// A duration: one or more number+unit pairs, e.g. 1h30m.
		if kind == TokInt && s.durationTail() {
			s.emit(TokDuration, start)
			return
		}
		for s.off < len(src) && (isLetter(src[s.off]) || isDigit(src[s.off])) {
			s.off++
		}
		s.errorf(start, s.off, source.BadLiteral, "malformed number or duration %q (duration units are ns, us, ms, s, m, h, d)", src[start:s.off])
		s.emit(kind, start)
		return
	}
	s.emit(kind, start)
}

// durationTail consumes unit (digits unit)* after the first number of a
// duration. It reports false, consuming nothing, if the text is not one.
func (s *scanner) durationTail() bool {
	src := s.src
	save := s.off
	for {
		unit := ""
		for _, u := range durationUnits {
			if len(src)-s.off >= len(u) && string(src[s.off:s.off+len(u)]) == u {
				unit = u
				break
			}
		}
		if unit == "" {
			s.off = save
			return false
		}
		s.off += len(unit)
		if s.off < len(src) && isDigit(src[s.off]) {
			for s.off < len(src) && isDigit(src[s.off]) {
				s.off++
			}
			continue
		}
		if s.off < len(src) && (isLetter(src[s.off])) {
			s.off = save
			return false
		}
		return true
	}
}

func (s *scanner) str() {
	src := s.src
	start := s.off
	s.off++
	for s.off < len(src) {
		switch src[s.off] {
		case '\\':
			s.off += 2
			continue
		case '"':
			s.off++
			s.emit(TokString, start)
			return
		case '\n':
			s.errorf(start, s.off, source.BadLiteral, "string literal not terminated")
			s.emit(TokString, start)
			return
		}
		s.off++
	}
	if s.off > len(src) {
		s.off = len(src)
	}
	s.errorf(start, s.off, source.BadLiteral, "string literal not terminated")
	s.emit(TokString, start)
}

// time scans @2026-11-27T10:00:00Z. The checker validates the RFC 3339 form.
func (s *scanner) time() {
	src := s.src
	start := s.off
	s.off++
	// A separator belongs to the literal only when a digit follows it, so
	// "@2026-01-02T15:04:05Z: 1" (a map entry), "@t..x" and "@t.f" end the
	// literal where the time does.
	digitAfter := func() bool { return s.off+1 < len(src) && isDigit(src[s.off+1]) }
	for s.off < len(src) {
		c := src[s.off]
		switch {
		case isDigit(c) || isLetter(c):
			s.off++
		case (c == '-' || c == ':' || c == '+' || c == '.') && digitAfter():
			s.off++
		default:
			goto done
		}
	}
done:
	if s.off == start+1 {
		s.errorf(start, s.off, source.BadToken, "'@' must start a time literal such as @2026-01-02T15:04:05Z")
		return
	}
	s.emit(TokTime, start)
}

// puncts lists every operator and delimiter, for documentation and tests;
// punct recognises them with a switch on the first byte.
var puncts = []string{"->", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "..", "+", "-", "*", "/", "%", "<", ">", "=", "!", "(", ")", "[", "]", "{", "}", ",", ":", ".", "?"}

// punctLen returns the length of the operator or delimiter at the start of
// rest, longest match first, or 0 if there is none.
func punctLen(rest []byte) int {
	var next byte
	if len(rest) > 1 {
		next = rest[1]
	}
	switch rest[0] {
	case '(', ')', '[', ']', '{', '}', ',', ':', '+', '*', '/', '%':
		return 1
	case '-':
		if next == '>' {
			return 2
		}
		return 1
	case '=':
		if next == '>' || next == '=' {
			return 2
		}
		return 1
	case '!', '<', '>':
		if next == '=' {
			return 2
		}
		return 1
	case '&', '|':
		if next == rest[0] {
			return 2
		}
	case '?', '.':
		if next == rest[0] {
			return 2
		}
		return 1
	}
	return 0
}

func (s *scanner) punct() {
	rest := s.src[s.off:]
	if n := punctLen(rest); n > 0 {
		start := s.off
		s.off += n
		s.emit(TokPunct, start)
		return
	}
	s.errorf(s.off, s.off+1, source.BadToken, "unexpected character %q", rest[0])
	s.off++
}
