// This file implements document symbols (an outline) and workspace
// symbols (top-level declarations of every workspace file).

package server

import (
	"context"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// DocumentSymbol returns the declarations of a document, with record
// fields, parameters and the named constructs of workflow bodies as
// children.
func (srv *Server) DocumentSymbol(ctx context.Context, params *protocol.DocumentSymbolParams) (protocol.DocumentSymbolResult, error) {
	s := srv.viewFor(ctx)
	a, ok := s.current(params.TextDocument.URI)
	if !ok {
		return nil, nil
	}
	out := protocol.DocumentSymbolSlice{}
	for _, d := range a.file.Decls {
		if sym, ok := a.declSymbol(d); ok {
			out = append(out, sym)
		}
	}
	return out, nil
}

func (a *analysis) symbol(name string, kind protocol.SymbolKind, detail string, whole source.Span, sel source.Span) (protocol.DocumentSymbol, bool) {
	r, err := a.m.Range(int(whole.Start), int(whole.End))
	if err != nil {
		return protocol.DocumentSymbol{}, false
	}
	sr, err := a.m.Range(int(sel.Start), int(sel.End))
	if err != nil {
		return protocol.DocumentSymbol{}, false
	}
	sym := protocol.DocumentSymbol{Name: name, Kind: kind, Range: r, SelectionRange: sr}
	if detail != "" {
		sym.Detail = &detail
	}
	return sym, true
}

func (a *analysis) declSymbol(d syntax.Decl) (protocol.DocumentSymbol, bool) {
	dn := d.DeclName()
	whole, ok := syntax.SpanOf(d)
	if dn == nil || !ok {
		return protocol.DocumentSymbol{}, false
	}
	kind, detail := declKind(d)
	sym, ok := a.symbol(dn.Value, kind, detail, whole, dn.Span())
	if !ok {
		return sym, false
	}
	addParams := func(ps []*syntax.Param, kind protocol.SymbolKind) {
		for _, p := range ps {
			if p.Name == nil {
				continue
			}
			if c, ok := a.symbol(p.Name.Value, kind, text(a.content, typeSpan(p.Type)), p.Span(), p.Name.Span()); ok {
				sym.Children = append(sym.Children, c)
			}
		}
	}
	switch d := d.(type) {
	case *syntax.TypeDecl:
		if d.Type != nil && d.Type.Record != nil {
			addParams(d.Type.Record.Fields, protocol.SymbolKindField)
		}
		if d.Type != nil && d.Type.Enum != nil {
			for _, m := range d.Type.Enum.Members {
				if c, ok := a.symbol(m.Value, protocol.SymbolKindEnumMember, "", m.Span(), m.Span()); ok {
					sym.Children = append(sym.Children, c)
				}
			}
		}
	case *syntax.WorkflowDecl:
		addParams(d.Params, protocol.SymbolKindVariable)
		if d.Body != nil {
			sym.Children = append(sym.Children, a.bodySymbols(d.Body)...)
		}
	case *syntax.KernelDecl:
		addParams(d.Params, protocol.SymbolKindVariable)
	case *syntax.FnDecl:
		addParams(d.Params, protocol.SymbolKindVariable)
	case *syntax.TaskDecl:
		addParams(d.Params, protocol.SymbolKindVariable)
	}
	return sym, true
}

func typeSpan(t *syntax.Type) source.Span {
	if t == nil {
		return source.Span{}
	}
	return t.Span()
}

// bodySymbols lists the named constructs in a workflow body: bindings,
// signals, queries, steps, regions, milestones, critical sections, routes
// and hooks.
func (a *analysis) bodySymbols(body *syntax.Block) []protocol.DocumentSymbol {
	var out []protocol.DocumentSymbol
	syntax.Inspect(body, func(n any) bool {
		var name *syntax.Name
		var kind protocol.SymbolKind
		detail := ""
		switch n := n.(type) {
		case *syntax.LetStmt:
			name, kind, detail = n.Name, protocol.SymbolKindVariable, n.Keyword
		case *syntax.SignalDecl:
			name, kind, detail = n.Name, protocol.SymbolKindEvent, "signal"
		case *syntax.QueryDecl:
			name, kind, detail = n.Name, protocol.SymbolKindProperty, "query"
		case *syntax.Step:
			name, kind, detail = n.Name, protocol.SymbolKindFunction, "step"
		case *syntax.RegionStmt:
			name, kind, detail = n.Name, protocol.SymbolKindNamespace, "region"
		case *syntax.MilestoneStmt:
			name, kind, detail = n.Name, protocol.SymbolKindNamespace, "milestone"
		case *syntax.CriticalStmt:
			name, kind, detail = n.Name, protocol.SymbolKindNamespace, "critical"
		case *syntax.RouteStmt:
			name, kind, detail = n.Name, protocol.SymbolKindFunction, "route"
		case *syntax.HookStmt:
			name, kind, detail = n.Name, protocol.SymbolKindEvent, "hook"
		default:
			return true
		}
		if name == nil {
			return true
		}
		whole, ok := syntax.SpanOf(n)
		if !ok {
			return true
		}
		if sym, ok := a.symbol(name.Value, kind, detail, whole, name.Span()); ok {
			out = append(out, sym)
		}
		return true
	})
	return out
}

func declKind(d syntax.Decl) (protocol.SymbolKind, string) {
	switch d := d.(type) {
	case *syntax.TypeDecl:
		if d.Type != nil && d.Type.Enum != nil {
			return protocol.SymbolKindEnum, "enum"
		}
		return protocol.SymbolKindStruct, "type"
	case *syntax.FnDecl:
		return protocol.SymbolKindFunction, "fn"
	case *syntax.TaskDecl:
		return protocol.SymbolKindMethod, "task"
	case *syntax.KernelDecl:
		return protocol.SymbolKindOperator, "kernel"
	case *syntax.WorkflowDecl:
		return protocol.SymbolKindClass, "workflow"
	}
	return protocol.SymbolKindVariable, ""
}

// Symbols answers workspace/symbol: the top-level declarations of every
// workspace file whose name contains the query, ignoring case.
func (srv *Server) Symbols(ctx context.Context, params *protocol.WorkspaceSymbolParams) (protocol.WorkspaceSymbolResult, error) {
	s := srv.viewFor(ctx)
	q := strings.ToLower(params.Query)
	out := protocol.SymbolInformationSlice{}
	for _, p := range s.workspaceFiles() {
		if ctx.Err() != nil {
			break
		}
		b, err := s.readFile(p)
		if err != nil {
			continue
		}
		f, _ := syntax.Parse(p, b)
		m := s.mapperFor(b)
		u := s.uriFor(p)
		for _, d := range f.Decls {
			dn := d.DeclName()
			if dn == nil || !strings.Contains(strings.ToLower(dn.Value), q) {
				continue
			}
			r, err := m.Range(int(dn.Span().Start), int(dn.Span().End))
			if err != nil {
				continue
			}
			kind, _ := declKind(d)
			container := ""
			if f.Package != nil && f.Package.Name != nil {
				container = f.Package.Name.Value
			}
			out = append(out, protocol.SymbolInformation{
				BaseSymbolInformation: protocol.BaseSymbolInformation{Name: dn.Value, Kind: kind, ContainerName: &container},
				Location:              protocol.Location{URI: u, Range: r},
			})
		}
	}
	return out, nil
}
