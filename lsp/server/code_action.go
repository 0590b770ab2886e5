// This file implements code actions: the suggested fixes that diagnostics
// carry, offered as quick fixes.

package server

import (
	"context"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lang/source"
)

// CodeAction returns a quick fix for every fix of every diagnostic that
// overlaps the requested range.
func (srv *Server) CodeAction(ctx context.Context, params *protocol.CodeActionParams) ([]protocol.CommandOrCodeAction, error) {
	s := srv.viewFor(ctx)
	a, ok := s.current(params.TextDocument.URI)
	if !ok {
		return nil, nil
	}
	start, end, err := a.m.Offsets(params.Range)
	if err != nil {
		return nil, nil
	}
	out := []protocol.CommandOrCodeAction{}
	quickfix := protocol.CodeActionKindQuickFix
	for _, d := range a.diags {
		if len(d.Fixes) == 0 || d.File == nil || !filepathEq(d.File.Name, a.path) {
			continue
		}
		if int(d.Span.End) < start || int(d.Span.Start) > end {
			continue
		}
		pd, ok := s.convertDiagnostic(a, d)
		if !ok {
			continue
		}
		for i, fix := range d.Fixes {
			edit, ok := a.fixEdit(fix)
			if !ok {
				continue
			}
			preferred := i == 0 && len(d.Fixes) == 1
			out = append(out, &protocol.CodeAction{
				Title:       fix.Message,
				Kind:        &quickfix,
				Diagnostics: []protocol.Diagnostic{pd},
				IsPreferred: &preferred,
				Edit:        &protocol.WorkspaceEdit{Changes: map[uri.URI][]protocol.TextEdit{params.TextDocument.URI: {edit}}},
			})
		}
	}
	return out, nil
}

func (a *analysis) fixEdit(f source.Fix) (protocol.TextEdit, bool) {
	if !a.ownsSpan(f.Span) {
		return protocol.TextEdit{}, false
	}
	r, err := a.m.Range(int(f.Span.Start), int(f.Span.End))
	if err != nil {
		return protocol.TextEdit{}, false
	}
	return protocol.TextEdit{Range: r, NewText: f.NewText}, true
}
