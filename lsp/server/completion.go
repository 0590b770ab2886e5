// This file implements completion: keywords and construct words, snippets
// for the block constructs, the names in scope (tasks and workflows
// included), and record fields, enum members and package members after a
// dot.

package server

import (
	"context"
	"sort"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// constructWords are the contextual words of the grammar: identifiers to
// the lexer, keywords to the reader.
var constructWords = map[string]bool{
	"parallel": true, "join": true, "all": true, "any": true, "choose": true, "when": true,
	"multi": true, "select": true, "on": true, "signal": true, "timer": true, "done": true,
	"as": true, "cancel": true, "case": true, "region": true, "critical": true,
	"interleave": true, "milestone": true, "flow": true, "step": true, "route": true,
	"learn": true, "among": true, "reward": true, "hook": true, "query": true,
	"guard": true, "fail": true, "limit": true, "retry": true, "backoff": true,
	"timeout": true, "undo": true, "exec": true, "http": true, "std": true, "queue": true, "extern": true,
	"enum": true, "transient": true, "persistent": true, "start": true, "end": true, "complete": true,
	"keep": true, "active": true, "more": true, "send": true,
}

// snippets complete the block constructs.
var snippets = []struct {
	label, detail, body string
	top                 bool // a declaration, offered between declarations
}{
	{"parallel", "parallel branches joined", "parallel {\n\t$1\n} join ${2|all,any|}", false},
	{"choose", "exclusive choice", "choose {\n\twhen ${1:cond} -> $2\n\telse -> $3\n}", false},
	{"multi", "multi-choice", "multi {\n\twhen ${1:cond} -> $2\n}", false},
	{"select", "deferred choice", "select {\n\ton signal ${1:Name}(${2}) -> $3\n\ton timer ${4:1h} -> $5\n}", false},
	{"flow", "explicit net", "flow {\n\tstep ${1:a} = $2\n\tstart -> $1\n\t$1 -> end\n}", false},
	{"for parallel", "multiple instances", "for ${1:x} in ${2:xs} parallel limit ${3:8} {\n\t$0\n}", false},
	{"if", "conditional", "if ${1:cond} {\n\t$0\n}", false},
	{"workflow", "workflow declaration", "workflow ${1:Name}(${2}) -> ${3:string} {\n\t$0\n}", true},
	{"task", "task declaration", "task ${1:name}(${2}) -> ${3:string} exec \"${4:./bin/name}\"", true},
	{"route learn", "learned choice", "route learn ${1:name}(${2}) among {\n\t$3\n} reward ${4}", false},
	{"guard", "guard", "guard ${1:cond} else fail \"${2:message}\"", false},
}

// placeholder is inserted at the cursor after a dot, so that "x." parses
// as the selector "x.placeholder" and the checker types x.
const placeholder = "_knhk_complete_"

// Completion returns the candidates at the cursor.
func (srv *Server) Completion(ctx context.Context, params *protocol.CompletionParams) (protocol.CompletionResult, error) {
	s := srv.viewFor(ctx)
	snap, err := s.snapshot(params.TextDocument.URI)
	if err != nil {
		return nil, nil
	}
	a := s.analyze(snap)
	off, err := a.m.Offset(params.Position)
	if err != nil {
		return nil, nil
	}
	start := off
	for start > 0 && isWordByte(a.content[start-1]) {
		start--
	}
	prefix := string(a.content[start:off])
	if inCommentOrString(a, start) {
		return &protocol.CompletionList{Items: []protocol.CompletionItem{}}, nil
	}
	var items []protocol.CompletionItem
	if start > 0 && a.content[start-1] == '.' {
		items = s.memberCompletion(a, start, off)
	} else {
		if !a.inDecl(off) {
			// The declaration being edited does not parse; a placeholder
			// name at the cursor often completes it ("let x = _"), and
			// the checker then sees its scopes.
			a = s.check(a.path, patch(a.content, start, off))
		}
		items = s.scopeCompletion(a, off)
	}
	out := items[:0]
	for _, it := range items {
		if strings.HasPrefix(strings.ToLower(it.Label), strings.ToLower(prefix)) {
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return &protocol.CompletionList{Items: out}, nil
}

// inCommentOrString reports whether off is inside a comment or string.
func inCommentOrString(a *analysis, off int) bool {
	for _, c := range a.file.Comments {
		if int(c.Start) < off && (off < int(c.End) || off == int(c.End) && !c.Block()) {
			return true
		}
	}
	line := a.m.LineStart(a.m.Line(off))
	quotes := 0
	for i := line; i < off; i++ {
		switch a.content[i] {
		case '\\':
			i++
		case '"':
			quotes++
		}
	}
	return quotes%2 == 1
}

// scopeCompletion offers keywords, construct words, snippets and every
// name visible at off.
func (s *view) scopeCompletion(a *analysis, off int) []protocol.CompletionItem {
	var items []protocol.CompletionItem
	seen := map[string]bool{}
	add := func(it protocol.CompletionItem) {
		if !seen[it.Label] {
			seen[it.Label] = true
			items = append(items, it)
		}
	}
	addObj := func(o check.Object) {
		if o == nil || o.Name() == "" || o.Name() == "_" || strings.HasPrefix(o.Name(), placeholder) {
			return
		}
		it := protocol.CompletionItem{Label: o.Name(), Kind: completionKind(o.Kind())}
		if d := s.detail(a, o); d != "" {
			it.Detail = protocol.NewOptional(d)
		}
		add(it)
	}
	if a.pkg != nil && a.pkg.Scope != nil {
		for sc := a.pkg.Scope.Innermost(source.Pos(off)); sc != nil; sc = sc.Parent {
			objs := sc.Names()
			sort.Slice(objs, func(i, j int) bool { return objs[i].Name() < objs[j].Name() })
			for _, o := range objs {
				if o.Kind() == check.ObjVar && o.File() != nil && filepathEq(o.File().Name, a.path) && int(o.Span().Start) > off {
					continue // declared later in the block
				}
				addObj(o)
			}
		}
	}
	// The syntax tree fills in what the checker could not see (a
	// declaration that does not parse yet, or no checker at all).
	for _, p := range a.enclosingParams(source.Pos(off)) {
		if p.Name != nil {
			addObj(&localObject{name: p.Name.Value, kind: check.ObjVar, file: a.file.Source, span: p.Name.Span(), decl: p})
		}
	}
	syntax.Inspect(a.file, func(n any) bool {
		if sp, ok := syntax.SpanOf(n); ok && (source.Pos(off) < sp.Start || source.Pos(off) > sp.End) {
			if _, isFile := n.(*syntax.File); !isFile {
				return false
			}
		}
		if l, ok := n.(*syntax.LetStmt); ok && l.Name != nil && int(l.Name.Span().End) < off {
			addObj(&localObject{name: l.Name.Value, kind: check.ObjVar, file: a.file.Source, span: l.Name.Span(), decl: l})
		}
		return true
	})
	for _, d := range a.file.Decls {
		addObj(declObject(a, d))
	}
	top := braceDepth(a.content, off) == 0
	for _, sn := range snippets {
		if sn.top != top {
			continue
		}
		add(protocol.CompletionItem{
			Label: sn.label, Kind: protocol.CompletionItemKindSnippet, Detail: protocol.NewOptional(sn.detail),
			InsertText: protocol.NewOptional(sn.body), InsertTextFormat: protocol.InsertTextFormatSnippet,
		})
	}
	for _, k := range syntax.Keywords() {
		if topLevelWords[k] == top || !top && expressionKeywords[k] {
			add(protocol.CompletionItem{Label: k, Kind: protocol.CompletionItemKindKeyword})
		}
	}
	if !top {
		for k := range constructWords {
			add(protocol.CompletionItem{Label: k, Kind: protocol.CompletionItemKindKeyword})
		}
	} else {
		add(protocol.CompletionItem{Label: "enum", Kind: protocol.CompletionItemKindKeyword})
	}
	return items
}

// topLevelWords start declarations; inside a body only statement and
// expression words make sense.
var topLevelWords = map[string]bool{
	"package": true, "import": true, "type": true, "fn": true, "task": true, "kernel": true, "workflow": true,
}

// expressionKeywords are reserved words that may appear in a body even
// though nothing else there is a top-level word.
var expressionKeywords = map[string]bool{"true": true, "false": true, "none": true}

// braceDepth returns how many braces are open at off, ignoring comments
// and strings: 0 means the cursor is between declarations.
func braceDepth(src []byte, off int) int {
	depth := 0
	for i := 0; i < off && i < len(src); i++ {
		switch c := src[i]; {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < off && i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			for i += 2; i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/'); i++ {
			}
			i++
		case c == '"':
			for i++; i < len(src) && src[i] != '"' && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		}
	}
	return depth
}

// memberCompletion offers what may follow the dot before start: fields of
// a record, members of an enum, or the declarations of an imported file.
func (s *view) memberCompletion(a *analysis, start, off int) []protocol.CompletionItem {
	// Re-check the text with a placeholder after the dot so that the
	// selector parses whatever was typed so far.
	pa := s.check(a.path, patch(a.content, start, off))
	var sel *syntax.SelectorExpr
	syntax.Inspect(pa.file, func(n any) bool {
		if x, ok := n.(*syntax.SelectorExpr); ok && int(x.Sel.NamePos) == start {
			sel = x
		}
		return sel == nil
	})
	if sel == nil {
		return nil
	}
	var items []protocol.CompletionItem
	if id, ok := sel.X.(*syntax.Ident); ok {
		if pn, ok := pa.info.Uses[id].(*check.PkgName); ok && pn.Pkg != nil && pn.Pkg.Scope != nil {
			for _, o := range pn.Pkg.Scope.Names() {
				items = append(items, protocol.CompletionItem{Label: o.Name(), Kind: completionKind(o.Kind()), Detail: protocol.NewOptional(s.detail(pa, o))})
			}
			return items
		}
	}
	t := pa.info.Types[sel.X]
	if t == nil {
		if id, ok := sel.X.(*syntax.Ident); ok {
			if o := pa.info.Uses[id]; o != nil {
				t = o.Type()
			}
		}
	}
	if t == nil {
		return pa.syntacticFields(sel.X)
	}
	if o, ok := check.Underlying(t).(*check.Optional); ok {
		t = o.Elem
	}
	switch u := check.Underlying(t).(type) {
	case *check.Record:
		for _, f := range u.Fields {
			items = append(items, protocol.CompletionItem{Label: f.Name, Kind: protocol.CompletionItemKindField, Detail: protocol.NewOptional(pa.typeString(f.Type))})
		}
	case *check.Enum:
		for _, m := range u.Members {
			items = append(items, protocol.CompletionItem{Label: m, Kind: protocol.CompletionItemKindEnumMember, Detail: protocol.NewOptional(pa.typeString(u))})
		}
	}
	return items
}

// syntacticFields finds the fields of x's record type from the syntax tree
// alone: x is a parameter or a typed let whose type is a record, or a
// name for one. It serves while the checker records no types.
func (a *analysis) syntacticFields(x syntax.Expr) []protocol.CompletionItem {
	id, ok := x.(*syntax.Ident)
	if !ok {
		return nil
	}
	var typ *syntax.Type
	for _, p := range a.enclosingParams(id.NamePos) {
		if p.Name != nil && p.Name.Value == id.Name {
			typ = p.Type
		}
	}
	syntax.Inspect(a.file, func(n any) bool {
		if l, ok := n.(*syntax.LetStmt); ok && l.Name != nil && l.Name.Value == id.Name && l.Type != nil && l.Span().End < id.NamePos {
			typ = l.Type
		}
		return true
	})
	for depth := 0; typ != nil && depth < 10; depth++ {
		if typ.Record != nil {
			var items []protocol.CompletionItem
			for _, f := range typ.Record.Fields {
				if f.Name != nil {
					items = append(items, protocol.CompletionItem{Label: f.Name.Value, Kind: protocol.CompletionItemKindField, Detail: protocol.NewOptional(text(a.content, typeSpan(f.Type)))})
				}
			}
			return items
		}
		if typ.Named == nil || len(typ.Named.Parts) != 1 {
			return nil
		}
		name := typ.Named.Parts[0].Value
		typ = nil
		for _, d := range a.file.Decls {
			if td, ok := d.(*syntax.TypeDecl); ok && td.Name != nil && td.Name.Value == name {
				typ = td.Type
			}
		}
	}
	return nil
}

// detail is the one-line description of a completion candidate.
func (s *view) detail(a *analysis, o check.Object) string {
	if d, ok := o.Decl().(syntax.Decl); ok {
		return header(o.File(), d)
	}
	if t := o.Type(); t != nil {
		return a.typeString(t)
	}
	return kindWord(o.Kind())
}

func completionKind(k check.ObjKind) protocol.CompletionItemKind {
	switch k {
	case check.ObjType:
		return protocol.CompletionItemKindStruct
	case check.ObjFunc, check.ObjBuiltin, check.ObjKernel:
		return protocol.CompletionItemKindFunction
	case check.ObjTask, check.ObjWorkflow:
		return protocol.CompletionItemKindMethod
	case check.ObjVar:
		return protocol.CompletionItemKindVariable
	case check.ObjPackage:
		return protocol.CompletionItemKindModule
	case check.ObjSignal, check.ObjHook:
		return protocol.CompletionItemKindEvent
	case check.ObjEnumMember:
		return protocol.CompletionItemKindEnumMember
	case check.ObjField:
		return protocol.CompletionItemKindField
	}
	return protocol.CompletionItemKindReference
}

// patch returns content with [start, off) replaced by the placeholder.
func patch(content []byte, start, off int) []byte {
	out := make([]byte, 0, len(content)+len(placeholder))
	out = append(out, content[:start]...)
	out = append(out, placeholder...)
	return append(out, content[off:]...)
}

// inDecl reports whether off is inside a declaration that parsed.
func (a *analysis) inDecl(off int) bool {
	for _, d := range a.file.Decls {
		if sp, ok := syntax.SpanOf(d); ok && int(sp.Start) <= off && off <= int(sp.End) {
			return true
		}
	}
	return false
}
