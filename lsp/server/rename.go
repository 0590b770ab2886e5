// This file implements rename and prepareRename.

package server

import (
	"context"
	"fmt"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// PrepareRename returns the range of the renameable name under the cursor.
func (srv *Server) PrepareRename(ctx context.Context, params *protocol.PrepareRenameParams) (protocol.PrepareRenameResult, error) {
	s := srv.viewFor(ctx)
	a, off, ok := s.at(params.TextDocument.URI, params.Position)
	if !ok {
		return nil, nil
	}
	n, ok := a.nameAt(off)
	if !ok {
		return nil, nil
	}
	o := a.objectOf(n)
	if o == nil || o.File() == nil || o.Kind() == check.ObjBuiltin {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, "cannot rename this name")
	}
	r, err := a.m.Range(int(n.span.Start), int(n.span.End))
	if err != nil {
		return nil, nil
	}
	return &r, nil
}

// Rename renames the object under the cursor everywhere it is named. It
// refuses a new name that is not an identifier, is a reserved word, or is
// already declared where one of the occurrences would see it.
func (srv *Server) Rename(ctx context.Context, params *protocol.RenameParams) (*protocol.WorkspaceEdit, error) {
	s := srv.viewFor(ctx)
	a, off, ok := s.at(params.TextDocument.URI, params.Position)
	if !ok {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, "no document or position to rename at")
	}
	n, ok := a.nameAt(off)
	if !ok {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, "no name at this position")
	}
	o := a.objectOf(n)
	if o == nil || o.File() == nil || o.Kind() == check.ObjBuiltin {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, fmt.Sprintf("cannot rename %q: it is not declared in the workspace", n.name))
	}
	name := params.NewName
	if err := validIdent(name); err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	if name == o.Name() {
		return &protocol.WorkspaceEdit{}, nil
	}
	referrers := s.referrers(ctx, a, keyOf(o).file)
	occs := s.occurrencesOf(referrers, renameKeys(a, o, referrers))
	if err := s.checkClash(a, o, occs, name); err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	if err := s.verifyRename(referrers, occs, o.Name(), name); err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	changes := map[uri.URI][]protocol.TextEdit{}
	for _, occ := range occs {
		changes[occ.loc.URI] = append(changes[occ.loc.URI], protocol.TextEdit{Range: occ.loc.Range, NewText: name})
	}
	return &protocol.WorkspaceEdit{Changes: changes}, nil
}

// validIdent reports why name cannot be an identifier.
func validIdent(name string) error {
	if name == "" {
		return fmt.Errorf("the new name is empty")
	}
	for i, c := range name {
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return fmt.Errorf("%q is not a valid identifier", name)
		}
	}
	if syntax.IsKeyword(name) {
		return fmt.Errorf("%q is a reserved word", name)
	}
	return nil
}

// checkClash reports whether name is already visible at the declaration or
// at any occurrence: renaming would then shadow it or be shadowed.
func (s *view) checkClash(a *analysis, o check.Object, occs []occurrence, name string) error {
	analyses := map[string]*analysis{a.path: a}
	for _, occ := range occs {
		oa := analyses[occ.path]
		if oa == nil {
			var err error
			if oa, err = s.analyzeFile(occ.path); err != nil {
				continue
			}
			analyses[occ.path] = oa
		}
		if clash := oa.visible(occ.span.Start, name); clash != nil {
			where := ""
			if loc, ok := s.objectLocation(clash); ok {
				where = fmt.Sprintf(" (declared at line %d)", loc.Range.Start.Line+1)
			}
			return fmt.Errorf("cannot rename %q to %q: %q is already declared in this scope%s", o.Name(), name, name, where)
		}
	}
	return nil
}

// visible returns the object called name that code at off can see.
func (a *analysis) visible(off source.Pos, name string) check.Object {
	if a.pkg != nil && a.pkg.Scope != nil {
		if o := a.pkg.Scope.Innermost(off).LookupParent(name); o != nil {
			return o
		}
	}
	for _, d := range a.file.Decls {
		if dn := d.DeclName(); dn != nil && dn.Value == name {
			return declObject(a, d)
		}
	}
	for _, p := range a.enclosingParams(off) {
		if p.Name != nil && p.Name.Value == name {
			return &localObject{name: name, kind: check.ObjVar, file: a.file.Source, span: p.Name.Span(), decl: p}
		}
	}
	return nil
}
