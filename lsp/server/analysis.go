// This file implements the per-document analysis: parse and check one
// version of a document, cache the result, and answer "what is at this
// offset" questions about it.

package server

import (
	"fmt"
	"path/filepath"
	"sync"

	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
	"github.com/knhk/knhk/lsp/mapper"
)

// analysis is the checked form of one version of one file.
type analysis struct {
	path    string
	content []byte
	file    *syntax.File
	pkg     *check.Package
	info    *check.Info
	diags   source.Diagnostics
	m       *mapper.Mapper

	gateOnce sync.Once
	gate     source.Diagnostics // soundness diagnostics; see soundness

	// Indexes built on first use; an analysis is shared by concurrent
	// requests, so they are guarded by once.
	once      sync.Once
	selectors map[*syntax.Ident]*syntax.SelectorExpr // field name -> its selector
	decls     map[string]syntax.Decl                 // top-level declarations by name
	fields    map[*syntax.Param]bool                 // record fields (not parameters)
}

func (a *analysis) index() {
	a.once.Do(func() {
		a.selectors = map[*syntax.Ident]*syntax.SelectorExpr{}
		a.decls = map[string]syntax.Decl{}
		a.fields = map[*syntax.Param]bool{}
		syntax.Inspect(a.file, func(n any) bool {
			switch n := n.(type) {
			case *syntax.SelectorExpr:
				if n.Sel != nil {
					a.selectors[n.Sel] = n
				}
			case *syntax.RecordType:
				for _, f := range n.Fields {
					a.fields[f] = true
				}
			}
			return true
		})
		for _, d := range a.file.Decls {
			if dn := d.DeclName(); dn != nil {
				if _, dup := a.decls[dn.Value]; !dup {
					a.decls[dn.Value] = d
				}
			}
		}
	})
}

// analysisCache keeps the latest analysis of each open document, so that
// diagnostics and the requests that follow an edit check it once. An entry
// being computed is shared: a request that wants the same version waits
// for it instead of checking the file a second time, which would double
// the memory a large file costs.
type analysisCache struct {
	mu      sync.Mutex
	entries map[uri.URI]*cacheEntry
}

type cacheEntry struct {
	gen  int
	doc  *document
	done chan struct{} // closed when a is set
	a    *analysis
}

// forget drops u's entry (the document closed).
func (c *analysisCache) forget(u uri.URI) {
	c.mu.Lock()
	delete(c.entries, u)
	c.mu.Unlock()
}

// analyze checks the document in snap, reusing the cached result when
// neither it nor any other open document changed since.
func (s *view) analyze(snap snapshot) *analysis {
	d := s.docs[snap.uri]
	c := &s.cache
	c.mu.Lock()
	e := c.entries[snap.uri]
	if d != nil && e != nil && e.gen == s.gen && e.doc == d {
		c.mu.Unlock()
		<-e.done
		return e.a
	}
	if d == nil || e != nil && e.gen > s.gen {
		// Not open in this view, or a newer view has already cached its
		// analysis: compute without replacing it.
		c.mu.Unlock()
		return s.check(snap.path, snap.content)
	}
	e = &cacheEntry{gen: s.gen, doc: d, done: make(chan struct{})}
	if c.entries == nil {
		c.entries = make(map[uri.URI]*cacheEntry)
	}
	c.entries[snap.uri] = e
	c.mu.Unlock()
	defer close(e.done)
	e.a = s.check(snap.path, snap.content)
	return e.a
}

// check runs the checker on content as the file at path. A panic in the
// checker becomes a diagnostic: the editor session must survive it.
func (s *view) check(path string, content []byte) (a *analysis) {
	a = &analysis{path: path, content: content}
	defer func() {
		if r := recover(); r != nil {
			s.logf("checker panic on %s: %v", path, r)
			f, diags := syntax.Parse(path, content)
			a.file, a.info = f, check.NewInfo()
			a.m = mapper.ForFile(f.Source, s.encoding())
			a.diags = append(diags, &source.Diagnostic{
				Severity: source.Error, File: f.Source, Span: source.Span{Start: 0, End: 0},
				Message: fmt.Sprintf("internal error in the checker: %v", r),
			})
		}
	}()
	pkg, info, diags := check.CheckSource(path, content, &check.Config{ReadFile: s.readFile})
	a.pkg, a.info, a.diags = pkg, info, diags
	if pkg != nil {
		a.file = pkg.File
	}
	if a.file == nil {
		a.file, _ = syntax.Parse(path, content)
	}
	a.m = mapper.ForFile(a.file.Source, s.encoding()) // reuse the checker's line table
	if a.info == nil {
		a.info = check.NewInfo()
	}
	return a
}

// analyzeFile checks a file that may or may not be open, for workspace-wide
// requests (references, rename, workspace symbols).
func (s *view) analyzeFile(path string) (*analysis, error) {
	for u, d := range s.docs {
		if d.path == path {
			return s.analyze(snapshot{uri: u, path: d.path, version: d.version, content: d.content, gen: s.gen}), nil
		}
	}
	b, err := s.readFile(path)
	if err != nil {
		return nil, err
	}
	return s.check(path, b), nil
}

// uriFor returns the URI under which path is open, or its file URI.
func (s *view) uriFor(path string) uri.URI {
	clean := filepath.Clean(path)
	for u, d := range s.docs {
		if d.path == clean {
			return u
		}
	}
	return fileURI(path)
}

// typeString writes t as this file would: the types of its imports
// qualified by the name it imports them under (lib.Point).
func (a *analysis) typeString(t check.Type) string {
	return check.TypeString(t, check.RelativeTo(a.pkg))
}

// ownsSpan reports whether sp is a valid span of this analysis's file.
func (a *analysis) ownsSpan(sp source.Span) bool {
	return sp.Start >= 0 && sp.Start <= sp.End && int(sp.End) <= len(a.content)
}

// nameNode is an identifier occurrence: a *syntax.Ident in an expression or
// a *syntax.Name in a declaration or type.
type nameNode struct {
	node any
	name string
	span source.Span
}

// names returns every identifier occurrence in the file, in source order.
func (a *analysis) names() []nameNode {
	var out []nameNode
	syntax.Inspect(a.file, func(n any) bool {
		if nn, ok := nameOf(n); ok {
			out = append(out, nn)
		}
		return true
	})
	return out
}

// nameOf returns n as an identifier occurrence, false when n is none.
func nameOf(n any) (nameNode, bool) {
	switch n := n.(type) {
	case *syntax.Ident:
		return nameNode{n, n.Name, n.Span()}, true
	case *syntax.Name:
		return nameNode{n, n.Value, n.Span()}, true
	}
	return nameNode{}, false
}

// nameAt returns the identifier occurrence touching off (a cursor just
// after a name still counts as on it), preferring one that starts at off.
func (a *analysis) nameAt(off int) (nameNode, bool) {
	var best nameNode
	found := false
	p := source.Pos(off)
	syntax.Inspect(a.file, func(n any) bool {
		sp, ok := syntax.SpanOf(n)
		if ok && (p < sp.Start || p > sp.End) {
			return false // prune: the cursor is not inside this node
		}
		nn, ok := nameOf(n)
		if !ok {
			return true
		}
		if nn.span.Contains(p) && (!found || nn.span.Start == p) {
			best, found = nn, true
		}
		return true
	})
	return best, found
}

// objectOf returns the object a name denotes: from the checker's Info, or,
// where the checker recorded nothing (a declaration that does not parse, or
// a checker that reports only syntax), from the file's top-level
// declarations.
func (a *analysis) objectOf(n nameNode) check.Object {
	if o := a.info.ObjectOf(n.node); o != nil {
		return o
	}
	if _, ok := a.selectorOf(n.node); ok {
		return nil // a field: the checker alone knows its record
	}
	a.index()
	if d, ok := a.decls[n.name]; ok {
		return declObject(a, d)
	}
	for _, sc := range a.enclosingParams(n.span.Start) {
		if sc.Name != nil && sc.Name.Value == n.name && sc.Name.Span().Start <= n.span.Start {
			return &localObject{name: n.name, kind: check.ObjVar, file: a.file.Source, span: sc.Name.Span(), decl: sc}
		}
	}
	return nil
}

// selectorOf reports whether n is the field name of a selector x.n.
func (a *analysis) selectorOf(n any) (*syntax.SelectorExpr, bool) {
	id, ok := n.(*syntax.Ident)
	if !ok {
		return nil, false
	}
	a.index()
	sel, ok := a.selectors[id]
	return sel, ok
}

// enclosingParams returns the parameters of the top-level declaration
// around off.
func (a *analysis) enclosingParams(off source.Pos) []*syntax.Param {
	for _, d := range a.file.Decls {
		sp := d.Span()
		if off < sp.Start || off > sp.End {
			continue
		}
		switch d := d.(type) {
		case *syntax.FnDecl:
			return d.Params
		case *syntax.TaskDecl:
			return d.Params
		case *syntax.KernelDecl:
			return d.Params
		case *syntax.WorkflowDecl:
			return d.Params
		}
	}
	return nil
}

// objKey identifies an object across separate checks of the same files:
// the checker builds new objects each time, but a declaration stays at one
// place in one file.
type objKey struct {
	file  string
	start source.Pos
	name  string
}

func keyOf(o check.Object) objKey {
	k := objKey{start: o.Span().Start, name: o.Name()}
	if f := o.File(); f != nil {
		k.file = filepath.Clean(f.Name)
	} else {
		k.start = -1 // builtins have no place
	}
	return k
}

// localObject is an object the server found by itself in the syntax tree
// when the checker recorded none.
type localObject struct {
	name string
	kind check.ObjKind
	file *source.File
	span source.Span
	decl source.Spanned
}

func (o *localObject) Name() string         { return o.name }
func (o *localObject) Kind() check.ObjKind  { return o.kind }
func (o *localObject) Type() check.Type     { return nil }
func (o *localObject) File() *source.File   { return o.file }
func (o *localObject) Span() source.Span    { return o.span }
func (o *localObject) Decl() source.Spanned { return o.decl }

// declObject wraps a top-level declaration as an object.
func declObject(a *analysis, d syntax.Decl) check.Object {
	kind := check.ObjType
	switch d.(type) {
	case *syntax.FnDecl:
		kind = check.ObjFunc
	case *syntax.TaskDecl:
		kind = check.ObjTask
	case *syntax.KernelDecl:
		kind = check.ObjKernel
	case *syntax.WorkflowDecl:
		kind = check.ObjWorkflow
	}
	return &localObject{name: d.DeclName().Value, kind: kind, file: a.file.Source, span: d.DeclName().Span(), decl: d}
}

// path returns the nodes enclosing off, outermost first.
func path(file *syntax.File, off source.Pos) []any {
	var out []any
	syntax.Inspect(file, func(n any) bool {
		if n == nil {
			return false
		}
		sp, ok := syntax.SpanOf(n)
		if !ok {
			return true
		}
		if off < sp.Start || off > sp.End {
			return false
		}
		out = append(out, n)
		return true
	})
	return out
}
