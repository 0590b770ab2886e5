// This file implements Parse: the participle grammar and the driver that
// recovers from syntax errors at declaration boundaries.

package syntax

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/knhk/knhk/lang/source"
)

// MaxFileSize is the largest source file Parse accepts.
const MaxFileSize = 8 << 20

// definition adapts the scanner to participle's lexer.Definition.
type definition struct{}

func (definition) Symbols() map[string]lexer.TokenType { return symbols() }

func (definition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	s := scan(source.NewFile(filename, b))
	if len(s.diags) > 0 {
		return nil, s.diags[0]
	}
	return &sliceLexer{tokens: s.tokens}, nil
}

// sliceLexer replays scanned tokens; its last token must be EOF.
type sliceLexer struct {
	tokens []lexer.Token
	i      int
}

func (l *sliceLexer) Next() (lexer.Token, error) {
	t := l.tokens[l.i]
	if l.i < len(l.tokens)-1 {
		l.i++
	}
	return t, nil
}

// declKeywords start a top-level declaration; the driver resynchronises on them.
var declKeywords = map[string]bool{
	"package": true, "import": true, "type": true, "fn": true,
	"task": true, "kernel": true, "workflow": true,
}

// ParseFile reads nothing: it parses content already loaded as f.
func ParseFile(f *source.File) (*File, source.Diagnostics) {
	out := &File{Source: f}
	var diags source.Diagnostics
	errAt := func(sp source.Span, code source.Code, format string, args ...any) {
		diags = append(diags, source.Errorf(f, sp, code, format, args...))
	}
	if len(f.Content) > MaxFileSize {
		errAt(source.Span{Start: 0, End: 0}, source.BadFile, "file is %d bytes; the limit is %d bytes (8 MiB)", len(f.Content), MaxFileSize)
		return out, diags
	}
	if !utf8.Valid(f.Content) {
		off := firstInvalidUTF8(f.Content)
		errAt(source.Span{Start: source.Pos(off), End: source.Pos(off + 1)}, source.BadFile, "file is not valid UTF-8 (invalid byte 0x%02x)", f.Content[off])
		return out, diags
	}
	if len(strings.TrimSpace(string(f.Content))) == 0 {
		errAt(source.Span{}, source.EmptyFile, "empty file: expected a package clause such as \"package orders\"")
		return out, diags
	}
	s := scan(f)
	out.Comments = s.comments
	diags = append(diags, s.diags...)
	toks := s.tokens

	// Sync points: declaration keywords at bracket depth 0, or at the start
	// of a line (so an unclosed brace does not swallow the rest of the file).
	var syncs []int
	depth := 0
	for i := range toks {
		t := &toks[i]
		if t.Type == TokPunct {
			switch t.Value {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth > 0 {
					depth--
				}
			}
		}
		if t.Type == TokKeyword && declKeywords[t.Value] && (depth == 0 || atLineStart(f.Content, t.Pos.Offset)) {
			syncs = append(syncs, i)
			depth = 0
		}
	}
	eof := len(toks) - 1
	syncs = append(syncs, eof)
	if syncs[0] > 0 {
		t := &toks[0]
		errAt(tokSpan(t), source.SyntaxError, "expected a declaration, found %s", describe(t))
	}
	plex, err := lexer.Upgrade(&sliceLexer{tokens: toks})
	if err != nil {
		errAt(source.Span{}, source.SyntaxError, "%v", err)
		return out, diags
	}
	skipTo := func(i int) {
		for plex.Cursor() < i && !plex.Peek().EOF() {
			plex.Next()
		}
	}
	for k := 0; k < len(syncs)-1; k++ {
		lo, hi := syncs[k], syncs[k+1]
		if plex.Cursor() > lo {
			continue // the previous declaration legitimately ran past this sync point
		}
		skipTo(lo)
		if d, at := maxDepth(toks[lo:hi]); d > MaxNesting {
			errAt(tokSpan(at), source.TooDeep, "brackets nested more than %d levels deep", MaxNesting)
			continue
		}
		d, err := parseTopDecl(plex)
		if err != nil {
			diags = append(diags, convertError(f, err))
			continue
		}
		if c := plex.Cursor(); c < hi {
			t := &toks[c]
			diags = append(diags, source.Errorf(f, tokSpan(t), source.SyntaxError, "unexpected %s after declaration", describe(t)))
		}
		out.add(d, errAt)
	}
	if out.Package == nil && !diags.HasErrors() {
		errAt(source.Span{}, source.MissingPackage, "missing package clause: the file must start with \"package NAME\"")
	}
	return out, diags
}

// Parse parses content as the file named name.
func Parse(name string, content []byte) (*File, source.Diagnostics) {
	return ParseFile(source.NewFile(name, content))
}

func (out *File) add(d TopDecl, errAt func(source.Span, source.Code, string, ...any)) {
	switch d := d.(type) {
	case *PackageDecl:
		switch {
		case out.Package != nil:
			errAt(d.Span(), source.SyntaxError, "duplicate package clause")
		case len(out.Imports) > 0 || len(out.Decls) > 0:
			errAt(d.Span(), source.SyntaxError, "the package clause must come first")
		default:
			out.Package = d
		}
	case *ImportDecl:
		if len(out.Decls) > 0 {
			errAt(d.Span(), source.SyntaxError, "imports must come before declarations")
		}
		out.Imports = append(out.Imports, d)
	case Decl:
		out.Decls = append(out.Decls, d)
	}
}

func atLineStart(src []byte, off int) bool { return off == 0 || src[off-1] == '\n' }

func tokSpan(t *lexer.Token) source.Span {
	start := source.Pos(t.Pos.Offset)
	return source.Span{Start: start, End: start + source.Pos(len(t.Value))}
}

func maxDepth(toks []lexer.Token) (int, *lexer.Token) {
	depth, max := 0, 0
	var at *lexer.Token
	for i := range toks {
		t := &toks[i]
		if t.Type != TokPunct {
			continue
		}
		switch t.Value {
		case "(", "[", "{":
			depth++
			// Report the bracket that crosses the limit, not the deepest.
			if depth > max {
				max = depth
				if max <= MaxNesting+1 {
					at = t
				}
			}
		case ")", "]", "}":
			depth--
		}
	}
	return max, at
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return 0
}

// convertError turns a participle error into a diagnostic.
func convertError(f *source.File, err error) *source.Diagnostic {
	if td, ok := err.(*tooDeepError); ok {
		start := source.Pos(td.pos.Offset)
		return source.Errorf(f, source.Span{Start: start, End: start + 1}, source.TooDeep, "%s", td.msg)
	}
	perr, ok := err.(participle.Error)
	if !ok {
		return source.Errorf(f, source.Span{}, source.SyntaxError, "%v", err)
	}
	p := perr.Position()
	start := source.Pos(p.Offset)
	end := start + 1
	msg := perr.Message()
	if ut, ok := err.(*participle.UnexpectedTokenError); ok {
		t := ut.Unexpected
		end = start + source.Pos(len(t.Value))
		what := describe(&t)
		if t.EOF() {
			what = "end of file"
		}
		msg = "unexpected " + what
		if i := strings.Index(ut.Message(), "(expected "); i >= 0 {
			msg += ", expected " + strings.TrimSuffix(ut.Message()[i+len("(expected "):], ")")
		}
	}
	if end > source.Pos(len(f.Content)) {
		end = source.Pos(len(f.Content))
	}
	if start > end {
		start = end
	}
	return source.Errorf(f, source.Span{Start: start, End: end}, source.SyntaxError, "%s", msg)
}

// tooDeepError reports nesting beyond MaxNesting found while parsing (the
// driver's bracket count catches most cases earlier); it becomes a TooDeep
// diagnostic rather than a syntax error.
type tooDeepError struct {
	pos lexer.Position
	msg string
}

func (e *tooDeepError) Error() string            { return e.msg }
func (e *tooDeepError) Message() string          { return e.msg }
func (e *tooDeepError) Position() lexer.Position { return e.pos }

func tooDeep(pos lexer.Position, format string, args ...any) error {
	return &tooDeepError{pos: pos, msg: fmt.Sprintf(format, args...)}
}
