// This file implements semantic tokens: a small lexer classifies comments,
// strings, numbers and keywords; the checker's Info (or, failing that, the
// syntax tree) classifies identifiers.

package server

import (
	"context"
	"slices"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/syntax"
)

// The legend. Indexes into these slices are the wire encoding.
var (
	tokenTypes = []string{
		"namespace", "type", "parameter", "variable", "property", "enumMember",
		"function", "keyword", "comment", "string", "number", "operator", "event",
	}
	tokenModifiers = []string{"declaration", "readonly", "defaultLibrary"}
)

const (
	tokNamespace = iota
	tokType
	tokParameter
	tokVariable
	tokProperty
	tokEnumMember
	tokFunction
	tokKeyword
	tokComment
	tokString
	tokNumber
	tokOperator
	tokEvent
)

const (
	modDeclaration = 1 << iota
	modReadonly
	modDefaultLibrary
)

type semToken struct {
	start, end int
	typ, mods  int
}

// identToken is a classified identifier, packed: a large file has hundreds
// of thousands of them, and they are all held until the lexer pass merges
// them with the other tokens.
type identToken struct {
	start, end int32
	typ, mods  uint8
}

// SemanticTokensFull returns the tokens of the whole document.
func (srv *Server) SemanticTokensFull(ctx context.Context, params *protocol.SemanticTokensParams) (*protocol.SemanticTokens, error) {
	s := srv.viewFor(ctx)
	a, ok := s.current(params.TextDocument.URI)
	if !ok {
		return &protocol.SemanticTokens{Data: []uint32{}}, nil
	}
	return &protocol.SemanticTokens{Data: a.semanticTokens()}, nil
}

// semanticTokens returns the document's tokens, encoded as the LSP wants.
// It makes one pass over the source for comments, strings, numbers and
// keywords, merging in the identifiers that the checker classified, and
// encodes each token as it goes: besides the result it holds only the
// identifiers (12 bytes each), so that a large file costs little more
// than its answer.
func (a *analysis) semanticTokens() []uint32 {
	idents := a.identTokens()
	enc := tokenEncoder{a: a, data: make([]uint32, 0, 5*(len(idents)+len(idents)/2+16))}
	src := a.content
	next := 0 // the next identifier in idents
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			j := i
			for j < len(src) && src[j] != '\n' {
				j++
			}
			enc.add(i, j, tokComment, 0)
			i = j
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := i + 2
			for j+1 < len(src) && !(src[j] == '*' && src[j+1] == '/') {
				j++
			}
			j = min(j+2, len(src))
			enc.add(i, j, tokComment, 0)
			i = j
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			enc.add(i, j, tokString, 0)
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isWordByte(src[j]) || src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
				j++
			}
			enc.add(i, j, tokNumber, 0)
			i = j
		case c == '@' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i + 1
			for j < len(src) && (isWordByte(src[j]) || src[j] == '-' || src[j] == ':' || src[j] == '.' || src[j] == '+') {
				j++
			}
			enc.add(i, j, tokNumber, 0)
			i = j
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			for next < len(idents) && int(idents[next].start) < i {
				next++ // an identifier inside a token the lexer skipped
			}
			if next < len(idents) && int(idents[next].start) == i {
				t := idents[next]
				enc.add(int(t.start), int(t.end), int(t.typ), int(t.mods))
				next++
			} else if syntax.IsKeyword(string(src[i:j])) || constructWords[string(src[i:j])] {
				enc.add(i, j, tokKeyword, 0)
			}
			i = j
		default:
			i++
		}
	}
	return enc.data
}

// identTokens classifies every identifier occurrence, in source order.
func (a *analysis) identTokens() []identToken {
	var out []identToken
	syntax.Inspect(a.file, func(n any) bool {
		nn, ok := nameOf(n)
		if !ok {
			return true
		}
		if t, ok := a.classify(nn); ok {
			out = append(out, identToken{start: int32(t.start), end: int32(t.end), typ: uint8(t.typ), mods: uint8(t.mods)})
		}
		return true
	})
	if !slices.IsSortedFunc(out, cmpIdent) {
		slices.SortStableFunc(out, cmpIdent)
	}
	return out
}

func cmpIdent(x, y identToken) int { return int(x.start) - int(y.start) }

func isWordByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// classify returns the token for an identifier occurrence.
func (a *analysis) classify(nn nameNode) (semToken, bool) {
	t := semToken{start: int(nn.span.Start), end: int(nn.span.End)}
	if _, ok := a.selectorOf(nn.node); ok {
		t.typ = tokProperty // a field or a member of an import
		if o := a.info.ObjectOf(nn.node); o != nil && o.Kind() != check.ObjVar && o.Kind() != check.ObjField {
			t, _ = a.classifyObject(t, nn, o)
		}
		return t, true
	}
	o := a.objectOf(nn)
	if o == nil {
		return t, false
	}
	return a.classifyObject(t, nn, o)
}

// classifyObject sets the token type and modifiers for a name denoting o.
func (a *analysis) classifyObject(t semToken, nn nameNode, o check.Object) (semToken, bool) {
	if keyOf(o).start == nn.span.Start && o.File() != nil && filepathEq(o.File().Name, a.path) {
		t.mods |= modDeclaration
	}
	switch o.Kind() {
	case check.ObjType:
		t.typ = tokType
	case check.ObjFunc, check.ObjTask, check.ObjKernel, check.ObjWorkflow, check.ObjStep, check.ObjRoute:
		t.typ = tokFunction
	case check.ObjBuiltin:
		t.typ, t.mods = tokFunction, t.mods|modDefaultLibrary
	case check.ObjVar:
		t.typ = tokVariable
		if p, isParam := o.Decl().(*syntax.Param); isParam {
			a.index()
			t.typ = tokParameter
			if a.fields[p] {
				t.typ = tokProperty
			}
		}
		if v, ok := o.(*check.Var); ok && !v.Mutable {
			t.mods |= modReadonly
		}
	case check.ObjPackage:
		t.typ = tokNamespace
	case check.ObjSignal, check.ObjHook:
		t.typ = tokEvent
	case check.ObjEnumMember:
		t.typ = tokEnumMember
	case check.ObjField:
		t.typ = tokProperty
	default:
		t.typ = tokNamespace // regions, milestones, critical sections, queries
	}
	return t, true
}

// tokenEncoder encodes tokens relative to each other as the LSP wants,
// splitting tokens that span lines (block comments).
type tokenEncoder struct {
	a                  *analysis
	data               []uint32
	prevLine, prevChar uint32
}

// add encodes the token [start, end).
func (e *tokenEncoder) add(start, end, typ, mods int) {
	content := e.a.content
	for i := start; i < end; i++ {
		if content[i] == '\n' {
			last := i
			if last > start && content[last-1] == '\r' {
				last--
			}
			e.emit(start, last, typ, mods)
			start = i + 1
		}
	}
	e.emit(start, end, typ, mods)
}

func (e *tokenEncoder) emit(start, end, typ, mods int) {
	if end <= start {
		return
	}
	p, err := e.a.m.Position(start)
	if err != nil {
		return
	}
	n := e.a.m.Len(start, end)
	dl := p.Line - e.prevLine
	dc := p.Character
	if dl == 0 {
		dc -= e.prevChar
	}
	e.data = append(e.data, dl, dc, uint32(n), uint32(typ), uint32(mods))
	e.prevLine, e.prevChar = p.Line, p.Character
}
