// This file implements hover: the declaration of the name under the
// cursor, its type, and its doc comment.

package server

import (
	"context"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// Hover answers with a Markdown code block for the name under the cursor
// (or the type of the expression under it), followed by its doc comment.
// Unopened documents and positions outside the document get no hover.
func (srv *Server) Hover(ctx context.Context, params *protocol.HoverParams) (*protocol.Hover, error) {
	s := srv.viewFor(ctx)
	a, off, ok := s.at(params.TextDocument.URI, params.Position)
	if !ok {
		return nil, nil
	}
	n, ok := a.nameAt(off)
	if !ok {
		if h := a.hoverWord(off); h != nil {
			return h, nil
		}
		return s.hoverExpr(a, off)
	}
	var text string
	if o := a.objectOf(n); o != nil {
		text = s.describe(a, o)
	} else if t := a.fieldType(n.node); t != nil {
		text = "```knhk\n(field) " + n.name + ": " + a.typeString(t) + "\n```"
	}
	if text == "" {
		return nil, nil
	}
	r, err := a.m.Range(int(n.span.Start), int(n.span.End))
	if err != nil {
		return nil, nil
	}
	return &protocol.Hover{Contents: &protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: text}, Range: &r}, nil
}

// hoverExpr shows the type of the innermost checked expression at off.
func (s *view) hoverExpr(a *analysis, off int) (*protocol.Hover, error) {
	nodes := path(a.file, source.Pos(off))
	for i := len(nodes) - 1; i >= 0; i-- {
		e, ok := nodes[i].(syntax.Expr)
		if !ok {
			continue
		}
		t := a.info.Types[e]
		if t == nil {
			continue
		}
		sp, _ := syntax.SpanOf(e)
		r, err := a.m.Range(int(sp.Start), int(sp.End))
		if err != nil {
			return nil, nil
		}
		return &protocol.Hover{Contents: &protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: "```knhk\n" + a.typeString(t) + "\n```"}, Range: &r}, nil
	}
	return nil, nil
}

// fieldType returns the type of the field a selector's name selects.
func (a *analysis) fieldType(n any) check.Type {
	sel, ok := a.selectorOf(n)
	if !ok {
		return nil
	}
	if t := a.info.Types[syntax.Expr(sel)]; t != nil {
		return t
	}
	rec := a.info.Fields[sel]
	if r, ok := check.Underlying(rec).(*check.Record); ok {
		if f := r.Field(sel.Sel.Name); f != nil {
			return f.Type
		}
	}
	return nil
}

// describe renders an object as a Markdown code block plus its doc comment.
func (s *view) describe(a *analysis, o check.Object) string {
	var sig string
	decl := o.Decl()
	switch d := decl.(type) {
	case syntax.Decl:
		sig = header(o.File(), d)
	case *syntax.Param:
		label := "(parameter) "
		if o.Kind() == check.ObjField || s.isField(a, o.File(), d) {
			label = "(field) "
		}
		sig = label + o.Name() + a.typeSuffix(o, o.File(), d.Type)
	case *syntax.LetStmt:
		sig = d.Keyword + " " + o.Name() + a.typeSuffix(o, o.File(), d.Type)
	case *syntax.ImportDecl:
		sig = "import " + d.Path.Value
	}
	if sig == "" {
		sig = kindWord(o.Kind()) + " " + o.Name()
		if t := o.Type(); t != nil {
			if _, isSig := t.(*check.Signature); isSig {
				sig += a.typeString(t)
			} else {
				sig += ": " + a.typeString(t)
			}
		}
	}
	var b strings.Builder
	b.WriteString("```knhk\n")
	b.WriteString(sig)
	b.WriteString("\n```")
	if decl != nil && o.File() != nil {
		if doc := s.docComment(a, o.File(), decl.Span().Start); doc != "" {
			b.WriteString("\n\n")
			b.WriteString(doc)
		}
	}
	return b.String()
}

// typeSuffix returns ": T" from the checker's type, else from the source.
func (a *analysis) typeSuffix(o check.Object, f *source.File, t *syntax.Type) string {
	if ot := o.Type(); ot != nil {
		return ": " + a.typeString(ot)
	}
	if t != nil && f != nil {
		return ": " + text(f.Content, t.Span())
	}
	return ""
}

// header returns a declaration's source up to its body, with whitespace
// collapsed: "task reserve(items: [Item]) -> string", "type Item = {...}".
func header(f *source.File, d syntax.Decl) string {
	if f == nil {
		return ""
	}
	sp, ok := syntax.SpanOf(d)
	if !ok || int(sp.End) > len(f.Content) {
		return ""
	}
	end := sp.End
	switch d := d.(type) {
	case *syntax.FnDecl:
		if d.Body != nil {
			if bs, ok := syntax.SpanOf(d.Body); ok {
				end = bs.Start
			}
		}
	case *syntax.TaskDecl:
		if d.Binding != nil {
			end = d.Binding.Span().Start
		}
	case *syntax.KernelDecl:
		if d.Body != nil {
			end = d.Body.Span().Start
		}
	case *syntax.WorkflowDecl:
		if d.Body != nil {
			end = d.Body.Span().Start
		}
	}
	h := strings.TrimSpace(string(f.Content[sp.Start:end]))
	h = strings.TrimSpace(strings.TrimSuffix(h, "="))
	h = strings.Join(strings.Fields(h), " ")
	h = strings.ReplaceAll(strings.ReplaceAll(h, "( ", "("), " )", ")")
	if len(h) > 2000 {
		h = h[:2000] + "…"
	}
	return h
}

func text(content []byte, sp source.Span) string {
	if sp.Start < 0 || sp.End < sp.Start || int(sp.End) > len(content) {
		return ""
	}
	return string(content[sp.Start:sp.End])
}

// docComment returns the comment block that ends on the line before the
// declaration starting at declStart (or on its own line, before it), with
// the comment markers removed.
func (s *view) docComment(a *analysis, f *source.File, declStart source.Pos) string {
	var comments []*syntax.Comment
	if filepathEq(f.Name, a.path) {
		comments = a.file.Comments
	} else {
		parsed, _ := syntax.Parse(f.Name, f.Content)
		comments = parsed.Comments
	}
	content := f.Content
	var lines []string
	next := declStart
	for i := len(comments) - 1; i >= 0; i-- {
		c := comments[i]
		if c.End > next {
			continue
		}
		if !onlySpaceWithOneNewline(content, c.End, next) || !lineStartsWith(content, c.Start) {
			break
		}
		lines = append([]string{stripComment(c.Text)}, lines...)
		next = c.Start
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// onlySpaceWithOneNewline reports whether content[from:to] is whitespace
// holding at most one line break: a blank line ends a doc comment.
func onlySpaceWithOneNewline(content []byte, from, to source.Pos) bool {
	if from < 0 || to > source.Pos(len(content)) || from > to {
		return false
	}
	nl := 0
	for _, b := range content[from:to] {
		switch b {
		case '\n':
			nl++
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return nl <= 1
}

// lineStartsWith reports whether only whitespace precedes off on its line,
// so that a comment trailing code is not taken as a doc comment.
func lineStartsWith(content []byte, off source.Pos) bool {
	for i := int(off) - 1; i >= 0; i-- {
		switch content[i] {
		case '\n':
			return true
		case ' ', '\t':
		default:
			return false
		}
	}
	return true
}

func stripComment(t string) string {
	if strings.HasPrefix(t, "//") {
		return strings.TrimPrefix(strings.TrimPrefix(t, "//"), " ")
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "/*"), "*/")
	var out []string
	for _, l := range strings.Split(t, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(strings.TrimPrefix(l, "*"), " ")
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// kindWord names an object kind the way the language spells it.
func kindWord(k check.ObjKind) string {
	switch k {
	case check.ObjType:
		return "type"
	case check.ObjFunc:
		return "fn"
	case check.ObjTask:
		return "task"
	case check.ObjKernel:
		return "kernel"
	case check.ObjWorkflow:
		return "workflow"
	case check.ObjVar:
		return "let"
	case check.ObjBuiltin:
		return "builtin"
	case check.ObjPackage:
		return "import"
	case check.ObjSignal:
		return "signal"
	case check.ObjRegion:
		return "region"
	case check.ObjStep:
		return "step"
	case check.ObjMilestone:
		return "milestone"
	case check.ObjRoute:
		return "route"
	case check.ObjQuery:
		return "query"
	case check.ObjHook:
		return "hook"
	case check.ObjCritical:
		return "critical"
	case check.ObjEnumMember:
		return "enum member"
	case check.ObjField:
		return "(field)"
	}
	return ""
}

// isField reports whether p, declared in file f, is a record field rather
// than a parameter: both are "name: T" in the syntax.
func (s *view) isField(a *analysis, f *source.File, p *syntax.Param) bool {
	if f == nil {
		return false
	}
	file := a.file
	if !filepathEq(f.Name, a.path) {
		file, _ = syntax.Parse(f.Name, f.Content)
	}
	found := false
	syntax.Inspect(file, func(n any) bool {
		if rt, ok := n.(*syntax.RecordType); ok {
			for _, fp := range rt.Fields {
				if fp.Span() == p.Span() {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// hoverWord explains the language word at off, when the syntax tree has
// no name there (reserved words and the contextual words the grammar
// consumes).
func (a *analysis) hoverWord(off int) *protocol.Hover {
	start, end := off, off
	for start > 0 && isWordByte(a.content[start-1]) {
		start--
	}
	for end < len(a.content) && isWordByte(a.content[end]) {
		end++
	}
	doc, ok := wordDocs[string(a.content[start:end])]
	if !ok || inCommentOrString(a, start+1) {
		return nil
	}
	r, err := a.m.Range(start, end)
	if err != nil {
		return nil
	}
	return &protocol.Hover{Contents: &protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: doc}, Range: &r}
}
