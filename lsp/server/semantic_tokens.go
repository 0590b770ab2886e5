// This file implements semantic tokens: a small lexer classifies comments,
// strings, numbers and keywords; the checker's Info (or, failing that, the
// syntax tree) classifies identifiers.

package server

import (
	"context"
	"sort"

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

// SemanticTokensFull returns the tokens of the whole document.
func (srv *Server) SemanticTokensFull(ctx context.Context, params *protocol.SemanticTokensParams) (*protocol.SemanticTokens, error) {
	s := srv.viewFor(ctx)
	a, ok := s.current(params.TextDocument.URI)
	if !ok {
		return &protocol.SemanticTokens{Data: []uint32{}}, nil
	}
	return &protocol.SemanticTokens{Data: a.encodeTokens(a.semanticTokens())}, nil
}

// semanticTokens lists the document's tokens in order.
func (a *analysis) semanticTokens() []semToken {
	idents := map[int]semToken{}
	for _, nn := range a.names() {
		if t, ok := a.classify(nn); ok {
			idents[int(nn.span.Start)] = t
		}
	}
	var out []semToken
	src := a.content
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			j := i
			for j < len(src) && src[j] != '\n' {
				j++
			}
			out = append(out, semToken{start: i, end: j, typ: tokComment})
			i = j
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := i + 2
			for j+1 < len(src) && !(src[j] == '*' && src[j+1] == '/') {
				j++
			}
			j = min(j+2, len(src))
			out = append(out, semToken{start: i, end: j, typ: tokComment})
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
			out = append(out, semToken{start: i, end: j, typ: tokString})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isWordByte(src[j]) || src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
				j++
			}
			out = append(out, semToken{start: i, end: j, typ: tokNumber})
			i = j
		case c == '@' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i + 1
			for j < len(src) && (isWordByte(src[j]) || src[j] == '-' || src[j] == ':' || src[j] == '.' || src[j] == '+') {
				j++
			}
			out = append(out, semToken{start: i, end: j, typ: tokNumber})
			i = j
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			if t, ok := idents[i]; ok {
				out = append(out, t)
			} else if syntax.IsKeyword(string(src[i:j])) || constructWords[string(src[i:j])] {
				out = append(out, semToken{start: i, end: j, typ: tokKeyword})
			}
			i = j
		default:
			i++
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

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

// encodeTokens encodes tokens relative to each other as the LSP wants,
// splitting tokens that span lines (block comments).
func (a *analysis) encodeTokens(toks []semToken) []uint32 {
	data := make([]uint32, 0, len(toks)*5)
	var prevLine, prevChar uint32
	emit := func(start, end, typ, mods int) {
		if end <= start {
			return
		}
		p, err := a.m.Position(start)
		if err != nil {
			return
		}
		n := a.m.Len(start, end)
		dl := p.Line - prevLine
		dc := p.Character
		if dl == 0 {
			dc -= prevChar
		}
		data = append(data, dl, dc, uint32(n), uint32(typ), uint32(mods))
		prevLine, prevChar = p.Line, p.Character
	}
	for _, t := range toks {
		start := t.start
		for i := t.start; i < t.end; i++ {
			if a.content[i] == '\n' {
				end := i
				if end > start && a.content[end-1] == '\r' {
					end--
				}
				emit(start, end, t.typ, t.mods)
				start = i + 1
			}
		}
		emit(start, t.end, t.typ, t.mods)
	}
	return data
}
